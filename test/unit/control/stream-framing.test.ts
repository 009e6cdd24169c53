/**
 * TCP ng framing: bencodeLength() finds where a bencoded value ends in a stream buffer (or
 * that it has not ended yet, or can never be valid); nextFrame() cuts `COOKIE SP DICT`.
 */
import { describe, expect, it } from 'vitest';
import { bencodeEncode, bencodeLength } from '../../../daemon/control/bencode.js';
import { nextFrame } from '../../../daemon/control/ng-tcp.js';

describe('bencodeLength', () => {
  it('measures complete values and reports incomplete ones as -1', () => {
    const full = bencodeEncode({ command: 'offer', sdp: 'v=0\r\n', list: [1, -2, 'x'], nested: { a: { b: [] } } });
    expect(bencodeLength(full)).toBe(full.length);
    expect(bencodeLength(Buffer.concat([full, Buffer.from('trailing')]))).toBe(full.length);
    for (let cut = 0; cut < full.length; cut++) expect(bencodeLength(full.subarray(0, cut))).toBe(-1);
    expect(bencodeLength(Buffer.from('xxd1:ai5ee'), 2)).toBe(8);
  });

  it('throws on bytes that can never become bencode', () => {
    expect(() => bencodeLength(Buffer.from('d1:aXe'))).toThrow(/unexpected byte/);
    expect(() => bencodeLength(Buffer.from('d1:ai5xe'))).toThrow(/invalid integer/);
    expect(() => bencodeLength(Buffer.from('d12345678901:'))).toThrow(/string length/);
    expect(() => bencodeLength(Buffer.from('d3x'))).toThrow(/string length/);
    expect(() => bencodeLength(Buffer.from('l'.repeat(100)))).toThrow(/nesting/);
  });
});

describe('nextFrame', () => {
  const ping = Buffer.from('c1 d7:command4:pinge');
  it('cuts messages sent back to back, skipping newlines between them', () => {
    const buf = Buffer.concat([ping, Buffer.from('\r\n'), ping]);
    const a = nextFrame(buf);
    expect('message' in a && a.message.toString()).toBe(ping.toString());
    const b = nextFrame(buf.subarray(a.consumed));
    expect('message' in b && b.message.toString()).toBe(ping.toString());
    expect(a.consumed + b.consumed).toBe(buf.length);
  });

  it('waits for the rest of a message and refuses what can never be one', () => {
    expect(nextFrame(ping.subarray(0, 10))).toMatchObject({ incomplete: true });
    expect(nextFrame(Buffer.from('cookie-without-space'))).toMatchObject({ incomplete: true });
    expect(nextFrame(Buffer.from(' d4:pinge'))).toMatchObject({ invalid: 'no cookie' });
    expect(nextFrame(Buffer.from('c1 {"command":"ping"}'))).toMatchObject({ invalid: 'not a bencoded dictionary' });
    expect(nextFrame(Buffer.from(`${'x'.repeat(300)}`))).toMatchObject({ invalid: 'cookie too long' });
    expect(nextFrame(Buffer.from('c1 d7:command4:pingXe'))).toHaveProperty('invalid');
  });
});
