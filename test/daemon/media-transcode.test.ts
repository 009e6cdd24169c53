/**
 * Transcoded media over real UDP, byte for byte as rtpengine sends it: PCMU ↔ PCMA (payloads
 * from rtpengine's own tests), L16 8 kHz ↔ 16 kHz, ptime 20 → 30 and 50 → 30 with the reverse
 * direction, bad input on a transcoded stream, a re-INVITE back to pass-through, and teardown
 * with audio still waiting in a ptime buffer. Ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, type Received } from '../helpers/rtp-peer.js';

import { rtpPacket } from '../../support/rtp.js';
import { sleep } from '../../support/sleep.js';

function sdp(peer: RtpPeer, formats: string, lines: string[] = []): string {
  return ['v=0', `o=- 1545997027 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0', `m=audio ${peer.port} RTP/AVP ${formats}`,
    `c=IN IP4 ${peer.address}`, ...lines, 'a=sendrecv', ''].join('\r\n');
}

function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer, marker = false): Buffer {
  return rtpPacket(seq, { pt, ts, ssrc, payload, marker });
}

const fill = (byte: number, n: number) => Buffer.alloc(n, byte);

interface Leg {
  callId: string;
  a: RtpPeer;
  b: RtpPeer;
  /** Where A sends (the port in the answer A got). */
  toB: number;
  /** Where B sends (the port in the offer B got). */
  toA: number;
  offerSdp: string;
  answerSdp: string;
}

