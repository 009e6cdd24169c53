import { describe, expect, it } from 'vitest';
import { classifyTrend, GrowthSampler } from '../../../daemon/leak/growth.js';
import { LEAK_INJECT_ENV, LeakInjector, readLeakInjection } from '../../../daemon/leak/inject.js';

describe('classifyTrend', () => {
  it('fewer than 4 samples is constant', () => {
    expect(classifyTrend([])).toBe('constant');
    expect(classifyTrend([1, 100, 1000])).toBe('constant');
  });

  it('flat or shrinking is constant', () => {
    expect(classifyTrend([5, 5, 5, 5, 5])).toBe('constant');
    expect(classifyTrend([10, 8, 6, 4])).toBe('constant');
    expect(classifyTrend([3, 9, 1, 3])).toBe('constant');
  });

  it('steady increments are linear', () => {
    expect(classifyTrend([1, 2, 3, 4])).toBe('linear');
    expect(classifyTrend(Array.from({ length: 30 }, (_, i) => 100 + 7 * i))).toBe('linear');
    // noisy but steady
    expect(classifyTrend([0, 12, 19, 31, 40, 52, 59, 71, 80, 90])).toBe('linear');
    // speeding up is still a leak
    expect(classifyTrend([0, 1, 2, 4, 8, 16, 32, 64])).toBe('linear');
  });

  it('fast fill then slowing down is logarithmic', () => {
    expect(classifyTrend([0, 50, 75, 87, 93, 96, 98, 99])).toBe('logarithmic');
    expect(classifyTrend(Array.from({ length: 30 }, (_, i) => Math.round(1000 * Math.log(i + 1))))).toBe('logarithmic');
    // filled and then flat
    expect(classifyTrend([0, 100, 100, 100, 100, 100])).toBe('logarithmic');
  });
});

describe('GrowthSampler', () => {
  it('reports only growing types, with their trend', () => {
    const g = new GrowthSampler();
    for (let i = 0; i < 10; i++) g.record({ Call: 10 + 2 * i, Stable: 4, Cache: Math.min(100, 40 * i) });
    const report = g.report();
    expect(report).toEqual([
      { type: 'Call', trend: 'linear', samples: 10, first: 10, last: 28, perSample: 2 },
      { type: 'Cache', trend: 'logarithmic', samples: 10, first: 0, last: 100, perSample: 100 / 9 },
    ]);
  });

  it('keeps a window of the last 30 samples', () => {
    const g = new GrowthSampler();
    for (let i = 0; i < 45; i++) g.record({ Call: i });
    expect(g.report()).toEqual([{ type: 'Call', trend: 'linear', samples: 30, first: 15, last: 44, perSample: 1 }]);
  });

  it('a leak that stopped ages out of the window', () => {
    const g = new GrowthSampler();
    for (let i = 0; i < 10; i++) g.record({ Call: i });
    for (let i = 0; i < 30; i++) g.record({ Call: 9 });
    expect(g.report()).toEqual([]);
  });

  it('call-owned types growing with the number of calls are load, not leaks; with calls flat they are reported', () => {
    const load = new GrowthSampler();
    for (let i = 0; i < 10; i++) load.record({ calls: 10 * i, Media: 20 * i, CookieCacheEntry: 5 * i });
    expect(load.report(new Set(['Media'])).map((r) => r.type)).toEqual(['CookieCacheEntry']);
    const leak = new GrowthSampler();
    for (let i = 0; i < 10; i++) leak.record({ calls: 10 + ((i + 1) % 2), Media: 20 + 3 * i });
    expect(leak.report(new Set(['Media']))).toEqual([
      { type: 'Media', trend: 'linear', samples: 10, first: 20, last: 47, perSample: 3 },
    ]);
  });

  it('nothing recorded, nothing reported', () => {
    expect(new GrowthSampler().report()).toEqual([]);
  });
});

describe('readLeakInjection', () => {
  const env = (v?: string) => (v === undefined ? {} : { [LEAK_INJECT_ENV]: v });

  it('unset or empty: none', () => {
    expect(readLeakInjection(env())).toBeNull();
    expect(readLeakInjection(env(''))).toBeNull();
  });

  it('valid values', () => {
    expect(readLeakInjection(env('keep-listener'))).toEqual({ kind: 'keep-listener' });
    expect(readLeakInjection(env('skip-release:StreamFd'))).toEqual({ kind: 'skip-release', type: 'StreamFd' });
    expect(readLeakInjection(env('double-release:Call'))).toEqual({ kind: 'double-release', type: 'Call' });
    expect(readLeakInjection(env('skip-release:NativeEntry'))).toEqual({ kind: 'skip-release', type: 'NativeEntry' });
  });

  it.each(['skip-release:Nope', 'skip-release:', 'skip-release', 'double-release:call', 'leak:Call', 'keep-listener:Call', 'skip-release:Call:x', ' skip-release:Call'])(
    'invalid %j throws',
    (v) => {
      expect(() => readLeakInjection(env(v))).toThrow(LEAK_INJECT_ENV);
    },
  );

  it('reads process.env by default', () => {
    const old = process.env[LEAK_INJECT_ENV];
    delete process.env[LEAK_INJECT_ENV];
    try {
      expect(readLeakInjection()).toBeNull();
    } finally {
      if (old !== undefined) process.env[LEAK_INJECT_ENV] = old;
    }
  });
});

describe('LeakInjector', () => {
  it('without an injection never injects', () => {
    const inj = new LeakInjector(null);
    expect(inj.skipRelease('Call', 'c')).toBe(false);
    expect(inj.releaseTwice('Call', 'c')).toBe(false);
    expect(inj.keepListener('c')).toBe(false);
  });

  it('skip-release: once per call, only for its type', () => {
    const inj = new LeakInjector({ kind: 'skip-release', type: 'StreamFd' });
    expect(inj.skipRelease('PacketStream', 'c1')).toBe(false);
    expect(inj.releaseTwice('StreamFd', 'c1')).toBe(false);
    expect(inj.keepListener('c1')).toBe(false);
    expect(inj.skipRelease('StreamFd', 'c1')).toBe(true);
    expect(inj.skipRelease('StreamFd', 'c1')).toBe(false);
    expect(inj.skipRelease('StreamFd', 'c2')).toBe(true);
    expect(inj.skipRelease('StreamFd', 'c2')).toBe(false);
  });

  it('double-release: once per call', () => {
    const inj = new LeakInjector({ kind: 'double-release', type: 'Call' });
    expect(inj.releaseTwice('Call', 'c1')).toBe(true);
    expect(inj.releaseTwice('Call', 'c1')).toBe(false);
    expect(inj.skipRelease('Call', 'c1')).toBe(false);
  });

  it('keep-listener: once per call', () => {
    const inj = new LeakInjector({ kind: 'keep-listener' });
    expect(inj.keepListener('c1')).toBe(true);
    expect(inj.keepListener('c1')).toBe(false);
    expect(inj.keepListener('c2')).toBe(true);
    expect(inj.skipRelease('Call', 'c3')).toBe(false);
  });

  it('finishCall drops the memo, so a re-used call-id injects again', () => {
    const inj = new LeakInjector({ kind: 'skip-release', type: 'Timer' });
    expect(inj.skipRelease('Timer', 'c1')).toBe(true);
    inj.finishCall('c1');
    expect(inj.skipRelease('Timer', 'c1')).toBe(true);
    expect(inj.skipRelease('Timer', 'c1')).toBe(false);
  });
});
