import { beforeAll, describe, expect, it } from 'vitest';
import { LeakRegistry, type LeakHandle } from '../../../daemon/leak/registry.js';
import { LEAK_TYPES, type LeakType } from '../../../daemon/leak/types.js';
import { initLogger } from '../../../daemon/log/logger.js';

// the registry warns about every leak it finds; keep the test output readable
beforeAll(() => {
  initLogger(3, 'json');
});

describe('LeakRegistry (summary mode)', () => {
  it('stays exact under random register/release/transfer/audit against a plain model', () => {
    const r = new LeakRegistry('summary');
    let seed = 99;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // the model: every registered, unreleased handle with its owning call
    const live = new Map<LeakHandle, string>();
    const calls = ['c0', 'c1', 'c2', 'c3', 'c4'];
    let leakedExpected = 0;
    for (let step = 0; step < 20_000; step++) {
      const op = rnd(100);
      if (op < 50) {
        const type = LEAK_TYPES[rnd(LEAK_TYPES.length)] as LeakType;
        const callId = calls[rnd(calls.length)] as string;
        live.set(r.register(type, callId), callId);
      } else if (op < 90 && live.size > 0) {
        // release a random live handle (not always the newest: swap-removal must hold)
        const handles = [...live.keys()];
        const h = handles[rnd(handles.length)] as LeakHandle;
        r.release(h);
        live.delete(h);
      } else if (op < 95) {
        const from = calls[rnd(calls.length)] as string;
        const to = calls[rnd(calls.length)] as string;
        const moved = [...live].filter(([, c]) => c === from).length;
        expect(r.transferCall(from, to)).toBe(from === to ? 0 : moved);
        if (from !== to) for (const [h, c] of live) if (c === from) live.set(h, to);
      } else {
        const callId = calls[rnd(calls.length)] as string;
        const left = [...live].filter(([, c]) => c === callId).map(([h]) => h);
        const expected: Record<string, number> = {};
        for (const h of [...left].sort((a, b) => a.id - b.id)) expected[h.type] = (expected[h.type] ?? 0) + 1;
        const got = r.auditCall(callId);
        expect(got).toEqual(expected);
        expect(Object.keys(got)).toEqual(Object.keys(expected));
        leakedExpected += left.length;
        for (const h of left) {
          expect(h.released).toBe(true);
          live.delete(h);
        }
      }
      if (step % 997 === 0 || step === 19_999) {
        const counts = r.liveCountsByType();
        expect(Object.keys(counts)).toEqual([...LEAK_TYPES]);
        for (const t of LEAK_TYPES) {
          const n = [...live.keys()].filter((h) => h.type === t).length;
          expect(counts[t]).toBe(n);
          expect(r.liveCount(t)).toBe(n);
        }
        expect(r.inUse().map((v) => [v.id, v.callId])).toEqual([...live].sort(([a], [b]) => a.id - b.id).map(([h, c]) => [h.id, c]));
      }
    }
    expect(r.leaked).toBe(leakedExpected);
    expect(r.doubleRelease).toBe(0);
  });


  it('register/release and live counts per type', () => {
    const r = new LeakRegistry('summary');
    const a = r.register('Call', 'c1');
    const b = r.register('PacketStream', 'c1');
    const c = r.register('PacketStream', 'c2');
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(a).toMatchObject({ type: 'Call', callId: 'c1', released: false, stack: null });
    const live = r.liveCountsByType();
    expect(live['Call']).toBe(1);
    expect(live['PacketStream']).toBe(2);
    expect(live['StreamFd']).toBe(0);
    r.release(b);
    expect(b.released).toBe(true);
    expect(r.liveCountsByType()['PacketStream']).toBe(1);
    expect(r.inUse().map((v) => v.id).sort()).toEqual([a.id, c.id].sort());
    r.release(a);
    r.release(c);
    expect(r.inUse()).toEqual([]);
    expect(r.hasProblems()).toBe(false);
    expect(Object.values(r.liveCountsByType()).every((n) => n === 0)).toBe(true);
  });

  it('double release is counted once per extra release, and live counts stay right', () => {
    const r = new LeakRegistry('summary');
    const h = r.register('StreamFd', 'c1');
    const other = r.register('StreamFd', 'c1');
    r.release(h);
    r.release(h);
    r.release(h);
    expect(r.doubleRelease).toBe(2);
    expect(r.doubleReleases).toHaveLength(2);
    expect(r.doubleReleases[0]).toMatchObject({ id: h.id, type: 'StreamFd', callId: 'c1' });
    expect(typeof r.doubleReleases[0]!.allocationSite).toBe('string');
    expect(r.liveCountsByType()['StreamFd']).toBe(1);
    expect(r.inUse().map((v) => v.id)).toEqual([other.id]);
    expect(r.hasProblems()).toBe(true);
    expect(r.counters().doubleRelease).toBe(2);
  });

  it('auditCall reports what is left of the call and removes it from live', () => {
    const r = new LeakRegistry('summary');
    const call = r.register('Call', 'c1');
    const mono = r.register('Monologue', 'c1');
    r.register('StreamFd', 'c1');
    r.register('StreamFd', 'c1');
    const otherCall = r.register('Call', 'c2');
    r.release(call);
    r.release(mono);
    expect(r.auditCall('c1')).toEqual({ StreamFd: 2 });
    expect(r.leaked).toBe(2);
    expect(r.leakedObjects.map((v) => v.type)).toEqual(['StreamFd', 'StreamFd']);
    expect(r.leakedObjects.every((v) => v.callId === 'c1')).toBe(true);
    expect(r.liveCountsByType()['StreamFd']).toBe(0);
    expect(r.inUse().map((v) => v.id)).toEqual([otherCall.id]);
    // nothing left: a second audit is clean
    expect(r.auditCall('c1')).toEqual({});
    expect(r.leaked).toBe(2);
    // a clean call
    r.release(otherCall);
    expect(r.auditCall('c2')).toEqual({});
    expect(r.auditCall('never-existed')).toEqual({});
    const report = r.report();
    expect(report.leakedByType).toEqual({ StreamFd: 2 });
    expect(report.leaked).toBe(2);
    expect(report.mode).toBe('summary');
    expect(r.hasProblems()).toBe(true);
  });

  it('releasing a handle that auditCall already counted is a double release', () => {
    const r = new LeakRegistry('summary');
    const h = r.register('Timer', 'c1');
    r.auditCall('c1');
    r.release(h);
    expect(r.doubleRelease).toBe(1);
    expect(r.liveCountsByType()['Timer']).toBe(0);
  });

  it('allocation stacks only for watched types', () => {
    const r = new LeakRegistry('summary', ['Call']);
    const call = r.register('Call', 'c1');
    const mono = r.register('Monologue', 'c1');
    expect(call.stack).toEqual(expect.stringContaining('leak-registry.test'));
    expect(mono.stack).toBeNull();
    r.setStackTypes(['Monologue']);
    expect(r.getStackTypes()).toEqual(['Monologue']);
    expect(r.register('Monologue', 'c1').stack).toEqual(expect.any(String));
    expect(r.register('Call', 'c1').stack).toBeNull();
    r.auditCall('c1');
    const sites = r.leakedObjects.map((v) => v.allocationSite !== null);
    expect(sites).toEqual([true, false, true, false]);
  });

  it('summaryText has valgrind LEAK SUMMARY shape', () => {
    const r = new LeakRegistry('summary', ['Call']);
    r.register('Call', 'live');
    r.register('StreamFd', 'gone');
    r.register('StreamFd', 'gone');
    r.register('Monologue', 'gone');
    r.auditCall('gone');
    const h = r.register('Timer', 'x');
    r.release(h);
    r.release(h);
    const lines = r.summaryText().split('\n');
    expect(lines).toEqual([
      'LEAK SUMMARY:',
      '   in use at exit: 1 objects (Call=1)',
      '   definitely leaked: 3 objects (StreamFd=2 Monologue=1)',
      '   still reachable after release: 0 objects (-)',
      '   double releases: 1 (Timer=1)',
      '   mode: summary, stacks for Call',
    ]);
  });

  it('summaryText of a clean registry', () => {
    expect(new LeakRegistry('summary').summaryText()).toBe(
      [
        'LEAK SUMMARY:',
        '   in use at exit: 0 objects (-)',
        '   definitely leaked: 0 objects (-)',
        '   still reachable after release: 0 objects (-)',
        '   double releases: 0 (-)',
        '   mode: summary',
      ].join('\n'),
    );
  });

  it('settle() resolves at once when not tracking reachability', async () => {
    const r = new LeakRegistry('summary');
    const h = r.register('Call', 'c');
    r.release(h, {});
    r.auditCall('c');
    await r.settle();
    expect(r.reachableAfterRelease).toBe(0);
    expect(r.tracksReachability).toBe(false);
  });

  it('growth samples reach the report', () => {
    const r = new LeakRegistry('summary');
    for (let i = 0; i < 6; i++) {
      r.register('Call', `c${i}`);
      r.sampleGrowth({ cookieCache: 5 });
    }
    const growth = r.counters().growth;
    expect(growth.map((g) => [g.type, g.trend])).toEqual([['Call', 'linear']]);
  });
});

