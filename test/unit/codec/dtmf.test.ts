/** RFC 4733 payloads, the play-DTMF digit mapping, tone synthesis and Goertzel detection. */
import { describe, expect, it } from 'vitest';
import { buildDtmfPayload, detectTone, eventChar, parseDtmfCode, parseDtmfPayload, toneSamples } from '../../../daemon/codec/dtmf.js';
import { decodeAlaw, encodeAlaw } from '../../../daemon/codec/g711.js';

describe('telephone-event payloads', () => {
  it('round-trips event, end bit, volume and duration', () => {
    const p = buildDtmfPayload({ event: 11, end: true, volume: 12, duration: 800 });
    expect([...p]).toEqual([11, 0x80 | 12, 0x03, 0x20]);
    expect(parseDtmfPayload(p)).toEqual({ event: 11, end: true, volume: 12, duration: 800 });
  });

  it('refuses short, odd-length and zero-duration end payloads', () => {
    expect(parseDtmfPayload(Buffer.from([1, 2, 3]))).toBeNull();
    expect(parseDtmfPayload(Buffer.alloc(6))).toBeNull();
    expect(parseDtmfPayload(Buffer.from([1, 0x80, 0, 0]))).toBeNull();
    expect(parseDtmfPayload(Buffer.from([1, 0x00, 0, 0]))).toEqual({ event: 1, end: false, volume: 0, duration: 0 });
  });
});

describe('play DTMF codes', () => {
  it('takes 0–15 and 0-9*#A-D', () => {
    expect(['0', '9', '*', '#', 'A', 'd', '15', '11'].map(parseDtmfCode)).toEqual([0, 9, 10, 11, 12, 15, 15, 11]);
    expect(['16', 'X', '', '**', '-1'].map(parseDtmfCode)).toEqual([null, null, null, null, null]);
    expect(eventChar(11)).toBe('#');
  });
});

describe('tones', () => {
  it('every digit synthesised is detected as itself, through A-law too', () => {
    for (let e = 0; e < 16; e++) {
      const pcm = toneSamples(e, 8000, 0, 160, 8);
      expect(detectTone(pcm, 8000), `digit ${eventChar(e)}`).toBe(e);
      expect(detectTone(decodeAlaw(encodeAlaw(pcm)), 8000), `digit ${eventChar(e)} via PCMA`).toBe(e);
      expect(detectTone(toneSamples(e, 16000, 0, 320, 8), 16000)).toBe(e);
    }
  });

  it('silence, a single tone and speech-like noise are not digits', () => {
    expect(detectTone(new Int16Array(160), 8000)).toBeNull();
    const single = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 697 * i) / 8000)));
    expect(detectTone(single, 8000)).toBeNull();
    let x = 12345;
    const noise = Int16Array.from({ length: 160 }, () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % 20000) - 10000);
    expect(detectTone(noise, 8000)).toBeNull();
  });
});
