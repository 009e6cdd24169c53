/**
 * The transport handler contract (rtpengine's stream handlers: struct streamhandler_io with its
 * rtp/rtcp in and out functions, chosen by the in/out transport protocol). Every packet stream
 * has one InputHandler, run once per packet it receives from its participant (plain: nothing;
 * SRTP: authenticate + decrypt); every sink has one OutputHandler, run once per packet sent to
 * the sink's participant (plain: nothing; SRTP: encrypt + tag). Each direction has its own
 * handler object and so its own crypto context; per-SSRC state (the SRTP index) lives in the
 * SsrcContext handed in (seen here as SsrcCryptoState).
 *
 * Handlers are chosen by signalling (offer/answer, re-INVITE) under the call's write lock and
 * closed when replaced or at teardown; `rtp`/`rtcp` run on the packet path, synchronously.
 */
/**
 * The per-SSRC state a crypto handler reads and keeps: the packet path hands in the stream's
 * SsrcContext (codec/ssrc.ts), which has these fields; named here so this room does not depend
 * on its sibling.
 */
export interface SsrcCryptoState {
  readonly ssrc: number;
  readonly direction: 'in' | 'out';
  /** SRTP packet index (rollover counter << 16 | seq) of this SSRC, kept by the handler. */
  srtpIndex: number;
}

/** SRTP keying material of one direction (SDES a=crypto, or exported from DTLS). */
export interface CryptoParams {
  /** RFC 4568 suite name, e.g. `AES_CM_128_HMAC_SHA1_80`. */
  suite: string;
  masterKey: Buffer;
  masterSalt: Buffer;
  /** Master key identifier carried in each packet, if negotiated. */
  mki?: Buffer;
  /** Session parameters that switch parts of SRTP off (RFC 4568 §6.3). */
  unencryptedSrtp?: boolean;
  unencryptedSrtcp?: boolean;
  unauthenticatedSrtp?: boolean;
}

/** What decides one side's transport handler. */
export interface TransportSpec {
  /** The m= line's transport protocol: `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF` … */
  protocol: string;
  /** Keys for this direction, or null (plain, or not negotiated yet). */
  crypto: CryptoParams | null;
}

interface TransportHandler {
  /** Short name for `query` and for the fast path's reason (`plain`, `srtp` …). */
  readonly kind: string;
  /** The native fast path can do this handler's work (`plain`, and `srtp` but for AES-F8). */
  readonly native: boolean;
  /** Why not native, when `native` is false for a reason more precise than the kind. */
  readonly notNative?: string;
  /** Holds no state: shared, not registered with the leak audit, `close()` does nothing. */
  readonly stateless: boolean;
  close(): void;
}

export interface InputHandler extends TransportHandler {
  /**
   * A valid RTP packet from the participant: returns the packet to relay (the same buffer, or a
   * new one, e.g. decrypted), or null to drop it (authentication failed: counted as an error).
   * Never modifies `packet` in place.
   */
  rtp(packet: Buffer, ssrc: SsrcCryptoState): Buffer | null;
  rtcp(packet: Buffer): Buffer | null;
}

export interface OutputHandler extends TransportHandler {
  /**
   * A packet about to be sent to the participant: returns what goes on the wire (the same
   * buffer, or a new one, e.g. encrypted), or null to drop it. Never modifies `packet` in
   * place: it may be going to other sinks too.
   */
  rtp(packet: Buffer, ssrc: SsrcCryptoState): Buffer | null;
  rtcp(packet: Buffer): Buffer | null;
}

/** Chooses the handler for one side, or declines (null) so the next factory is asked. */
export interface TransportHandlerFactory {
  readonly name: string;
  input(spec: TransportSpec): InputHandler | null;
  output(spec: TransportSpec): OutputHandler | null;
}