describe('LeakRegistry (full mode): reachability after release', () => {
  it('a released object still held by an array is reported with the holder probe name', async () => {
    const r = new LeakRegistry('full');
    expect(r.tracksReachability).toBe(true);
    const holder: object[] = [];
    const unrelated = new Map<string, object>();
    r.addHolderProbe('unrelated map', (o) => [...unrelated.values()].includes(o));
    r.addHolderProbe('throwing probe', () => {
      throw new Error('probe bug');
    });
    r.addHolderProbe('listener array', (o) => holder.includes(o));
    const obj = { kind: 'stream' };
    holder.push(obj);
    const h = r.register('PacketStream', 'c1');
    r.release(h, obj);
    r.auditCall('c1');
    await r.settle();
    expect(r.reachableAfterRelease).toBe(1);
    expect(r.reachableObjects).toHaveLength(1);
    expect(r.reachableObjects[0]).toMatchObject({ id: h.id, type: 'PacketStream', callId: 'c1', holder: 'listener array' });
    expect(r.hasProblems()).toBe(true);
    expect(r.summaryText()).toContain('still reachable after release: 1 objects (PacketStream=1)');
    // reported once only
    await r.settle();
    expect(r.reachableAfterRelease).toBe(1);
  });

  it('a held object no probe knows has an "unknown" holder', async () => {
    const r = new LeakRegistry('full');
    const keep = { x: 1 };
    r.release(r.register('Media', 'c1'), keep);
    await r.settle();
    expect(r.reachableObjects[0]?.holder).toMatch(/^unknown/);
    expect(keep.x).toBe(1);
  });

  it('a released object that is really dropped is not reported', async () => {
    const r = new LeakRegistry('full');
    const holder: object[] = [];
    r.addHolderProbe('holder', (o) => holder.includes(o));
    (() => {
      const obj = { payload: new Array(1000).fill(0) };
      holder.push(obj);
      r.release(r.register('PacketStream', 'c1'), obj);
      holder.length = 0; // dropped properly
    })();
    r.auditCall('c1');
    await r.settle();
    expect(r.reachableAfterRelease).toBe(0);
    expect(r.reachableObjects).toEqual([]);
    expect(r.hasProblems()).toBe(false);
  });

  it('mixed: only the held one is reported', async () => {
    const r = new LeakRegistry('full');
    const holder: object[] = [];
    r.addHolderProbe('holder', (o) => holder.includes(o));
    let heldId = 0;
    (() => {
      const dropped = { n: 1 };
      const held = { n: 2 };
      holder.push(held);
      const h1 = r.register('SinkHandler', 'c9');
      const h2 = r.register('SinkHandler', 'c9');
      heldId = h2.id;
      r.release(h1, dropped);
      r.release(h2, held);
    })();
    r.auditCall('c9');
    await r.settle();
    expect(r.reachableObjects.map((v) => [v.id, v.holder])).toEqual([[heldId, 'holder']]);
  });

  it('a holder that lets go before the second look is a transient, not a leak; one that never does is reported, named', async () => {
    const r = new LeakRegistry('full');
    const transient: object[] = [];
    const permanent: object[] = [];
    r.addHolderProbe('transient holder', (o) => transient.includes(o));
    r.addHolderProbe('permanent holder', (o) => permanent.includes(o));
    let heldId = 0;
    (() => {
      const a = { n: 1 };
      const b = { n: 2 };
      transient.push(a);
      permanent.push(b);
      r.release(r.register('StreamFd', 'c7'), a);
      const hb = r.register('StreamFd', 'c7');
      heldId = hb.id;
      r.release(hb, b);
    })();
    r.auditCall('c7');
    const verdict = r.settle();
    // the first check finds both still held; the transient holder lets go before the second
    while (r.undecided < 2) await new Promise((res) => setImmediate(res));
    expect(r.reachableAfterRelease, 'nothing is reported on a first look').toBe(0);
    transient.length = 0;
    await verdict;
    expect(r.reachableObjects.map((v) => [v.id, v.type, v.holder])).toEqual([[heldId, 'StreamFd', 'permanent holder']]);
    expect(r.reachableAfterRelease).toBe(1);
    expect(r.transientReachable).toBe(1);
    expect(r.counters().transientReachable).toBe(1);
    expect(r.undecided).toBe(0);
  });

  it('judges only objects released before a check began', async () => {
    const r = new LeakRegistry('full');
    const holder: object[] = [];
    r.addHolderProbe('holder', (o) => holder.includes(o));
    (() => {
      const first = { n: 1 };
      holder.push(first);
      r.release(r.register('Media', 'c8'), first);
    })();
    r.auditCall('c8');
    const verdict = r.settle();
    while (r.undecided < 1) await new Promise((res) => setImmediate(res));
    // released (and still held) after the check began: that check does not judge it
    (() => {
      const late = { n: 2 };
      holder.push(late);
      r.release(r.register('Media', 'c8'), late);
    })();
    holder.shift(); // the first one's holder lets go
    await verdict;
    expect(r.reachableAfterRelease).toBe(0);
    holder.length = 0;
    await r.settle();
    expect(r.reachableAfterRelease).toBe(0);
    expect(r.transientReachable).toBeGreaterThanOrEqual(1);
  });
});
