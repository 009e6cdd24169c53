/**
 * rtcp-mux (RFC 5761) for one media, decided in one place. Every signalling step that reads or
 * writes an m= line asks `decideRtcpMux`; it updates the media's mux state and says what the SDP
 * written for the step's receiver must carry. Nothing else writes the mux fields.
 *
 * The state it keeps, per participant's media (CallMedia):
 *   muxOffered  the participant offered rtcp-mux (remembered for the answer to its offer)
 *   rtcpMux     RTCP to this participant goes to its RTP port (it accepted, or we require it)
 *   muxPolicy   the ng `rtcp-mux` flags of the offer this participant received (for its answer)
 * and, for the packet path, `rtp.rtcpMux` on the participant's RTP stream: RTCP may arrive
 * muxed on that port (we offered or accepted mux there), so the socket demultiplexes.
 */
import type { RtcpMuxOption } from './flags.js';
import type { CallMedia } from './call-media.js';

/** What the SDP written in this step says about rtcp-mux. */
export interface RtcpMuxOutput {
  /** write `a=rtcp-mux` */
  offer: boolean;
  /** RTCP shares the RTP port: `a=rtcp` names the RTP port */
  onRtpPort: boolean;
}

export type RtcpMuxStep =
  /** `sender` offered (its SDP says `senderMux`); the SDP goes to `receiver` */
  | { kind: 'offer'; sender: CallMedia; receiver: CallMedia; senderMux: boolean; policy: ReadonlySet<RtcpMuxOption> }
  /** `sender` answered an offer `receiver` made; the SDP goes back to `receiver` */
  | { kind: 'answer'; sender: CallMedia; receiver: CallMedia; senderMux: boolean }
  /** `publisher` published; the relay answers it */
  | { kind: 'publish'; publisher: CallMedia; senderMux: boolean }
  /** `subscriber` is offered `publisher`'s media */
  | { kind: 'subscribe request'; publisher: CallMedia; subscriber: CallMedia; policy: ReadonlySet<RtcpMuxOption> }
  /** `subscriber` answered its subscription offer; no SDP goes out */
  | { kind: 'subscribe answer'; subscriber: CallMedia; senderMux: boolean };

function set(media: CallMedia, active: boolean, receiveMuxed: boolean): void {
  media.rtcpMux = active;
  media.rtp.rtcpMux = receiveMuxed;
}

/**
 * Decides rtcp-mux for one m= line in one step, as rtpengine does: `require` forces it,
 * `offer` offers it even when the offerer did not, `demux` takes it away from the answerer's
 * side, `accept` accepts the offerer's, `reject` refuses it toward the offerer. Non-RTP media
 * (`rtp` false) never carry `a=rtcp-mux`.
 */
/** No `rtcp-mux` flags: shared by every media that was offered none (most), not a Set each. */
export const NO_MUX_POLICY: ReadonlySet<RtcpMuxOption> = new Set();

export function decideRtcpMux(step: RtcpMuxStep, rtp = true): RtcpMuxOutput {
  switch (step.kind) {
    case 'offer': {
      const { sender, receiver, senderMux, policy: p } = step;
      sender.muxOffered = senderMux;
      set(sender, sender.rtcpMux, senderMux || sender.rtcpMux);
      // `reject` only refuses mux toward the offerer (in the answer); the answerer is still offered it
      const offer = rtp && (p.has('require') || p.has('offer') || (senderMux && !p.has('demux')));
      // the receiver must mux if we require it; otherwise we learn it from its answer
      set(receiver, p.has('require'), offer);
      receiver.muxPolicy = p.size === 0 ? NO_MUX_POLICY : p;
      return { offer, onRtpPort: p.has('require') };
    }
    case 'answer': {
      const { sender, receiver, senderMux } = step;
      const p = sender.muxPolicy;
      // the answerer muxes if it accepted the mux we offered (or we required it)
      const answererMux = senderMux || sender.rtcpMux;
      set(sender, answererMux, answererMux);
      const offererMux = receiver.muxOffered && !p.has('reject')
        && (p.has('accept') || p.has('demux') || p.has('require') || answererMux);
      set(receiver, offererMux, offererMux || receiver.muxOffered);
      return { offer: rtp && offererMux, onRtpPort: offererMux };
    }
    case 'publish': {
      // the publisher's RTCP comes muxed if it offered so, and the relay accepts
      const { publisher, senderMux } = step;
      publisher.muxOffered = senderMux;
      set(publisher, senderMux, senderMux);
      return { offer: rtp && senderMux, onRtpPort: senderMux };
    }
    case 'subscribe request': {
      const { publisher, subscriber, policy: p } = step;
      const offer = p.has('require') || p.has('offer') || publisher.muxOffered;
      // muxed only if required; otherwise the subscriber's answer says whether it muxes
      set(subscriber, p.has('require'), offer);
      subscriber.muxPolicy = p.size === 0 ? NO_MUX_POLICY : p;
      return { offer: rtp && offer, onRtpPort: p.has('require') };
    }
    case 'subscribe answer': {
      const { subscriber, senderMux } = step;
      const mux = senderMux && subscriber.rtp.rtcpMux;
      set(subscriber, mux, mux);
      return { offer: false, onRtpPort: mux };
    }
  }
}

/**
 * BUNDLE (RFC 8843 requires rtcp-mux): a participant's m= line in a shared group muxes RTCP on
 * the one RTP port, whatever the policy said, and the SDP it gets says so.
 */
export function bundleMux(media: CallMedia): RtcpMuxOutput {
  set(media, true, true);
  return { offer: true, onRtpPort: true };
}
