/**
 * RTCP of media the relay changes, as the other side must see it: with transcoding (PCMU 8 kHz
 * → L16 16 kHz) and repacketising (ptime 20 → 40), a sender report's packet and octet counts
 * become what the relay sent, its RTP timestamp moves onto the output timeline in the output
 * clock, and a receiver report's block about the sender gets the sender's own highest sequence
 * number and jitter in the sender's clock. Pass-through RTCP stays byte for byte. Generated
 * reports carry interarrival jitter from arrival times. JS path; zero leaks at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, lines: string[] = []): string {
  return [
    'v=0', `o=- 1 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`, ...lines, 'a=rtcp-mux', 'a=sendrecv', '',
  ].join('\r\n');
}

function senderReport(ssrc: number, rtpTs: number, packets: number, octets: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(0xe1000000, 8);
  b.writeUInt32BE(0x80000000, 12);
  b.writeUInt32BE(rtpTs, 16);
  b.writeUInt32BE(packets, 20);
  b.writeUInt32BE(octets, 24);
  return b;
}

function receiverReport(ssrc: number, about: number, highest: number, jitter: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(about, 8);
  b[12] = 3;
  b.writeUIntBE(2, 13, 3);
  b.writeUInt32BE(highest, 16);
  b.writeUInt32BE(jitter, 20);
  b.writeUInt32BE(0x12345678, 24);
  b.writeUInt32BE(655, 28);
  return b;
}

const rtcpOf = (p: RtpPeer) => p.received.map((r) => r.data).filter((x) => x[1] === 200 || x[1] === 201);

describe('RTCP translation and jitter (JS path)', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(['--rtcp-interval', '150'], { fastPath: false });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function leg(offerFlags: Record<string, unknown>, aFormats: string, bFormats: string, bLines: string[] = []) {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-tr');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ta', sdp: sdp(a, aFormats), ...offerFlags });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ta', 'to-tag': 'tb', sdp: sdp(b, bFormats, bLines) });
    expect(answer.result, JSON.stringify(answer)).toBe('ok');
    return { callId, a, b, toB: relayPortsOf(answer.sdp as string).rtp, toA: relayPortsOf(offer.sdp as string).rtp };
  }

  it('PCMU 8 kHz → L16 16 kHz: SR counts, octets and timestamp in the output clock; RR jitter back in the sender\'s clock', async () => {
    const l = await leg({ codec: { transcode: ['L16/16000'] } }, '0', '96', ['a=rtpmap:96 L16/16000']);
    for (let i = 0; i < 3; i++) l.a.send(rtpPacket(500 + i, { pt: 0, ts: 8000 + 160 * i, ssrc: 0x77, payload: Buffer.alloc(160, 0xff) }), l.toB);
    await l.b.waitFor(3);
    l.b.send(rtpPacket(40, { pt: 96, ts: 1000, ssrc: 0x88, payload: Buffer.alloc(640) }), l.toA);
    await l.a.waitFor(1);
    l.a.send(senderReport(0x77, 8000 + 160 * 3, 3, 480), l.toB);
    const sr = (await l.b.waitFor(4)).map((r) => r.data).find((x) => x[1] === 200)!;
    expect(sr.readUInt32BE(4)).toBe(0x77); // the SSRC B receives
    expect(sr.readUInt32BE(16)).toBe(8000 + 320 * 3); // output timeline, 16 kHz
    expect(sr.readUInt32BE(20)).toBe(3);
    expect(sr.readUInt32BE(24)).toBe(3 * 640);
    expect(sr.readUInt32BE(8)).toBe(0xe1000000); // NTP untouched
    // B reports on 0x77 with jitter 320 (16 kHz units): A reads 160 (8 kHz units)
    l.b.send(receiverReport(0x88, 0x77, 502, 320), l.toA);
    const rr = (await l.a.waitFor(2)).map((r) => r.data).find((x) => x[1] === 201)!;
    expect(rr.readUInt32BE(8)).toBe(0x77);
    expect(rr.readUInt32BE(16)).toBe(502);
    expect(rr.readUInt32BE(20)).toBe(160);
    expect(rr.subarray(12, 16).equals(Buffer.from([3, 0, 0, 2]))).toBe(true); // loss of B's leg kept
    expect(rr.readUInt32BE(24)).toBe(0x12345678);
    const q = await d.ng.request({ command: 'query', 'call-id': l.callId });
    expect(q.tags.ta.medias[0].streams[0].fastPath.native).toBe(0);
    await d.ng.request({ command: 'delete', 'call-id': l.callId, 'delete-delay': 0 });
  });

  it('ptime 20 → 40: the SR counts the relay\'s packets, the RR names the sender\'s own highest sequence number', async () => {
    const l = await leg({ ptime: 40 }, '0', '0', ['a=ptime:40']);
    for (let i = 0; i < 4; i++) l.a.send(rtpPacket(1000 + i, { pt: 0, ts: 3000 + 160 * i, ssrc: 0x12, payload: Buffer.alloc(160, 0x11) }), l.toB);
    const media = await l.b.waitFor(2);
    expect(media.map((r) => r.data.readUInt16BE(2))).toEqual([1000, 1001]);
    l.a.send(senderReport(0x12, 3000 + 160 * 4, 4, 640), l.toB);
    const sr = rtcpOf(l.b).length ? rtcpOf(l.b)[0]! : (await l.b.waitFor(3)).map((r) => r.data).find((x) => x[1] === 200)!;
    expect(sr.readUInt32BE(20)).toBe(2);
    expect(sr.readUInt32BE(24)).toBe(2 * 320);
    expect(sr.readUInt32BE(16)).toBe(3000 + 320 + 160);
    l.b.send(receiverReport(0x34, 0x12, 1001, 0), l.toA);
    const rr = (await l.a.waitFor(1)).map((r) => r.data).find((x) => x[1] === 201)!;
    expect(rr.readUInt32BE(16)).toBe(1003);
    await d.ng.request({ command: 'delete', 'call-id': l.callId, 'delete-delay': 0 });
  });

  it('relays RTCP of a call the relay does not change byte for byte', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-plain');
    const p = await offerAnswer(d, { callId, fromTag: 'pa', toTag: 'pb', a, b, aMux: true, bMux: true });
    a.send(rtpPacket(1, { ssrc: 0x21 }), p.aRtp);
    await b.waitFor(1);
    const sr = senderReport(0x21, 12345, 1, 160);
    a.send(sr, p.aRtp);
    const got = (await b.waitFor(2)).map((r) => r.data).find((x) => x[1] === 200)!;
    expect(got.equals(sr)).toBe(true);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('generated reports carry interarrival jitter computed from arrival times', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-jitter');
    const p = await offerAnswer(d, { callId, fromTag: 'ja', toTag: 'jb', a, b, aMux: true, bMux: true, offerFlags: { flags: ['generate-RTCP'] } });
    // 20 ms of audio per packet, all sent at once: every packet arrives ~20 ms "early"
    for (let seq = 1; seq <= 12; seq++) a.send(rtpPacket(seq, { ssrc: 0xa5, ts: 160 * seq }), p.aRtp);
    await b.waitFor(12);
    await new Promise((r) => setTimeout(r, 400));
    const rep = rtcpOf(a).filter((x) => (x[0]! & 0x1f) >= 1);
    expect(rep.length).toBeGreaterThan(0);
    const last = rep[rep.length - 1]!;
    const head = last[1] === 200 ? 28 : 8;
    expect(last.readUInt32BE(head)).toBe(0xa5);
    const jitter = last.readUInt32BE(head + 12);
    // J after 11 steps of |D| ≈ 160: 160·(1 − (15/16)^11) ≈ 81, give or take the send spread
    expect(jitter).toBeGreaterThan(30);
    expect(jitter).toBeLessThan(170);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });
});
