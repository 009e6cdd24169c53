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

/**
 * Decoded dictionaries: objects whose prototype is an empty null-prototype object. Like
 * `Object.create(null)` no key is special (`__proto__`, `constructor` are plain keys), but they
 * start with fast properties: every message repeats the same few keys in the same order, so
 * they share hidden classes, and adding a key and for-in over them are much cheaper than on
 * `Object.create(null)`'s hash-table objects.
 */
const Dict = function Dict(this: object) {} as unknown as new () => object;
Dict.prototype = Object.create(null) as object;

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
      const dict = new Dict() as BencodeDict;
      while (this.peek() !== 0x65) {
        const key = this.key();
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
    // digits read in place: no native call, no string, no regular expression per integer
    const buf = this.buf;
    const start = this.pos;
    let p = start + 1;
    const negative = buf[p] === 0x2d; /* - */
    if (negative) p++;
    const digits = p;
    let n = 0;
    let c = buf[p];
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      c = buf[++p];
    }
    if (c === undefined) throw new BencodeError('unterminated integer', start);
    const count = p - digits;
    if (c !== 0x65 /* e */ || count === 0 || (count > 1 && buf[digits] === 0x30) || (negative && n === 0)) {
      if (buf.indexOf(0x65, start + 1) < 0) throw new BencodeError('unterminated integer', start);
      throw new BencodeError('invalid integer', start);
    }
    if (!Number.isSafeInteger(n)) throw new BencodeError('integer out of range', start);
    this.pos = p + 1;
    return negative ? -n : n;
  }

  /** `<length>:`: the length read in place; returns where the bytes start and how many. */
  private stringBounds(): number {
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    let len = 0;
    let c = buf[p];
    while (c !== undefined && c >= 0x30 && c <= 0x39 && p - start <= 10) {
      len = len * 10 + (c - 0x30);
      c = buf[++p];
    }
    const count = p - start;
    if (c !== 0x3a /* : */ || count === 0 || count > 10 || (count > 1 && buf[start] === 0x30)) {
      throw new BencodeError('invalid string length', start);
    }
    const from = p + 1;
    if (from + len > buf.length) throw new BencodeError('string exceeds data', start);
    this.pos = from + len;
    this.len = len;
    return from;
  }

  private len = 0;

  private string(): Buffer {
    const from = this.stringBounds();
    return this.buf.subarray(from, from + this.len);
  }

  /** A dictionary key as text (UTF-8), without a Buffer view per key. */
  key(): string {
    const from = this.stringBounds();
    const end = from + this.len;
    const buf = this.buf;
    for (let i = from; i < end; i++) if ((buf[i] as number) >= 0x80) return buf.toString('utf8', from, end);
    // ASCII: latin1 is the same text and its slice is the cheapest way to a string
    return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(from, end);
  }
}

/**
 * Encodes into one scratch buffer shared by every call (encoding is synchronous), then copies
 * the result out once at its exact size (Writer.result): no Buffer per token.
 * `prefix` (latin1, e.g. the ng cookie and its space) is written before the value, so a reply
 * message is built without a second copy.
 */
export function bencodeEncode(value: Encodable, prefix = ''): Buffer {
  const w = writer;
  w.pos = 0;
  if (prefix) w.latin1(prefix);
  encodeInto(value, w, 0);
  return w.result();
}

/**
 * `{ ...body, [key]: value }` encoded without building that object (a reply's `result: ok` after
 * the handler's fields): `key` takes the place of `body`'s own `key` if it has one, else comes
 * last, which is the order the spread would give.
 */
export function bencodeEncodeWith(body: { [key: string]: Encodable | undefined }, key: string, value: Encodable, prefix = ''): Buffer {
  const w = writer;
  w.pos = 0;
  if (prefix) w.latin1(prefix);
  w.byte(0x64 /* d */);
  let seen = false;
  for (const k in body) {
    if (k === key) {
      seen = true;
      w.utf8String(k);
      encodeInto(value, w, 1);
      continue;
    }
    const item = body[k];
    if (item === undefined || item === null) continue;
    w.utf8String(k);
    encodeInto(item, w, 1);
  }
  if (!seen) {
    w.utf8String(key);
    encodeInto(value, w, 1);
  }
  w.byte(0x65 /* e */);
  return w.result();
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

  /**
   * The bytes written, copied out at their exact size. A reply lives only until it is sent (the
   * cookie cache keeps its own copy in its slabs), so small ones come from Node's buffer pool:
   * no ArrayBuffer and backing store per reply.
   */
  result(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  latin1(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** The decimal digits of a non-negative safe integer, written in place. */
  digits(n: number): void {
    if (n < 10) {
      this.byte(0x30 + n);
      return;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    this.room(len);
    const buf = this.buf;
    let p = this.pos + len - 1;
    for (let x = n; p >= this.pos; x = Math.floor(x / 10)) buf[p--] = 0x30 + (x % 10);
    this.pos += len;
  }

  /** `i<n>e` for a safe integer. */
  integer(n: number): void {
    this.byte(0x69 /* i */);
    if (n < 0) {
      this.byte(0x2d /* - */);
      this.digits(-n);
    } else {
      this.digits(n);
    }
    this.byte(0x65 /* e */);
  }

  /**
   * `<length>:` then the UTF-8 bytes of `s`. Short ASCII strings (keys, tags, addresses: nearly
   * every token of a reply) are copied a character at a time: a native write per token costs
   * more than the copy.
   */
  utf8String(s: string): void {
    const n = s.length;
    if (n <= 64) {
      // optimistic: length digits, ':' and the characters in one pass; a non-ASCII character
      // sends the whole string to the UTF-8 path below from where it started
      const start = this.pos;
      this.digits(n);
      this.room(n + 1);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = 0x3a; /* : */
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        this.pos = p;
        return;
      }
      this.pos = start;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.digits(bytes);
    this.byte(0x3a);
    this.room(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(b: Buffer): void {
    this.digits(b.length);
    this.byte(0x3a);
    this.room(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }
}

const writer = new Writer();

function encodeInto(value: Encodable, out: Writer, depth: number): void {
  if (depth > MAX_DEPTH) throw new BencodeError('nesting too deep', 0);
  if (value === null) {
    // bencode has no null: an absent value is an empty string (dictionary entries are skipped)
    out.byte(0x30);
    out.byte(0x3a);
  } else if (typeof value === 'string') {
    out.utf8String(value);
  } else if (typeof value === 'number') {
    // the typeof checks first: Buffer.isBuffer is an instanceof walk, and numbers are common
    // NaN/Infinity would produce bytes no decoder accepts: fail here, where the caller can fall back
    const n = Math.trunc(value);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`cannot encode ${value} as an integer`, 0);
    out.integer(n === 0 ? 0 : n); // -0 is written as 0
  } else if (Buffer.isBuffer(value)) {
    out.bytes(value);
  } else if (typeof value === 'bigint') {
    out.latin1(`i${value}e`);
  } else if (typeof value === 'boolean') {
    out.integer(value ? 1 : 0);
  } else if (Array.isArray(value)) {
    out.byte(0x6c /* l */);
    for (let i = 0; i < value.length; i++) encodeInto(value[i] as Encodable, out, depth + 1);
    out.byte(0x65 /* e */);
  } else {
    out.byte(0x64 /* d */);
    // for-in, not Object.keys: no key array per dictionary. Replies are plain data (object
    // literals, null-prototype dictionaries, class instances whose methods are not enumerable),
    // so for-in sees exactly their own keys, in the same order
    for (const key in value) {
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
