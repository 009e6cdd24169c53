import { afterEach, describe, expect, it } from 'vitest';
import { encodeUlaw } from '../../../daemon/codec/g711.js';
import { AudioPlayer } from '../../../daemon/media/audio-player.js';
import { PlaybackCursor } from '../../../daemon/media/media-player.js';

/** A PCMU player at 8 kHz, 20 ms, collecting what it sends; `delayMs` before a new source. */
function player(delayMs = 0, bufferMs = 500) {
  const sent: Buffer[] = [];
  const p = new AudioPlayer({ sendGenerated: (b) => sent.push(b) }, { pt: 0, clockRate: 8000, ptimeMs: 20, encode: (s) => encodeUlaw(s) }, bufferMs, delayMs);
  return { p, sent };
}

/** Waits (bounded) until `cond` holds: the player sends on its own timer. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

const level = (v: number, n = 160) => new Int16Array(n).fill(v);
const frameOf = (v: number) => encodeUlaw(level(v));
const players: AudioPlayer[] = [];
afterEach(() => {
  for (const p of players.splice(0)) p.close();
});

describe('AudioPlayer (mix buffer)', () => {
  it('sends silence, then the sum of its sources (clipped), frame by frame, one SSRC', async () => {
    const { p, sent } = player();
    players.push(p);
    p.start(); // sends the first frame at once: silence
    expect(sent.length).toBe(1);
    expect(sent[0]!.subarray(12).equals(frameOf(0))).toBe(true);
    expect(sent[0]![1]! & 0x80).toBe(0x80);
    p.write('a/1/1', 1000, 8000, level(1000));
    p.write('b/1/2', 555, 8000, level(2000));
    p.write('c/1/3', 9, 8000, level(30000));
    p.write('d/1/4', 9, 8000, level(30000));
    // the next frame: 1000 + 2000 + 30000 + 30000, clipped
    await until(() => sent.length >= 2);
    expect(sent[1]!.readUInt16BE(2)).toBe((sent[0]!.readUInt16BE(2) + 1) & 0xffff);
    expect(sent[1]!.readUInt32BE(4)).toBe((sent[0]!.readUInt32BE(4) + 160) >>> 0);
    expect(sent.some((x) => x.subarray(12).equals(frameOf(32767)))).toBe(true);
    expect(new Set(sent.map((x) => x.readUInt32BE(8))).size).toBe(1);
  });

  it('places a source by its timestamps (loss leaves silence) and resamples a 16 kHz source', async () => {
    const { p, sent } = player();
    players.push(p);
    p.start();
    p.write('a/1/1', 0, 8000, level(4000));
    // the packet at ts 320 (one lost in between) lands two frames later
    p.write('a/1/1', 320, 8000, level(4000));
    // a 16 kHz source: 320 samples = one 20 ms frame at 8 kHz
    p.write('b/1/1', 0, 16000, level(-2000, 320));
    await until(() => sent.length >= 4);
    const payloads = sent.map((x) => x.subarray(12));
    const i = payloads.findIndex((x) => !x.equals(frameOf(0)));
    expect(i).toBeGreaterThan(0);
    // frame i: A's first packet plus B (B's resampler delays its start a little: compare the tail)
    expect(payloads[i]!.subarray(80).equals(frameOf(2000).subarray(80))).toBe(true);
    expect(payloads[i + 1]!.equals(frameOf(0))).toBe(true);
    expect(payloads[i + 2]!.equals(frameOf(4000))).toBe(true);
  });

  it('re-places a late source and one whose timestamp jumps, and counts the late one', async () => {
    const { p, sent } = player(0, 100);
    players.push(p);
    p.start();
    p.write('a/1/1', 0, 8000, level(1000));
    await until(() => sent.length >= 4);
    // ts 160 would have played long ago: it is placed anew after the next frame
    p.write('a/1/1', 160, 8000, level(3000));
    expect(p.counters.late).toBe(1);
    // a jump of a minute: placed anew, not dropped
    p.write('a/1/1', 160 + 8000 * 60, 8000, level(3000));
    const n = sent.length;
    await until(() => sent.length >= n + 2);
    expect(sent.filter((x) => x.subarray(12).equals(frameOf(6000))).length + sent.filter((x) => x.subarray(12).equals(frameOf(3000))).length).toBeGreaterThanOrEqual(1);
    expect(p.counters.mixed).toBe(3);
  });

  it('mixes a playback in, reports where it was, and calls back once when it ends', async () => {
    const { p, sent } = player();
    players.push(p);
    let ended = 0;
    p.play(new PlaybackCursor({ samples: level(500, 320), fileRate: 8000, ratio: 1 }, { repeatTimes: 1, repeatDurationMs: null, startPos: 0, maxDurationMs: null }, 8000));
    p.onPlaybackEnd = () => ended++;
    p.start();
    await until(() => !p.playing && sent.length >= 3);
    expect(sent.slice(0, 2).map((x) => x.subarray(12).equals(frameOf(500)))).toEqual([true, true]);
    expect(p.playing).toBe(false);
    expect(ended).toBe(1);
    expect(p.stopPlayback()).toBe(320);
  });

  it('sends nothing after close', async () => {
    const { p, sent } = player();
    p.start();
    p.close();
    const n = sent.length;
    p.write('a/1/1', 0, 8000, level(100));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.length).toBe(n);
  });
});
