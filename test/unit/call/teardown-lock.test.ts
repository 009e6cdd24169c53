/**
 * The teardown lock rule at object level: real Call / CallHash / LeakRegistry objects and real
 * UDP sockets on 127.0.0.1 (no daemon process). A teardown waits for the command holding the
 * call; teardown outside the lock is refused; nothing can be added to a torn-down call; a port
 * allocation that resumes on a torn-down call gives everything back and stops the command with
 * "Unknown call-id".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inProcessCallContext } from '../../../support/call-context.js';
import { Call } from '../../../daemon/call/call.js';
import { CallHash } from '../../../daemon/call/callhash.js';
import { CallInterfaces } from '../../../daemon/call/call-interfaces.js';
import type { CallContext } from '../../../daemon/call/context.js';
import { ngFlags } from '../../helpers/call-context.js';
import { CallDestroyedError, LockRuleError, NgCommandError } from '../../../daemon/errors.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { initLogger } from '../../../daemon/log/logger.js';

beforeAll(() => {
  initLogger(2, 'json'); // the refusals log errors on purpose; keep the output readable
});

function context(extra: string[] = [], ports: [number, number] = [15100, 15199]): CallContext {
  return inProcessCallContext(['-i', '127.0.0.1', '-m', String(ports[0]), '-M', String(ports[1]), ...extra]);
}

function liveTotal(ctx: CallContext): number {
  return Object.values(ctx.leaks.liveCountsByType()).reduce((a, b) => a + b, 0);
}

/** A gate the test opens: stands for a command suspended at an await. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('teardown under the write lock', () => {
  it('Call.destroy outside the write lock is refused and leaves the call intact', async () => {
    const ctx = context();
    const call = new Call('outside', ctx);
    call.addMonologue('a', undefined);
    expect(() => call.destroy()).toThrow(LockRuleError);
    expect(call.destroyed).toBe(false);
    expect(ctx.leaks.liveCountsByType().Monologue).toBe(1);
    await call.write(() => call.destroy());
    expect(call.destroyed).toBe(true);
    expect(liveTotal(ctx)).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
  });

  it('CallHash.teardown waits for the command holding the call; a command queued behind it sees a destroyed call', async () => {
    const ctx = context();
    const calls = new CallHash(ctx);
    const { call } = calls.getOrCreate('waits');
    const g = gate();
    const events: string[] = [];
    const command = call.write(async () => {
      call.addMonologue('a', undefined);
      await g.wait;
      call.addMonologue('b', undefined); // the call is still alive: the teardown has not run
      events.push('command done');
    });
    await tick();
    const teardown = calls.teardown(call, 'terminated').then(() => events.push('teardown done'));
    const queued = call.write(() => {
      events.push(`queued sees destroyed=${call.destroyed}`);
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(call.destroyed, 'no teardown while the command holds the call').toBe(false);
    expect(calls.get('waits')).toBe(call);
    g.open();
    await Promise.all([command, teardown, queued]);
    expect(events[0]).toBe('command done');
    expect(events).toContain('queued sees destroyed=true');
    expect(events).toContain('teardown done');
    expect(calls.get('waits')).toBeUndefined();
    expect(ctx.counters.get('forcedTerminatedSessions')).toBe(1);
    expect(liveTotal(ctx)).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
  });

  it('the sweep re-judges under the lock: a call refreshed by the command that held it is kept', async () => {
    const ctx = context(['--offer-timeout', '1']);
    const calls = new CallHash(ctx);
    const { call } = calls.getOrCreate('refreshed');
    call.lastSignal = Date.now() - 5000;
    const g = gate();
    const command = call.write(async () => {
      await g.wait;
      call.lastSignal = Date.now(); // e.g. the offer it was processing
    });
    await tick();
    calls.sweep(Date.now()); // due now: queues a teardown behind the command
    calls.sweep(Date.now()); // already queued: not queued twice
    expect(call.teardownQueued).toBe(true);
    g.open();
    await command;
    await call.write(() => undefined); // the sweep's writer has run
    expect(call.destroyed).toBe(false);
    expect(call.teardownQueued).toBe(false);
    expect(ctx.counters.get('offerTimeoutSessions')).toBe(0);
    // and when it is still due under the lock, it goes
    call.lastSignal = Date.now() - 5000;
    calls.sweep(Date.now());
    await call.write(() => undefined);
    expect(call.destroyed).toBe(true);
    expect(ctx.counters.get('offerTimeoutSessions')).toBe(1);
    expect(liveTotal(ctx)).toBe(0);
  });

  it('destroyAll (shutdown) waits for every command in progress', async () => {
    const ctx = context();
    const calls = new CallHash(ctx);
    const g = gate();
    const busy = calls.getOrCreate('busy').call;
    const idle = calls.getOrCreate('idle').call;
    const command = busy.write(async () => {
      await g.wait;
      busy.addMonologue('late', undefined);
    });
    await tick();
    let finished = false;
    const shutdown = calls.destroyAll('shutdown').then(() => (finished = true));
    for (let i = 0; i < 5; i++) await tick();
    expect(idle.destroyed).toBe(true);
    expect(busy.destroyed).toBe(false);
    expect(finished).toBe(false);
    g.open();
    await Promise.all([command, shutdown]);
    expect(busy.destroyed).toBe(true);
    expect(calls.size).toBe(0);
    expect(liveTotal(ctx)).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
  });

  it('adding monologues, medias, ports or sinks to a destroyed call is refused loudly and registers nothing', async () => {
    const ctx = context();
    const call = new Call('refused', ctx);
    const m = call.addMonologue('a', undefined);
    const media = call.addMedia(m, 1, 'audio');
    await call.write(() => call.destroy());
    expect(liveTotal(ctx)).toBe(0);
    const attempts: Array<() => unknown> = [
      () => call.addMonologue('b', undefined),
      () => call.addMedia(m, 2, 'audio'),
      () => call.rebuildSinks(),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(CallDestroyedError);
    }
    await expect(call.allocatePorts(media, ctx.interfaces.addresses[0]!)).rejects.toThrow(CallDestroyedError);
    const err = (() => {
      try {
        call.addMonologue('c', undefined);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NgCommandError);
    expect((err as NgCommandError).reason, 'the command still gets rtpengine\'s reply').toBe('Unknown call-id');
    expect(ctx.counters.get('refusedDestroyedCallAdds')).toBe(5);
    expect(liveTotal(ctx)).toBe(0);
    expect(call.monologues).toHaveLength(0);
    expect(call.medias).toHaveLength(0);
    expect(call.fds).toHaveLength(0);
  });

  it('a port allocation that resumes on a torn-down call closes its sockets, returns the ports and stops with "Unknown call-id"', async () => {
    const ctx = context();
    const g = gate();
    let paused!: () => void;
    const reachedPause = new Promise<void>((r) => (paused = r));
    ctx.interfaces.allocationPause = async () => {
      paused();
      await g.wait;
    };
    const call = new Call('resumes', ctx);
    const local = ctx.interfaces.addresses[0]!;
    const command = call.write(async () => {
      const m = call.addMonologue('a', undefined);
      const media = call.addMedia(m, 1, 'audio');
      await call.allocatePorts(media, local);
      call.addMonologue('never', undefined);
    });
    await reachedPause;
    expect(local.pool.inUse).toBe(1);
    // what an unlocked teardown used to do: destroy while the command is suspended
    call.destroy();
    g.open();
    await expect(command).rejects.toThrow(NgCommandError);
    await command.catch((e: NgCommandError) => expect(e.reason).toBe('Unknown call-id'));
    expect(local.pool.inUse, 'the reserved pair went back to the pool').toBe(0);
    expect(call.fds).toHaveLength(0);
    expect(liveTotal(ctx)).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
    expect(ctx.leaks.doubleRelease).toBe(0);
    expect(ctx.counters.get('refusedDestroyedCallAdds'), 'the command stopped before adding anything').toBe(0);
  });

  it('an offer that created its call and fails tears it down before releasing the lock; a command queued behind it gets "Unknown call-id"', async () => {
    const ctx = context([], [15200, 15203]); // two port pairs: a two-media offer needs four
    const calls = new CallHash(ctx);
    const ci = new CallInterfaces(calls);
    const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0',
      'm=audio 5000 RTP/AVP 0', 'c=IN IP4 127.0.0.1', 'm=audio 5002 RTP/AVP 8', 'c=IN IP4 127.0.0.1', ''].join('\r\n');
    const offer = ci.offer(ngFlags({ command: 'offer', 'call-id': 'fails', 'from-tag': 'a', sdp }));
    const answer = ci.answer(ngFlags({ command: 'answer', 'call-id': 'fails', 'from-tag': 'a', 'to-tag': 'b', sdp }));
    await expect(offer).rejects.toMatchObject({ reason: 'Ran out of ports' });
    await expect(answer).rejects.toMatchObject({ reason: 'Unknown call-id' });
    expect(calls.get('fails')).toBeUndefined();
    expect(ctx.interfaces.addresses[0]!.pool.inUse).toBe(0);
    expect(ctx.counters.get('forcedTerminatedSessions')).toBe(1);
    expect(liveTotal(ctx)).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
    expect(ctx.counters.get('refusedDestroyedCallAdds')).toBe(0);
  });
});
