/**
 * SDES `a=crypto` lines (RFC 4568) ↔ SdesCrypto. A line we cannot use (unknown suite, bad
 * base64, wrong key length, absurd lifetime or MKI, unsupported key derivation rate) is an
 * SdesParseError: the caller ignores that line, as rtpengine does ("Failed to parse a=crypto
 * attribute, ignoring").
 */
import { findSuite, type CryptoSuite } from './suites.js';
import type { SrtpParams } from './srtp.js';

export interface SdesSessionParams {
  unencryptedSrtp: boolean;
  unencryptedSrtcp: boolean;
  unauthenticatedSrtp: boolean;
}

export interface SdesCrypto extends SdesSessionParams {
  tag: number;
  suite: CryptoSuite;
  /** master key || master salt */
  keySalt: Buffer;
  /** MKI value bytes (big-endian, `length` bytes) or null. */
  mki: Buffer | null;
}

export class SdesParseError extends Error {
  override readonly name = 'SdesParseError';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** RFC 3711: an SRTP master key may protect at most 2^48 packets. */
const MAX_LIFETIME_LOG2 = 48;
const MAX_MKI_LEN = 128;

function parseLifetime(text: string): void {
  const pow = /^2\^(\d{1,3})$/.exec(text);
  if (pow) {
    const n = Number(pow[1]);
    if (n < 1 || n > MAX_LIFETIME_LOG2) throw new SdesParseError(`absurd key lifetime "${text}"`);
    return;
  }
  if (!/^\d{1,15}$/.test(text) || Number(text) === 0 || Number(text) > 2 ** MAX_LIFETIME_LOG2) {
    throw new SdesParseError(`invalid key lifetime "${text}"`);
  }
}

function parseMki(text: string): Buffer {
  const m = /^(\d{1,40}):(\d{1,3})$/.exec(text);
  if (!m) throw new SdesParseError(`invalid MKI "${text}"`);
  const len = Number(m[2]);
  if (len < 1 || len > MAX_MKI_LEN) throw new SdesParseError(`absurd MKI length ${len}`);
  let value = BigInt(m[1] as string);
  if (value >= 1n << BigInt(8 * len)) throw new SdesParseError(`MKI value ${m[1]} does not fit in ${len} bytes`);
  const out = Buffer.alloc(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** Parses the value of an `a=crypto` attribute (without `a=crypto:`). */
export function parseCrypto(value: string): SdesCrypto {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3) throw new SdesParseError('too few fields');
  const [tagText, suiteName, keyParams, ...sessionParams] = parts as [string, string, string, ...string[]];
  if (!/^\d{1,9}$/.test(tagText)) throw new SdesParseError(`invalid tag "${tagText}"`);
  const suite = findSuite(suiteName);
  if (!suite) throw new SdesParseError(`unknown crypto suite "${suiteName}"`);
  // several key parameters (;-separated) are allowed; like rtpengine we use the first
  const first = (keyParams.split(';')[0] as string);
  if (!/^inline:/i.test(first)) throw new SdesParseError('key method is not "inline"');
  const [b64, ...extras] = first.slice(7).split('|') as [string, ...string[]];
  if (!BASE64.test(b64)) throw new SdesParseError('invalid base64 in key');
  const keySalt = Buffer.from(b64, 'base64');
  const want = suite.masterKeyLen + suite.masterSaltLen;
  if (keySalt.length !== want) throw new SdesParseError(`key is ${keySalt.length} bytes, ${suite.name} needs ${want}`);
  let mki: Buffer | null = null;
  if (extras.length > 2) throw new SdesParseError('too many key parameters');
  for (const extra of extras) {
    if (extra.includes(':')) {
      if (mki) throw new SdesParseError('two MKIs');
      mki = parseMki(extra);
    } else parseLifetime(extra);
  }
  const out: SdesCrypto = { tag: Number(tagText), suite, keySalt, mki, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false };
  for (const p of sessionParams) {
    const u = p.toUpperCase();
    if (u === 'UNENCRYPTED_SRTP') out.unencryptedSrtp = true;
    else if (u === 'UNENCRYPTED_SRTCP') out.unencryptedSrtcp = true;
    else if (u === 'UNAUTHENTICATED_SRTP') out.unauthenticatedSrtp = true;
    else if (/^KDR=/i.test(u)) {
      // a non-zero key derivation rate re-keys mid-stream; neither rtpengine nor we do that
      if (!/^KDR=0+$/.test(u)) throw new SdesParseError(`unsupported key derivation rate "${p}"`);
    }
    // FEC_ORDER, FEC_KEY, WSH: nothing to do for a relay
  }
  return out;
}

export interface FormatOptions {
  /** Keep base64 padding (`SDES-pad`); rtpengine strips it by default. */
  pad: boolean;
  /** Append `|2^31` (`SDES-lifetime`). */
  lifetime: boolean;
}

/** SdesCrypto → attribute value, in rtpengine's shape. */
export function formatCrypto(c: SdesCrypto, opts: FormatOptions): string {
  let key = c.keySalt.toString('base64');
  if (!opts.pad) key = key.replace(/=+$/, '');
  let text = `${c.tag} ${c.suite.name} inline:${key}`;
  if (opts.lifetime) text += '|2^31';
  if (c.mki) {
    let v = 0n;
    for (const b of c.mki) v = (v << 8n) | BigInt(b);
    text += `|${v}:${c.mki.length}`;
  }
  if (c.unencryptedSrtp) text += ' UNENCRYPTED_SRTP';
  if (c.unencryptedSrtcp) text += ' UNENCRYPTED_SRTCP';
  if (c.unauthenticatedSrtp) text += ' UNAUTHENTICATED_SRTP';
  return text;
}

export function srtpParams(c: SdesCrypto): SrtpParams {
  return {
    suite: c.suite,
    masterKey: c.keySalt.subarray(0, c.suite.masterKeyLen),
    masterSalt: c.keySalt.subarray(c.suite.masterKeyLen),
    mki: c.mki,
    unencryptedSrtp: c.unencryptedSrtp,
    unencryptedSrtcp: c.unencryptedSrtcp,
    unauthenticatedSrtp: c.unauthenticatedSrtp,
  };
}

/** Same keys and parameters (a re-INVITE that changed nothing). */
export function sameCrypto(a: SdesCrypto | null, b: SdesCrypto | null): boolean {
  if (!a || !b) return a === b;
  return a.suite === b.suite && a.keySalt.equals(b.keySalt) && (a.mki?.toString('hex') ?? '') === (b.mki?.toString('hex') ?? '')
    && a.unencryptedSrtp === b.unencryptedSrtp && a.unencryptedSrtcp === b.unencryptedSrtcp && a.unauthenticatedSrtp === b.unauthenticatedSrtp;
}
