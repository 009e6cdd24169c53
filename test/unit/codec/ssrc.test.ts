/** Per-SSRC state: the bounded per-stream tables and their accounting through the owner. */
import { describe, expect, it } from 'vitest';
import { MAX_SSRCS, SsrcContext, SsrcTable, type SsrcDirection, type SsrcOwner } from '../../../daemon/codec/ssrc.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { rtpPacket } from '../../../support/rtp.js';

class Owner implements SsrcOwner {
  readonly leaks = new LeakRegistry('summary');
  readonly live: SsrcContext[] = [];
  created = 0;
  createSsrc(ssrc: number, direction: SsrcDirection): SsrcContext {
    this.created++;
    const ctx = new SsrcContext(ssrc, direction, this.leaks.register('SsrcContext', 'c'));
    this.live.push(ctx);
    return ctx;
  }
  releaseSsrc(ctx: SsrcContext): void {
    this.live.splice(this.live.indexOf(ctx), 1);
    this.leaks.release(ctx.leak, ctx);
  }
}

function rtp(seq: number, ts: number, len = 172): Buffer {
  return rtpPacket(seq, { ts, ssrc: 0, payload: Buffer.alloc(len - 12) });
}

describe('SsrcTable', () => {
  it('creates a context on first sight and returns the same one after', () => {
    const owner = new Owner();
    const t = new SsrcTable(owner, 'in');
    const a = t.get(1);
    expect(t.get(2)).not.toBe(a);
    expect(t.get(1)).toBe(a);
    expect(t.get(1)).toBe(a);
    expect(owner.created).toBe(2);
    expect(a.direction).toBe('in');
    expect(t.ssrcs()).toEqual([1, 2]);
    expect(t.peek(3)).toBeUndefined();
  });

  it('counts packets, bytes, last sequence number and timestamp', () => {
    const t = new SsrcTable(new Owner(), 'out');
    const ctx = t.get(0xabc);
    expect(ctx.lastSeq).toBe(-1);
    ctx.count(rtp(65535, 0xfffffff0));
    ctx.count(rtp(0, 160, 100));
    expect(ctx).toMatchObject({ packets: 2, bytes: 272, lastSeq: 0, lastTs: 160, seqOffset: 0, tsOffset: 0, srtpIndex: 0 });
  });

  it('is bounded: a new SSRC beyond the bound evicts (and releases) the oldest', () => {
    const owner = new Owner();
    const t = new SsrcTable(owner, 'in');
    for (let i = 0; i < MAX_SSRCS; i++) t.get(1000 + i);
    const first = owner.live[0]!;
    t.get(5000);
    expect(t.size).toBe(MAX_SSRCS);
    expect(t.peek(1000)).toBeUndefined();
    expect(first.leak.released).toBe(true);
    expect(owner.live).toHaveLength(MAX_SSRCS);
    // a spray of SSRCs costs the bound, no more
    for (let i = 0; i < 1000; i++) t.get(10_000 + i);
    expect(owner.live).toHaveLength(MAX_SSRCS);
    expect(owner.leaks.liveCountsByType().SsrcContext).toBe(MAX_SSRCS);
  });

  it('clear() releases every context exactly once', () => {
    const owner = new Owner();
    const t = new SsrcTable(owner, 'in');
    t.get(1);
    t.get(2);
    t.clear();
    expect(owner.live).toHaveLength(0);
    expect(owner.leaks.liveCountsByType().SsrcContext).toBe(0);
    expect(owner.leaks.doubleRelease).toBe(0);
    // usable again afterwards, no stale cache
    expect(t.get(1)).not.toBeUndefined();
    expect(owner.created).toBe(3);
  });
});
