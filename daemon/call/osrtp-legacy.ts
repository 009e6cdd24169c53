/**
 * Legacy "best effort" SRTP (the non-RFC form of opportunistic SRTP that predates RFC 8643):
 * each media advertised twice, once as plain RTP and once as SRTP, and the answerer keeps one
 * of the two. rtpengine's `OSRTP` values for it, as its ng protocol documents them:
 *
 * - `accept-legacy` (or `accept`): an incoming SDP with such pairs is taken as SRTP; the plain
 *   twin is removed, so the call sees one media. Toward that participant the relay keeps the
 *   pairing alive: each SDP it writes there carries the plain twin as a rejected m= line
 *   (port 0) before the SRTP one, or after it when the participant wrote SRTP first.
 *   A pair whose SRTP line is rejected and whose plain line is not is taken as plain RTP.
 * - `offer-legacy`: an offer the relay passes on with an SRTP protocol (`transport-protocol`
 *   RTP/SAVP) gets, before each SRTP m= line, a plain twin on the same port with the same
 *   attributes but no a=crypto.
 *
 * Runs under the call's write lock, as part of offer/answer.
 */
import type { SdpMedia, SdpSession } from '../sdp/sdp-model.js';
import type { SdpOutputMedia } from '../sdp/sdp-write.js';
import { isSrtpProtocol } from './call-crypto.js';
import type { NgFlags } from './flags.js';

/** Where the rejected plain twin goes, relative to the SRTP line, in SDPs toward a legacy participant. */
export type LegacyOsrtp = 'before' | 'after';

const marks = new WeakMap<SdpMedia, LegacyOsrtp>();

/** The mark `collapseLegacyPairs` left on an SRTP line kept from a pair, if any. */
export function legacyMark(sdp: SdpMedia): LegacyOsrtp | null {
  return marks.get(sdp) ?? null;
}

export function acceptsLegacy(flags: NgFlags): boolean {
  return flags.osrtp.has('accept-legacy') || flags.osrtp.has('accept');
}

/** The plain RTP profile of an SRTP one (RTP/SAVP → RTP/AVP, RTP/SAVPF → RTP/AVPF). */
export function plainProtocol(protocol: string): string {
  return /SAVPF$/i.test(protocol) ? 'RTP/AVPF' : 'RTP/AVP';
}

function isRtpFamily(protocol: string): boolean {
  return /\bRTP\/S?AVPF?$/i.test(protocol);
}

/**
 * The session with each legacy pair (adjacent m= lines of one media type, one plain RTP and
 * one SRTP) reduced to the line that is used. Returns the same session when there is none.
 */
export function collapseLegacyPairs(session: SdpSession): SdpSession {
  const kept: SdpMedia[] = [];
  let changed = false;
  for (const m of session.medias) {
    const last = kept[kept.length - 1];
    if (last && !marks.has(last) && last.type === m.type && isRtpFamily(last.protocol) && isRtpFamily(m.protocol)) {
      const lastSrtp = isSrtpProtocol(last.protocol);
      const thisSrtp = isSrtpProtocol(m.protocol);
      if (!lastSrtp && thisSrtp) {
        if (m.port !== 0) {
          // plain, then SRTP in use: the SRTP line stands for both
          kept[kept.length - 1] = m;
          marks.set(m, 'before');
          changed = true;
          continue;
        }
        if (last.port !== 0) {
          // SRTP rejected, plain in use: plain RTP it is
          changed = true;
          continue;
        }
      } else if (lastSrtp && !thisSrtp && last.port !== 0) {
        // SRTP first, then its plain twin
        marks.set(last, 'after');
        changed = true;
        continue;
      }
    }
    kept.push(m);
  }
  return changed ? { ...session, medias: kept } : session;
}

/**
 * The m= lines written for one media toward its receiver: the line itself, with the rejected
 * plain twin a legacy participant expects, or (`offer-legacy`) the full plain twin of an SRTP offer.
 */
export function withLegacyTwin(line: SdpOutputMedia, receiverMark: LegacyOsrtp | null, offerLegacy: boolean): SdpOutputMedia[] {
  const protocol = line.protocol ?? line.source.protocol;
  if (!isSrtpProtocol(protocol)) return [line];
  const plain = plainProtocol(protocol);
  if (receiverMark) {
    // the participant's m= lines keep their number and order
    const rejected: SdpOutputMedia = { ...line, port: 0, protocol: plain, bare: true };
    return receiverMark === 'before' ? [rejected, line] : [line, rejected];
  }
  if (offerLegacy && line.port !== 0) return [{ ...line, protocol: plain, crypto: [] }, line];
  return [line];
}
