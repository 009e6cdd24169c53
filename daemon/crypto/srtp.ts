/**
 * An SRTP/SRTCP crypto context for one direction of one packet stream (rtpengine's
 * crypto_context): session keys derived from the SDES master key, per-SSRC rollover counters
 * and replay windows. Owned by the PacketStream (input) or the sink (output) it serves;
 * changed only by signalling under the call's write lock, used by the packet path.
 *
 * The per-SSRC state (ROC, highest sequence, SRTCP index) survives `setParams` (a re-key in a
 * re-INVITE keeps the rollover counters, as rtpengine keeps its per-SSRC index); a new
 * context starts every SSRC at ROC 0.
 */
import { createHmac, createSecretKey, timingSafeEqual, type Cipher, type KeyObject } from 'node:crypto';
import type { CryptoSuite } from './suites.js';
import { ReplayWindow } from './replay.js';
import {
  LABEL, aesCmEngine, aesCmIvInto, aesCmKeystream, aesF8Keystream, deriveKey, gcmCipher, gcmDecipher, gcmRtcpIv, gcmRtpIv, rtpHeaderLength, xorInto,
} from './srtp-primitives.js';

// Scratch space of the packet path (synchronous, single-threaded: one packet at a time uses it).
const SCRATCH = Buffer.alloc(4096 + 32);
const IV = Buffer.alloc(16);
const WORD = Buffer.alloc(4);

/** `src[from..to)` XOR keystream into `out` at `from`. */
function xorFrom(out: Buffer, src: Buffer, from: number, to: number, ks: Buffer): void {
  for (let i = from, j = 0; i < to; i++, j++) out[i] = (src[i] as number) ^ (ks[j] as number);
}

/** HMAC-SHA1 of a || b (b: the 4-byte ROC, or nothing), full 20 bytes. */
function hmac(authKey: Buffer, a: Buffer, b: Buffer | null): Buffer {
  const h = createHmac('sha1', authKey).update(a);
  if (b) h.update(b);
  return h.digest();
}

export interface SrtpParams {
  suite: CryptoSuite;
  masterKey: Buffer;
  masterSalt: Buffer;
  /** MKI value sent/expected with every packet (null: no MKI). */
  mki: Buffer | null;
  unencryptedSrtp: boolean;
  unencryptedSrtcp: boolean;
  unauthenticatedSrtp: boolean;
}

/** Why a packet was refused: counted by the caller, never forwarded. */
export type SrtpFailure = 'short' | 'auth' | 'replay' | 'mki';

interface SessionKeys {
  key: Buffer;
  /** `key` imported once: creating a cipher from a KeyObject is cheaper per packet. */
  cipherKey: KeyObject | Buffer;
  /** AES-CM: the long-lived ECB cipher of the keystream (srtp-primitives aesCmKeystream). */
  ecb: Cipher | null;
  salt: Buffer;
  auth: Buffer;
}

/** Per-SSRC SRTP state of one direction; kept outside the context so a re-key keeps it. */
export interface RtpSsrcState {
  roc: number;
  /** Highest sequence number seen (s_l of RFC 3711 appendix A); -1 before the first packet. */
  sl: number;
  replay: ReplayWindow;
}

interface RtcpSsrcState {
  /** Next SRTCP index to send. */
  next: number;
  replay: ReplayWindow;
}

/** Bounds the per-SSRC maps: a peer sending from random SSRCs cannot grow them without limit. */
const MAX_SSRCS = 32;

export function newRtpSsrcState(): RtpSsrcState {
  return { roc: 0, sl: -1, replay: new ReplayWindow() };
}

function remember<T>(map: Map<number, T>, ssrc: number, make: () => T): T {
  let s = map.get(ssrc);
  if (!s) {
    if (map.size >= MAX_SSRCS) map.delete(map.keys().next().value as number);
    s = make();
    map.set(ssrc, s);
  }
  return s;
}

