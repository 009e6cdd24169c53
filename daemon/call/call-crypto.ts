/**
 * SRTP for one m= line during offer/answer (rtpengine's SDES handling in call.c): the m=
 * protocol the recipient gets, the `a=crypto` lines it gets, and the SRTP contexts the packet
 * path uses afterwards. The rules themselves live in crypto/sdes-negotiate.ts; this is the
 * glue to the call model. Runs under the call's write lock.
 */
import { log } from '../log/logger.js';
import type { CryptoParams } from '../crypto/transport-handler.js';
import { formatCrypto, parseCrypto, sameCrypto, srtpParams, SdesParseError, type SdesCrypto } from '../crypto/sdes.js';
import { answerCryptos, offerCryptos, SdesState, type SdesFlags } from '../crypto/sdes-negotiate.js';
import { isRtpProtocol, type SdpMedia } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { NgFlags } from './flags.js';

export function isSrtpProtocol(protocol: string): boolean {
  return /\bRTP\/SAVPF?$/i.test(protocol);
}

/** What the output m= line carries; undefined fields leave the input's as they are. */
export interface CryptoOutput {
  protocol?: string;
  crypto?: string[];
}

/** The participant's usable a=crypto lines; malformed ones are ignored with a warning. */
export function cryptoLines(sdp: SdpMedia, callId: string): SdesCrypto[] {
  const out: SdesCrypto[] = [];
  for (const a of sdp.attributes) {
    if (a.name !== 'crypto') continue;
    try {
      out.push(parseCrypto(a.value ?? ''));
    } catch (err) {
      if (!(err instanceof SdesParseError)) throw err;
      log().warn({ callId, line: a.value, reason: err.message }, 'Failed to parse a=crypto attribute, ignoring');
    }
  }
  return out;
}

function formatAll(lines: SdesCrypto[], f: SdesFlags): string[] {
  return lines.map((c) => formatCrypto(c, { pad: f.pad, lifetime: f.lifetime }));
}

/** Offer from the participant of `sm` toward the participant of `rm`. */
export function cryptoOffer(sm: CallMedia, rm: CallMedia, sdp: SdpMedia, flags: NgFlags, callId: string): CryptoOutput {
  if (!isRtpProtocol(sdp.protocol)) return {};
  if (flags.flags.has('reset')) {
    sm.sdes.clear();
    rm.sdes.clear();
  }
  const remote = cryptoLines(sdp, callId);
  sm.sdes.remote = remote;
  sm.sdesFlags = rm.sdesFlags = flags.sdes;
  // RFC 8643: plain RTP/AVP carrying a=crypto is opportunistic SRTP; we take it as SRTP only
  // when told to (`OSRTP=accept`), otherwise the lines pass through untouched
  sm.srtp = isSrtpProtocol(sdp.protocol) || (flags.osrtp.has('accept') && remote.length > 0);
  const tp = flags.transportProtocol && flags.transportProtocol.toLowerCase() !== 'accept' ? flags.transportProtocol : undefined;
  const protocol = tp ?? sdp.protocol;
  rm.protocolSent = protocol;
  // UDP/TLS/RTP/SAVP[F] is keyed by DTLS only: no a=crypto (call-dtls.ts)
  const wantSrtp = (isSrtpProtocol(protocol) && !/^UDP\/TLS\//i.test(protocol)) || (flags.osrtp.has('offer') && !flags.sdes.off);
  rm.srtpOffered = wantSrtp;
  if (!wantSrtp) {
    rm.sdes.sent = [];
    // plain to plain: nothing of ours to say; SRTP to plain: the keys stay on this side
    return sm.srtp ? { protocol, crypto: [] } : { protocol: tp };
  }
  return { protocol, crypto: formatAll(offerCryptos(sm.srtp ? remote : [], rm.sdes, flags.sdes), flags.sdes) };
}

/** Answer from the participant of `sm` (answerer) to the participant of `rm` (offerer). */
export function cryptoAnswer(sm: CallMedia, rm: CallMedia, sdp: SdpMedia, callId: string): CryptoOutput {
  if (!isRtpProtocol(sdp.protocol)) return {};
  const answered = cryptoLines(sdp, callId);
  sm.sdes.remote = answered;
  const f = rm.sdesFlags ?? sm.sdesFlags;
  const answererSrtp = sm.srtpOffered && answered.length > 0;
  sm.srtp = answererSrtp;
  // the offerer gets the protocol it offered (rtpengine answers in the offerer's profile)
  const protocol = rm.protocol !== sdp.protocol ? rm.protocol : undefined;
  sm.protocolSent = protocol ?? sdp.protocol;
  if (!rm.srtp && !sm.srtpOffered) return { protocol };
  if (!f) return { protocol, crypto: [] };
  const { toOfferer } = answerCryptos(rm.sdes, sm.sdes, answered, f, rm.srtp, answererSrtp);
  return { protocol, crypto: toOfferer ? formatAll([toOfferer], f) : [] };
}

/**
 * The answer of a participant the relay made the offer for itself (`create answer`): which of
 * our lines it took sets both directions' keys. There is no offerer on the other side of it
 * (the relay offered), so nothing goes back anywhere.
 */
export function createdPartyAnswer(media: CallMedia, sdp: SdpMedia, callId: string): void {
  if (!isRtpProtocol(sdp.protocol)) return;
  const answered = cryptoLines(sdp, callId);
  media.sdes.remote = answered;
  const answererSrtp = media.srtpOffered && answered.length > 0;
  media.srtp = answererSrtp;
  media.protocol = sdp.protocol;
  const f = media.sdesFlags;
  if (!f || !media.srtpOffered) {
    media.sdes.rx = null;
    media.sdes.tx = null;
    return;
  }
  answerCryptos(new SdesState(), media.sdes, answered, f, false, answererSrtp);
}

/** The negotiated line each CryptoParams was made from, to see whether a re-INVITE changed it. */
const made = new WeakMap<CryptoParams, SdesCrypto>();

/** The same CryptoParams object while the keys stay (the SRTP context lives with it), a new one on a re-key. */
function paramsFor(current: CryptoParams | null, want: SdesCrypto | null): CryptoParams | null {
  if (!want) return null;
  if (current && sameCrypto(made.get(current) ?? null, want)) return current;
  const p = srtpParams(want);
  const params: CryptoParams = {
    suite: want.suite.name,
    masterKey: p.masterKey,
    masterSalt: p.masterSalt,
    unencryptedSrtp: want.unencryptedSrtp,
    unencryptedSrtcp: want.unencryptedSrtcp,
    unauthenticatedSrtp: want.unauthenticatedSrtp,
  };
  if (want.mki) params.mki = want.mki;
  made.set(params, want);
  return params;
}

/**
 * Brings the media's negotiated keys into the pipeline's terms (after offer or answer); the
 * handler chain built next (Call.rebuildSinks) picks SRTP handlers from them.
 */
export function syncSrtpContexts(media: CallMedia): void {
  media.cryptoRecv = paramsFor(media.cryptoRecv, media.sdes.rx);
  media.cryptoSend = paramsFor(media.cryptoSend, media.sdes.tx);
}