describe('transcoding media', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon();
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function call(aFormats: string, aLines: string[], offerFlags: Record<string, unknown>, bFormats: string, bLines: string[] = [], answerFlags: Record<string, unknown> = {}): Promise<Leg> {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('tc');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'fa', sdp: sdp(a, aFormats, aLines), ...offerFlags });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'fa', 'to-tag': 'tb', sdp: sdp(b, bFormats, bLines), ...answerFlags });
    expect(answer.result, JSON.stringify(answer)).toBe('ok');
    return { callId, a, b, toB: relayPortsOf(answer.sdp as string).rtp, toA: relayPortsOf(offer.sdp as string).rtp, offerSdp: offer.sdp as string, answerSdp: answer.sdp as string };
  }

  /** Sends and waits for exactly `n` more packets at `to`. */
  async function exchange(from: RtpPeer, port: number, to: RtpPeer, packets: Buffer[], n: number, gapMs = 0): Promise<Received[]> {
    const before = to.received.length;
    for (const p of packets) {
      from.send(p, port);
      if (gapMs) await sleep(gapMs);
    }
    const got = await to.waitFor(before + n, 2000);
    await sleep(n === 0 ? 200 : 30);
    return got.slice(before);
  }

  function expectRtp(got: Received | undefined, pt: number, seq: number, ts: number, ssrc: number, payload: Buffer): void {
    expect(got, 'a packet arrived').toBeDefined();
    const p = got!.data;
    expect({ pt: p[1]! & 0x7f, seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), ssrc: p.readUInt32BE(8) }).toEqual({ pt, seq, ts, ssrc });
    expect(p.subarray(12).toString('hex')).toBe(payload.toString('hex'));
  }

  async function query(callId: string): Promise<Record<string, any>> {
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.result).toBe('ok');
    return q;
  }

  async function remove(callId: string): Promise<void> {
    const r = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(r.result).toBe('ok');
  }

  it('PCMU ↔ PCMA, byte-exact with rtpengine, seq/ts/SSRC kept', async () => {
    const l = await call('0', [], { codec: { transcode: ['PCMA'] } }, '8');
    let got = await exchange(l.a, l.toB, l.b, [rtp(0, 1000, 3000, 0x1234, fill(0x00, 160)), rtp(0, 1001, 3160, 0x1234, fill(0x00, 160))], 2);
    expectRtp(got[0], 8, 1000, 3000, 0x1234, fill(0x2a, 160));
    expectRtp(got[1], 8, 1001, 3160, 0x1234, fill(0x2a, 160));
    const pcma = Buffer.concat([Buffer.from([0x10]), fill(0x00, 158), Buffer.from([0x50])]);
    const pcmu = Buffer.concat([Buffer.from([0x39]), fill(0x29, 158), Buffer.from([0x74])]);
    got = await exchange(l.b, l.toA, l.a, [rtp(8, 8000, 7000, 0x6543, pcma)], 1);
    expectRtp(got[0], 0, 8000, 7000, 0x6543, pcmu);
    got = await exchange(l.a, l.toB, l.b, [rtp(0, 1002, 3320, 0x1234, pcmu)], 1);
    expectRtp(got[0], 8, 1002, 3320, 0x1234, pcma);
    // alternating PCMU 0x01 0x00 → PCMA 0x2b 0x2a
    const alt = Buffer.from(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 0x01 : 0x00)));
    got = await exchange(l.a, l.toB, l.b, [rtp(0, 1003, 3480, 0x1234, alt)], 1);
    expectRtp(got[0], 8, 1003, 3480, 0x1234, Buffer.from(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 0x2b : 0x2a))));
    const q = await query(l.callId);
    const streams = Object.values(q.tags as Record<string, any>).flatMap((t: any) => t.medias.flatMap((m: any) => m.streams));
    const tc = streams.filter((s: any) => s.transcoding);
    expect(tc.length).toBe(2);
    expect(tc.map((s: any) => s.transcoding[0].codec).sort()).toEqual(['PCMA/8000 > PCMU/8000', 'PCMU/8000 > PCMA/8000']);
    await remove(l.callId);
  });

  it('L16 8 kHz ↔ 16 kHz: sample counts, timestamps in the output clock, exact silence', async () => {
    const l = await call('0', [], { codec: { transcode: ['L16/16000'] } }, '96', ['a=rtpmap:96 L16/16000']);
    // PCMU 0xff is digital silence: exactly zero samples at 16 kHz
    let got = await exchange(l.a, l.toB, l.b, [0, 1, 2].map((i) => rtp(0, 500 + i, 8000 + 160 * i, 0x77, fill(0xff, 160))), 3);
    got.forEach((g, i) => expectRtp(g, 96, 500 + i, 8000 + 320 * i, 0x77, fill(0x00, 640)));
    got = await exchange(l.b, l.toA, l.a, [0, 1].map((i) => rtp(96, 40 + i, 1000 + 320 * i, 0x88, fill(0x00, 640))), 2);
    got.forEach((g, i) => expectRtp(g, 0, 40 + i, 1000 + 160 * i, 0x88, fill(0xff, 160)));
    // a tone survives the round trip through the resampler at about the same level
    const tone = Buffer.alloc(640);
    for (let i = 0; i < 320; i++) tone.writeInt16BE(Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / 16000)), 2 * i);
    got = await exchange(l.b, l.toA, l.a, [2, 3, 4].map((i) => rtp(96, 40 + i, 1000 + 320 * i, 0x88, tone)), 3);
    expect(got.map((g) => g.data.length - 12)).toEqual([160, 160, 160]);
    await remove(l.callId);
  });

  it('ptime 20 → 30 (ptime=30) and back to 20 toward the offerer, as rtpengine repacketises', async () => {
    const l = await call('0', [], { ptime: 30 }, '0');
    // A→B: 5× 20 ms → 3× 30 ms
    let got = await exchange(l.a, l.toB, l.b, [0, 1, 2, 3, 4].map((i) => rtp(0, 1000 + i, 3000 + 160 * i, 0x1234, fill(0x00, 160))), 3, 5);
    expect(got.length).toBe(3);
    got.forEach((g, i) => expectRtp(g, 0, 1000 + i, 3000 + 240 * i, 0x1234, fill(0x00, 240)));
    // A→B: a 60 ms packet with a restarted numbering → 2× 30 ms, continuing the output
    got = await exchange(l.a, l.toB, l.b, [rtp(0, 8000, 500000, 0x1234, fill(0x00, 480))], 2);
    expectRtp(got[0], 0, 1003, 3720, 0x1234, fill(0x00, 240));
    expectRtp(got[1], 0, 1004, 3960, 0x1234, fill(0x00, 240));
    // B→A: 60 ms → 3× 20 ms
    got = await exchange(l.b, l.toA, l.a, [rtp(0, 4000, 5000, 0x4567, fill(0x88, 480))], 3);
    got.forEach((g, i) => expectRtp(g, 0, 4000 + i, 5000 + 160 * i, 0x4567, fill(0x88, 160)));
    // B→A: 10 ms packets out of order are put back in order
    got = await exchange(l.b, l.toA, l.a, [rtp(0, 4002, 5560, 0x4567, fill(0x88, 80)), rtp(0, 4001, 5480, 0x4567, fill(0x88, 80))], 1, 5);
    expectRtp(got[0], 0, 4003, 5480, 0x4567, fill(0x88, 160));
    await remove(l.callId);
  });

  it('ptime 50 → 30 with ptime-reverse 50, as rtpengine repacketises', async () => {
    const l = await call('0', ['a=ptime:50'], { ptime: 30, 'ptime-reverse': 50 }, '0', ['a=ptime:30']);
    expect(l.offerSdp).toMatch(/a=ptime:30\r\n$/);
    expect(l.answerSdp).toMatch(/a=ptime:50\r\n$/);
    let got = await exchange(l.a, l.toB, l.b, [rtp(0, 1000, 3000, 0x1234, fill(0x00, 400))], 1);
    expectRtp(got[0], 0, 1000, 3000, 0x1234, fill(0x00, 240));
    got = await exchange(l.a, l.toB, l.b, [rtp(0, 1001, 3400, 0x1234, fill(0x00, 400))], 2);
    expectRtp(got[0], 0, 1001, 3240, 0x1234, fill(0x00, 240));
    expectRtp(got[1], 0, 1002, 3480, 0x1234, fill(0x00, 240));
    got = await exchange(l.a, l.toB, l.b, [rtp(0, 1002, 3800, 0x1234, fill(0x00, 160))], 1);
    expectRtp(got[0], 0, 1003, 3720, 0x1234, fill(0x00, 240));
    // B→A: 4× 30 ms → 2× 50 ms, then one more 30 ms completes a third
    got = await exchange(l.b, l.toA, l.a, [0, 1, 2, 3].map((i) => rtp(0, 4000 + i, 5000 + 240 * i, 0x4567, fill(0x88, 240))), 2, 5);
    expectRtp(got[0], 0, 4000, 5000, 0x4567, fill(0x88, 400));
    expectRtp(got[1], 0, 4001, 5400, 0x4567, fill(0x88, 400));
    got = await exchange(l.b, l.toA, l.a, [rtp(0, 4004, 5960, 0x4567, fill(0x88, 240))], 1);
    expectRtp(got[0], 0, 4002, 5800, 0x4567, fill(0x88, 400));
    await remove(l.callId);
  });

  it('loss stays a gap: timestamps skip the missing audio, nothing is invented', async () => {
    const l = await call('0', [], { codec: { transcode: ['PCMA'] } }, '8');
    const seqs = [10, 11, 13, 14, 15, 16];
    const got = await exchange(l.a, l.toB, l.b, seqs.map((s) => rtp(0, s, 160 * s, 0x99, fill(0x00, 160))), 6, 5);
    expect(got.map((g) => g.data.readUInt16BE(2))).toEqual(seqs);
    expect(got.map((g) => g.data.readUInt32BE(4))).toEqual(seqs.map((s) => 160 * s));
    await remove(l.callId);
  });

  it('bad input on a transcoded stream is counted and dropped; the other direction and other calls go on', async () => {
    const other = await call('0', [], {}, '0');
    const l = await call('0', [], { codec: { transcode: ['PCMA'] } }, '8');
    const before = l.b.received.length;
    // wrong payload type (not negotiated), a header without payload, a duplicate, garbage
    l.a.send(rtp(18, 20, 3200, 0x1234, fill(0x11, 20)), l.toB);
    l.a.send(rtp(0, 21, 3360, 0x1234, Buffer.alloc(0)), l.toB);
    l.a.send(Buffer.from('not rtp at all'), l.toB);
    let got = await exchange(l.a, l.toB, l.b, [rtp(0, 22, 3520, 0x1234, fill(0x00, 160)), rtp(0, 22, 3520, 0x1234, fill(0x00, 160))], 1);
    expect(l.b.received.length - before).toBe(1);
    expectRtp(got[0], 8, 22, 3520, 0x1234, fill(0x2a, 160));
    // a sudden codec change to PCMA from A (A never offered it): dropped, counted
    l.a.send(rtp(8, 23, 3680, 0x1234, fill(0x00, 160)), l.toB);
    got = await exchange(l.b, l.toA, l.a, [rtp(8, 1, 160, 0x55, fill(0x00, 160))], 1);
    expectRtp(got[0], 0, 1, 160, 0x55, fill(0x29, 160));
    got = await exchange(other.a, other.toB, other.b, [rtp(0, 5, 800, 0x66, fill(0x42, 160))], 1);
    expectRtp(got[0], 0, 5, 800, 0x66, fill(0x42, 160));
    const q = await query(l.callId);
    const fromA = (q.tags.fa.medias[0].streams as any[]).find((s) => s.transcoding);
    const tc = fromA.transcoding as any[];
    expect(tc[0]).toMatchObject({ 'payload type': 0, 'output payload type': 8 });
    expect(tc[0].dropped).toBe(2); // the empty payload and the duplicate
    expect(tc.find((x) => x['payload type'] === 'other').dropped).toBe(2); // PT 18 and PT 8
    await remove(l.callId);
    await remove(other.callId);
  });

  it('a re-INVITE without transcoding goes back to pass-through', async () => {
    const l = await call('0', [], { codec: { transcode: ['PCMA'] } }, '8');
    let got = await exchange(l.a, l.toB, l.b, [rtp(0, 1, 160, 0x31, fill(0x00, 160))], 1);
    expectRtp(got[0], 8, 1, 160, 0x31, fill(0x2a, 160));
    const reoffer = await d.ng.request({ command: 'offer', 'call-id': l.callId, 'from-tag': 'fa', sdp: sdp(l.a, '0 8') });
    expect(reoffer.result).toBe('ok');
    const reanswer = await d.ng.request({ command: 'answer', 'call-id': l.callId, 'from-tag': 'fa', 'to-tag': 'tb', sdp: sdp(l.b, '8') });
    expect(reanswer.result).toBe('ok');
    got = await exchange(l.a, l.toB, l.b, [rtp(8, 2, 320, 0x31, fill(0x00, 160))], 1);
    expectRtp(got[0], 8, 2, 320, 0x31, fill(0x00, 160));
    await remove(l.callId);
  });

  it('a subscription with transcode=PCMA and `allow transcoding` gets PCMA; one without stays PCMU', async () => {
    const l = await call('0', [], {}, '0');
    const subscribe = async (formats: string, answerFlags: string[]) => {
      const c = await RtpPeer.open();
      peers.push(c);
      const req = await d.ng.request({ command: 'subscribe request', 'call-id': l.callId, 'from-tag': 'fa', codec: { transcode: ['PCMA'] } });
      expect(req.result, JSON.stringify(req)).toBe('ok');
      expect(req.sdp).toMatch(/^m=audio \d+ RTP\/AVP 0 8\r$/m);
      const ans = await d.ng.request({ command: 'subscribe answer', 'call-id': l.callId, 'to-tag': req['to-tag'], sdp: sdp(c, formats).replace('a=sendrecv', 'a=recvonly'), flags: answerFlags });
      expect(ans.result, JSON.stringify(ans)).toBe('ok');
      return c;
    };
    const c = await subscribe('8', ['allow transcoding']);
    const e = await subscribe('0', []);
    l.a.send(rtp(0, 4001, 7160, 0x6543, fill(0x00, 160)), l.toB);
    const atB = await l.b.waitFor(1);
    const atC = await c.waitFor(1);
    const atE = await e.waitFor(1);
    expectRtp(atB[0], 0, 4001, 7160, 0x6543, fill(0x00, 160));
    expectRtp(atC[0], 8, 4001, 7160, 0x6543, fill(0x2a, 160));
    expectRtp(atE[0], 0, 4001, 7160, 0x6543, fill(0x00, 160));
    await remove(l.callId);
  });

  it('teardown with audio waiting in a ptime buffer leaks nothing', async () => {
    const l = await call('0', [], { ptime: 50 }, '0');
    // 3× 20 ms: one 50 ms packet out, 10 ms left in the buffer
    const got = await exchange(l.a, l.toB, l.b, [0, 1, 2].map((i) => rtp(0, 70 + i, 160 * i, 0x42, fill(0x00, 160))), 1, 5);
    expectRtp(got[0], 0, 70, 0, 0x42, fill(0x00, 400));
    await remove(l.callId);
  });
});

