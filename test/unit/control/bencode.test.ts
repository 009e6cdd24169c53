import { describe, expect, it } from 'vitest';
import {
  BencodeError,
  bencodeDecode,
  bencodeDecodePrefix,
  bencodeEncode,
  bencodeEncodeWith,
  bencodeToPlain,
  type BencodeDict,
} from '../../../daemon/control/bencode.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const dec = (s: string | Buffer) => bencodeDecode(typeof s === 'string' ? b(s) : s);

describe('bencode decode', () => {
  it('decodes byte strings as Buffers', () => {
    const v = dec('4:spam');
    expect(Buffer.isBuffer(v)).toBe(true);
    expect((v as Buffer).toString()).toBe('spam');
    expect((dec('0:') as Buffer).length).toBe(0);
  });

  it('is binary safe: CR LF, NUL and high bytes survive', () => {
    const payload = Buffer.from([0x76, 0x3d, 0x30, 0x0d, 0x0a, 0x00, 0xff, 0x80, 0xfe, 0x3a, 0x65]);
    const enc = Buffer.concat([b(`${payload.length}:`), payload]);
    const v = dec(enc) as Buffer;
    expect(Buffer.compare(v, payload)).toBe(0);
    expect(Buffer.compare(bencodeEncode(v), enc)).toBe(0);
  });

  it('string length counts bytes, not characters', () => {
    const v = dec(Buffer.concat([b('2:'), Buffer.from('é', 'utf8')])) as Buffer;
    expect(v.toString('utf8')).toBe('é');
    expect(bencodeEncode('é').toString('latin1')).toBe(`2:${Buffer.from('é', 'utf8').toString('latin1')}`);
  });

  it('decodes integers including negative and zero', () => {
    expect(dec('i0e')).toBe(0);
    expect(dec('i42e')).toBe(42);
    expect(dec('i-12e')).toBe(-12);
    expect(dec('i9007199254740991e')).toBe(9007199254740991);
  });

  it.each(['i-0e', 'i03e', 'i-03e', 'i00e', 'ie', 'i-e', 'i1.5e', 'i 1e', 'i+1e', 'iabce', 'i12', 'i9007199254740993e'])(
    'rejects invalid integer %s',
    (s) => {
      expect(() => dec(s)).toThrow(BencodeError);
    },
  );

  it('decodes lists and nested structures', () => {
    expect(bencodeToPlain(dec('l4:spami3ee'))).toEqual(['spam', 3]);
    expect(bencodeToPlain(dec('le'))).toEqual([]);
    expect(bencodeToPlain(dec('de'))).toEqual({});
    expect(bencodeToPlain(dec('d1:ald1:bli1ei2eeee1:cd0:0:ee'))).toEqual({ a: [{ b: [1, 2] }], c: { '': '' } });
  });

  it('accepts unsorted dictionary keys and keeps their order', () => {
    const v = dec('d7:command4:ping4:zeta1:z5:alpha1:ae') as BencodeDict;
    expect(Object.keys(v)).toEqual(['command', 'zeta', 'alpha']);
    expect(bencodeEncode(v).toString('latin1')).toBe('d7:command4:ping4:zeta1:z5:alpha1:ae');
  });

  it('dictionary keys like __proto__ are plain keys', () => {
    const v = dec('d9:__proto__i1ee') as BencodeDict;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(v['__proto__']).toBe(1);
  });

  it('decodes the reference offer message', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\n';
    const wire = `d3:sdp${sdp.length}:${sdp}7:call-id10:c1@example5:flagsl13:trust-addresse7:command5:offere`;
    const v = dec(wire) as BencodeDict;
    expect(Object.keys(v)).toEqual(['sdp', 'call-id', 'flags', 'command']);
    expect((v['sdp'] as Buffer).toString()).toBe(sdp);
    expect(bencodeToPlain(v['flags'] as Buffer)).toEqual(['trust-address']);
    expect(bencodeEncode(v).toString('latin1')).toBe(wire);
  });

  it('accepts nesting up to 64 levels', () => {
    const s = `${'l'.repeat(64)}${'e'.repeat(64)}`;
    expect(() => dec(s)).not.toThrow();
  });

  it('rejects deep nesting with BencodeError (no stack overflow)', () => {
    for (const n of [100, 10_000]) {
      const s = `${'l'.repeat(n)}${'e'.repeat(n)}`;
      expect(() => dec(s)).toThrow(BencodeError);
      const d = `${'d1:a'.repeat(n)}i1e${'e'.repeat(n)}`;
      expect(() => dec(d)).toThrow(BencodeError);
    }
  });

  describe('malformed input throws BencodeError', () => {
    const cases: Array<[string, string]> = [
      ['empty input', ''],
      ['truncated string', '5:abc'],
      ['string length without colon', '5abc'],
      ['leading zero string length', '01:a'],
      ['negative string length', '-1:a'],
      ['absurd string length', '99999999999:a'],
      ['unterminated list', 'l4:spam'],
      ['unterminated dict', 'd1:ai1e'],
      ['dict key without value', 'd1:ae'],
      ['non-string dict key', 'di1ei2ee'],
      ['list dict key', 'dlei1ee'],
      ['trailing data', 'i1ei2e'],
      ['trailing data after dict', 'de '],
      ['unknown type byte', 'x'],
      ['lone end', 'e'],
      ['unterminated integer', 'i12'],
    ];
    it.each(cases)('%s', (_name, input) => {
      expect(() => dec(input)).toThrow(BencodeError);
    });

    it('BencodeError carries an offset', () => {
      try {
        dec('l4:spami1x');
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(BencodeError);
        expect(typeof (err as BencodeError).offset).toBe('number');
      }
    });
  });
});

