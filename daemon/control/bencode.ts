/**
 * Bencode as rtpengine's ng protocol uses it: binary-safe byte strings, integers, lists and
 * dictionaries; dictionary keys are accepted in any order and emitted in insertion order.
 * Decoded byte strings stay Buffers so SDP bodies and binary blobs survive untouched.
 */
export type BencodeValue = Buffer | number | BencodeValue[] | BencodeDict;
export interface BencodeDict { [key: string]: BencodeValue }

/** What the encoder accepts: strings are written as UTF-8 byte strings, booleans as 0/1. */
export type Encodable = string | Buffer | number | bigint | boolean | null | Encodable[] | { [key: string]: Encodable | undefined };

export class BencodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'BencodeError';
  }
}

const MAX_DEPTH = 64;

export function bencodeDecode(input: Buffer): BencodeValue {
  const decoder = new Decoder(input);
  const value = decoder.value(0);
  if (decoder.pos !== input.length) throw new BencodeError('trailing data', decoder.pos);
  return value;
}

/** Decodes one value from the start of `input`; returns it with the number of bytes it used. */
export function bencodeDecodePrefix(input: Buffer): { value: BencodeValue; length: number } {
  const decoder = new Decoder(input);
  const value = decoder.value(0);
  return { value, length: decoder.pos };
}

class Decoder {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  value(depth: number): BencodeValue {
    if (depth > MAX_DEPTH) throw new BencodeError('nesting too deep', this.pos);
    const c = this.buf[this.pos];
    if (c === undefined) throw new BencodeError('unexpected end of data', this.pos);
    if (c === 0x69 /* i */) return this.integer();
    if (c === 0x6c /* l */) {
      this.pos++;
      const list: BencodeValue[] = [];
      while (this.peek() !== 0x65 /* e */) list.push(this.value(depth + 1));
      this.pos++;
      return list;
    }
    if (c === 0x64 /* d */) {
      this.pos++;
      const dict: BencodeDict = Object.create(null) as BencodeDict;
      while (this.peek() !== 0x65) {
        const key = this.string().toString('utf8');
        dict[key] = this.value(depth + 1);
      }
      this.pos++;
      return dict;
    }
    if (c >= 0x30 && c <= 0x39) return this.string();
    throw new BencodeError(`unexpected byte 0x${c.toString(16)}`, this.pos);
  }

  private peek(): number {
    const c = this.buf[this.pos];
    if (c === undefined) throw new BencodeError('unexpected end of data', this.pos);
    return c;
  }

  private integer(): number {
    const end = this.buf.indexOf(0x65, this.pos + 1);
    if (end < 0) throw new BencodeError('unterminated integer', this.pos);
    const text = this.buf.toString('latin1', this.pos + 1, end);
    if (!/^-?(0|[1-9][0-9]*)$/.test(text) || text === '-0') throw new BencodeError('invalid integer', this.pos);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new BencodeError('integer out of range', this.pos);
    this.pos = end + 1;
    return n;
  }

