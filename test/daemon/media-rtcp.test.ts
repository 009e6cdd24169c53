/**
 * RTCP quality statistics as rtpengine reports them: a sender report passes from A to B, B's
 * receiver report about A's SSRC passes back, and `query` / `delete` show A's SSRC with MOS,
 * round-trip time (relay → B → relay, from LSR/DLSR), jitter and packet loss. Malformed RTCP
 * (report counts or lengths overrunning the packet) is counted and dropped while the call keeps
 * relaying. JS path only: on the fast path the addon forwards RTCP without showing it to JS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosFrom } from '../../daemon/media/rtcp.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

/** A sender report (PT 200) without report blocks. */
function senderReport(ssrc: number, msw: number, lsw: number, packets: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(msw, 8);
  b.writeUInt32BE(lsw, 12);
  b.writeUInt32BE(123456, 16);
  b.writeUInt32BE(packets, 20);
  b.writeUInt32BE(packets * 160, 24);
  return b;
}

/** A receiver report (PT 201) with one block about `about`; `rc` may lie about the block count. */
function receiverReport(ssrc: number, about: number, o: { fraction: number; lost: number; jitter: number; lsr: number; dlsr: number }, rc = 1): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x80 | rc;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(about, 8);
  b[12] = o.fraction;
  b.writeUIntBE(o.lost, 13, 3);
  b.writeUInt32BE(1000, 16);
  b.writeUInt32BE(o.jitter, 20);
  b.writeUInt32BE(o.lsr, 24);
  b.writeUInt32BE(o.dlsr, 28);
  return b;
}

describe('RTCP quality statistics (JS path)', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath: false });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('reports MOS, round-trip time, jitter and packet loss per SSRC in query and delete', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-mos');
    const p = await offerAnswer(d, { callId, fromTag: 'qa', toTag: 'qb', a, b, aMux: true, bMux: true });
    a.send(rtpPacket(1, { ssrc: 0xa1 }), p.aRtp);
    b.send(rtpPacket(1, { ssrc: 0xb1 }), p.bRtp);
    await b.waitFor(1);
    await a.waitFor(1);
    a.clear();
    b.clear();

    const sr = senderReport(0xa1, 0x00001234, 0x56780000, 50);
    a.send(sr, p.aRtp);
    const atB = await b.waitFor(1);
    expect(atB[0]!.data.equals(sr), 'the SR reaches B unchanged').toBe(true);
    await new Promise((r) => setTimeout(r, 40));
    // B held the SR 10 ms (DLSR in 1/65536 s) before reporting; 25 % lost, jitter 160 = 20 ms
    const rr = receiverReport(0xb1, 0xa1, { fraction: 64, lost: 10, jitter: 160, lsr: 0x12345678, dlsr: 655 });
    b.send(rr, p.bRtp);
    const atA = await a.waitFor(1);
    expect(atA[0]!.data.equals(rr), 'the RR reaches A unchanged').toBe(true);

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const s = q.SSRC[String(0xa1)];
    expect(s.tag).toBe('qa');
    const avg = s['average MOS'];
    expect(avg['packet loss']).toBe(25);
    expect(avg.jitter).toBe(20);
    expect(avg.samples).toBe(1);
    // relay → B → relay took the 40 ms we waited (and a little), less B's 10 ms hold
    expect(avg['round-trip time']).toBeGreaterThanOrEqual(25_000);
    expect(avg['round-trip time']).toBeLessThan(1_000_000);
    expect(avg.MOS).toBe(mosFrom(25, 20, avg['round-trip time'] / 1000));
    expect(s['lowest MOS'].MOS).toBe(avg.MOS);
    expect(s['highest MOS'].MOS).toBe(avg.MOS);
    expect(s['cumulative packets lost']).toBe(10);

    // a better report: highest and lowest part, the average follows
    b.send(receiverReport(0xb1, 0xa1, { fraction: 0, lost: 10, jitter: 8, lsr: 0, dlsr: 0 }), p.bRtp);
    await a.waitFor(2);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
    const ds = del.SSRC[String(0xa1)];
    expect(ds['average MOS'].samples).toBe(2);
    expect(ds['highest MOS'].MOS).toBe(mosFrom(0, 1, 0));
    expect(ds['highest MOS']['packet loss']).toBe(0);
    expect(ds['lowest MOS'].MOS).toBe(avg.MOS);
    expect(ds['highest MOS'].MOS).toBeGreaterThan(ds['lowest MOS'].MOS);
  });

  it('drops and counts RTCP whose report count or length overruns the packet, and keeps relaying', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-bad');
    const p = await offerAnswer(d, { callId, fromTag: 'qa', toTag: 'qb', a, b, aMux: true, bMux: true });
    a.send(rtpPacket(1, { ssrc: 0xa2 }), p.aRtp);
    await b.waitFor(1);
    b.clear();
    const ok = { fraction: 0, lost: 0, jitter: 0, lsr: 0, dlsr: 0 };
    const tooMany = receiverReport(0xa2, 0xb2, ok, 3); // says 3 blocks, carries 1
    const tooLong = receiverReport(0xa2, 0xb2, ok);
    tooLong.writeUInt16BE(40, 2); // length beyond the datagram
    const compound = Buffer.concat([receiverReport(0xa2, 0xb2, ok), Buffer.from([0x40, 202, 0, 0])]); // 2nd part version 1
    for (const bad of [tooMany, tooLong, compound]) a.send(bad, p.aRtp);
    const good = receiverReport(0xa2, 0xb2, ok);
    a.send(good, p.aRtp);
    a.send(rtpPacket(2, { ssrc: 0xa2 }), p.aRtp);
    const got = await b.waitFor(2);
    await b.settle(150);
    expect(got.length).toBe(2);
    expect(got[0]!.data.equals(good)).toBe(true);
    expect(got[1]!.data.readUInt16BE(2)).toBe(2);
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const stream = q.tags.qa.medias[0].streams[0];
    expect(stream['malformed RTCP']).toBe(3);
    expect(stream.stats.errors).toBe(3);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });
});

