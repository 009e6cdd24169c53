import { describe, expect, it } from 'vitest';
import { PtimeBuffer, type PtimeFrame } from '../../../daemon/codec/ptime-buffer.js';

const seq = (start: number, n: number) => Int16Array.from({ length: n }, (_, i) => start + i);

function drain(b: PtimeBuffer): PtimeFrame[] {
  const out: PtimeFrame[] = [];
  for (let f = b.pop(); f; f = b.pop()) out.push(f);
  return out;
}

describe('ptime buffer', () => {
  it('20 ms → 30 ms: 5 packets give 3 frames, positions contiguous, 20 ms left over', () => {
    const b = new PtimeBuffer(1, 240, 8000);
    const frames: PtimeFrame[] = [];
    for (let p = 0; p < 5; p++) {
      b.push(seq(p * 160, 160));
      frames.push(...drain(b));
    }
    expect(frames.map((f) => f.position)).toEqual([0, 240, 480]);
    expect(frames.map((f) => f.samples.length)).toEqual([240, 240, 240]);
    expect([...frames[1]!.samples.subarray(0, 3)]).toEqual([240, 241, 242]);
    expect(b.pending).toBe(80);
  });

  it('50 ms → 30 ms and 30 ms → 50 ms as rtpengine repacketises', () => {
    const b = new PtimeBuffer(1, 240, 8000);
    b.push(seq(0, 400));
    expect(drain(b).map((f) => f.position)).toEqual([0]);
    b.push(seq(400, 400));
    expect(drain(b).map((f) => f.position)).toEqual([240, 480]);
    b.push(seq(800, 160));
    expect(drain(b).map((f) => f.position)).toEqual([720]);
    const c = new PtimeBuffer(1, 400, 8000);
    c.push(seq(0, 240));
    expect(drain(c)).toEqual([]);
    c.push(seq(240, 240));
    expect(drain(c).map((f) => f.position)).toEqual([0]);
  });

  it('a 60 ms packet splits into two 30 ms frames', () => {
    const b = new PtimeBuffer(1, 240, 8000);
    b.push(seq(0, 480));
    expect(drain(b).map((f) => [f.position, f.samples[0]])).toEqual([[0, 0], [240, 240]]);
  });

  it('gaps stay gaps: the partial frame goes out short and the position skips the loss', () => {
    const b = new PtimeBuffer(1, 240, 8000);
    b.push(seq(0, 160));
    b.push(seq(1000, 160), 160); // one 20 ms packet missing
    const f = drain(b);
    expect(f.map((x) => [x.position, x.samples.length])).toEqual([[0, 160]]);
    b.push(seq(2000, 160));
    expect(drain(b).map((x) => [x.position, x.samples.length, x.samples[0]])).toEqual([[320, 240, 1000]]);
  });

  it('without repacketising every push is one frame', () => {
    const b = new PtimeBuffer(2, 0, 8000);
    b.push(seq(0, 320));
    b.push(seq(0, 320));
    expect(drain(b).map((f) => f.position)).toEqual([0, 160]);
  });

  it('is bounded: overflow drops the oldest audio and counts it', () => {
    const b = new PtimeBuffer(1, 240, 400);
    for (let p = 0; p < 100; p++) b.push(seq(0, 160)); // nobody pops
    expect(b.overflowDropped).toBeGreaterThan(0);
    const pending = drain(b).reduce((n, f) => n + f.samples.length, 0) + b.pending;
    expect(pending).toBeLessThanOrEqual(400 + 240);
    b.clear();
    expect(b.pending).toBe(0);
    expect(b.pop()).toBeNull();
  });
});