describe('bencodeDecodePrefix', () => {
  it('returns the first value and its length, ignoring what follows', () => {
    const buf = b('d7:command4:pinge4821_2 d7:command4:pinge');
    const { value, length } = bencodeDecodePrefix(buf);
    expect(bencodeToPlain(value)).toEqual({ command: 'ping' });
    expect(length).toBe('d7:command4:pinge'.length);
    const second = bencodeDecodePrefix(b('i-5e'));
    expect(second).toEqual({ value: -5, length: 4 });
  });

  it('throws BencodeError on an incomplete prefix', () => {
    expect(() => bencodeDecodePrefix(b('d7:command4:pin'))).toThrow(BencodeError);
    expect(() => bencodeDecodePrefix(b('d7:command4:ping'))).toThrow(BencodeError);
    expect(() => bencodeDecodePrefix(b(''))).toThrow(BencodeError);
  });
});

describe('bencode encode', () => {
  it('encodes every type', () => {
    expect(bencodeEncode('spam').toString()).toBe('4:spam');
    expect(bencodeEncode('').toString()).toBe('0:');
    expect(bencodeEncode(0).toString()).toBe('i0e');
    expect(bencodeEncode(-42).toString()).toBe('i-42e');
    expect(bencodeEncode(12345678901234567890n).toString()).toBe('i12345678901234567890e');
    expect(bencodeEncode(true).toString()).toBe('i1e');
    expect(bencodeEncode(false).toString()).toBe('i0e');
    expect(bencodeEncode([]).toString()).toBe('le');
    expect(bencodeEncode({}).toString()).toBe('de');
    expect(bencodeEncode(['a', 1, ['b'], { c: 'd' }]).toString()).toBe('l1:ai1el1:bed1:c1:dee');
  });

  it('keeps insertion order of keys and skips undefined values', () => {
    expect(bencodeEncode({ result: 'ok', sdp: 'x', absent: undefined, 'error-reason': 'y' }).toString()).toBe(
      'd6:result2:ok3:sdp1:x12:error-reason1:ye',
    );
  });

  it('round trips nested structures', () => {
    const value = {
      command: 'offer',
      'call-id': 'abc',
      flags: ['trust-address', 'strict-source'],
      codec: { strip: ['all'], transcode: ['PCMA', 'opus/48000/2/32000'], mask: ['G722'] },
      n: -7,
      deep: [[[{ x: [1, 2, 3] }]]],
      sdp: 'v=0\r\n\u0000\r\n',
    };
    const enc = bencodeEncode(value);
    expect(bencodeToPlain(bencodeDecode(enc))).toEqual(value);
    // re-encoding the decoded value gives the same bytes
    expect(Buffer.compare(bencodeEncode(bencodeDecode(enc)), enc)).toBe(0);
  });

  it('truncates fractional numbers', () => {
    expect(bencodeEncode(1.9).toString()).toBe('i1e');
    expect(bencodeEncode(-1.9).toString()).toBe('i-1e');
    expect(bencodeEncode(-0).toString()).toBe('i0e');
  });

  it.each([NaN, Infinity, -Infinity, 1e21])('never emits invalid bencode for the number %s (throws or encodes a valid integer)', (n) => {
    let enc: Buffer;
    try {
      enc = bencodeEncode({ result: 'ok', value: n });
    } catch (err) {
      expect(err).toBeInstanceOf(BencodeError);
      return;
    }
    expect(() => bencodeDecode(enc)).not.toThrow();
  });

  it('rejects nesting deeper than the limit on encode', () => {
    let v: unknown = 1;
    for (let i = 0; i < 200; i++) v = [v];
    expect(() => bencodeEncode(v as never)).toThrow(BencodeError);
  });
});

