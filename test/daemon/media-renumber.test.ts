/**
 * Payload-type renumbering: the two sides number the same codecs differently (opus 96 vs 97,
 * telephone-event 101 vs 96, PCMU 0 on both). A packet's payload type is read in its sender's
 * numbering and leaves in the receiver's; everything else of the packet is relayed byte for
 * byte. Runs on the JS path (-t -1) and on the native fast path (-t 0), which learns the
 * renumbering as a per-destination payload-type map.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, rtpmaps: string[]): string {
  return [
    'v=0',
    `o=- 1545997027 1 IN IP4 ${peer.address}`,
    's=tester',
    't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`,
    `c=IN IP4 ${peer.address}`,
    ...rtpmaps.map((r) => `a=rtpmap:${r}`),
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** A's numbering: PCMU 0, opus 96, telephone-event 101. */
const A_SDP = (p: RtpPeer) => sdp(p, '0 96 101', ['0 PCMU/8000', '96 opus/48000/2', '101 telephone-event/8000']);
/** B's numbering: PCMU 0, opus 97, telephone-event 96 (A's opus number!). */
const B_SDP = (p: RtpPeer) => sdp(p, '0 97 96', ['0 PCMU/8000', '97 opus/48000/2', '96 telephone-event/8000']);

/** The packet as it must arrive: the same bytes with the payload type (marker kept) rewritten. */
function renumbered(pkt: Buffer, pt: number): Buffer {
  const out = Buffer.from(pkt);
  out[1] = (out[1]! & 0x80) | pt;
  return out;
}

