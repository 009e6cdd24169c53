/**
 * The call registry at the object level: creation and the session limit, teardown through the
 * audit with its counters, delete-delay timers, and the timeout sweep driven by an explicit
 * clock (no waiting). Calls here have medias but no ports: no sockets are needed.
 */
import { describe, expect, it } from 'vitest';
import { CallHash } from '../../../daemon/call/callhash.js';
import { NgCommandError } from '../../../daemon/errors.js';
import { callContext, leakState, NO_LEAKS } from '../../helpers/call-context.js';

function registry(args: string[] = []) {
  const ctx = callContext(args);
  return { ctx, calls: new CallHash(ctx) };
}

/** An answered two-party call with one audio media per side (no ports), created at `created`. */
function answeredCall(calls: CallHash, id: string, created: number) {
  const { call } = calls.getOrCreate(id);
  const a = call.addMonologue('a', undefined);
  const b = call.addMonologue('b', undefined);
  a.subscribe(b);
  b.subscribe(a);
  const ma = call.addMedia(a, 1, 'audio');
  const mb = call.addMedia(b, 1, 'audio');
  ma.rtp.setAdvertised({ address: '198.51.100.1', port: 2000, family: 4 });
  mb.rtp.setAdvertised({ address: '198.51.100.2', port: 3000, family: 4 });
  call.rebuildSinks();
  call.answered = true;
  Object.assign(call, { created });
  call.lastSignal = created;
  return { call, ma, mb };
}

describe('CallHash', () => {
  it('finds or creates calls by call-id and counts them', async () => {
    const { ctx, calls } = registry();
    const first = calls.getOrCreate('c1');
    expect(first.created).toBe(true);
    expect(calls.getOrCreate('c1')).toEqual({ call: first.call, created: false });
    expect(calls.get('c1')).toBe(first.call);
    expect(calls.ids()).toEqual(['c1']);
    expect(ctx.counters.get('managedSessions')).toBe(1);
    await calls.destroyAll('shutdown');
    expect(calls.size).toBe(0);
    expect(ctx.counters.get('forcedTerminatedSessions')).toBe(1);
    expect(leakState(ctx)).toEqual(NO_LEAKS);
  });

  it('refuses a new call beyond --max-sessions, counted; existing calls are still found', async () => {
    const { ctx, calls } = registry(['--max-sessions=2']);
    calls.getOrCreate('c1');
    calls.getOrCreate('c2');
    expect(() => calls.getOrCreate('c3')).toThrow(NgCommandError);
    try {
      calls.getOrCreate('c3');
    } catch (err) {
      expect((err as NgCommandError).code).toBe('SESSION_LIMIT');
    }
    expect(ctx.counters.get('rejectedSessions')).toBe(2);
    expect(calls.getOrCreate('c1').created).toBe(false);
    await calls.destroyAll('shutdown');
    expect(leakState(ctx)).toEqual(NO_LEAKS);
  });

  it('teardown releases every child, is safe twice, and adds the call\'s totals to the counters', async () => {
    const { ctx, calls } = registry();
    const { call, ma } = answeredCall(calls, 'c1', Date.now());
    ma.rtp.stats.packets = 5;
    ma.rtp.stats.bytes = 860;
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ Call: 1, Monologue: 2, Media: 2, PacketStream: 4, SinkHandler: 6 });
    await calls.teardown(call, 'delete');
    await calls.teardown(call, 'delete');
    expect(call.destroyed).toBe(true);
    expect(calls.get('c1')).toBeUndefined();
    expect(ctx.counters.get('regularTerminatedSessions')).toBe(1);
    expect(ctx.counters.get('relayedPackets')).toBe(5);
    expect(ctx.counters.get('relayedBytes')).toBe(860);
    expect(leakState(ctx)).toEqual(NO_LEAKS);
  });

  it('a delete-delay is a call-owned timer, released when it fires or when the call goes first', async () => {
    const { ctx, calls } = registry();
    const { call } = calls.getOrCreate('delayed');
    calls.scheduleDestroy(call, 0.05);
    expect(ctx.leaks.liveCountsByType().Timer).toBe(1);
    expect(calls.get('delayed')).toBe(call);
    await new Promise((r) => setTimeout(r, 120));
    expect(calls.get('delayed')).toBeUndefined();
    const { call: other } = calls.getOrCreate('shut-down-first');
    calls.scheduleDestroy(other, 60);
    await calls.destroyAll('shutdown');
    expect(leakState(ctx)).toEqual(NO_LEAKS);
  });

  describe('the timeout sweep (explicit clock)', () => {
    // the sweep decides on the clock it is given; the teardown it starts takes the call's lock
    // and confirms the verdict on the real clock, which is far past t0
    const t0 = 1_700_000_000_000;
    const sweep = async (calls: CallHash, now: number) => {
      calls.sweep(now);
      await new Promise((r) => setTimeout(r, 5));
    };

    it('an unanswered call lives --offer-timeout after its last signal', async () => {
      const { ctx, calls } = registry(['--offer-timeout=30']);
      const { call } = calls.getOrCreate('unanswered');
      call.lastSignal = t0;
      await sweep(calls, t0 + 29_000);
      expect(calls.size).toBe(1);
      await sweep(calls, t0 + 30_000);
      expect(calls.size).toBe(0);
      expect(ctx.counters.get('offerTimeoutSessions')).toBe(1);
      expect(leakState(ctx)).toEqual(NO_LEAKS);
    });

    it('an answered call without media dies after --timeout; one on hold after --silent-timeout', async () => {
      const { ctx, calls } = registry(['-o', '60', '-s', '600']);
      answeredCall(calls, 'talking', t0);
      const held = answeredCall(calls, 'held', t0);
      held.ma.rtp.setAdvertised({ address: '0.0.0.0', port: 2000, family: 4 });
      held.mb.rtp.setAdvertised({ address: '0.0.0.0', port: 3000, family: 4 });
      await sweep(calls, t0 + 59_000);
      expect(calls.ids().sort()).toEqual(['held', 'talking']);
      await sweep(calls, t0 + 60_000);
      expect(calls.ids()).toEqual(['held']);
      expect(ctx.counters.get('timeoutSessions')).toBe(1);
      await sweep(calls, t0 + 600_000);
      expect(calls.size).toBe(0);
      expect(ctx.counters.get('silentTimeoutSessions')).toBe(1);
      expect(leakState(ctx)).toEqual(NO_LEAKS);
    });

    it('a packet keeps an answered call alive; --final-timeout ends it anyway', async () => {
      const { ctx, calls } = registry(['-o', '60', '-a', '300']);
      const { ma } = answeredCall(calls, 'busy', t0);
      ma.rtp.stats.lastPacketMs = t0 + 100_000;
      await sweep(calls, t0 + 150_000);
      expect(calls.size).toBe(1);
      await sweep(calls, t0 + 300_000);
      expect(calls.size).toBe(0);
      expect(ctx.counters.get('finalTimeoutSessions')).toBe(1);
      expect(leakState(ctx)).toEqual(NO_LEAKS);
    });

    it('a call whose signalling holds the write lock is torn down once the command is done', async () => {
      const { calls } = registry(['--offer-timeout=1']);
      const { call } = calls.getOrCreate('busy-signalling');
      call.lastSignal = t0;
      await call.write(() => {
        calls.sweep(t0 + 10_000);
        expect(calls.size).toBe(1);
      });
      await sweep(calls, t0 + 10_000);
      expect(calls.size).toBe(0);
    });
  });
});
