import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bencodeEncode } from '../../../daemon/control/bencode.js';
import { CookieCache } from '../../../daemon/control/cookie-cache.js';
import { decodeDelta, DeltaReference, encodeDelta } from '../../../daemon/control/reply-delta.js';

/** A delete reply shaped like the daemon's (call statistics), varied by `i`. */
function deleteReply(i: number, cookie = `${i}_abc`): Buffer {
  const stream = (port: number, rtcp: boolean) => ({
    'local port': port, 'local address': i % 2 ? '::1' : '127.0.0.1',
    endpoint: { family: i % 2 ? 'IPv6' : 'IPv4', address: '127.0.0.1', port: 30000 + (i % 997) },
    'last packet': i % 5, flags: [rtcp ? 'RTCP' : 'RTP', 'filled'], SSRC: [],
    stats: { packets: i * 3, bytes: i * 480, errors: 0 },
  });
  const tag = (t: string, o: string) => ({
    tag: t, created: 1796171660 + i, 'in dialogue with': o,
    medias: [{ index: 1, type: 'audio', protocol: 'RTP/AVP', streams: [stream(10000 + i % 5000, false), stream(10001 + i % 5000, true)] }],
  });
  return bencodeEncode({
    created: 1796171660 + i, created_us: (i * 7919) % 1_000_000, tags: { [`a${i}`]: tag(`a${i}`, `b${i}`), [`b${i}`]: tag(`b${i}`, `a${i}`) },
    totals: { RTP: { packets: i, bytes: i * 160, errors: 0 } }, result: 'ok',
  }, `${cookie} `);
}

describe('reply delta coding', () => {
  it('gives back the exact bytes: similar replies, random data, empty and tiny input', () => {
    const ref = new DeltaReference(deleteReply(1));
    for (let i = 0; i < 500; i++) {
      const x = deleteReply(i * 37 + 5);
      const coded = Buffer.from(encodeDelta(x, ref));
      expect(coded.length).toBeLessThan(x.length / 3);
      expect(decodeDelta(coded, ref.bytes, x.length).equals(x)).toBe(true);
    }
    for (const x of [Buffer.alloc(0), Buffer.from('abc'), randomBytes(3000), Buffer.concat([deleteReply(3).subarray(0, 500), randomBytes(200), deleteReply(9)])]) {
      const coded = Buffer.from(encodeDelta(x, ref));
      expect(decodeDelta(coded, ref.bytes, x.length).equals(x)).toBe(true);
    }
  });

  it('refuses a coding that does not match the recorded length', () => {
    const ref = new DeltaReference(deleteReply(1));
    const x = deleteReply(2);
    const coded = Buffer.from(encodeDelta(x, ref));
    expect(() => decodeDelta(coded, ref.bytes, x.length + 1)).toThrow(/shorter/);
    expect(() => decodeDelta(coded.subarray(0, coded.length - 1), ref.bytes, x.length)).toThrow();
  });
});

/**
 * The coding as first written (a byte compared at a time, literals copied by Buffer.copy): the
 * word-at-a-time and byte-loop versions must give exactly its bytes.
 */
function oracleEncode(x: Buffer, ref: Buffer): Buffer {
  // the coder's table: one position (the first) per 12-bit hash of 4 bytes
  const hash = (b: Buffer, i: number) => Math.imul(b.readInt32LE(i), 0x9e3779b1) >>> 20;
  const table = new Map<number, number>();
  for (let i = ref.length - 4; i >= 0; i--) table.set(hash(ref, i), i);
  const out: number[] = [];
  const varint = (v: number) => {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const literal = (from: number, to: number) => {
    if (to <= from) return;
    varint((to - from) * 2);
    for (let k = from; k < to; k++) out.push(x[k] as number);
  };
  const same4 = (i: number, j: number) => j >= 0 && j + 4 <= ref.length && x.compare(ref, j, j + 4, i, i + 4) === 0;
  let i = 0;
  let litStart = 0;
  let guess = -1;
  while (i + 4 <= x.length) {
    let j = -1;
    if (guess >= 0 && same4(i, guess)) j = guess;
    else {
      const c = table.get(hash(x, i)) ?? -1;
      if (same4(i, c)) j = c;
    }
    if (j < 0) {
      i++;
      if (guess >= 0) guess++;
      continue;
    }
    let len = 4;
    while (i + len < x.length && j + len < ref.length && x[i + len] === ref[j + len]) len++;
    literal(litStart, i);
    varint(len * 2 + 1);
    varint(j);
    i += len;
    litStart = i;
    guess = j + len;
  }
  literal(litStart, x.length);
  return Buffer.from(out);
}

describe('reply delta coding against the byte-at-a-time oracle', () => {
  it('codes mutated replies to the same bytes as the plain coding', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const base = deleteReply(7);
    const ref = new DeltaReference(base);
    for (let round = 0; round < 400; round++) {
      const x = Buffer.from(deleteReply(round * 13 + 1));
      // substitutions, insertions and deletions at random places, the end included
      const edits = rand(12);
      let y = x;
      for (let e = 0; e < edits; e++) {
        const at = rand(y.length + 1);
        const kind = rand(3);
        const bytes = randomBytes(1 + rand(9));
        if (kind === 0) y = Buffer.concat([y.subarray(0, at), bytes, y.subarray(Math.min(y.length, at + bytes.length))]);
        else if (kind === 1) y = Buffer.concat([y.subarray(0, at), bytes, y.subarray(at)]);
        else y = Buffer.concat([y.subarray(0, at), y.subarray(Math.min(y.length, at + bytes.length))]);
      }
      const coded = Buffer.from(encodeDelta(y, ref));
      expect(decodeDelta(coded, base, y.length).equals(y)).toBe(true);
      expect(coded.equals(oracleEncode(y, base))).toBe(true);
    }
  });

  it('round trips lengths around the word size at the ends of input and reference', () => {
    const base = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    const ref = new DeltaReference(base);
    for (let from = 0; from < base.length; from++) {
      for (let to = from; to <= base.length; to++) {
        for (const tail of ['', 'x', 'xy', 'xyz', 'wxyz!']) {
          const y = Buffer.concat([base.subarray(from, to), Buffer.from(tail)]);
          const coded = Buffer.from(encodeDelta(y, ref));
          expect(decodeDelta(coded, base, y.length).equals(y)).toBe(true);
          expect(coded.equals(oracleEncode(y, base))).toBe(true);
        }
      }
    }
  });
});

describe('CookieCache compact storage', () => {
  it('answers every cookie with its exact reply and holds delete replies in a fraction of their size', async () => {
    const c = new CookieCache({ maxEntries: 100_000 });
    try {
      const replies = new Map<string, Buffer>();
      let raw = 0;
      for (let i = 0; i < 3000; i++) {
        const cookie = `${i}_${(i * 2654435761) % 100000}`;
        const reply = i % 3 === 2 ? deleteReply(i, cookie) : bencodeEncode({ sdp: `v=0\r\no=- ${i} 1 IN IP4 127.0.0.1\r\nm=audio ${10000 + i} RTP/AVP 0 8\r\n`, result: 'ok' }, `${cookie} `);
        replies.set(cookie, reply);
        raw += cookie.length + reply.length;
        expect((await c.run(cookie, async () => reply)).equals(reply)).toBe(true);
        if (i === 1500) c.rotate(); // both generations answer
      }
      for (const [cookie, reply] of replies) expect((c.lookup(cookie) as Buffer).equals(reply)).toBe(true);
      expect(c.size).toBe(3000);
      expect(c.bytes).toBeLessThan(raw / 3);
    } finally {
      c.close();
    }
  });
});
