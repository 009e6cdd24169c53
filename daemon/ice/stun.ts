/**
 * STUN message codec (RFC 5389) for ICE connectivity checks (rtpengine's stun.c): binding
 * requests and responses with USERNAME, PRIORITY, USE-CANDIDATE, ICE-CONTROLLING/-CONTROLLED,
 * XOR-MAPPED-ADDRESS, ERROR-CODE, MESSAGE-INTEGRITY (HMAC-SHA1, short-term credentials: the
 * key is the password as given) and FINGERPRINT (CRC32 xor 0x5354554e).
 *
 * Decoding never throws: a malformed message is `null`, so the packet path can count and drop
 * it. Integrity is checked separately (`checkIntegrity`) because the key depends on who the
 * message is for.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { crc32 } from 'node:zlib';
import type { Endpoint } from '../net/endpoint.js';

export const MAGIC_COOKIE = 0x2112a442;
const HEADER = 20;

export const StunClass = { Request: 0, Indication: 1, Success: 2, Error: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];
export const METHOD_BINDING = 0x001;

export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  XorMappedAddress: 0x0020,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  Software: 0x8022,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

export interface StunAttribute {
  type: number;
  value: Buffer;
  /** Offset of the attribute header in the message (integrity covers what precedes it). */
  offset: number;
}

export interface StunMessage {
  method: number;
  cls: StunClass;
  transactionId: Buffer;
  attributes: StunAttribute[];
  /** The raw message, for integrity and fingerprint checks. */
  raw: Buffer;
}

/** The FINGERPRINT value of `data` (RFC 5389 §15.5). */
export function fingerprintOf(data: Buffer): number {
  return (crc32(data) ^ 0x5354554e) >>> 0;
}

/** Parses a STUN message; null if it is not well-formed STUN (RFC 5389 §6, §7.3). */
export function decodeStun(data: Buffer): StunMessage | null {
  if (data.length < HEADER || (data[0]! & 0xc0) !== 0) return null;
  const type = data.readUInt16BE(0);
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length !== data.length) return null;
  if (data.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type >> 4) & 1) | ((type >> 7) & 2)) as StunClass;
  const attributes: StunAttribute[] = [];
  let off = HEADER;
  let seenIntegrity = false;
  while (off < data.length) {
    if (off + 4 > data.length) return null;
    const t = data.readUInt16BE(off);
    const len = data.readUInt16BE(off + 2);
    const end = off + 4 + len;
    if (end > data.length) return null;
    // after MESSAGE-INTEGRITY only FINGERPRINT may follow; FINGERPRINT must be last
    if (seenIntegrity && t !== Attr.Fingerprint) return null;
    if (t === Attr.Fingerprint && end + ((4 - (len % 4)) % 4) !== data.length) return null;
    if (t === Attr.MessageIntegrity) {
      if (len !== 20) return null;
      seenIntegrity = true;
    }
    attributes.push({ type: t, value: data.subarray(off + 4, end), offset: off });
    off = end + ((4 - (len % 4)) % 4);
  }
  if (off !== data.length) return null;
  return { method, cls, transactionId: data.subarray(8, 20), attributes, raw: data };
}

export function attribute(msg: StunMessage, type: number): Buffer | null {
  for (const a of msg.attributes) if (a.type === type) return a.value;
  return null;
}

export function hasAttribute(msg: StunMessage, type: number): boolean {
  return msg.attributes.some((a) => a.type === type);
}

/** FINGERPRINT present and correct (absent → false). */
export function checkFingerprint(msg: StunMessage): boolean {
  const a = msg.attributes.find((x) => x.type === Attr.Fingerprint);
  if (!a || a.value.length !== 4) return false;
  const covered = Buffer.from(msg.raw.subarray(0, a.offset));
  return fingerprintOf(covered) === a.value.readUInt32BE(0);
}

/** MESSAGE-INTEGRITY present and correct for `key` (RFC 5389 §15.4; absent → false). */
export function checkIntegrity(msg: StunMessage, key: string | Buffer): boolean {
  const a = msg.attributes.find((x) => x.type === Attr.MessageIntegrity);
  if (!a) return false;
  // the length field covers up to and including MESSAGE-INTEGRITY (a following FINGERPRINT excluded)
  const covered = Buffer.from(msg.raw.subarray(0, a.offset));
  covered.writeUInt16BE(a.offset + 24 - HEADER, 2);
  const mac = createHmac('sha1', key).update(covered).digest();
  return timingSafeEqual(mac, a.value);
}

export function readXorAddress(value: Buffer, transactionId: Buffer): Endpoint | null {
  if (value.length < 8) return null;
  const family = value[1];
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (family === 1 && value.length === 8) {
    const n = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
    return { family: 4, port, address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.') };
  }
  if (family === 2 && value.length === 20) {
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((value[4 + i]! ^ mask[i]!) << 8) | (value[5 + i]! ^ mask[i + 1]!)).toString(16));
    return { family: 6, port, address: groups.join(':') };
  }
  return null;
}

export function xorAddressValue(ep: Endpoint, transactionId: Buffer): Buffer {
  const v4 = isIPv4(ep.address);
  const out = Buffer.alloc(v4 ? 8 : 20);
  out[1] = v4 ? 1 : 2;
  out.writeUInt16BE(ep.port ^ (MAGIC_COOKIE >>> 16), 2);
  if (v4) {
    const n = ep.address.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
    out.writeUInt32BE((n ^ MAGIC_COOKIE) >>> 0, 4);
  } else {
    const raw = ipv6Bytes(ep.address);
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
    for (let i = 0; i < 16; i++) out[4 + i] = raw[i]! ^ mask[i]!;
  }
  return out;
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') as [string, string] : [address, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

export interface EncodeOptions {
  /** Appends MESSAGE-INTEGRITY keyed with this (short-term: the password). */
  integrityKey?: string | Buffer;
  fingerprint?: boolean;
}

export function newTransactionId(): Buffer {
  return randomBytes(12);
}

/** Builds a STUN message; attributes are written in the order given, padded with zeroes. */
export function encodeStun(
  method: number,
  cls: StunClass,
  transactionId: Buffer,
  attrs: ReadonlyArray<{ type: number; value: Buffer }>,
  opts: EncodeOptions = {},
): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(a.type, 0);
    h.writeUInt16BE(a.value.length, 2);
    parts.push(h, a.value, Buffer.alloc((4 - (a.value.length % 4)) % 4));
  }
  const header = Buffer.alloc(HEADER);
  const type = (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  let body = Buffer.concat(parts);
  if (opts.integrityKey !== undefined) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', opts.integrityKey).update(header).update(body).digest();
    const h = Buffer.from([0, 0, 0, 20]);
    h.writeUInt16BE(Attr.MessageIntegrity, 0);
    body = Buffer.concat([body, h, mac]);
  }
  if (opts.fingerprint) {
    header.writeUInt16BE(body.length + 8, 2);
    const fp = Buffer.alloc(8);
    fp.writeUInt16BE(Attr.Fingerprint, 0);
    fp.writeUInt16BE(4, 2);
    fp.writeUInt32BE(fingerprintOf(Buffer.concat([header, body])), 4);
    body = Buffer.concat([body, fp]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** ERROR-CODE value (RFC 5389 §15.6). */
export function errorCodeValue(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + r.length);
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  r.copy(out, 4);
  return out;
}

export function readErrorCode(value: Buffer): number | null {
  return value.length >= 4 ? (value[2]! & 7) * 100 + value[3]! : null;
}
