/**
 * SRTP as the pipeline's transport handlers (rtpengine's stream handlers for SAVP: the
 * rtp/rtcp in functions decrypt and authenticate, the out functions encrypt and tag). A stream
 * whose participant sends SRTP gets an SrtpInputHandler; a sink toward a participant that
 * receives SRTP gets an SrtpOutputHandler.
 *
 * Handler objects come and go with every re-evaluation of the chain, but the crypto context
 * lives as long as the negotiated keys (one per CryptoParams object, which signalling replaces
 * only when the keys change), and the per-SSRC state (rollover counter, replay window) lives
 * with the stream's SsrcContext, so it survives both a rebuild and a re-key. SRTCP state
 * (indexes, replay windows) belongs to the crypto context: new keys start SRTCP afresh.
 */
import { findSuite } from './suites.js';
import { newRtpSsrcState, SrtpContext, type RtpSsrcState, type SrtpFailure } from './srtp.js';
import type { CryptoParams, InputHandler, OutputHandler, SsrcCryptoState, TransportHandlerFactory, TransportSpec } from './transport-handler.js';

/** The stream's per-SSRC context as this room sees it (codec/ssrc.ts SsrcContext). */
type SsrcContext = SsrcCryptoState;

const contexts = new WeakMap<CryptoParams, SrtpContext>();
const ssrcStates = new WeakMap<SsrcContext, RtpSsrcState>();

function contextFor(params: CryptoParams): SrtpContext {
  let ctx = contexts.get(params);
  if (!ctx) {
    const suite = findSuite(params.suite);
    if (!suite) throw new Error(`SRTP handler for unknown suite ${params.suite}`);
    ctx = new SrtpContext({
      suite,
      masterKey: params.masterKey,
      masterSalt: params.masterSalt,
      mki: params.mki ?? null,
      unencryptedSrtp: params.unencryptedSrtp ?? false,
      unencryptedSrtcp: params.unencryptedSrtcp ?? false,
      unauthenticatedSrtp: params.unauthenticatedSrtp ?? false,
    });
    contexts.set(params, ctx);
  }
  return ctx;
}

function stateOf(ssrc: SsrcContext): RtpSsrcState {
  let st = ssrcStates.get(ssrc);
  if (!st) {
    st = newRtpSsrcState();
    ssrcStates.set(ssrc, st);
  }
  return st;
}

/** Packets refused by an input handler, by reason (shown per stream by `query`). */
export interface SrtpFailures {
  auth: number;
  replay: number;
  invalid: number;
}

abstract class SrtpHandler {
  readonly kind = 'srtp';
  /** The addon does not do SRTP (yet): an SRTP stream stays on the JS path. */
  readonly native = false;
  readonly stateless = false;
  protected readonly ctx: SrtpContext;

  constructor(params: CryptoParams) {
    this.ctx = contextFor(params);
  }

  /** The SRTP index (ROC << 16 | seq) this direction reached for an SSRC, kept in its SsrcContext. */
  protected note(ssrc: SsrcContext, st: RtpSsrcState): void {
    ssrc.srtpIndex = st.roc * 65536 + Math.max(0, st.sl);
  }

  close(): void {
    // nothing to free: the context is dropped with its CryptoParams
  }
}

export class SrtpInputHandler extends SrtpHandler implements InputHandler {
  readonly failures: SrtpFailures = { auth: 0, replay: 0, invalid: 0 };

  rtp(packet: Buffer, ssrc: SsrcContext): Buffer | null {
    const st = stateOf(ssrc);
    const out = this.ctx.unprotectRtp(packet, st);
    if (typeof out === 'string') return this.fail(out);
    this.note(ssrc, st);
    return out;
  }

  rtcp(packet: Buffer): Buffer | null {
    const out = this.ctx.unprotectRtcp(packet);
    return typeof out === 'string' ? this.fail(out) : out;
  }

  private fail(reason: SrtpFailure): null {
    if (reason === 'auth') this.failures.auth++;
    else if (reason === 'replay') this.failures.replay++;
    else this.failures.invalid++;
    return null;
  }
}

export class SrtpOutputHandler extends SrtpHandler implements OutputHandler {
  rtp(packet: Buffer, ssrc: SsrcContext): Buffer | null {
    const st = stateOf(ssrc);
    const out = this.ctx.protectRtp(packet, st);
    if (out) this.note(ssrc, st);
    return out;
  }

  rtcp(packet: Buffer): Buffer | null {
    return this.ctx.protectRtcp(packet);
  }
}

/** Chosen whenever a side has negotiated keys (RTP/SAVP[F], or OSRTP's RTP/AVP with a=crypto). */
export const srtpHandlerFactory: TransportHandlerFactory = {
  name: 'srtp',
  input: (spec: TransportSpec) => (spec.crypto ? new SrtpInputHandler(spec.crypto) : null),
  output: (spec: TransportSpec) => (spec.crypto ? new SrtpOutputHandler(spec.crypto) : null),
};