describe('transcoding with the native fast path enabled', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath: true });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('a transcoded stream stays on the JS path and query says why; its pass-through peer may go native', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('tc-fast');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'fa', sdp: sdp(a, '0'), codec: { transcode: ['PCMA'] } });
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'fa', 'to-tag': 'tb', sdp: sdp(b, '8') });
    const toB = relayPortsOf(answer.sdp as string).rtp;
    const toA = relayPortsOf(offer.sdp as string).rtp;
    for (let i = 0; i < 3; i++) {
      a.send(rtp(0, 100 + i, 160 * i, 0xabc, fill(0x00, 160)), toB);
      b.send(rtp(8, 200 + i, 160 * i, 0xdef, fill(0x00, 160)), toA);
      await sleep(20);
    }
    const atB = await b.waitFor(3);
    const atA = await a.waitFor(3);
    expect(atB.map((p) => p.data.subarray(12).equals(fill(0x2a, 160)))).toEqual([true, true, true]);
    expect(atA.map((p) => p.data.subarray(12).equals(fill(0x29, 160)))).toEqual([true, true, true]);
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const rtpA = q.tags.fa.medias[0].streams[0];
    expect(rtpA.fastPath.native).toBe(0);
    expect(rtpA.fastPath.reason).toMatch(/codec handler 'transcode' needs the JS path/);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
  });
});