describe('bencodeEncode into one buffer', () => {
  it('writes the prefix (an ng cookie) before the value, byte for byte', () => {
    const out = bencodeEncode({ result: 'ok', sdp: 'v=0\r\n' }, '5323_1 ');
    expect(out.toString('latin1')).toBe('5323_1 d6:result2:ok3:sdp5:v=0\r\ne');
  });

  it('grows past its scratch buffer and returns a Buffer owning exactly its bytes', () => {
    const big = 'é'.repeat(40_000); // 80,000 UTF-8 bytes
    const out = bencodeEncode({ sdp: big, list: [1, -2, Buffer.from('ab'), null], n: null, skip: undefined });
    expect(out.toString('utf8')).toBe(`d3:sdp80000:${big}4:listli1ei-2e2:ab0:ee`);
    expect(out.buffer.byteLength).toBe(out.length);
    expect(bencodeToPlain(bencodeDecode(out))).toEqual({ sdp: big, list: [1, -2, 'ab', ''] });
  });

  it('is clean after a failed encoding (the scratch buffer is shared)', () => {
    expect(() => bencodeEncode({ a: 'x'.repeat(100), bad: Number.NaN })).toThrow(BencodeError);
    expect(bencodeEncode({ a: 1 }).toString('latin1')).toBe('d1:ai1ee');
  });
});

/**
 * The encoder writes digits and short ASCII strings byte by byte and the decoder reads lengths
 * and integers in place: checked against a plain string-building encoder on random values.
 */
describe('bencode fast paths against a reference encoder', () => {
  type V = string | number | V[] | { [k: string]: V };
  const ref = (v: V): Buffer => {
    if (typeof v === 'number') return Buffer.from(`i${v}e`, 'latin1');
    if (typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8');
      return Buffer.concat([Buffer.from(`${bytes.length}:`, 'latin1'), bytes]);
    }
    if (Array.isArray(v)) return Buffer.concat([b('l'), ...v.map(ref), b('e')]);
    return Buffer.concat([b('d'), ...Object.entries(v).flatMap(([k, x]) => [ref(k), ref(x)]), b('e')]);
  };
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const alphabet = ['a', 'Z', '0', ' ', ':', 'e', 'é', '€', '\u{1F600}', '\n'];
  const str = () => Array.from({ length: rnd(3) === 0 ? 70 + rnd(100) : rnd(20) }, () => alphabet[rnd(rnd(2) ? 6 : alphabet.length)]).join('');
  const ints = [0, 1, 9, 10, 99, 100, -1, -10, 12345, -98765, 2 ** 31, 1796171660450000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
  const gen = (depth: number): V => {
    const k = depth > 3 ? rnd(2) : rnd(4);
    if (k === 0) return ints[rnd(ints.length)] as number;
    if (k === 1) return str();
    if (k === 2) return Array.from({ length: rnd(5) }, () => gen(depth + 1));
    const o: { [k: string]: V } = {};
    for (let i = rnd(6); i > 0; i--) o[str()] = gen(depth + 1);
    return o;
  };

  it('encodes byte for byte as the reference and decodes back', () => {
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      const expected = ref(v);
      const got = bencodeEncode(v);
      expect(got.equals(expected)).toBe(true);
      expect(bencodeToPlain(bencodeDecode(got))).toEqual(v);
    }
  });

  it('encodes `{ ...body, result }` without the spread: same bytes, result in the place the spread gives it', () => {
    for (let i = 0; i < 1000; i++) {
      const body: { [k: string]: V | undefined | null } = i % 4 === 0 ? (Object.create(null) as { [k: string]: V }) : {};
      for (let n = rnd(6); n > 0; n--) body[str()] = gen(1);
      // a handler's own `result` somewhere among its keys, and skipped values
      if (rnd(3) === 0) body.result = gen(2);
      if (rnd(3) === 0) body[str()] = rnd(2) ? undefined : null;
      if (rnd(2)) body[String(rnd(50))] = 'integer-like key';
      const prefix = rnd(2) ? `${i}_cookie ` : '';
      const expected = bencodeEncode({ ...body, result: 'ok' } as V, prefix);
      expect(bencodeEncodeWith(body as { [k: string]: V }, 'result', 'ok', prefix).equals(expected)).toBe(true);
    }
  });

  it('still refuses leading zeros, -0, empty and oversized integers and lengths', () => {
    for (const bad of ['i01e', 'i-0e', 'ie', 'i-e', 'i1x2e', 'i99999999999999999e', '01:a', '12345678901:a', ':a', '5:ab']) {
      expect(() => dec(bad), bad).toThrow(BencodeError);
    }
    expect(() => dec('i12')).toThrow(/unterminated integer/);
  });
});
