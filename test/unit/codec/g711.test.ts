import { describe, expect, it } from 'vitest';
import {
  ALAW_DECODE, ALAW_TO_ULAW, ULAW_DECODE, ULAW_TO_ALAW,
  decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw, alawEncodeSample, ulawEncodeSample,
} from '../../../daemon/codec/g711.js';

const bytes = (b: number, n: number) => new Uint8Array(n).fill(b);

describe('G.711', () => {
  // byte-exact payloads from rtpengine's public auto-daemon tests (PCMU↔PCMA transcoding)
  it('PCMU 0x00 → PCMA 0x2a and PCMA 0x00 → PCMU 0x29, as rtpengine sends them', () => {
    expect([...encodeAlaw(decodeUlaw(bytes(0x00, 160)))]).toEqual([...bytes(0x2a, 160)]);
    expect([...encodeUlaw(decodeAlaw(bytes(0x00, 160)))]).toEqual([...bytes(0x29, 160)]);
    expect(ULAW_TO_ALAW[0x00]).toBe(0x2a);
    expect(ALAW_TO_ULAW[0x00]).toBe(0x29);
  });

  it('PCMU → PCMU through decode/encode keeps 0x00 and 0x88 (rtpengine ptime tests)', () => {
    expect([...encodeUlaw(decodeUlaw(bytes(0x00, 240)))]).toEqual([...bytes(0x00, 240)]);
    expect([...encodeUlaw(decodeUlaw(bytes(0x88, 240)))]).toEqual([...bytes(0x88, 240)]);
  });

  it('decodes the ITU reconstruction levels', () => {
    expect(ULAW_DECODE[0xff]).toBe(0);
    expect(ULAW_DECODE[0x7f]).toBe(0);
    expect(ULAW_DECODE[0x80]).toBe(32124);
    expect(ULAW_DECODE[0x00]).toBe(-32124);
    expect(ALAW_DECODE[0xd5]).toBe(8);
    expect(ALAW_DECODE[0x55]).toBe(-8);
    expect(ALAW_DECODE[0xaa]).toBe(32256);
    expect(ALAW_DECODE[0x2a]).toBe(-32256);
  });

  it('every code survives decode → encode (µ-law negative zero becomes positive zero)', () => {
    for (let c = 0; c < 256; c++) {
      expect(ulawEncodeSample(ULAW_DECODE[c]!)).toBe(c === 0x7f ? 0xff : c);
      expect(alawEncodeSample(ALAW_DECODE[c]!)).toBe(c);
    }
  });

  it('quantises to the nearest level and saturates at both ends', () => {
    expect(ulawEncodeSample(32767)).toBe(0x80);
    expect(ulawEncodeSample(-32768)).toBe(0x00);
    expect(alawEncodeSample(32767)).toBe(0xaa);
    expect(alawEncodeSample(-32768)).toBe(0x2a);
    // monotonic: a larger input never decodes to a smaller level
    let prevU = -Infinity;
    let prevA = -Infinity;
    for (let s = -32768; s <= 32767; s += 7) {
      const u = ULAW_DECODE[ulawEncodeSample(s)]!;
      const a = ALAW_DECODE[alawEncodeSample(s)]!;
      expect(u).toBeGreaterThanOrEqual(prevU);
      expect(a).toBeGreaterThanOrEqual(prevA);
      prevU = u;
      prevA = a;
    }
  });

  it('direct tables equal the two-step path for every code', () => {
    for (let c = 0; c < 256; c++) {
      expect(ULAW_TO_ALAW[c]).toBe(alawEncodeSample(ULAW_DECODE[c]!));
      expect(ALAW_TO_ULAW[c]).toBe(ulawEncodeSample(ALAW_DECODE[c]!));
    }
  });
});
