import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { MemoryReturn, type MemoryHooks } from '../../../daemon/leak/memory-return.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { nativeMemoryHooks } from '../../../daemon/kernel/native-addon.js';

function recorder(): MemoryHooks & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    memoryPressure: () => void calls.push('pressure'),
    mallocTrim: () => (calls.push('trim'), true),
  };
}

describe('MemoryReturn: memory given back once the call graph is quiet', () => {
  const opts = { tickMs: 500, minSlackBytes: 1000, minIntervalMs: 2000 };

  it('acts once after activity stops, trims malloc a tick later, and not again while quiet', () => {
    let activity = 0;
    let now = 10_000;
    const hooks = recorder();
    const m = new MemoryReturn(() => activity, hooks, opts, () => ({ committed: 6000, used: 1000 }), () => now);
    expect(m.tick()).toBe(false); // first look: nothing to compare with
    activity = 40; // calls set up
    now += 500;
    expect(m.tick()).toBe(false); // still changing
    now += 500;
    expect(m.tick()).toBe(true); // one quiet tick after a change
    expect(hooks.calls).toEqual(['pressure']);
    now += 500;
    expect(m.tick()).toBe(false);
    expect(hooks.calls).toEqual(['pressure', 'trim']);
    for (let i = 0; i < 10; i++) {
      now += 500;
      expect(m.tick()).toBe(false);
    }
    expect(m.returns).toBe(1);
  });

  it('returns what start-up left behind at the first quiet tick', () => {
    let now = 0;
    const hooks = recorder();
    const m = new MemoryReturn(() => 7, hooks, opts, () => ({ committed: 6000, used: 1000 }), () => now);
    expect(m.tick()).toBe(false);
    now += 500;
    expect(m.tick()).toBe(true);
    now += 5000;
    expect(m.tick()).toBe(false);
    expect(hooks.calls).toEqual(['pressure', 'trim']);
  });

  it('never acts under a steady load (the graph changes at every tick)', () => {
    let activity = 0;
    let now = 0;
    const hooks = recorder();
    const m = new MemoryReturn(() => activity, hooks, opts, () => ({ committed: 1e9, used: 1 }), () => now);
    for (let i = 0; i < 50; i++) {
      activity += 7;
      now += 500;
      m.tick();
    }
    expect(hooks.calls).toEqual([]);
  });

  it('asks a large heap for a proportionate gain (an eighth of it)', () => {
    let activity = 0;
    let now = 0;
    const hooks = recorder();
    const m = new MemoryReturn(() => activity, hooks, opts, () => ({ committed: 110_000, used: 100_000 }), () => now);
    m.tick();
    activity++;
    m.tick();
    now += 500;
    expect(m.tick()).toBe(false); // 10,000 of slack: over minSlackBytes, under an eighth of 100,000
    expect(hooks.calls).toEqual([]);
  });

  it('leaves a heap with little slack alone, and keeps the minimum interval', () => {
    let activity = 0;
    let now = 0;
    let slack = 10;
    const hooks = recorder();
    const m = new MemoryReturn(() => activity, hooks, opts, () => ({ committed: slack + 1000, used: 1000 }), () => now);
    m.tick();
    activity++;
    m.tick();
    now += 500;
    expect(m.tick()).toBe(false); // quiet, but nothing worth giving back
    slack = 1e6;
    activity++;
    m.tick();
    now += 500;
    expect(m.tick()).toBe(true);
    activity++;
    now += 500;
    m.tick();
    now += 500;
    expect(m.tick()).toBe(false); // within minIntervalMs of the last return
    now += 2000;
    expect(m.tick()).toBe(true); // the change is still pending: acted on once the interval passed
    expect(m.returns).toBe(2);
  });

  it('the leak registry\'s activity changes with every register and release', () => {
    const reg = new LeakRegistry('summary');
    const a0 = reg.activity;
    const h = reg.register('Call', 'c1');
    const a1 = reg.activity;
    expect(a1).not.toBe(a0);
    reg.release(h, {});
    expect(reg.activity).not.toBe(a1);
    expect(reg.auditCall('c1')).toEqual({});
  });

  const addonBuilt = existsSync(path.join(__dirname, '..', '..', '..', 'kernel', 'build', 'Release', 'rtpengine_fastpath.node'));
  it.skipIf(!addonBuilt)('the addon\'s memory-pressure notification shrinks a grown young generation', async () => {
    const hooks = nativeMemoryHooks();
    expect(hooks).not.toBeNull();
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
    // grow the young generation with short-lived garbage
    let sink = 0;
    for (let r = 0; r < 100; r++) {
      const a = [];
      for (let i = 0; i < 50_000; i++) a.push({ i, s: `x${i}` });
      sink += a.length;
    }
    expect(sink).toBe(5_000_000);
    const grown = newSpace();
    hooks!.memoryPressure();
    const until = Date.now() + 5000;
    while (newSpace() >= grown && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(newSpace()).toBeLessThan(grown);
    expect(hooks!.mallocTrim()).toBeTypeOf('boolean');
  });
});
