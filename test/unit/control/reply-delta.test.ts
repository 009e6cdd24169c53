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
