import { describe, expect, it } from 'vitest';
import { convertChannels, decodeL16, encodeL16 } from '../../../daemon/codec/l16.js';
import { Resampler } from '../../../daemon/codec/resample.js';

function tone(freq: number, rate: number, n: number, amp = 10000, offset = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * freq * (i + offset)) / rate)));
}

function rms(s: Int16Array, from = 0): number {
  let sum = 0;
  for (let i = from; i < s.length; i++) sum += s[i]! ** 2;
  return Math.sqrt(sum / (s.length - from));
}

describe('L16', () => {
  it('is big-endian signed 16-bit', () => {
    const s = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
    const b = encodeL16(s);
    expect([...b]).toEqual([0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0x80, 0x00, 0x12, 0x34]);
    expect([...decodeL16(b)]).toEqual([...s]);
  });

  it('ignores an odd trailing byte', () => {
    expect(decodeL16(Buffer.from([0, 5, 9])).length).toBe(1);
  });

  it('converts channel layouts', () => {
    expect([...convertChannels(Int16Array.from([1, 3, 5, 7]), 2, 1)]).toEqual([2, 6]);
    expect([...convertChannels(Int16Array.from([1, 5]), 1, 2)]).toEqual([1, 1, 5, 5]);
  });
});

describe('resampler', () => {
  it('gives exact sample counts per 20 ms packet: 8k→16k→48k and back', () => {
    for (const [from, to] of [[8000, 16000], [16000, 8000], [8000, 48000], [48000, 8000], [16000, 48000], [48000, 16000]] as const) {
      const r = new Resampler(from, to, 1);
      for (let p = 0; p < 10; p++) expect(r.process(new Int16Array(from / 50)).length).toBe(to / 50);
    }
  });

  it('44.1 kHz ↔ 8 kHz: totals stay exact over a stream', () => {
    const r = new Resampler(44100, 8000, 1);
    let total = 0;
    for (let p = 0; p < 50; p++) total += r.process(new Int16Array(882)).length;
    expect(total).toBe(8000);
  });

  it('keeps a 1 kHz tone (gain ~1) and the stereo channels apart', () => {
    const r = new Resampler(8000, 16000, 2);
    const left = tone(1000, 8000, 1600);
    const right = tone(500, 8000, 1600, 5000);
    const inter = new Int16Array(3200);
    for (let i = 0; i < 1600; i++) { inter[2 * i] = left[i]!; inter[2 * i + 1] = right[i]!; }
    const chunks: Int16Array[] = [];
    for (let p = 0; p < 10; p++) chunks.push(r.process(inter.subarray(p * 320, p * 320 + 320)));
    const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    const l = out.filter((_, i) => i % 2 === 0);
    const rr = out.filter((_, i) => i % 2 === 1);
    expect(rms(l, 200) / rms(left)).toBeGreaterThan(0.95);
    expect(rms(l, 200) / rms(left)).toBeLessThan(1.05);
    expect(rms(rr, 200) / rms(right)).toBeGreaterThan(0.95);
    expect(rms(rr, 200) / rms(right)).toBeLessThan(1.05);
  });

  it('removes content above the new Nyquist frequency when downsampling', () => {
    const r = new Resampler(16000, 8000, 1);
    const out = r.process(tone(6000, 16000, 3200));
    expect(rms(out, 200)).toBeLessThan(300); // 6 kHz cannot exist at 8 kHz: strongly attenuated
  });

  it('is continuous across packet boundaries (same output as one big packet)', () => {
    const input = tone(700, 8000, 800);
    const whole = new Resampler(8000, 48000, 1).process(input);
    const r = new Resampler(8000, 48000, 1);
    const parts: number[] = [];
    for (let p = 0; p < 5; p++) parts.push(...r.process(input.subarray(p * 160, p * 160 + 160)));
    expect(parts).toEqual([...whole]);
  });
});
