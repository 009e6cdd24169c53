import { describe, expect, it } from 'vitest';
import { PlaybackCursor, type PlayOptions } from '../../../daemon/media/media-player.js';

const audio = (n: number) => ({ samples: Int16Array.from({ length: n }, (_, i) => i + 1), fileRate: 8000, ratio: 1 });
const opts = (o: Partial<PlayOptions> = {}): PlayOptions => ({ repeatTimes: 1, repeatDurationMs: null, startPos: 0, maxDurationMs: null, ...o });

function drain(c: PlaybackCursor, n = 160) {
  const out: Array<{ first: number; marker: boolean }> = [];
  for (let f = c.next(n); f !== null; f = c.next(n)) out.push({ first: f.samples[0]!, marker: f.marker });
  return out;
}

describe('PlaybackCursor', () => {
  it('cuts the file into frames, pads the last one and marks the start', () => {
    const c = new PlaybackCursor(audio(400), opts(), 8000);
    const f1 = c.next(160)!;
    expect(f1.marker).toBe(true);
    expect(c.next(160)!.marker).toBe(false);
    const last = c.next(160)!;
    expect(last.samples[79]).toBe(400);
    expect(last.samples[80]).toBe(0);
    expect(c.next(160)).toBeNull();
    expect(c.finished).toBe(true);
  });

  it('repeats repeat-times times, each repetition from the start with the marker', () => {
    expect(drain(new PlaybackCursor(audio(320), opts({ repeatTimes: 3 }), 8000))).toEqual([
      { first: 1, marker: true }, { first: 161, marker: false },
      { first: 1, marker: true }, { first: 161, marker: false },
      { first: 1, marker: true }, { first: 161, marker: false },
    ]);
  });

  it('repeat-duration repeats until that much played, capped by repeat-times when given', () => {
    // 40 ms file, 100 ms wanted: three iterations (120 ms)
    expect(drain(new PlaybackCursor(audio(320), opts({ repeatDurationMs: 100 }), 8000)).length).toBe(6);
    expect(drain(new PlaybackCursor(audio(320), opts({ repeatDurationMs: 100, repeatTimes: 2 }), 8000)).length).toBe(4);
  });

  it('start-pos (file samples) starts later; duration stops early; positions count file samples', () => {
    const c = new PlaybackCursor(audio(800), opts({ startPos: 320 }), 8000);
    expect(c.next(160)!.samples[0]).toBe(321);
    expect(c.filePosition).toBe(480);
    expect(drain(new PlaybackCursor(audio(800), opts({ maxDurationMs: 40 }), 8000)).length).toBe(2);
    // a 16 kHz file played at 8 kHz: positions are in the file's samples
    const r = new PlaybackCursor({ samples: new Int16Array(800), fileRate: 16000, ratio: 0.5 }, opts({ startPos: 320 }), 8000);
    r.next(160);
    expect(r.filePosition).toBe(640);
    // a start beyond the end plays from the beginning
    expect(new PlaybackCursor(audio(800), opts({ startPos: 5000 }), 8000).next(160)!.samples[0]).toBe(1);
  });
});
