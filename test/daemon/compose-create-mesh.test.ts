/**
 * `create` → `create answer` (the relay's own offer for a participant, rtpengine's defaults and
 * `medias`/`codecs-offer`), media both ways once created participants are connected; `mesh`
 * of three calls (full mesh, `tags` with `unsubscribe` and `bidirectional`); each torn down and
 * ending with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function answerSdp(peer: RtpPeer, pts: string): string {
  return ['v=0', `o=- 7 1 IN IP4 ${peer.address}`, 's=-', 't=0 0', `m=audio ${peer.port} RTP/AVP ${pts}`,
    `c=IN IP4 ${peer.address}`, 'a=sendrecv', ''].join('\r\n');
}

/** create + create answer for `peer`; returns where the peer sends. */
async function createParty(d: DaemonHandle, callId: string, tag: string, peer: RtpPeer, pts = '8'): Promise<number> {
  const c = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': tag });
  expect(c.result, JSON.stringify(c)).toBe('ok');
  const a = await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': tag, sdp: answerSdp(peer, pts) });
  expect(a.result, JSON.stringify(a)).toBe('ok');
  return relayPortsOf(c.sdp as string).rtp;
}

describe.each([{ fastPath: false }, { fastPath: true }])('create and mesh, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];
  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
    for (let i = 0; i < 3; i++) peers.push(await RtpPeer.open());
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });
  const clear = () => { for (const p of peers) p.clear(); };

  it("create: rtpengine's defaults, generated call-id and from-tag", async () => {
    const r = await d.ng.request({ command: 'create' });
    expect(r.result, JSON.stringify(r)).toBe('ok');
    expect(typeof r['call-id']).toBe('string');
    expect(typeof r['from-tag']).toBe('string');
    const sdp = r.sdp as string;
    const port = relayPortsOf(sdp).rtp;
    expect(sdp).toMatch(/^v=0\r\no=- \d+ 1 IN IP4 127\.0\.0\.1\r\ns=\S+\r\nt=0 0\r\n/);
    expect(sdp.slice(sdp.indexOf('m='))).toBe([
      `m=audio ${port} RTP/AVP 8 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${port + 1}`, '',
    ].join('\r\n'));
    const q = await d.ng.request({ command: 'query', 'call-id': r['call-id'] });
    expect(Object.keys(q.tags)).toEqual([r['from-tag']]);
    await d.ng.request({ command: 'delete', 'call-id': r['call-id'], 'delete-delay': 0 });
  });

  it('create: medias with types and codecs, codecs-offer, transport protocol, rtcp-mux offer', async () => {
    const callId = uniqueCallId('create-medias');
    const r = await d.ng.request({
      command: 'create', 'call-id': callId, 'from-tag': 'x', 'transport-protocol': 'RTP/AVPF', 'rtcp-mux': ['offer'],
      medias: [{ type: 'audio', codecs: ['opus/48000/2', 'PCMU', 'telephone-event'] }, { type: 'audio', codecs: ['L16/16000'] }],
    });
    expect(r.result, JSON.stringify(r)).toBe('ok');
    const sdp = r.sdp as string;
    expect(sdp).toMatch(/m=audio \d+ RTP\/AVPF 96 0 97\r\n/);
    expect(sdp).toContain('a=rtpmap:96 opus/48000/2\r\n');
    expect(sdp).toContain('a=rtpmap:97 telephone-event/8000\r\n');
    expect(sdp).toMatch(/m=audio \d+ RTP\/AVPF 96\r\n/);
    expect(sdp).toContain('a=rtpmap:96 L16/16000\r\n');
    expect(sdp).toContain('a=rtcp-mux\r\n');
    const r2 = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'y', 'codecs-offer': ['PCMU'] });
    expect(r2.sdp).toMatch(/m=audio \d+ RTP\/AVP 0\r\n/);
    expect((await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'z', 'codecs-offer': ['/8000'] }))['error-reason'])
      .toBe('Invalid value: codec "/8000"');
    expect((await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'nope', sdp: answerSdp(peers[0] as RtpPeer, '0') }))['error-reason'])
      .toBe('From-tag not found');
    expect((await d.ng.request({ command: 'create answer', 'call-id': 'no-such', 'from-tag': 'x', sdp: answerSdp(peers[0] as RtpPeer, '0') }))['error-reason'])
      .toBe('Unknown call-id');
    expect((await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'x', sdp: 'garbage' }))['error-reason'])
      .toBe('Failed to parse SDP');
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('create → create answer for two parties, connected: media both ways; a repeated create reflects the established media', async () => {
    const [a, b] = peers as [RtpPeer, RtpPeer];
    const callId = uniqueCallId('create');
    const toA = await createParty(d, callId, 'x', a);
    const toB = await createParty(d, callId, 'y', b);
    clear();
    const c = await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'x', 'to-tag': 'y' });
    expect(c.result, JSON.stringify(c)).toBe('ok');
    for (let i = 0; i < 10; i++) {
      a.send(rtpPacket(i, { pt: 8 }), toA);
      b.send(rtpPacket(100 + i, { pt: 8 }), toB);
    }
    const atB = await b.waitFor(10);
    const atA = await a.waitFor(10);
    expect(atB.length).toBe(10);
    expect(atA.length).toBe(10);
    expect(atB[0]?.port, 'b hears a from the relay port b sends to').toBe(toB);
    expect(atA[0]?.data.equals(rtpPacket(100, { pt: 8 }))).toBe(true);
    const again = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'x' });
    expect(relayPortsOf(again.sdp as string).rtp).toBe(toA);
    expect(again.sdp).toMatch(/m=audio \d+ RTP\/AVP 8\r\n/);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('mesh of three calls: every party hears the others; tags with unsubscribe; bidirectional; delete by any call-id', async () => {
    const [p1, p2, p3] = peers as [RtpPeer, RtpPeer, RtpPeer];
    const ids = [uniqueCallId('mesh1'), uniqueCallId('mesh2'), uniqueCallId('mesh3')];
    const to1 = await createParty(d, ids[0] as string, 'm1', p1);
    const to2 = await createParty(d, ids[1] as string, 'm2', p2);
    const to3 = await createParty(d, ids[2] as string, 'm3', p3);
    const r = await d.ng.request({ command: 'mesh', calls: ids });
    expect(r.result, JSON.stringify(r)).toBe('ok');
    clear();
    p1.send(rtpPacket(1, { pt: 8, ssrc: 1 }), to1);
    p2.send(rtpPacket(2, { pt: 8, ssrc: 2 }), to2);
    p3.send(rtpPacket(3, { pt: 8, ssrc: 3 }), to3);
    const ssrcs = async (p: RtpPeer) => (await p.waitFor(2)).map((x) => x.data.readUInt32BE(8)).sort();
    expect(await ssrcs(p1)).toEqual([2, 3]);
    expect(await ssrcs(p2)).toEqual([1, 3]);
    expect(await ssrcs(p3)).toEqual([1, 2]);
    for (const id of ids) expect(Object.keys((await d.ng.request({ command: 'query', 'call-id': id })).tags).sort()).toEqual(['m1', 'm2', 'm3']);
    expect((await d.ng.request({ command: 'cli', body: 'list numsessions' })).response).toContain('Current sessions own: 1\n');

    // only m2 hears m1 now (unsubscribe drops the rest of what m1 and m2 heard)
    const t = await d.ng.request({ command: 'mesh', calls: [ids[1]], tags: [{ from: 'm1', to: ['m2'] }], flags: ['unsubscribe'] });
    expect(t.result, JSON.stringify(t)).toBe('ok');
    clear();
    p1.send(rtpPacket(4, { pt: 8, ssrc: 1 }), to1);
    p2.send(rtpPacket(5, { pt: 8, ssrc: 2 }), to2);
    expect((await p2.waitFor(1)).map((x) => x.data.readUInt32BE(8))).toEqual([1]);
    expect((await p1.settle(200)).length, 'm1 no longer hears m2').toBe(0);
    expect(p3.received.map((x) => x.data.readUInt32BE(8)).sort(), 'm3, not named, keeps hearing m1 and m2').toEqual([1, 2]);
    // bidirectional
    const b = await d.ng.request({ command: 'mesh', calls: [ids[2]], tags: [{ from: 'm3', to: ['m1'] }], flags: ['bidirectional'] });
    expect(b.result, JSON.stringify(b)).toBe('ok');
    clear();
    p3.send(rtpPacket(6, { pt: 8, ssrc: 3 }), to3);
    expect((await p1.waitFor(1)).map((x) => x.data.readUInt32BE(8))).toEqual([3]);
    p1.send(rtpPacket(7, { pt: 8, ssrc: 1 }), to1);
    expect((await p3.waitFor(1)).map((x) => x.data.readUInt32BE(8))).toEqual([1]);

    // bad input: unknown call, unknown tags, self, no calls
    expect((await d.ng.request({ command: 'mesh', calls: [ids[0], 'nope'] }))['error-reason']).toBe('Unknown call-id');
    expect((await d.ng.request({ command: 'mesh', calls: [ids[0]], tags: [{ from: 'zz', to: ['m1'] }] }))['error-reason']).toBe('From-tag not found');
    expect((await d.ng.request({ command: 'mesh', calls: [ids[0]], tags: [{ from: 'm1', to: ['zz'] }] }))['error-reason']).toBe('To-tag not found');
    expect((await d.ng.request({ command: 'mesh', calls: [ids[0]], tags: [{ from: 'm1', to: ['m1'] }] }))['error-reason']).toBe('Cannot connect a participant to itself');
    expect((await d.ng.request({ command: 'mesh' }))['error-reason']).toBe('No calls given');
    expect((await d.ng.request({ command: 'mesh', calls: [ids[0]], tags: 'x' }))['error-reason']).toBe('Invalid value: "tags" must be a list of dictionaries');

    expect((await d.ng.request({ command: 'delete', 'call-id': ids[2], 'delete-delay': 0 })).result).toBe('ok');
    for (const id of ids) expect((await d.ng.request({ command: 'query', 'call-id': id }))['error-reason']).toBe('Unknown call-id');
  });
});
