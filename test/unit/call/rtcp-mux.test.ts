/**
 * decideRtcpMux, the one place rtcp-mux is decided: what the SDP of each step carries and the
 * state it leaves on both sides' medias (which the sinks and the packet path read). Real Call
 * objects, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { Call } from '../../../daemon/call/call.js';
import type { CallMedia } from '../../../daemon/call/call-media.js';
import type { RtcpMuxOption } from '../../../daemon/call/flags.js';
import { decideRtcpMux } from '../../../daemon/call/rtcp-mux.js';
import { callContext } from '../../helpers/call-context.js';

function pair(): { call: Call; a: CallMedia; b: CallMedia } {
  const call = new Call('mux-test', callContext());
  const ma = call.addMonologue('a', undefined);
  const mb = call.addMonologue('b', undefined);
  return { call, a: call.addMedia(ma, 1, 'audio'), b: call.addMedia(mb, 1, 'audio') };
}

const policy = (...p: RtcpMuxOption[]) => new Set(p);

/** Offer from a (mux as given) with the policy, then b's answer (mux as given). */
function offerAnswer(offerMux: boolean, p: Set<RtcpMuxOption>, answerMux: boolean) {
  const { a, b } = pair();
  const offer = decideRtcpMux({ kind: 'offer', sender: a, receiver: b, senderMux: offerMux, policy: p });
  const afterOffer = { bRtcpMux: b.rtcpMux, bReceivesMuxed: b.rtp.rtcpMux, aReceivesMuxed: a.rtp.rtcpMux };
  const answer = decideRtcpMux({ kind: 'answer', sender: b, receiver: a, senderMux: answerMux });
  return { a, b, offer, answer, afterOffer };
}

describe('rtcp-mux in offer/answer', () => {
  it('offered and accepted: both sides mux, a=rtcp names the RTP port in the answer', () => {
    const r = offerAnswer(true, policy(), true);
    expect(r.offer).toEqual({ offer: true, onRtpPort: false });
    expect(r.afterOffer).toEqual({ bRtcpMux: false, bReceivesMuxed: true, aReceivesMuxed: true });
    expect(r.answer).toEqual({ offer: true, onRtpPort: true });
    expect([r.a.rtcpMux, r.b.rtcpMux]).toEqual([true, true]);
    expect(r.a.rtcpTarget()).toBe(r.a.rtp);
    expect(r.b.rtcpTarget()).toBe(r.b.rtp);
  });

  it('offered, refused by the answerer: the offerer is not muxed unless `accept`', () => {
    const plain = offerAnswer(true, policy(), false);
    expect(plain.answer).toEqual({ offer: false, onRtpPort: false });
    expect([plain.a.rtcpMux, plain.b.rtcpMux]).toEqual([false, false]);
    expect(plain.a.rtcpTarget()).toBe(plain.a.rtcp);
    // the offerer may still send muxed RTCP until it learns the answer: its socket demuxes
    expect(plain.a.rtp.rtcpMux).toBe(true);
    const accept = offerAnswer(true, policy('accept'), false);
    expect(accept.answer).toEqual({ offer: true, onRtpPort: true });
    expect([accept.a.rtcpMux, accept.b.rtcpMux]).toEqual([true, false]);
  });

  it('`offer` offers mux to an answerer the offerer did not offer it to', () => {
    const r = offerAnswer(false, policy('offer'), true);
    expect(r.offer).toEqual({ offer: true, onRtpPort: false });
    expect(r.b.rtcpMux).toBe(true);
    // the offerer never offered it: it is not muxed
    expect(r.answer).toEqual({ offer: false, onRtpPort: false });
    expect(r.a.rtcpMux).toBe(false);
  });

  it('`demux` takes mux away from the answerer; the offerer keeps it', () => {
    const r = offerAnswer(true, policy('demux'), false);
    expect(r.offer).toEqual({ offer: false, onRtpPort: false });
    expect(r.answer).toEqual({ offer: true, onRtpPort: true });
    expect([r.a.rtcpMux, r.b.rtcpMux]).toEqual([true, false]);
  });

  it('`require` makes the answerer mux from the offer on; `reject` refuses it toward the offerer', () => {
    const req = offerAnswer(false, policy('require'), false);
    expect(req.offer).toEqual({ offer: true, onRtpPort: true });
    expect(req.afterOffer.bRtcpMux).toBe(true);
    expect(req.b.rtcpMux).toBe(true);
    const rej = offerAnswer(true, policy('reject'), true);
    expect(rej.offer).toEqual({ offer: true, onRtpPort: false });
    expect(rej.answer).toEqual({ offer: false, onRtpPort: false });
    expect([rej.a.rtcpMux, rej.b.rtcpMux]).toEqual([false, true]);
  });

  it('non-RTP media never carry a=rtcp-mux', () => {
    const { a, b } = pair();
    expect(decideRtcpMux({ kind: 'offer', sender: a, receiver: b, senderMux: true, policy: policy('require') }, false).offer).toBe(false);
  });
});

describe('rtcp-mux in publish/subscribe', () => {
  it('publish accepts the publisher\'s mux; subscribers are offered it and answer for themselves', () => {
    const { a: pub, b: sub } = pair();
    expect(decideRtcpMux({ kind: 'publish', publisher: pub, senderMux: true })).toEqual({ offer: true, onRtpPort: true });
    expect([pub.muxOffered, pub.rtcpMux, pub.rtp.rtcpMux]).toEqual([true, true, true]);
    expect(decideRtcpMux({ kind: 'subscribe request', publisher: pub, subscriber: sub, policy: policy() })).toEqual({ offer: true, onRtpPort: false });
    expect([sub.rtcpMux, sub.rtp.rtcpMux]).toEqual([false, true]);
    decideRtcpMux({ kind: 'subscribe answer', subscriber: sub, senderMux: true });
    expect([sub.rtcpMux, sub.rtp.rtcpMux]).toEqual([true, true]);
  });

  it('a subscriber that does not take the offered mux is not muxed', () => {
    const { a: pub, b: sub } = pair();
    decideRtcpMux({ kind: 'publish', publisher: pub, senderMux: false });
    expect(decideRtcpMux({ kind: 'subscribe request', publisher: pub, subscriber: sub, policy: policy('offer') }).offer).toBe(true);
    decideRtcpMux({ kind: 'subscribe answer', subscriber: sub, senderMux: false });
    expect([sub.rtcpMux, sub.rtp.rtcpMux]).toEqual([false, false]);
    expect(sub.rtcpTarget()).toBe(sub.rtcp);
  });
});
