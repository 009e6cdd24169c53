/**
 * What crosses between an SRTP handler and the native fast path (kernel/src/srtp.h): the
 * session keys and parameters of one direction, and every SSRC's counters, so whichever path
 * takes over continues the other's rollover counters and SRTCP indexes and never repeats an
 * index under the same key. Defined here (the crypto room) so `kernel/` can pass it along
 * without this room depending on it.
 */

/** One direction's SRTP as the addon takes it. Key bytes are copied into the addon, never logged. */
export interface NativeSrtpSpec {
  cipher: 'aes-cm' | 'aes-gcm' | 'null';
  /** Protects toward a participant (true) or authenticates and decrypts from one. */
  output: boolean;
  srtpTagLen: number;
  srtcpTagLen: number;
  unencryptedSrtp: boolean;
  unencryptedSrtcp: boolean;
  unauthenticatedSrtp: boolean;
  mki?: Buffer;
  rtpKey: Buffer;
  rtpSalt: Buffer;
  rtpAuth: Buffer;
  rtcpKey: Buffer;
  rtcpSalt: Buffer;
  rtcpAuth: Buffer;
  /** Flat [ssrc, roc, highest seq, ...] per SSRC. */
  rtp: number[];
  /** Flat [ssrc, index, ...]: the next SRTCP index to send (output) or the highest accepted (input, -1 none). */
  rtcp: number[];
  /** Which JS-side state this continues: a replacing entry carries the addon's counters over. */
  stateKey: number;
}

/** What one SRTP context of an entry reached, handed back when the entry is replaced or removed. */
export interface NativeSrtpState {
  rtp: number[];
  rtcp: number[];
  auth: number;
  replay: number;
  invalid: number;
}

/**
 * The addon starts each SRTCP output counter this far above the JS path's. Packets the addon
 * punted just before its entry was installed are still relayed by JS with JS's own counter;
 * the gap keeps those indexes apart from the addon's (an SRTCP index, unlike an RTP one, is
 * not tied to the packet, so two paths counting alike would reuse one under the same key).
 */
export const NATIVE_RTCP_INDEX_GAP = 64;

/** The MKI lengths the addon takes (kernel/src/srtp.h SRTP_MAX_MKI). */
export const NATIVE_MAX_MKI = 32;

/** A stream's SSRC table as the handlers see it (codec/ssrc.ts SsrcTable). */
export interface SsrcStateTable<T> {
  ssrcs(): number[];
  peek(ssrc: number): T | undefined;
  get(ssrc: number): T;
}
