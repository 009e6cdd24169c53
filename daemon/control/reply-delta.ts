/**
 * Compact storage of ng replies for the cookie cache: a reply is coded as the differences from
 * a reference reply of similar size (replies of one kind share nearly all their bytes: keys,
 * SDP lines, statistics layout; they differ in ports, tags, numbers). The coding is a plain
 * LZ77 against the reference only: literal runs and copies of reference ranges. Decoding gives
 * the exact bytes back; the cache checks nothing else, so `decodeDelta(encodeDelta(x)) === x`
 * is the whole contract (test/unit/control/reply-delta.test.ts).
 *
 * Format: a sequence of ops, each a LEB128 varint `len << 1 | kind`; kind 0 is followed by
 * `len` literal bytes, kind 1 by a varint offset into the reference (copy `len` bytes).
 */

const MIN_MATCH = 4;
const HASH_BITS = 12;

function hash4(b: Buffer, i: number): number {
  const v = (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24);
  return Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
}

/** A reference reply with the positions of its 4-byte sequences. */
export class DeltaReference {
  readonly table = new Int32Array(1 << HASH_BITS);
  /** 4-byte reads for extending copies (a word compare a step instead of a byte). */
  readonly view: DataView;

  constructor(readonly bytes: Buffer) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    // the first occurrence wins: copies then prefer the reference's own order
    for (let i = bytes.length - MIN_MATCH; i >= 0; i--) this.table[hash4(bytes, i)] = i + 1;
  }
}

let scratch = Buffer.allocUnsafeSlow(16 * 1024);

function ensure(pos: number, n: number): void {
  if (pos + n <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  scratch.copy(next, 0, 0, pos);
  scratch = next;
}

function varint(pos: number, v: number): number {
  ensure(pos, 8);
  while (v >= 0x80) {
    scratch[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  scratch[pos++] = v;
  return pos;
}

/** Below this a literal is copied byte by byte: Buffer.copy's checks and native call cost more. */
const COPY_NATIVE = 48;

function literal(pos: number, x: Buffer, from: number, to: number): number {
  if (to <= from) return pos;
  const n = to - from;
  pos = varint(pos, n * 2);
  ensure(pos, n);
  if (n >= COPY_NATIVE) return pos + x.copy(scratch, pos, from, to);
  const out = scratch;
  for (let k = from; k < to; k++) out[pos++] = x[k] as number;
  return pos;
}

/**
 * How far `x` from `i` equals `r` from `j` (known equal for MIN_MATCH bytes), a word at a time
 * (`xo` is `x`'s offset in the buffer `xv` views).
 */
function matchLength(x: Buffer, xv: DataView, xo: number, i: number, r: Buffer, rv: DataView, j: number): number {
  const max = Math.min(x.length - i, r.length - j);
  let len = MIN_MATCH;
  while (len + 4 <= max && xv.getInt32(xo + i + len) === rv.getInt32(j + len)) len += 4;
  while (len < max && x[i + len] === r[j + len]) len++;
  return len;
}

/**
 * A view of the last input's ArrayBuffer: replies are slices of Node's 8 KiB buffer pool, so
 * consecutive inputs mostly share one, and a DataView is made once per pool, not per reply.
 */
let inputBuffer: ArrayBufferLike | null = null;
let inputView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * `x` coded against `ref`, in a shared scratch buffer (valid until the next call: the caller
 * copies it out). Longer than `x` only for data unlike the reference (the caller then keeps `x`).
 * Four bytes are read and compared as one little-endian int32 (the same value `hash4` builds).
 */
export function encodeDelta(x: Buffer, ref: DeltaReference): Buffer {
  const r = ref.bytes;
  const rv = ref.view;
  const table = ref.table;
  if (x.buffer !== inputBuffer) {
    inputBuffer = x.buffer;
    inputView = new DataView(x.buffer);
  }
  const xv = inputView;
  const xo = x.byteOffset;
  const n = x.length;
  const rn = r.length;
  let pos = 0;
  let i = 0;
  let litStart = 0;
  // where the reference would continue if the bytes since the last copy were a substitution
  let guess = -1;
  while (i + MIN_MATCH <= n) {
    const w = xv.getInt32(xo + i, true);
    let j = -1;
    if (guess >= 0 && guess + MIN_MATCH <= rn && w === rv.getInt32(guess, true)) {
      j = guess;
    } else {
      const c = (table[Math.imul(w, 0x9e3779b1) >>> (32 - HASH_BITS)] as number) - 1;
      if (c >= 0 && w === rv.getInt32(c, true)) j = c;
    }
    if (j < 0) {
      i++;
      if (guess >= 0) guess++;
      continue;
    }
    const len = matchLength(x, xv, xo, i, r, rv, j);
    pos = literal(pos, x, litStart, i);
    pos = varint(pos, len * 2 + 1);
    pos = varint(pos, j);
    i += len;
    litStart = i;
    guess = j + len;
  }
  pos = literal(pos, x, litStart, n);
  return scratch.subarray(0, pos);
}

/** The reply of `length` bytes that `coded` describes against `ref`. */
export function decodeDelta(coded: Buffer, ref: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  let o = 0;
  let p = 0;
  const read = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const c = coded[p++];
      if (c === undefined) throw new Error('reply-delta: truncated');
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
    }
  };
  while (p < coded.length) {
    const op = read();
    const len = Math.floor(op / 2);
    if (o + len > length) throw new Error('reply-delta: longer than recorded');
    if (op % 2 === 0) {
      coded.copy(out, o, p, p + len);
      p += len;
    } else {
      const from = read();
      ref.copy(out, o, from, from + len);
    }
    o += len;
  }
  if (o !== length) throw new Error('reply-delta: shorter than recorded');
  return out;
}