function deriveSession(p: SrtpParams, rtcp: boolean): SessionKeys {
  const s = p.suite;
  const base = rtcp ? LABEL.rtcpEncryption : LABEL.rtpEncryption;
  const key = s.cipher === 'null' ? Buffer.alloc(0) : deriveKey(p.masterKey, p.masterSalt, base, s.sessionKeyLen);
  return {
    key,
    cipherKey: key.length > 0 ? createSecretKey(key) : key,
    ecb: s.cipher === 'aes-cm' ? aesCmEngine(key) : null,
    auth: deriveKey(p.masterKey, p.masterSalt, base + 1, s.authKeyLen),
    salt: deriveKey(p.masterKey, p.masterSalt, base + 2, s.sessionSaltLen),
  };
}

/** Index estimate of RFC 3711 appendix A: returns the ROC guess v for this sequence number. */
function guessRoc(st: RtpSsrcState, seq: number): number {
  if (st.sl < 0) return st.roc;
  if (st.sl < 32768) return seq - st.sl > 32768 ? st.roc - 1 : st.roc;
  return st.sl - 32768 > seq ? st.roc + 1 : st.roc;
}

function updateIndex(st: RtpSsrcState, v: number, seq: number): void {
  if (st.sl < 0 || v > st.roc) {
    st.roc = v;
    st.sl = seq;
  } else if (v === st.roc && seq > st.sl) st.sl = seq;
}

export class SrtpContext {
  params!: SrtpParams;
  private rtp!: SessionKeys;
  private rtcp!: SessionKeys;
  private readonly rtpState = new Map<number, RtpSsrcState>();
  private readonly rtcpState = new Map<number, RtcpSsrcState>();

  constructor(params: SrtpParams) {
    this.setParams(params);
  }

  /** New keys (a re-key); the per-SSRC rollover counters and indexes stay. */
  setParams(params: SrtpParams): void {
    this.params = params;
    this.rtp = deriveSession(params, false);
    this.rtcp = deriveSession(params, true);
  }

  /** The ROC this context holds for an SSRC (for query and tests). */
  roc(ssrc: number): number {
    return this.rtpState.get(ssrc >>> 0)?.roc ?? 0;
  }

  /** Sets the ROC of an SSRC (a peer that starts mid-stream, tests of rollover). */
  setRoc(ssrc: number, roc: number, seq: number): void {
    const st = remember(this.rtpState, ssrc >>> 0, newRtpSsrcState);
    st.roc = roc;
    st.sl = seq;
  }

  /** The session keys (RTP and RTCP), for the native fast path. Never logged. */
  sessionKeys(): { rtp: { key: Buffer; salt: Buffer; auth: Buffer }; rtcp: { key: Buffer; salt: Buffer; auth: Buffer } } {
    return {
      rtp: { key: this.rtp.key, salt: this.rtp.salt, auth: this.rtp.auth },
      rtcp: { key: this.rtcp.key, salt: this.rtcp.salt, auth: this.rtcp.auth },
    };
  }

  /**
   * SRTCP counters per SSRC as flat [ssrc, index, ...]: the next index to send (`output`) or the
   * highest accepted (-1: none), for the native fast path to continue from.
   */
  rtcpIndexes(output: boolean): number[] {
    const out: number[] = [];
    for (const [ssrc, st] of this.rtcpState) out.push(ssrc, output ? st.next : st.replay.highest);
    return out;
  }

