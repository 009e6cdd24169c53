/**
 * The building blocks of SRTP, each a thin use of node:crypto (no home-made cipher):
 * the AES-CM key derivation PRF (RFC 3711 4.3), the AES-CM and AES-F8 keystreams (4.1.1,
 * 4.1.2), HMAC-SHA1 tags (4.2.1), and the AES-GCM nonces of RFC 7714.
 *
 * AES-F8 is AES-CBC in disguise: S(j) = E(k, IV' ^ j ^ S(j-1)) with S(-1) = 0 is exactly the
 * CBC encryption (IV 0) of the blocks IV' ^ j, so node's aes-128-cbc produces the keystream.
 *
 * AES-CM on the packet path: node's cipher objects cannot take a new IV, and a new aes-ctr
 * cipher per packet costs more than the rest of the packet's handling. The keystream is by
 * definition E(k, IV), E(k, IV + 1), … (RFC 3711 4.1.1), which is what one long-lived AES-ECB
 * cipher computes from the counter blocks in a single call: the cipher is node's, the blocks
 * are laid out here.
 */
import { createCipheriv, createDecipheriv, createHmac, type Cipher, type CipherGCM, type CipherGCMTypes, type DecipherGCM, type KeyObject } from 'node:crypto';

/** A raw key, or the same key imported once as a KeyObject (cheaper per packet). */
export type CipherKey = Buffer | KeyObject;

function keyLength(key: CipherKey): number {
  return Buffer.isBuffer(key) ? key.length : (key.symmetricKeySize as number);
}

export function aesName(keyLen: number, mode: 'ctr' | 'cbc' | 'ecb' | 'gcm'): string {
  return `aes-${keyLen * 8}-${mode}`;
}

function gcmName(keyLen: number): CipherGCMTypes {
  return keyLen === 32 ? 'aes-256-gcm' : keyLen === 24 ? 'aes-192-gcm' : 'aes-128-gcm';
}

/** AES-GCM with the 16-byte tag RFC 7714 uses. */
export function gcmCipher(key: CipherKey, iv: Buffer): CipherGCM {
  return createCipheriv(gcmName(keyLength(key)), key, iv, { authTagLength: 16 });
}

export function gcmDecipher(key: CipherKey, iv: Buffer): DecipherGCM {
  return createDecipheriv(gcmName(keyLength(key)), key, iv, { authTagLength: 16 });
}

/** SRTP key derivation labels (RFC 3711 4.3.1 / 4.3.2). */
export const LABEL = {
  rtpEncryption: 0x00,
  rtpAuth: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuth: 0x04,
  rtcpSalt: 0x05,
} as const;

/**
 * The AES-CM PRF with a key derivation rate of 0: AES-CTR under the master key, counter
 * (master_salt ^ label << 48) * 2^16. A 12-byte GCM master salt is zero-padded to 14 bytes
 * (RFC 7714 section 11).
 */