describe.each([{ fastPath: false }, { fastPath: true }])('payload-type renumbering, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('rewrites the payload type both ways, passes the rest unchanged, and says which path forwards', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('renumber');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ra', sdp: A_SDP(a) });
    expect(offer.result).toBe('ok');
    // the SDP itself is relayed with each side's own numbers
    expect(offer.sdp).toMatch(/m=audio \d+ RTP\/AVP 0 96 101\r\n/);
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ra', 'to-tag': 'rb', sdp: B_SDP(b) });
    expect(answer.result).toBe('ok');
    expect(answer.sdp).toMatch(/m=audio \d+ RTP\/AVP 0 97 96\r\n/);
    // where each side sends: the relay port in the SDP it received
    const fromA = relayPortsOf(answer.sdp as string).rtp;
    const fromB = relayPortsOf(offer.sdp as string).rtp;

    if (fastPath) {
      const before = await d.ng.request({ command: 'query', 'call-id': callId });
      expect(before.tags.ra.medias[0].streams[0].fastPath).toEqual({ native: 0, reason: 'endpoint not learned yet' });
    }

    // [payload type sent, payload type expected at the other side]
    const aToB: Array<[number, number]> = [[0, 0], [96, 97], [101, 96], [13, 13]];
    const bToA: Array<[number, number]> = [[0, 0], [97, 96], [96, 101], [13, 13]];
    // first packets teach the relay both endpoints (and on the fast path kernelize the streams)
    a.send(rtpPacket(1, { ssrc: 0xa1, pt: 0 }), fromA);
    b.send(rtpPacket(1, { ssrc: 0xb1, pt: 0 }), fromB);
    await b.waitFor(1);
    await a.waitFor(1);
    a.clear();
    b.clear();
    if (fastPath) {
      // each stream moves to the addon after its learning packet was relayed (asynchronously):
      // the rounds, all counted as the addon's below, go once both have
      const end = Date.now() + 3000;
      for (;;) {
        const q = await d.ng.request({ command: 'query', 'call-id': callId });
        if (q.tags.ra.medias[0].streams[0].fastPath.native === 1 && q.tags.rb.medias[0].streams[0].fastPath.native === 1) break;
        expect(Date.now() < end, 'both streams native within 3 s').toBe(true);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const rounds = 10;
    const sentA: Buffer[] = [];
    const sentB: Buffer[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [pt] of aToB) {
        const p = rtpPacket(100 + sentA.length, { ssrc: 0xa1, pt });
        if (i === 0) p[1] = p[1]! | 0x80; // a marker bit survives renumbering
        sentA.push(p);
        a.send(p, fromA);
      }
      for (const [pt] of bToA) {
        const p = rtpPacket(500 + sentB.length, { ssrc: 0xb1, pt });
        sentB.push(p);
        b.send(p, fromB);
      }
    }
    const atB = await b.waitFor(sentA.length);
    const atA = await a.waitFor(sentB.length);
    expect(atB.length).toBe(sentA.length);
    expect(atA.length).toBe(sentB.length);
    atB.forEach((r, i) => {
      const want = aToB[i % aToB.length]![1];
      expect(r.data.equals(renumbered(sentA[i]!, want)), `A→B packet ${i}`).toBe(true);
    });
    atA.forEach((r, i) => {
      const want = bToA[i % bToA.length]![1];
      expect(r.data.equals(renumbered(sentB[i]!, want)), `B→A packet ${i}`).toBe(true);
    });

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const rtpA = q.tags.ra.medias[0].streams[0];
    const rtpB = q.tags.rb.medias[0].streams[0];
    expect(rtpA.stats.packets).toBe(1 + sentA.length);
    expect(rtpB.stats.packets).toBe(1 + sentB.length);
    if (fastPath) {
      expect(rtpA.fastPath).toEqual({ native: 1 });
      expect(rtpB.fastPath).toEqual({ native: 1 });
      expect(rtpA.flags).toContain('kernelized');
      const stats = await d.ng.request({ command: 'statistics' });
      expect(stats.fastPath.packets, 'the addon forwarded (and renumbered) after the first packets').toBeGreaterThanOrEqual(sentA.length + sentB.length);
    } else {
      expect(rtpA.fastPath.native).toBe(0);
      expect(rtpA.fastPath.reason).toMatch(/no fast path/);
      expect(rtpA.SSRC).toEqual([0xa1]);
    }
    await deleteCall(d, callId);
  });

  it('re-decides on a re-INVITE: once both sides number alike, packets pass unchanged', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('renumber-reinvite');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ra', sdp: A_SDP(a) });
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ra', 'to-tag': 'rb', sdp: B_SDP(b) });
    // where each side sends: the relay port in the SDP it received
    const fromA = relayPortsOf(answer.sdp as string).rtp;
    const fromB = relayPortsOf(offer.sdp as string).rtp;
    a.send(rtpPacket(1, { ssrc: 0xa2, pt: 101 }), fromA);
    b.send(rtpPacket(1, { ssrc: 0xb2, pt: 96 }), fromB);
    expect((await b.waitFor(1))[0]!.data[1]).toBe(96);
    expect((await a.waitFor(1))[0]!.data[1]).toBe(101);
    a.clear();
    b.clear();

    // B re-INVITEs with A's numbering; A answers unchanged
    const reoffer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'rb', 'to-tag': 'ra', sdp: sdp(b, '0 96 101', ['0 PCMU/8000', '96 opus/48000/2', '101 telephone-event/8000']).replace('1545997027 1', '1545997027 2') });
    expect(reoffer.result).toBe('ok');
    const reanswer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'rb', 'to-tag': 'ra', sdp: A_SDP(a).replace('1545997027 1', '1545997027 2') });
    expect(reanswer.result).toBe('ok');
    for (let i = 0; i < 5; i++) {
      a.send(rtpPacket(10 + i, { ssrc: 0xa2, pt: 101 }), fromA);
      b.send(rtpPacket(10 + i, { ssrc: 0xb2, pt: 96 }), fromB);
    }
    const atB = await b.waitFor(5);
    const atA = await a.waitFor(5);
    expect(atB.map((r) => r.data[1])).toEqual([101, 101, 101, 101, 101]);
    expect(atA.map((r) => r.data[1])).toEqual([96, 96, 96, 96, 96]);
    await deleteCall(d, callId);
  });
});
