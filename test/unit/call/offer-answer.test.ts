/**
 * Offer/answer, connect, delete and query at the object level: CallInterfaces over a CallHash
 * with real dgram sockets on 127.0.0.1, no daemon process and no ng transport. Checks the
 * object model each step leaves (monologues, medias, ports, sinks, mux state) as well as the
 * SDP, and that every call ends with nothing left registered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CallInterfaces } from '../../../daemon/call/call-interfaces.js';
import { CallHash } from '../../../daemon/call/callhash.js';
import type { Call } from '../../../daemon/call/call.js';
import type { CallContext } from '../../../daemon/call/context.js';
import { NgCommandError } from '../../../daemon/errors.js';
import { CALL_UNIT_PORTS, callContext, leakState, ngFlags, NO_LEAKS, sdp } from '../../helpers/call-context.js';

let ctx: CallContext;
let calls: CallHash;
let ci: CallInterfaces;

function setup(args: string[] = []): void {
  ctx = callContext(args);
  calls = new CallHash(ctx);
  ci = new CallInterfaces(calls);
}

afterEach(async () => {
  await calls?.destroyAll('shutdown');
  expect(leakState(ctx)).toEqual(NO_LEAKS);
});

const offerSdp = (port = 2000, extra: string[] = []) => sdp(
  'v=0', 'o=- 1545997027 1 IN IP4 198.51.100.1', 's=tester', 't=0 0',
  `m=audio ${port} RTP/AVP 0 8`, 'c=IN IP4 198.51.100.1', ...extra, 'a=sendrecv',
);
const answerSdp = (port = 3000, extra: string[] = []) => sdp(
  'v=0', 'o=- 8812 1 IN IP4 198.51.100.7', 's=tester', 't=0 0',
  `m=audio ${port} RTP/AVP 8`, 'c=IN IP4 198.51.100.7', ...extra, 'a=sendrecv',
);

async function offer(msg: Record<string, unknown> = {}): Promise<string> {
  const r = await ci.offer(ngFlags({ command: 'offer', 'call-id': 'c1', 'from-tag': 'a', sdp: offerSdp(), ...msg }));
  return r.sdp as string;
}

async function answer(msg: Record<string, unknown> = {}): Promise<string> {
  const r = await ci.answer(ngFlags({ command: 'answer', 'call-id': 'c1', 'from-tag': 'a', 'to-tag': 'b', sdp: answerSdp(), ...msg }));
  return r.sdp as string;
}

function portOf(text: string): number {
  return Number(/^m=audio (\d+) /m.exec(text)?.[1]);
}

function sides(call: Call) {
  const a = call.monologueByTag('a')!;
  const b = call.monologueByTag('b')!;
  return { a, b, ma: a.medias[0]!, mb: b.medias[0]! };
}

describe('offer/answer on the call model', () => {
  it('an offer gives both sides relay ports; the answer makes the sinks; SDP advertises the relay', async () => {
    setup();
    const o = await offer();
    const call = calls.get('c1')!;
    expect(call.monologues.map((m) => m.tag)).toEqual(['a', '']);
    const [a, pending] = call.monologues;
    const bPort = portOf(o);
    expect(bPort).toBeGreaterThanOrEqual(CALL_UNIT_PORTS[0]);
    expect(bPort).toBeLessThanOrEqual(CALL_UNIT_PORTS[1]);
    expect(o).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m);
    expect(o).toContain(`a=rtcp:${bPort + 1}\r\n`);
    expect(pending!.medias[0]!.ports?.port).toBe(bPort);
    // the offerer's advertised endpoint comes from its SDP
    expect(a!.medias[0]!.rtp.advertisedEndpoint).toEqual({ address: '198.51.100.1', port: 2000, family: 4 });

    const ans = await answer();
    const { ma, mb } = sides(call);
    expect(portOf(ans)).toBe(ma.ports!.port);
    expect(ans).toMatch(/^m=audio \d+ RTP\/AVP 8\r$/m);
    expect(call.answered).toBe(true);
    // a's RTP goes to b's RTP stream, RTCP to b's RTCP stream (no mux), and back
    expect(ma.rtp.rtpSinks.map((s) => s.dst)).toEqual([mb.rtp]);
    expect(ma.rtp.rtcpSinks.map((s) => s.dst)).toEqual([mb.rtcp]);
    expect(ma.rtcp.rtcpSinks.map((s) => s.dst)).toEqual([mb.rtcp]);
    expect(mb.rtp.rtpSinks.map((s) => s.dst)).toEqual([ma.rtp]);
    expect(mb.rtp.advertisedEndpoint).toEqual({ address: '198.51.100.7', port: 3000, family: 4 });
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ Call: 1, Monologue: 2, Media: 2, PacketStream: 4, StreamFd: 4, PortReservation: 2, SinkHandler: 6 });
  });

  it('a re-offer keeps its ports; a re-offer with a new address gives the peer a new relay port unless port-latching', async () => {
    setup();
    const first = portOf(await offer());
    await answer();
    expect(portOf(await offer())).toBe(first);
    const moved = portOf(await offer({ sdp: offerSdp(2100) }));
    expect(moved).not.toBe(first);
    expect(portOf(await offer({ sdp: offerSdp(2200), flags: ['port-latching'] }))).toBe(moved);
  });

  it('rtcp-mux offered and accepted: RTCP sinks point at the RTP streams', async () => {
    setup();
    const o = await offer({ sdp: offerSdp(2000, ['a=rtcp-mux']) });
    expect(o).toContain('a=rtcp-mux\r\n');
    const ans = await answer({ sdp: answerSdp(3000, ['a=rtcp-mux']) });
    const { ma, mb } = sides(calls.get('c1')!);
    expect(ans).toContain(`a=rtcp:${portOf(ans)}\r\na=rtcp-mux\r\n`);
    expect([ma.rtcpMux, mb.rtcpMux]).toEqual([true, true]);
    expect(ma.rtp.rtcpSinks.map((s) => s.dst)).toEqual([mb.rtp]);
    expect(mb.rtp.rtcpSinks.map((s) => s.dst)).toEqual([ma.rtp]);
  });

  it('a rejected m= line (port 0) holds no ports on either side and gets no sinks', async () => {
    setup();
    const o = await offer({ sdp: offerSdp(0) });
    expect(o).toMatch(/^m=audio 0 RTP\/AVP 0 8\r\nc=IN IP4 0\.0\.0\.0\r\n$/m);
    const call = calls.get('c1')!;
    expect(call.medias.every((m) => m.ports === null && m.rejected)).toBe(true);
    expect(call.streams.every((s) => s.rtpSinks.length === 0)).toBe(true);
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ StreamFd: 0, PortReservation: 0 });
  });

  it('a shorter re-offer removes the m= lines it dropped, on both sides', async () => {
    setup();
    const two = sdp('v=0', 'o=- 1 1 IN IP4 198.51.100.1', 's=-', 't=0 0',
      'm=audio 2000 RTP/AVP 0', 'c=IN IP4 198.51.100.1', 'm=video 2002 RTP/AVP 96', 'c=IN IP4 198.51.100.1', 'a=rtpmap:96 H264/90000');
    await offer({ sdp: two });
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ Media: 4, PortReservation: 4 });
    await offer();
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ Media: 2, PortReservation: 2, StreamFd: 4 });
  });

  it('old-style hold: c=0.0.0.0 is passed on with a direction without "recv"', async () => {
    setup();
    const o = await offer({ sdp: sdp('v=0', 'o=- 1 1 IN IP4 198.51.100.1', 's=-', 't=0 0', 'm=audio 2000 RTP/AVP 0', 'c=IN IP4 0.0.0.0', 'a=sendrecv') });
    expect(o).toMatch(/^c=IN IP4 0\.0\.0\.0\r\n(?:a=rtpmap:0 PCMU\/8000\r\n)a=sendonly\r$/m);
    // nothing is ever sent to a held participant
    expect(calls.get('c1')!.monologueByTag('a')!.medias[0]!.rtp.sendable()).toBeNull();
  });

  it('codec flags shape the offer the receiver gets', async () => {
    setup();
    const o = await offer({ codec: { strip: ['PCMU'] } });
    expect(o).toMatch(/^m=audio \d+ RTP\/AVP 8\r$/m);
    expect(o).not.toContain('PCMU');
  });
});

describe('the other call commands', () => {
  it('answer, delete and query of an unknown call fail with rtpengine\'s reasons; delete of nothing warns', async () => {
    setup();
    await expect(ci.answer(ngFlags({ command: 'answer', 'call-id': 'nope', 'from-tag': 'a', 'to-tag': 'b', sdp: answerSdp() }))).rejects.toMatchObject({ code: 'UNKNOWN_CALL' });
    await expect(ci.query(ngFlags({ command: 'query', 'call-id': 'nope' }))).rejects.toMatchObject({ code: 'UNKNOWN_CALL' });
    await expect(ci.offer(ngFlags({ command: 'offer', 'call-id': 'c1', 'from-tag': 'a' }))).rejects.toBeInstanceOf(NgCommandError);
    expect(await ci.delete(ngFlags({ command: 'delete', 'call-id': 'nope' }))).toEqual({ warning: "Call-ID not found or tags didn't match" });
    await expect(ci.delete(ngFlags({ command: 'delete', 'call-id': 'nope', flags: ['fatal'] }))).rejects.toMatchObject({ code: 'DELETE_NOT_FOUND' });
  });

  it('a failed first offer (bad SDP) leaves no call behind', async () => {
    setup();
    await expect(ci.offer(ngFlags({ command: 'offer', 'call-id': 'bad', 'from-tag': 'a', sdp: 'v=0\r\nm=audio x\r\n' }))).rejects.toBeInstanceOf(NgCommandError);
    expect(calls.size).toBe(0);
  });

  it('delete reports the call\'s statistics and tears it down (delete-delay 0)', async () => {
    setup(['-d', '0']);
    await offer();
    await answer();
    const r = await ci.delete(ngFlags({ command: 'delete', 'call-id': 'c1', 'from-tag': 'a' }));
    expect(Object.keys(r.tags as object).sort()).toEqual(['a', 'b']);
    expect(calls.size).toBe(0);
    expect(leakState(ctx)).toEqual(NO_LEAKS);
  });

  it('forked offers make one branch per via-branch; deleting one branch keeps the others', async () => {
    setup();
    await offer({ 'via-branch': 'br1' });
    await offer({ 'via-branch': 'br2' });
    const call = calls.get('c1')!;
    expect(call.monologues.map((m) => [m.tag, m.viaBranch])).toEqual([['a', undefined], ['', 'br1'], ['', 'br2']]);
    await ci.delete(ngFlags({ command: 'delete', 'call-id': 'c1', 'via-branch': 'br1' }));
    expect(call.monologues.map((m) => m.viaBranch)).toEqual([undefined, 'br2']);
    expect(calls.get('c1')).toBe(call);
  });

  it('connect makes two participants of one call receive each other; directional only one way', async () => {
    setup();
    await offer();
    await answer();
    await ci.offer(ngFlags({ command: 'offer', 'call-id': 'c1', 'from-tag': 'x', 'to-tag': 'y', sdp: offerSdp(4000) }));
    const call = calls.get('c1')!;
    const a = call.monologueByTag('a')!;
    const x = call.monologueByTag('x')!;
    await ci.connect(ngFlags({ command: 'connect', 'call-id': 'c1', 'from-tag': 'a', 'to-tag': 'x', flags: ['directional'] }));
    expect(x.subscriptions).toEqual([a]);
    expect(a.subscriptions).toEqual([]);
    expect(a.medias[0]!.rtp.rtpSinks.map((s) => s.dst)).toEqual([x.medias[0]!.rtp]);
    expect(x.medias[0]!.rtp.rtpSinks).toEqual([]);
    await expect(ci.connect(ngFlags({ command: 'connect', 'call-id': 'c1', 'from-tag': 'a', 'to-tag': 'a' }))).rejects.toMatchObject({ code: 'CONNECT_SELF' });
  });

  it('list is limited and refuses a negative limit', async () => {
    setup();
    await offer();
    await ci.offer(ngFlags({ command: 'offer', 'call-id': 'c2', 'from-tag': 'a', sdp: offerSdp() }));
    expect(ci.list(ngFlags({ command: 'list', limit: 1 }))).toEqual({ calls: ['c1'] });
    expect(() => ci.list(ngFlags({ command: 'list', limit: -1 }))).toThrow(NgCommandError);
  });
});

describe('query', () => {
  it('reports tags, medias with their flags and streams with endpoints, subscriptions and totals', async () => {
    setup();
    await offer({ sdp: offerSdp(2000, ['a=rtcp-mux']), label: 'caller' });
    await answer({ sdp: answerSdp(3000, ['a=rtcp-mux']) });
    const call = calls.get('c1')!;
    const { ma } = sides(call);
    ma.rtp.stats.packets = 3;
    ma.rtp.stats.bytes = 516;
    ma.rtp.ssrcIn.get(0x11223344);
    const q = await ci.query(ngFlags({ command: 'query', 'call-id': 'c1' }));
    const tags = q.tags as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(tags.a.label).toBe('caller');
    expect(tags.a['in dialogue with']).toBe('b');
    expect(tags.a.subscriptions).toEqual([{ tag: 'b', type: 'offer/answer' }]);
    const media = tags.a.medias[0];
    expect(media).toMatchObject({ index: 1, type: 'audio', protocol: 'RTP/AVP', direction: 'sendrecv' });
    expect(media.flags).toEqual(['initialized', 'rtcp-mux']);
    expect(media.streams[0]).toMatchObject({
      'local port': ma.ports!.port,
      'local address': '127.0.0.1',
      'advertised endpoint': { family: 'IPv4', address: '198.51.100.1', port: 2000 },
      flags: ['RTP', 'filled'],
      SSRC: [0x11223344],
      stats: { packets: 3, bytes: 516, errors: 0 },
    });
    expect(q.SSRC).toEqual({ [String(0x11223344)]: { tag: 'a', 'media index': 1, type: 'audio' } });
    expect(q.totals).toEqual({ RTP: { packets: 3, bytes: 516, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } });
  });
});
