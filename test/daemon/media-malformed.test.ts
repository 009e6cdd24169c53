/**
 * Malformed telephone-event and RTCP payloads (issue 13's robustness check): short payloads,
 * lengths that are not 4·n, end packets of no duration, absurd durations, RTCP of wrong
 * version, lengths beyond the datagram, report counts that overrun the packet and truncated
 * compound packets. Each is counted and dropped (or, where RFC 4733 allows the value, capped),
 * the call keeps relaying valid media in both directions, another call is untouched, and the
 * daemon's `statistics` count the drops. JS path (where payloads are inspected); zero leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, lines: string[]): string {
  return [
    'v=0', `o=- 1 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`, ...lines, 'a=rtcp-mux', 'a=sendrecv', '',
  ].join('\r\n');
}

function te(event: number, end: boolean, duration: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | 10;
  b.writeUInt16BE(duration, 2);
  return b;
}

/** A receiver report with `blocks` real blocks that claims `rc`. */
function rr(rc: number, blocks: number, ssrc = 0xa7): Buffer {
  const b = Buffer.alloc(8 + 24 * blocks);
  b[0] = 0x80 | rc;
  b[1] = 201;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(ssrc, 4);
  for (let i = 0; i < blocks; i++) b.writeUInt32BE(0xb7, 8 + 24 * i);
  return b;
}

function findKey(o: unknown, key: string): number | undefined {
  if (o === null || typeof o !== 'object') return undefined;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (k === key && typeof v === 'number') return v;
    const r = findKey(v, key);
    if (r !== undefined) return r;
  }
  return undefined;
}

describe('malformed telephone-event and RTCP payloads (JS path)', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath: false });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function leg(bFormats: string, bLines: string[], offerFlags: Record<string, unknown> = {}) {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('bad');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ma', sdp: sdp(a, '0 101', ['a=rtpmap:101 telephone-event/8000']), ...offerFlags });
    expect(offer.result).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ma', 'to-tag': 'mb', sdp: sdp(b, bFormats, bLines) });
    expect(answer.result).toBe('ok');
    return { callId, a, b, toB: relayPortsOf(answer.sdp as string).rtp, toA: relayPortsOf(offer.sdp as string).rtp };
  }

  it('counts and drops every malformed payload while both directions and another call keep relaying', async () => {
    const before = findKey((await d.ng.request({ command: 'statistics' })).statistics, 'droppedinvalidpackets') ?? 0;
    const l = await leg('0 101', ['a=rtpmap:101 telephone-event/8000']);
    const other = await leg('0 101', ['a=rtpmap:101 telephone-event/8000']);
    let seq = 1;
    const rtp = (payload: Buffer, pt = 101) => rtpPacket(seq++, { ssrc: 0xa7, pt, ts: 8000, payload });
    // telephone-event: short, not 4·n, end with no duration; then absurd-but-valid values
    const badEvents = [Buffer.alloc(0), Buffer.from([1]), Buffer.from([1, 0x8a]), Buffer.from([1, 0x8a, 0]), Buffer.alloc(5, 1), Buffer.alloc(6, 1), Buffer.alloc(7, 1), te(3, true, 0)];
    for (const p of badEvents) l.a.send(rtp(p), l.toB);
    const absurd = rtp(te(3, true, 0xffff));
    const bigEvent = rtp(te(255, false, 160));
    l.a.send(absurd, l.toB);
    l.a.send(bigEvent, l.toB);
    // RTCP: too short, wrong version, length beyond the datagram, report counts that overrun,
    // an SR cut inside its sender info, a truncated second part of a compound packet
    const longLen = rr(1, 1);
    longLen.writeUInt16BE(200, 2);
    const srCut = Buffer.alloc(20);
    srCut[0] = 0x80;
    srCut[1] = 200;
    srCut.writeUInt16BE(4, 2);
    const v1 = rr(0, 0);
    v1[0] = 0x40;
    const badRtcp = [Buffer.from([0x80, 201, 0, 1, 0, 0]), v1, longLen, rr(31, 0), rr(2, 1), srCut, Buffer.concat([rr(0, 0), Buffer.from([0x81, 202, 0, 9, 1, 2, 3, 4])])];
    for (const p of badRtcp) l.a.send(p, l.toB);
    // valid media in both directions and on the other call
    const good = rtp(Buffer.alloc(160, 0x11), 0);
    l.a.send(good, l.toB);
    const goodRr = rr(1, 1);
    l.a.send(goodRr, l.toB);
    l.b.send(rtpPacket(7, { ssrc: 0xb7, pt: 0 }), l.toA);
    other.a.send(rtpPacket(9, { ssrc: 0xc7, pt: 101, payload: te(5, true, 800) }), other.toB);

    const got = await l.b.waitFor(4);
    await l.b.settle(200);
    expect(got.map((r) => r.data.equals(absurd) || r.data.equals(bigEvent) || r.data.equals(good) || r.data.equals(goodRr))).toEqual([true, true, true, true]);
    expect(got).toHaveLength(4);
    expect((await l.a.waitFor(1))[0]!.data.readUInt16BE(2)).toBe(7);
    expect((await other.b.waitFor(1))[0]!.data[12]).toBe(5);

    const q = await d.ng.request({ command: 'query', 'call-id': l.callId });
    const s = q.tags.ma.medias[0].streams[0];
    expect(s['media control']['malformed DTMF']).toBe(badEvents.length);
    // the 6-byte one and the version-1 one are not RTCP at all (classified invalid before the reader)
    expect(s['malformed RTCP']).toBe(badRtcp.length - 2);
    expect(s.stats.errors).toBe(badRtcp.length);
    const after = findKey((await d.ng.request({ command: 'statistics' })).statistics, 'droppedinvalidpackets') ?? 0;
    expect(after - before).toBe(badRtcp.length);
    for (const id of [l.callId, other.callId]) await d.ng.request({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
  });

  it('an absurd event duration toward a side without telephone-event is capped at 100 ms of tone per packet', async () => {
    const l = await leg('8', [], { codec: { transcode: ['PCMA'] } });
    l.a.send(rtpPacket(1, { ssrc: 0xa8, pt: 0, ts: 0, payload: Buffer.alloc(160, 0xff) }), l.toB);
    l.a.send(rtpPacket(2, { ssrc: 0xa8, pt: 101, ts: 160, marker: true, payload: te(1, false, 0xffff) }), l.toB);
    l.a.send(rtpPacket(3, { ssrc: 0xa8, pt: 101, ts: 160, payload: Buffer.from([1, 2, 3]) }), l.toB); // malformed
    l.a.send(rtpPacket(4, { ssrc: 0xa8, pt: 0, ts: 480, payload: Buffer.alloc(160, 0xff) }), l.toB);
    const got = await l.b.waitFor(3);
    await l.b.settle(150);
    expect(got.map((r) => [r.data[1]! & 0x7f, r.data.readUInt16BE(2), r.data.length - 12])).toEqual([[8, 1, 160], [8, 2, 800], [8, 4, 160]]);
    const q = await d.ng.request({ command: 'query', 'call-id': l.callId });
    const tc = q.tags.ma.medias[0].streams[0].transcoding as Array<Record<string, unknown>>;
    expect(tc.find((t) => String(t.codec).includes('DTMF tone'))).toMatchObject({ packets: 1, 'packets out': 1 });
    expect(q.tags.ma.medias[0].streams[0]['media control']['malformed DTMF']).toBe(1);
    await d.ng.request({ command: 'delete', 'call-id': l.callId, 'delete-delay': 0 });
  });
});