  /** Takes SRTCP counters back from the native fast path (flat [ssrc, index, ...]); never goes backwards. */
  restoreRtcpIndexes(output: boolean, flat: readonly number[]): void {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const st = this.rtcpSsrc((flat[i] as number) >>> 0);
      const index = flat[i + 1] as number;
      if (output) st.next = Math.max(st.next, index);
      else st.replay.seenUpTo(index);
    }
  }

  private rtpSsrc(ssrc: number): RtpSsrcState {
    return remember(this.rtpState, ssrc, newRtpSsrcState);
  }

  /**
   * RTP → SRTP. Returns a new buffer; null if the packet is not RTP (too short). `state` is the
   * per-SSRC state to use (the stream's, surviving re-keys); without it the context keeps its own.
   */
  protectRtp(pkt: Buffer, state?: RtpSsrcState): Buffer | null {
    const hdr = rtpHeaderLength(pkt);
    if (hdr < 0) return null;
    const p = this.params;
    const s = p.suite;
    const seq = pkt.readUInt16BE(2);
    const ssrc = pkt.readUInt32BE(8);
    const st = state ?? this.rtpSsrc(ssrc);
    const v = Math.max(0, guessRoc(st, seq));
    updateIndex(st, v, seq);
    const index = v * 65536 + seq;
    const mki = p.mki;
    if (s.cipher === 'aes-gcm') {
      const iv = gcmRtpIv(this.rtp.salt, ssrc, v, seq);
      const c = gcmCipher(this.rtp.cipherKey, iv);
      let body: Buffer;
      if (p.unencryptedSrtp) {
        c.setAAD(pkt);
        c.final();
        body = pkt;
      } else {
        c.setAAD(pkt.subarray(0, hdr));
        body = Buffer.concat([pkt.subarray(0, hdr), c.update(pkt.subarray(hdr)), c.final()]);
      }
      return Buffer.concat(mki ? [body, c.getAuthTag(), mki] : [body, c.getAuthTag()]);
    }
    // body || MKI || tag in one buffer; the tag covers body || ROC
    const len = pkt.length;
    const mkiLen = mki?.length ?? 0;
    const tagLen = p.unauthenticatedSrtp ? 0 : s.srtpTagLen;
    const out = Buffer.allocUnsafe(len + mkiLen + tagLen);
    const k = this.rtp;
    if (k.ecb && !p.unencryptedSrtp) {
      pkt.copy(out, 0, 0, hdr);
      xorFrom(out, pkt, hdr, len, aesCmKeystream(k.ecb, aesCmIvInto(IV, k.salt, ssrc, index), len - hdr, SCRATCH));
    } else {
      pkt.copy(out, 0, 0, len);
      if (!p.unencryptedSrtp) this.encryptRtpPayload(out.subarray(hdr, len), pkt, ssrc, index, v);
    }
    if (mki) mki.copy(out, len);
    if (tagLen > 0) {
      WORD.writeUInt32BE(v >>> 0);
      hmac(k.auth, out.subarray(0, len), WORD).copy(out, len + mkiLen, 0, tagLen);
    }
    return out;
  }

  private encryptRtpPayload(payload: Buffer, hdr: Buffer, ssrc: number, index: number, roc: number): void {
    const k = this.rtp;
    switch (this.params.suite.cipher) {
      case 'aes-cm':
        xorFrom(payload, payload, 0, payload.length, aesCmKeystream(k.ecb as Cipher, aesCmIvInto(IV, k.salt, ssrc, index), payload.length, SCRATCH));
        return;
      case 'aes-f8': {
        // IV = 0x00 || M,PT || SEQ || TS || SSRC || ROC
        const iv = Buffer.alloc(16);
        hdr.copy(iv, 1, 1, 12);
        iv.writeUInt32BE(roc >>> 0, 12);
        xorInto(payload, aesF8Keystream(k.key, k.salt, iv, payload.length));
        return;
      }
      default:
        return; // NULL cipher
    }
  }

  /** SRTP → RTP: authenticates, checks replay, decrypts. Returns the RTP packet or why not. */
  unprotectRtp(pkt: Buffer, state?: RtpSsrcState): Buffer | SrtpFailure {
    const p = this.params;
    const s = p.suite;
    const mkiLen = p.mki?.length ?? 0;
    const tagLen = s.cipher === 'aes-gcm' ? s.aeadTagLen : p.unauthenticatedSrtp ? 0 : s.srtpTagLen;
    const hdr = rtpHeaderLength(pkt);
    if (hdr < 0 || pkt.length < hdr + tagLen + mkiLen) return 'short';
    const seq = pkt.readUInt16BE(2);
    const ssrc = pkt.readUInt32BE(8);
    const st = state ?? this.rtpSsrc(ssrc);
    const v = guessRoc(st, seq);
    if (v < 0) return 'replay';
    const index = v * 65536 + seq;
    if (!st.replay.check(index)) return 'replay';

    if (s.cipher === 'aes-gcm') {
      // RFC 7714: cipher text || tag || MKI
      const end = pkt.length - mkiLen;
      if (mkiLen && !pkt.subarray(end).equals(p.mki as Buffer)) return 'mki';
      const tag = pkt.subarray(end - tagLen, end);
      const d = gcmDecipher(this.rtp.cipherKey, gcmRtpIv(this.rtp.salt, ssrc, v, seq));
      d.setAuthTag(tag);
      let out: Buffer;
      try {
        if (p.unencryptedSrtp) {
          out = pkt.subarray(0, end - tagLen);
          d.setAAD(out);
          d.final();
          out = Buffer.from(out);
        } else {
          d.setAAD(pkt.subarray(0, hdr));
          out = Buffer.concat([pkt.subarray(0, hdr), d.update(pkt.subarray(hdr, end - tagLen)), d.final()]);
        }
      } catch {
        return 'auth';
      }
      st.replay.accept(index);
      updateIndex(st, v, seq);
      return out;
    }

    const authEnd = pkt.length - tagLen - mkiLen;
    if (mkiLen && pkt.compare(p.mki as Buffer, 0, mkiLen, authEnd, authEnd + mkiLen) !== 0) return 'mki';
    const k = this.rtp;
    if (tagLen > 0) {
      WORD.writeUInt32BE(v >>> 0);
      const want = hmac(k.auth, pkt.subarray(0, authEnd), WORD);
      if (!timingSafeEqual(want.subarray(0, tagLen), pkt.subarray(pkt.length - tagLen))) return 'auth';
    }
    const out = Buffer.allocUnsafe(authEnd);
    if (k.ecb && !p.unencryptedSrtp) {
      pkt.copy(out, 0, 0, hdr);
      xorFrom(out, pkt, hdr, authEnd, aesCmKeystream(k.ecb, aesCmIvInto(IV, k.salt, ssrc, index), authEnd - hdr, SCRATCH));
    } else {
      pkt.copy(out, 0, 0, authEnd);
      if (!p.unencryptedSrtp) this.encryptRtpPayload(out.subarray(hdr), out, ssrc, index, v);
    }
    st.replay.accept(index);
    updateIndex(st, v, seq);
    return out;
  }

  private rtcpSsrc(ssrc: number): RtcpSsrcState {
    return remember(this.rtcpState, ssrc, () => ({ next: 0, replay: new ReplayWindow() }));
  }

  /** RTCP → SRTCP (RFC 3711 3.4; RFC 7714 section 9 for GCM). */
  protectRtcp(pkt: Buffer): Buffer | null {
    if (pkt.length < 8) return null;
    const p = this.params;
    const s = p.suite;
    const ssrc = pkt.readUInt32BE(4);
    const st = this.rtcpSsrc(ssrc);
    const index = st.next;
    st.next = (st.next + 1) & 0x7fffffff;
    const encrypt = !p.unencryptedSrtcp && s.cipher !== 'null';
    const eIndex = Buffer.alloc(4);
    eIndex.writeUInt32BE(((encrypt ? 0x80000000 : 0) | index) >>> 0);
    const mki = p.mki;
    const k = this.rtcp;
    if (s.cipher === 'aes-gcm') {
      const c = gcmCipher(k.cipherKey, gcmRtcpIv(k.salt, ssrc, index));
      let body: Buffer;
      if (encrypt) {
        c.setAAD(Buffer.concat([pkt.subarray(0, 8), eIndex]));
        body = Buffer.concat([pkt.subarray(0, 8), c.update(pkt.subarray(8)), c.final()]);
      } else {
        c.setAAD(Buffer.concat([pkt, eIndex]));
        c.final();
        body = pkt;
      }
      return Buffer.concat(mki ? [body, c.getAuthTag(), eIndex, mki] : [body, c.getAuthTag(), eIndex]);
    }
    // body || E+index || MKI || tag; the tag covers body || E+index
    const len = pkt.length;
    const mkiLen = mki?.length ?? 0;
    const out = Buffer.allocUnsafe(len + 4 + mkiLen + s.srtcpTagLen);
    pkt.copy(out, 0, 0, len);
    if (encrypt) this.encryptRtcpPayload(out.subarray(0, len), ssrc, index, eIndex);
    eIndex.copy(out, len);
    if (mki) mki.copy(out, len + 4);
    hmac(k.auth, out.subarray(0, len + 4), null).copy(out, len + 4 + mkiLen, 0, s.srtcpTagLen);
    return out;
  }

  private encryptRtcpPayload(pkt: Buffer, ssrc: number, index: number, eIndex: Buffer): void {
    const k = this.rtcp;
    const payload = pkt.subarray(8);
    if (this.params.suite.cipher === 'aes-cm') {
      xorFrom(payload, payload, 0, payload.length, aesCmKeystream(k.ecb as Cipher, aesCmIvInto(IV, k.salt, ssrc, index), payload.length, SCRATCH));
    }
    else if (this.params.suite.cipher === 'aes-f8') {
      // IV = 0..0 (32 bits) || E || SRTCP index || V,P,RC || PT || length || SSRC
      const iv = Buffer.alloc(16);
      eIndex.copy(iv, 4);
      pkt.copy(iv, 8, 0, 8);
      xorInto(payload, aesF8Keystream(k.key, k.salt, iv, payload.length));
    }
  }

  /** SRTCP → RTCP. */
  unprotectRtcp(pkt: Buffer): Buffer | SrtpFailure {
    const p = this.params;
    const s = p.suite;
    const mkiLen = p.mki?.length ?? 0;
    const k = this.rtcp;
    if (s.cipher === 'aes-gcm') {
      // header(8) || cipher text || tag(16) || E+index || MKI
      if (pkt.length < 8 + 16 + 4 + mkiLen) return 'short';
      const end = pkt.length - mkiLen;
      if (mkiLen && !pkt.subarray(end).equals(p.mki as Buffer)) return 'mki';
      const eIndex = pkt.subarray(end - 4, end);
      const word = eIndex.readUInt32BE(0);
      const index = word & 0x7fffffff;
      const ssrc = pkt.readUInt32BE(4);
      const st = this.rtcpSsrc(ssrc);
      if (!st.replay.check(index)) return 'replay';
      const tag = pkt.subarray(end - 20, end - 4);
      const d = gcmDecipher(k.cipherKey, gcmRtcpIv(k.salt, ssrc, index));
      d.setAuthTag(tag);
      let out: Buffer;
      try {
        if (word & 0x80000000) {
          d.setAAD(Buffer.concat([pkt.subarray(0, 8), eIndex]));
          out = Buffer.concat([pkt.subarray(0, 8), d.update(pkt.subarray(8, end - 20)), d.final()]);
        } else {
          out = Buffer.from(pkt.subarray(0, end - 20));
          d.setAAD(Buffer.concat([out, eIndex]));
          d.final();
        }
      } catch {
        return 'auth';
      }
      st.replay.accept(index);
      return out;
    }
    const tagLen = s.srtcpTagLen;
    if (pkt.length < 8 + 4 + mkiLen + tagLen) return 'short';
    const authEnd = pkt.length - tagLen - mkiLen;
    if (mkiLen && !pkt.subarray(authEnd, authEnd + mkiLen).equals(p.mki as Buffer)) return 'mki';
    const eIndex = pkt.subarray(authEnd - 4, authEnd);
    const word = eIndex.readUInt32BE(0);
    const index = word & 0x7fffffff;
    const ssrc = pkt.readUInt32BE(4);
    const st = this.rtcpSsrc(ssrc);
    if (!st.replay.check(index)) return 'replay';
    const want = hmac(k.auth, pkt.subarray(0, authEnd), null);
    if (!timingSafeEqual(want.subarray(0, tagLen), pkt.subarray(pkt.length - tagLen))) return 'auth';
    const out = Buffer.from(pkt.subarray(0, authEnd - 4));
    if (word & 0x80000000) this.encryptRtcpPayload(out, ssrc, index, eIndex);
    st.replay.accept(index);
    return out;
  }
}
