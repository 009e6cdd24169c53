/**
 * The test-only InjectingLeakRegistry: with RTPENGINE_TS_LEAK_INJECT set the daemon runs on it
 * instead of the plain registry, and it gets releases wrong once per call as asked, so the audit
 * can be shown to catch each mistake. Real Call objects (no sockets); the production Call does
 * not know which registry it runs on.
 */
import { describe, expect, it } from 'vitest';
import { Call } from '../../../daemon/call/call.js';
import { createLeakRegistry, InjectingLeakRegistry, KEPT_CALLS_HOLDER } from '../../../daemon/leak/inject.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import type { LeakInjection } from '../../../daemon/leak/types.js';
import { callContext } from '../../helpers/call-context.js';

/** Teardown as the call registry does it: under the call's write lock. */
const destroy = (call: Call) => call.write(() => call.destroy());

function callOn(leaks: LeakRegistry, id: string): Call {
  const call = new Call(id, callContext([], { leaks }));
  const a = call.addMonologue('a', undefined);
  const b = call.addMonologue('b', undefined);
  a.subscribe(b);
  b.subscribe(a);
  call.addMedia(a, 1, 'audio');
  call.addMedia(b, 1, 'audio');
  call.rebuildSinks();
  return call;
}

const registry = (injection: LeakInjection, mode: 'summary' | 'full' = 'summary') => new InjectingLeakRegistry(injection, mode);

describe('createLeakRegistry', () => {
  it('is the plain registry unless an injection is asked for', () => {
    expect(createLeakRegistry('summary', [], null)).not.toBeInstanceOf(InjectingLeakRegistry);
    expect(createLeakRegistry('summary', [], null)).toBeInstanceOf(LeakRegistry);
    const inj = createLeakRegistry('full', ['Call'], { kind: 'keep-listener' });
    expect(inj).toBeInstanceOf(InjectingLeakRegistry);
    expect(inj.mode).toBe('full');
    expect(inj.getStackTypes()).toEqual(['Call']);
  });
});

describe('InjectingLeakRegistry', () => {
  it('skip-release: one object of the type per call is left registered and the audit reports it', async () => {
    const leaks = registry({ kind: 'skip-release', type: 'Media' });
    for (const id of ['c1', 'c2']) {
      expect(await destroy(callOn(leaks, id))).toEqual({ Media: 1 });
    }
    expect(leaks.leaked).toBe(2);
    expect(leaks.leakedObjects.map((o) => [o.type, o.callId])).toEqual([['Media', 'c1'], ['Media', 'c2']]);
    // a re-used call-id is injected again
    expect(await destroy(callOn(leaks, 'c1'))).toEqual({ Media: 1 });
  });

  it('double-release: one object of the type per call is released twice', async () => {
    const leaks = registry({ kind: 'double-release', type: 'SinkHandler' });
    const call = callOn(leaks, 'c1');
    call.rebuildSinks(); // releases the first sinks: the injection strikes here, once
    expect(leaks.doubleRelease).toBe(1);
    expect(await destroy(call)).toEqual({});
    expect(leaks.doubleRelease).toBe(1);
    expect(leaks.doubleReleases[0]).toMatchObject({ type: 'SinkHandler', callId: 'c1' });
  });

  it('keep-listener: the released call stays reachable, held by the call observers', async () => {
    const leaks = registry({ kind: 'keep-listener' }, 'full');
    expect(await destroy(callOn(leaks, 'c1'))).toEqual({});
    await leaks.settle();
    expect(leaks.reachableAfterRelease).toBeGreaterThanOrEqual(1);
    expect(leaks.reachableObjects).toContainEqual(expect.objectContaining({ type: 'Call', callId: 'c1', holder: KEPT_CALLS_HOLDER }));
    expect(leaks.leaked).toBe(0);
  });

  it('types not named by the injection are released normally', async () => {
    const leaks = registry({ kind: 'skip-release', type: 'Timer' });
    expect(await destroy(callOn(leaks, 'c1'))).toEqual({});
    expect(leaks.hasProblems()).toBe(false);
  });
});