describe.each([{ fastPath: false }, { fastPath: true }])('generate RTCP, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(['--rtcp-interval', '200'], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('consumes what the endpoints send and sends each its own SR with report blocks from the relay\'s counters', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('rtcp-gen');
    const p = await offerAnswer(d, { callId, fromTag: 'ga', toTag: 'gb', a, b, aMux: true, bMux: true, offerFlags: { flags: ['generate-RTCP'] } });
    for (let seq = 1; seq <= 10; seq++) if (seq !== 5) a.send(rtpPacket(seq, { ssrc: 0xa1 }), p.aRtp);
    for (let seq = 1; seq <= 3; seq++) b.send(rtpPacket(seq, { ssrc: 0xb1 }), p.bRtp);
    await b.waitFor(9);
    await a.waitFor(3);
    // an endpoint's own report is read, not relayed
    a.send(receiverReport(0xa1, 0xb1, { fraction: 0, lost: 0, jitter: 0, lsr: 0, dlsr: 0 }), p.aRtp);
    await new Promise((r) => setTimeout(r, 600));
    const rtcpAt = (peer: RtpPeer) => peer.received.map((r) => r.data).filter((x) => x[1] === 200 || x[1] === 201);
    const toB = rtcpAt(b);
    const toA = rtcpAt(a);
    expect(toB.length).toBeGreaterThanOrEqual(1);
    expect(toA.length).toBeGreaterThanOrEqual(1);
    expect(toB.every((x) => x[1] === 200), 'no RR of A\'s relayed to B: only the relay\'s SRs').toBe(true);

    const srB = toB[toB.length - 1]!;
    expect(srB[0]).toBe(0x81); // version 2, one report block
    expect(srB.readUInt16BE(2)).toBe((28 + 24) / 4 - 1);
    expect(srB.readUInt32BE(4)).toBe(0xa1); // what B receives: A's SSRC …
    expect(srB.readUInt32BE(16)).toBe(10 * 160); // … its last RTP timestamp
    expect(srB.readUInt32BE(20)).toBe(9); // … and the 9 packets B got
    expect(srB.readUInt32BE(24)).toBe(9 * 160);
    expect(srB.readUInt32BE(28)).toBe(0xb1); // block about what B sends
    expect(srB.readUIntBE(33, 3)).toBe(0);
    expect(srB.readUInt32BE(36)).toBe(3);

    const srA = toA[toA.length - 1]!;
    expect(srA.readUInt32BE(4)).toBe(0xb1);
    expect(srA.readUInt32BE(20)).toBe(3);
    expect(srA.readUInt32BE(28)).toBe(0xa1);
    expect(srA.readUIntBE(33, 3), 'A\'s seq 5 never arrived').toBe(1);
    expect(srA.readUInt32BE(36)).toBe(10);

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const s = q.tags.ga.medias[0].streams[0];
    if (fastPath) expect(s.fastPath).toEqual({ native: 0, reason: 'generate RTCP: RTCP is consumed and reports are built from per-SSRC counters on the JS path' });
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });
});
