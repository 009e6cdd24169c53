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
import { NATIVE_MAX_MKI, NATIVE_RTCP_INDEX_GAP, type NativeSrtpSpec, type NativeSrtpState, type SsrcStateTable } from './srtp-native.js';

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
  /** The addon does AES-CM, AES-GCM and NULL (kernel/src/srtp.cc); F8 stays on the JS path. */
  readonly native: boolean;
  readonly notNative: string | undefined;
  readonly stateless = false;
  protected readonly ctx: SrtpContext;
  protected abstract readonly output: boolean;

  constructor(params: CryptoParams) {
    this.ctx = contextFor(params);
    const p = this.ctx.params;
    this.native = p.suite.cipher !== 'aes-f8' && (p.mki?.length ?? 0) <= NATIVE_MAX_MKI;
    this.notNative = this.native ? undefined
      : p.suite.cipher === 'aes-f8' ? `${p.suite.name} (AES-F8) is done by node:crypto only`
        : `MKI longer than ${NATIVE_MAX_MKI} bytes`;
  }

  /**
   * This direction for the native fast path: the session keys, and the counters of every SSRC
   * the stream's table knows, so the addon continues where JS stopped.
   */
  nativeSpec(table: SsrcStateTable<SsrcContext>, stateKey: number): NativeSrtpSpec {
    const p = this.ctx.params;
    const s = p.suite;
    const keys = this.ctx.sessionKeys();
    const rtp: number[] = [];
    for (const id of table.ssrcs()) {
      const ctx = table.peek(id);
      const st = ctx ? ssrcStates.get(ctx) : undefined;
      if (st && st.sl >= 0) rtp.push(id, st.roc, st.sl);
    }
    return {
      cipher: s.cipher === 'aes-gcm' ? 'aes-gcm' : s.cipher === 'null' ? 'null' : 'aes-cm',
      output: this.output,
      srtpTagLen: s.srtpTagLen,
      srtcpTagLen: s.srtcpTagLen,
      unencryptedSrtp: p.unencryptedSrtp,
      unencryptedSrtcp: p.unencryptedSrtcp,
      unauthenticatedSrtp: p.unauthenticatedSrtp,
      ...(p.mki ? { mki: p.mki } : {}),
      rtpKey: keys.rtp.key,
      rtpSalt: keys.rtp.salt,
      rtpAuth: keys.rtp.auth,
      rtcpKey: keys.rtcp.key,
      rtcpSalt: keys.rtcp.salt,
      rtcpAuth: keys.rtcp.auth,
      rtp,
      rtcp: this.output ? this.ctx.rtcpIndexes(true).map((v, i) => (i % 2 ? (v + NATIVE_RTCP_INDEX_GAP) & 0x7fffffff : v))
        : this.ctx.rtcpIndexes(false),
      stateKey,
    };
  }

  /** Takes the counters back from the native fast path (its entry was replaced or removed). */
  restoreNative(table: SsrcStateTable<SsrcContext>, state: NativeSrtpState): void {
    const flat = state.rtp;
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const ssrc = table.get((flat[i] as number) >>> 0);
      const st = stateOf(ssrc);
      const roc = flat[i + 1] as number;
      const seq = flat[i + 2] as number;
      const index = roc * 65536 + seq;
      if (st.sl < 0 || index > st.roc * 65536 + st.sl) {
        st.roc = roc;
        st.sl = seq;
      }
      if (!this.output) st.replay.seenUpTo(index);
      this.note(ssrc, st);
    }
    this.ctx.restoreRtcpIndexes(this.output, state.rtcp);
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
  protected readonly output = false;
  readonly failures: SrtpFailures = { auth: 0, replay: 0, invalid: 0 };

  override restoreNative(table: SsrcStateTable<SsrcContext>, state: NativeSrtpState): void {
    super.restoreNative(table, state);
    this.failures.auth += state.auth;
    this.failures.replay += state.replay;
    this.failures.invalid += state.invalid;
  }

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
  protected readonly output = true;

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
