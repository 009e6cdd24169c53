/**
 * The STUN codec against RFC 5769's test vectors (short-term credential samples §2.1–2.3):
 * decoding, MESSAGE-INTEGRITY, FINGERPRINT, XOR-MAPPED-ADDRESS, and our own encoding round trip.
 */
import { describe, expect, it } from 'vitest';
import {
  Attr,
  METHOD_BINDING,
  StunClass,
  attribute,
  checkFingerprint,
  checkIntegrity,
  decodeStun,
  encodeStun,
  readXorAddress,
  u32,
  xorAddressValue,
} from '../../../daemon/ice/stun.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';

// RFC 5769 §2.1 sample request
const REQUEST = hex(`00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// §2.2 sample IPv4 response
const RESPONSE4 = hex(`01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// §2.3 sample IPv6 response
const RESPONSE6 = hex(`01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

describe('STUN codec, RFC 5769 vectors', () => {
  it('decodes the sample request: binding request, username, priority, ICE-CONTROLLED', () => {
    const m = decodeStun(REQUEST)!;
    expect(m).not.toBeNull();
    expect(m.method).toBe(METHOD_BINDING);
    expect(m.cls).toBe(StunClass.Request);
    expect(m.transactionId.toString('hex')).toBe('b7e7a701bc34d686fa87dfae');
    expect(attribute(m, Attr.Username)!.toString()).toBe('evtj:h6vY');
    expect(attribute(m, Attr.Priority)!.readUInt32BE(0)).toBe(0x6e0001ff);
    expect(attribute(m, Attr.IceControlled)!.toString('hex')).toBe('932ff9b151263b36');
    expect(attribute(m, Attr.Software)!.toString()).toBe('STUN test client');
  });

  it('verifies MESSAGE-INTEGRITY and FINGERPRINT of all three samples', () => {
    for (const v of [REQUEST, RESPONSE4, RESPONSE6]) {
      const m = decodeStun(v)!;
      expect(checkIntegrity(m, PASSWORD)).toBe(true);
      expect(checkFingerprint(m)).toBe(true);
      expect(checkIntegrity(m, 'wrong password')).toBe(false);
    }
  });

  it('detects a flipped bit in the integrity-protected part and in the fingerprint', () => {
    const bad = Buffer.from(REQUEST);
    bad[30] ^= 1; // inside SOFTWARE
    const m = decodeStun(bad)!;
    expect(checkIntegrity(m, PASSWORD)).toBe(false);
    expect(checkFingerprint(m)).toBe(false);
  });

  it('reads XOR-MAPPED-ADDRESS for IPv4 and IPv6 and encodes it back identically', () => {
    const m4 = decodeStun(RESPONSE4)!;
    const v4 = attribute(m4, Attr.XorMappedAddress)!;
    expect(readXorAddress(v4, m4.transactionId)).toEqual({ family: 4, address: '192.0.2.1', port: 32853 });
    expect(xorAddressValue({ family: 4, address: '192.0.2.1', port: 32853 }, m4.transactionId)).toEqual(v4);
    const m6 = decodeStun(RESPONSE6)!;
    const v6 = attribute(m6, Attr.XorMappedAddress)!;
    expect(readXorAddress(v6, m6.transactionId)).toEqual({ family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 });
    expect(xorAddressValue({ family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }, m6.transactionId)).toEqual(v6);
  });

  it('our encoding of the sample request (zero padding) passes our own and the RFC checks', () => {
    const m = decodeStun(REQUEST)!;
    const out = encodeStun(METHOD_BINDING, StunClass.Request, m.transactionId, [
      { type: Attr.Software, value: Buffer.from('STUN test client') },
      { type: Attr.Priority, value: u32(0x6e0001ff) },
      { type: Attr.IceControlled, value: hex('932ff9b151263b36') },
      { type: Attr.Username, value: Buffer.from('evtj:h6vY') },
    ], { integrityKey: PASSWORD, fingerprint: true });
    expect(out.length).toBe(REQUEST.length);
    // identical except for the username padding (the RFC pads with spaces)
    expect(out.subarray(0, 68)).toEqual(REQUEST.subarray(0, 68));
    const back = decodeStun(out)!;
    expect(checkIntegrity(back, PASSWORD)).toBe(true);
    expect(checkFingerprint(back)).toBe(true);
  });

  it('rejects malformed messages without throwing', () => {
    expect(decodeStun(Buffer.alloc(0))).toBeNull();
    expect(decodeStun(REQUEST.subarray(0, 40))).toBeNull(); // length field disagrees
    const noCookie = Buffer.from(REQUEST);
    noCookie[4] = 0;
    expect(decodeStun(noCookie)).toBeNull();
    const overrun = Buffer.from(REQUEST);
    overrun.writeUInt16BE(0x100, 22); // SOFTWARE claims more than is there
    expect(decodeStun(overrun)).toBeNull();
    const afterIntegrity = Buffer.concat([REQUEST.subarray(0, 96), hex('0024 0004 00000000')]);
    afterIntegrity.writeUInt16BE(afterIntegrity.length - 20, 2);
    expect(decodeStun(afterIntegrity)).toBeNull();
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(REQUEST);
      junk[20 + (i % 76)] = (i * 37) & 255;
      expect(() => decodeStun(junk)).not.toThrow();
    }
  });
});
