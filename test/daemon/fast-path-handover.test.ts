/**
 * The hand-over of a stream from the JS path to the native fast path keeps the packets' order.
 * The learning packet goes up to JS; the stream is kernelized after it was relayed; packets the
 * forwarding threads read meanwhile are queued up to JS too. An entry installed while some are
 * still queued would let the next packets, forwarded natively at once, overtake them. A burst
 * right behind the learning packet (sent as soon as it arrived, or all at once) must arrive
 * complete and in the order sent, both ways; and after the hand-over the stream is native.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, offerAnswer, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

/** Fits a peer's default receive buffer (212 kB) with room to spare, so nothing is lost at the receiver. */
const BURST = 100;
const ROUNDS = 5;

describe('fast-path hand-over', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath: true });
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.fastPath.available, `fast path must be built for this run: ${JSON.stringify(stats.fastPath)}`).toBe(1);
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
    await d.stop();
  });

  it('a burst straight after the answer arrives complete and in order, and the stream ends up native', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await RtpPeer.open();
      const b = await RtpPeer.open();
      peers.push(a, b);
      const callId = uniqueCallId(`handover${round}`);
      const r = await offerAnswer(d, { callId, fromTag: 'a', toTag: 'b', a, b });
      // A: the learning packet, and the rest as soon as it arrived (before the entry may exist)
      a.send(rtpPacket(0, { ssrc: 0xa }), r.aRtp);
      await b.waitFor(1);
      for (let i = 1; i < BURST; i++) a.send(rtpPacket(i, { ssrc: 0xa }), r.aRtp);
      // B: all at once, the learning packet first
      for (let i = 0; i < BURST; i++) b.send(rtpPacket(1000 + i, { ssrc: 0xb }), r.bRtp);
      const atB = (await b.waitFor(BURST, 5000)).map((p) => p.data.readUInt16BE(2));
      const atA = (await a.waitFor(BURST, 5000)).map((p) => p.data.readUInt16BE(2));
      expect(atB, `round ${round}: A to B in the order sent`).toEqual(Array.from({ length: BURST }, (_, i) => i));
      expect(atA, `round ${round}: B to A in the order sent`).toEqual(Array.from({ length: BURST }, (_, i) => 1000 + i));
      const q = await d.ng.request({ command: 'query', 'call-id': callId });
      for (const tag of ['a', 'b']) expect(q.tags[tag].medias[0].streams[0].fastPath, `${tag} went native`).toEqual({ native: 1 });
      await deleteCall(d, callId);
    }
  });
});
