/**
 * Comfort noise (RFC 3389) through the relay: CN passes through byte for byte between sides
 * that both have it; when transcoding toward a side without CN, CN packets are consumed into
 * comfort noise in that side's codec (the packet's level, its sequence number and timestamp);
 * with --silence-detect, silent transcoded frames toward a side that offered CN leave as CN
 * packets with the --cn-payload bytes. Malformed CN is counted and dropped. Zero leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAlaw } from '../../daemon/codec/g711.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, lines: string[] = []): string {
  return [
    'v=0', `o=- 1 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`, ...lines, 'a=sendrecv', '',
  ].join('\r\n');
}

const rms = (s: Int16Array): number => Math.sqrt(s.reduce((a, x) => a + x * x, 0) / s.length);

describe.each([
  { args: [] as string[], silence: false },
  { args: ['--silence-detect=1', '--cn-payload=40', '--cn-payload=7'], silence: true },
])('comfort noise $args', ({ args, silence }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(args, { fastPath: false });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function leg(aFormats: string, aLines: string[], offerFlags: Record<string, unknown>, bFormats: string, bLines: string[] = []) {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('cn');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ca', sdp: sdp(a, aFormats, aLines), ...offerFlags });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ca', 'to-tag': 'cb', sdp: sdp(b, bFormats, bLines) });
    expect(answer.result, JSON.stringify(answer)).toBe('ok');
    return { callId, a, b, toB: relayPortsOf(answer.sdp as string).rtp, toA: relayPortsOf(offer.sdp as string).rtp, offer: offer.sdp as string, answer: answer.sdp as string };
  }

  const remove = async (callId: string) => expect((await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 })).result).toBe('ok');

  it('CN is negotiated and passed through when both sides have it', async () => {
    const l = await leg('0 13', ['a=rtpmap:13 CN/8000'], {}, '0 13', ['a=rtpmap:13 CN/8000']);
    expect(l.offer).toMatch(/m=audio \d+ RTP\/AVP 0 13\r\n/);
    expect(l.answer).toContain('a=rtpmap:13 CN/8000');
    const cn = rtpPacket(7, { pt: 13, ts: 1600, ssrc: 0x51, payload: Buffer.from([40, 1, 2]) });
    l.a.send(cn, l.toB);
    const got = await l.b.waitFor(1);
    expect(got[0]!.data.equals(cn)).toBe(true);
    await remove(l.callId);
  });

  it('transcoding toward a side without CN: CN is consumed into comfort noise at its level; malformed CN is dropped', async () => {
    const l = await leg('0 13', ['a=rtpmap:13 CN/8000'], { codec: { transcode: ['PCMA'] } }, '8');
    l.a.send(rtpPacket(100, { pt: 0, ts: 8000, ssrc: 0x52, payload: Buffer.alloc(160, 0x00) }), l.toB);
    l.a.send(rtpPacket(101, { pt: 13, ts: 8160, ssrc: 0x52, payload: Buffer.from([40]) }), l.toB);
    l.a.send(rtpPacket(102, { pt: 13, ts: 8320, ssrc: 0x52, payload: Buffer.from([20, 5, 6]) }), l.toB);
    l.a.send(rtpPacket(103, { pt: 13, ts: 8480, ssrc: 0x52, payload: Buffer.alloc(0) }), l.toB); // empty: malformed
    l.a.send(rtpPacket(104, { pt: 13, ts: 8480, ssrc: 0x52, payload: Buffer.from([200]) }), l.toB); // level > 127
    const got = await l.b.waitFor(3);
    await l.b.settle(150);
    expect(got.map((r) => [r.data[1]! & 0x7f, r.data.readUInt16BE(2), r.data.readUInt32BE(4), r.data.readUInt32BE(8), r.data.length - 12])).toEqual([
      [8, 100, 8000, 0x52, 160], [8, 101, 8160, 0x52, 160], [8, 102, 8320, 0x52, 160],
    ]);
    // −40 dBov: RMS ≈ 23170 · 10^(−2) ≈ 232; −20 dBov ≈ 2317 (G.711 quantisation aside)
    const r40 = rms(decodeAlaw(got[1]!.data.subarray(12)));
    const r20 = rms(decodeAlaw(got[2]!.data.subarray(12)));
    expect(r40).toBeGreaterThan(150);
    expect(r40).toBeLessThan(330);
    expect(r20 / r40).toBeGreaterThan(7);
    expect(r20 / r40).toBeLessThan(13);
    const q = await d.ng.request({ command: 'query', 'call-id': l.callId });
    const tc = q.tags.ca.medias[0].streams[0].transcoding as Array<Record<string, unknown>>;
    expect(tc.find((t) => String(t.codec).includes('comfort noise'))).toMatchObject({ 'payload type': 13, 'output payload type': 8, packets: 4, 'packets out': 2, dropped: 2 });
    await remove(l.callId);
  });

  it(silence ? 'with --silence-detect, silent frames toward a side that offered CN leave as CN with the --cn-payload bytes'
    : 'without --silence-detect, silent frames are transcoded like any audio', async () => {
    const l = await leg('0 13', ['a=rtpmap:13 CN/8000'], { codec: { transcode: ['PCMA'] } }, '8 13', ['a=rtpmap:13 CN/8000']);
    l.a.send(rtpPacket(200, { pt: 0, ts: 3000, ssrc: 0x53, payload: Buffer.alloc(160, 0x00) }), l.toB); // loud
    l.a.send(rtpPacket(201, { pt: 0, ts: 3160, ssrc: 0x53, payload: Buffer.alloc(160, 0xff) }), l.toB); // digital silence
    l.a.send(rtpPacket(202, { pt: 0, ts: 3320, ssrc: 0x53, payload: Buffer.alloc(160, 0xfe) }), l.toB); // a whisper, still within 1 %
    l.a.send(rtpPacket(203, { pt: 0, ts: 3480, ssrc: 0x53, payload: Buffer.alloc(160, 0x00) }), l.toB);
    const got = await l.b.waitFor(4);
    const head = got.map((r) => [r.data[1]! & 0x7f, r.data.readUInt16BE(2), r.data.readUInt32BE(4)]);
    if (silence) {
      expect(head).toEqual([[8, 200, 3000], [13, 201, 3160], [13, 202, 3320], [8, 203, 3480]]);
      expect(got[1]!.data.subarray(12)).toEqual(Buffer.from([40, 7]));
      expect(got[2]!.data.subarray(12)).toEqual(Buffer.from([40, 7]));
      expect(got[0]!.data.subarray(12)).toEqual(Buffer.alloc(160, 0x2a));
    } else {
      expect(head).toEqual([[8, 200, 3000], [8, 201, 3160], [8, 202, 3320], [8, 203, 3480]]);
      expect(got[1]!.data.subarray(12)).toEqual(Buffer.alloc(160, 0xd5));
    }
    await remove(l.callId);
  });
});