  private string(): Buffer {
    const colon = this.buf.indexOf(0x3a, this.pos);
    if (colon < 0 || colon - this.pos > 10) throw new BencodeError('invalid string length', this.pos);
    const text = this.buf.toString('latin1', this.pos, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BencodeError('invalid string length', this.pos);
    const len = Number(text);
    const start = colon + 1;
    if (start + len > this.buf.length) throw new BencodeError('string exceeds data', this.pos);
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }
}

/**
 * Encodes into one scratch buffer shared by every call (encoding is synchronous), then copies
 * the result out once at its exact size: no Buffer per token, and the returned Buffer owns its
 * memory (a small reply does not pin an 8 KiB pool slab while it sits in the cookie cache).
 * `prefix` (latin1, e.g. the ng cookie and its space) is written before the value, so a reply
 * message is built without a second copy.
 */
export function bencodeEncode(value: Encodable, prefix = ''): Buffer {
  const w = writer;
  w.pos = 0;
  if (prefix) w.latin1(prefix);
  encodeInto(value, w, 0);
  const out = Buffer.allocUnsafeSlow(w.pos);
  w.buf.copy(out, 0, 0, w.pos);
  return out;
}

class Writer {
  buf: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  latin1(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** `<length>:` then the UTF-8 bytes of `s`. */
  utf8String(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.latin1(`${n}:`);
    this.room(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(b: Buffer): void {
    this.latin1(`${b.length}:`);
    this.room(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }
}

const writer = new Writer();

function encodeInto(value: Encodable, out: Writer, depth: number): void {
  if (depth > MAX_DEPTH) throw new BencodeError('nesting too deep', 0);
  if (value === null) {
    // bencode has no null: an absent value is an empty string (dictionary entries are skipped)
    out.latin1('0:');
  } else if (typeof value === 'string') {
    out.utf8String(value);
  } else if (Buffer.isBuffer(value)) {
    out.bytes(value);
  } else if (typeof value === 'bigint') {
    out.latin1(`i${value}e`);
  } else if (typeof value === 'number') {
    // NaN/Infinity would produce bytes no decoder accepts: fail here, where the caller can fall back
    const n = Math.trunc(value);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`cannot encode ${value} as an integer`, 0);
    out.latin1(`i${n}e`);
  } else if (typeof value === 'boolean') {
    out.latin1(value ? 'i1e' : 'i0e');
  } else if (Array.isArray(value)) {
    out.byte(0x6c /* l */);
    for (const item of value) encodeInto(item, out, depth + 1);
    out.byte(0x65 /* e */);
  } else {
    out.byte(0x64 /* d */);
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const item = value[key];
      if (item === undefined || item === null) continue;
      out.utf8String(key);
      encodeInto(item, out, depth + 1);
    }
    out.byte(0x65 /* e */);
  }
}

/** Converts a decoded value into plain JS (byte strings as UTF-8 strings) for JSON and tests. */
export function bencodeToPlain(value: BencodeValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(bencodeToPlain);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = bencodeToPlain(v);
  return out;
}

/**
 * Length of the one bencoded value at `start` of a stream buffer without decoding it: the
 * number of bytes it spans, or -1 if the buffer ends before the value does (wait for more).
 * Throws BencodeError on bytes that can never become valid bencode, so a stream transport can
 * drop the connection instead of waiting for its buffer bound.
 */
export function bencodeLength(buf: Buffer, start = 0): number {
  let pos = start;
  let depth = 0;
  do {
    const c = buf[pos];
    if (c === undefined) return -1;
    if (c === 0x65 /* e */ && depth > 0) {
      depth--;
      pos++;
      continue;
    }
    if (c === 0x64 /* d */ || c === 0x6c /* l */) {
      if (++depth > MAX_DEPTH) throw new BencodeError('nesting too deep', pos);
      pos++;
      continue;
    }
    if (c === 0x69 /* i */) {
      let p = pos + 1;
      if (buf[p] === 0x2d /* - */) p++;
      const digits = p;
      while (p < buf.length && (buf[p] as number) >= 0x30 && (buf[p] as number) <= 0x39) p++;
      if (p >= buf.length) {
        if (p - digits > 20) throw new BencodeError('integer out of range', pos);
        return -1;
      }
      if (buf[p] !== 0x65 || p === digits) throw new BencodeError('invalid integer', pos);
      pos = p + 1;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      let p = pos;
      while (p < buf.length && (buf[p] as number) >= 0x30 && (buf[p] as number) <= 0x39) p++;
      if (p - pos > 10) throw new BencodeError('invalid string length', pos);
      if (p >= buf.length) return -1;
      if (buf[p] !== 0x3a /* : */) throw new BencodeError('invalid string length', pos);
      const len = Number(buf.toString('latin1', pos, p));
      pos = p + 1 + len;
      if (pos > buf.length) return -1;
      continue;
    }
    throw new BencodeError(`unexpected byte 0x${c.toString(16)}`, pos);
  } while (depth > 0);
  return pos - start;
}
