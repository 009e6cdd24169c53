import { describe, expect, it } from 'vitest';
import { PacketSequencer } from '../../../daemon/codec/sequencer.js';

const run = (sq: PacketSequencer<number>, seq: number) => sq.push(seq, seq).map((s) => [s.seq, s.lost]);

describe('packet sequencer', () => {
  it('passes packets in order at once', () => {
    const sq = new PacketSequencer<number>();
    expect(run(sq, 10)).toEqual([[10, 0]]);
    expect(run(sq, 11)).toEqual([[11, 0]]);
  });

  it('puts an early packet back behind the late one', () => {
    const sq = new PacketSequencer<number>();
    run(sq, 1);
    expect(run(sq, 3)).toEqual([]);
    expect(run(sq, 2)).toEqual([[2, 0], [3, 0]]);
  });

  it('gives up on a lost packet after a few held ones and reports the loss', () => {
    const sq = new PacketSequencer<number>(3);
    run(sq, 1);
    expect(run(sq, 3)).toEqual([]);
    expect(run(sq, 4)).toEqual([]);
    expect(run(sq, 5)).toEqual([]);
    expect(run(sq, 6)).toEqual([[3, 1], [4, 0], [5, 0], [6, 0]]);
    expect(run(sq, 7)).toEqual([[7, 0]]);
  });

  it('drops duplicates and stale packets, counting them', () => {
    const sq = new PacketSequencer<number>();
    run(sq, 100);
    run(sq, 101);
    expect(run(sq, 101)).toEqual([]);
    expect(run(sq, 90)).toEqual([]);
    expect(sq.dropped).toBe(2);
  });

  it('a far jump is a new numbering, across the 16-bit wrap too', () => {
    const sq = new PacketSequencer<number>();
    run(sq, 65535);
    expect(run(sq, 0)).toEqual([[0, 0]]);
    expect(run(sq, 8000)).toEqual([[8000, -1]]);
    expect(run(sq, 8001)).toEqual([[8001, 0]]);
  });

  it('holds a bounded number of packets', () => {
    const sq = new PacketSequencer<number>(3);
    run(sq, 0);
    for (let s = 2; s < 60; s += 2) run(sq, s);
    expect(sq.pending).toBeLessThanOrEqual(3);
    sq.clear();
    expect(sq.pending).toBe(0);
  });
});