export function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, Math.min(14, masterSalt.length));
  iv[7] = (iv[7] as number) ^ label;
  const cipher = createCipheriv(aesName(masterKey.length, 'ctr'), masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

/** AES-CM IV: (salt * 2^16) ^ (SSRC * 2^64) ^ (index * 2^16). The index is up to 48 bits. */
export function aesCmIv(sessionSalt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  sessionSalt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Math.floor(index / 0x100000000);
  const lo = index >>> 0;
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ (hi & 0xffff), 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
  return iv;
}

/** IV into `out` (16 bytes, no allocation): the packet path's form of aesCmIv. */
export function aesCmIvInto(out: Buffer, sessionSalt: Buffer, ssrc: number, index: number): Buffer {
  sessionSalt.copy(out, 0, 0, 14);
  out[14] = 0;
  out[15] = 0;
  out.writeUInt32BE((out.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Math.floor(index / 0x100000000);
  out.writeUInt16BE(out.readUInt16BE(8) ^ (hi & 0xffff), 8);
  out.writeUInt32BE((out.readUInt32BE(10) ^ (index >>> 0)) >>> 0, 10);
  return out;
}

/** An AES-ECB cipher for aesCmKeystream, made once per session key. */
export function aesCmEngine(key: Buffer): Cipher {
  const ecb = createCipheriv(aesName(key.length, 'ecb'), key, null);
  ecb.setAutoPadding(false);
  return ecb;
}

/**
 * The AES-CM keystream for `length` bytes (at most 2^16 blocks): the counter blocks IV + j laid
 * out in `scratch` (the low 16 bits of an SRTP IV are zero and count the block) and encrypted
 * by the long-lived ECB cipher in one update. Returns a new buffer of whole blocks.
 */
export function aesCmKeystream(ecb: Cipher, iv: Buffer, length: number, scratch: Buffer): Buffer {
  const blocks = (length + 15) >>> 4;
  const n = blocks * 16;
  scratch.fill(iv, 0, n);
  for (let j = 1; j < blocks; j++) {
    scratch[j * 16 + 14] = j >>> 8;
    scratch[j * 16 + 15] = j & 0xff;
  }
  return ecb.update(scratch.subarray(0, n));
}

/** XORs `data` in place with the AES-CM keystream for this IV. */
export function aesCmXor(key: CipherKey, iv: Buffer, data: Buffer): void {
  if (data.length === 0) return;
  const ks = createCipheriv(aesName(keyLength(key), 'ctr'), key, iv).update(data);
  ks.copy(data);
}

/** The AES-F8 keystream for `length` bytes (RFC 3711 4.1.2.2), built from AES-ECB and AES-CBC. */
export function aesF8Keystream(key: Buffer, sessionSalt: Buffer, iv: Buffer, length: number): Buffer {
  // m = k_s || 0x55 55 ...: the key that encrypts the IV
  const m = Buffer.alloc(key.length, 0x55);
  sessionSalt.copy(m, 0, 0, Math.min(sessionSalt.length, key.length));
  for (let i = 0; i < key.length; i++) m[i] = (m[i] as number) ^ (key[i] as number);
  const ecb = createCipheriv(aesName(key.length, 'ecb'), m, null);
  ecb.setAutoPadding(false);
  const ivPrime = ecb.update(iv);
  const blocks = Math.ceil(length / 16);
  const input = Buffer.alloc(blocks * 16);
  for (let j = 0; j < blocks; j++) {
    ivPrime.copy(input, j * 16);
    input.writeUInt32BE((input.readUInt32BE(j * 16 + 12) ^ j) >>> 0, j * 16 + 12);
  }
  const cbc = createCipheriv(aesName(key.length, 'cbc'), key, Buffer.alloc(16));
  cbc.setAutoPadding(false);
  return cbc.update(input).subarray(0, length);
}

export function xorInto(data: Buffer, keystream: Buffer): void {
  for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ (keystream[i] as number);
}

/** HMAC-SHA1 over the parts, truncated to `tagLen`. */
export function hmacSha1(authKey: Buffer, parts: Buffer[], tagLen: number): Buffer {
  const h = createHmac('sha1', authKey);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, tagLen);
}

/** RFC 7714 section 8.1: (00 00 || SSRC || ROC || SEQ) ^ salt. */
export function gcmRtpIv(sessionSalt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq & 0xffff, 10);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] as number) ^ (sessionSalt[i] as number);
  return iv;
}

/** RFC 7714 section 9.1: (00 00 || SSRC || 00 00 || 0 || SRTCP index) ^ salt. */
export function gcmRtcpIv(sessionSalt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(index & 0x7fffffff, 8);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] as number) ^ (sessionSalt[i] as number);
  return iv;
}

/** RTP header length (fixed part, CSRCs, header extension), or -1 if the packet is too short. */
export function rtpHeaderLength(pkt: Buffer): number {
  if (pkt.length < 12) return -1;
  const b0 = pkt[0] as number;
  let len = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (pkt.length < len + 4) return -1;
    len += 4 + pkt.readUInt16BE(len + 2) * 4;
  }
  return pkt.length < len ? -1 : len;
}
