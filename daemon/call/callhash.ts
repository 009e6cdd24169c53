/**
 * The call registry (rtpengine's rtpe_callhash): the signalling entry point into calls, keyed
 * by call-id. It creates calls (subject to --max-sessions), tears them down through the leak
 * audit, and runs the timeout sweep.
 *
 * Lock rule: every teardown runs under the call's write lock. Paths that start outside a
 * command (delete-delay timer, timeout sweep, CLI terminate, shutdown) use `teardown()`, which
 * waits for the command holding the call; code already inside `call.write()` (delete with no
 * delay, a failing offer) uses `destroyLocked()`.
 */
import { LockRuleError, NgCommandError } from '../errors.js';
import { log } from '../log/logger.js';
import { isHoldAddress } from '../net/endpoint.js';
import type { GlobalCounter } from '../stats/counters.js';
import { Call } from './call.js';
import type { CallContext } from './context.js';

export type TeardownReason = 'delete' | 'timeout' | 'silent-timeout' | 'final-timeout' | 'offer-timeout' | 'shutdown' | 'failed' | 'terminated';

const TEARDOWN_COUNTER: Record<TeardownReason, GlobalCounter> = {
  delete: 'regularTerminatedSessions',
  timeout: 'timeoutSessions',
  'silent-timeout': 'silentTimeoutSessions',
  'final-timeout': 'finalTimeoutSessions',
  'offer-timeout': 'offerTimeoutSessions',
  shutdown: 'forcedTerminatedSessions',
  failed: 'forcedTerminatedSessions',
  terminated: 'forcedTerminatedSessions',
};

export class CallHash {
  private readonly calls = new Map<string, Call>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Entries of `calls` that are aliases of a merged call (not calls of their own). */
  private aliasKeys = 0;

  constructor(readonly ctx: CallContext) {
    ctx.leaks.addHolderProbe('callhash', (obj) => [...this.calls.values()].includes(obj as Call));
    ctx.leaks.addHolderProbe("a live call's containers (monologues, medias, streams, fds, sinks)", (obj) => this.all().some((c) => c.containersHold(obj)));
    ctx.leaks.addHolderProbe("a live call's deferred packet queue", (obj) => this.all().some((c) => c.deferredHolds(obj)));
  }

  /** Distinct calls (a merged call counts once, whatever its aliases). */
  get size(): number {
    return this.calls.size - this.aliasKeys;
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** Every call-id that resolves to a call, aliases of merged calls included (rtpengine's `list`). */
  ids(): string[] {
    return [...this.calls.keys()];
  }

  all(): Call[] {
    return [...new Set(this.calls.values())];
  }

  /**
   * Runs `fn` holding the write locks of all `calls`, always taken in call-id order so two
   * merges of overlapping calls cannot each hold a lock the other waits for.
   */
  allLocked<T>(calls: readonly Call[], fn: () => Promise<T> | T): Promise<T> {
    const ordered = [...new Set(calls)].sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
    const take = (i: number): Promise<T> => {
      const call = ordered[i];
      return call ? call.write(() => take(i + 1)) : Promise.resolve().then(fn);
    };
    return take(0);
  }

  /**
   * Refuses a merge the calls cannot take part in (under their locks, before anything changes):
   * gone meanwhile, waiting for teardown, or with a tag in two of them.
   */
  checkMergeable(calls: readonly Call[]): void {
    for (const call of calls) {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      if (call.teardownQueued || call.deleteTimer) throw new NgCommandError('CALL_TEARING_DOWN', call.callId);
    }
    const seen = new Set<string>();
    for (const call of calls) {
      for (const m of call.monologues) {
        if (m.tag === '') continue;
        if (seen.has(m.tag)) throw new NgCommandError('TAG_COLLISION', m.tag);
      }
      for (const m of call.monologues) if (m.tag !== '') seen.add(m.tag);
    }
  }

  /**
   * Merges `absorbed` into `survivor` (both write-locked by the caller): the survivor takes its
   * children, and every call-id of the absorbed call now resolves to the survivor.
   */
  mergeLocked(survivor: Call, absorbed: Call): void {
    const ids = [absorbed.callId, ...absorbed.aliases];
    survivor.absorb(absorbed);
    for (const id of ids) this.calls.set(id, survivor);
    this.aliasKeys++; // the absorbed call's own entry became an alias; its aliases already were
    survivor.log().info({ merged: ids }, 'Calls merged');
  }

  /** Finds or creates the call; creating one is where the session limit applies. */
  getOrCreate(callId: string): { call: Call; created: boolean } {
    const existing = this.calls.get(callId);
    if (existing) return { call: existing, created: false };
    const max = this.ctx.config.maxSessions;
    if (max >= 0 && this.calls.size >= max) {
      this.ctx.counters.add('rejectedSessions');
      throw new NgCommandError('SESSION_LIMIT');
    }
    const call = new Call(callId, this.ctx);
    this.calls.set(callId, call);
    this.ctx.counters.add('managedSessions');
    call.log().info('Creating new call');
    return { call, created: true };
  }

  /**
   * Waits for the command holding `call` (if any), then tears it down under the write lock.
   * `stillDue`, checked under the lock, may call it off or change the reason (the timeout sweep:
   * the command that held the call may have refreshed it). Never rejects.
   */
  async teardown(call: Call, reason: TeardownReason, stillDue?: () => TeardownReason | null): Promise<void> {
    if (call.destroyed) return;
    call.teardownQueued = true;
    try {
      await call.write(() => {
        call.teardownQueued = false;
        const why = stillDue ? stillDue() : reason;
        if (why) this.destroyLocked(call, why);
      });
    } catch (err) {
      call.log().error({ reason, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'teardown failed');
    } finally {
      call.teardownQueued = false;
    }
  }

  /**
   * Removes the entry point, releases everything, audits. Safe to call twice. The caller holds
   * the call's write lock (Call.destroy refuses otherwise).
   */
  destroyLocked(call: Call, reason: TeardownReason): void {
    if (call.destroyed) return;
    if (!call.writeLocked) throw new LockRuleError(call.callId);
    if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
    for (const id of call.aliases) {
      if (this.calls.get(id) !== call) continue;
      this.calls.delete(id);
      this.aliasKeys--;
    }
    const totals = call.totals();
    this.ctx.counters.add('relayedPackets', totals.RTP.packets + totals.RTCP.packets);
    this.ctx.counters.add('relayedBytes', totals.RTP.bytes + totals.RTCP.bytes);
    this.ctx.counters.add('relayedErrors', totals.RTP.errors + totals.RTCP.errors);
    this.ctx.counters.add('relayedRtcpPackets', totals.RTCP.packets);
    this.ctx.counters.add('relayedRtcpBytes', totals.RTCP.bytes);
    this.ctx.counters.add('relayedRtcpErrors', totals.RTCP.errors);
    const leaked = call.destroy();
    // once every pair opened by a concurrent command is registered (or closed): see allocations-in-flight.ts
    this.ctx.allocations.whenIdle(() => this.auditNative(call.callId));
    this.ctx.counters.add(TEARDOWN_COUNTER[reason]);
    call.log().info({ reason, durationMs: Date.now() - call.created, leaked: Object.keys(leaked).length ? leaked : undefined }, 'Call torn down');
  }

  /**
   * The addon keeps its own live counts of sockets and entries; after a teardown they must not
   * exceed what the registry still holds for live calls. More means the addon kept something.
   */
  private auditNative(callId: string): void {
    const engine = this.ctx.kernel?.engine ?? this.ctx.native;
    if (!engine) return;
    const native = engine.nativeLive();
    const extraEntries = native.entries - this.ctx.leaks.liveCount('NativeEntry');
    const extraSockets = native.sockets - this.ctx.leaks.liveCount('NativeSocket');
    if (extraEntries > 0) this.ctx.leaks.recordExternalLeak('NativeEntry', callId, extraEntries, 'addon entry count above the registry after teardown');
    if (extraSockets > 0) this.ctx.leaks.recordExternalLeak('NativeSocket', callId, extraSockets, 'addon socket count above the registry after teardown');
    const kernel = this.ctx.kernel;
    if (!kernel) return; // JS-path I/O only: the addon holds no SRTP contexts
    const extraSrtp = kernel.engine.nativeLive().srtpContexts - kernel.srtpContextCount;
    if (extraSrtp > 0) this.ctx.leaks.recordExternalLeak('NativeEntry', callId, extraSrtp, 'addon SRTP context count above the installed entries\' after teardown');
  }

  /**
   * Tears down after `delaySec`, as rtpengine's delete-delay does; the timer is call-owned.
   * Called by `delete` under the write lock; the timer takes the lock again when it fires.
   */
  scheduleDestroy(call: Call, delaySec: number): void {
    if (delaySec <= 0) {
      this.destroyLocked(call, 'delete');
      return;
    }
    if (call.deleteTimer) return;
    const timer = setTimeout(() => void this.teardown(call, 'delete'), delaySec * 1000);
    timer.unref();
    call.deleteTimer = { timer, leak: this.ctx.leaks.register('Timer', call.callId) };
  }

  startTimeoutSweep(intervalMs = 1000): void {
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), intervalMs);
    this.sweepTimer.unref();
  }

  /**
   * rtpengine's timeout rules: a call that never saw an answer lives --offer-timeout; an
   * answered call dies after --timeout without media (--silent-timeout when every stream is on
   * hold or one-sided); --final-timeout caps any call's lifetime.
   */
  sweep(now: number): void {
    for (const call of this.all()) {
      if (call.destroyed || call.deleteTimer || call.teardownQueued) continue;
      const reason = this.timeoutDue(call, now);
      if (!reason) continue;
      // a command holding the call finishes first; the verdict is taken again under the lock
      if (call.writeLocked) call.log().info({ reason }, 'Call timed out, waiting for the command holding it');
      void this.teardown(call, reason, () => {
        const why = call.deleteTimer ? null : this.timeoutDue(call, Date.now());
        if (why) call.log().warn({ reason: why }, 'Call timed out, tearing down');
        return why;
      });
    }
  }

  private timeoutDue(call: Call, now: number): TeardownReason | null {
    const cfg = this.ctx.config;
    const age = (now - call.created) / 1000;
    if (cfg.finalTimeout > 0 && age >= cfg.finalTimeout) return 'final-timeout';
    if (!call.answered) {
      return cfg.offerTimeout > 0 && (now - call.lastSignal) / 1000 >= cfg.offerTimeout ? 'offer-timeout' : null;
    }
    let last = call.lastSignal;
    let silent = true;
    for (const media of call.medias) {
      if (media.rejected) continue;
      if (media.direction === 'sendrecv' && !isHoldAddress(media.rtp.advertisedEndpoint?.address)) silent = false;
      for (const stream of [media.rtp, media.rtcp]) {
        last = Math.max(last, stream.stats.lastPacketMs, this.ctx.kernel?.stats(stream)?.lastPacketMs ?? 0);
      }
    }
    const limit = silent ? cfg.silentTimeout : cfg.timeout;
    if (limit > 0 && (now - last) / 1000 >= limit) return silent ? 'silent-timeout' : 'timeout';
    return null;
  }

  /**
   * Shutdown: every call goes through the same teardown and audit, each after the command
   * holding it (if any) has finished. The listeners are closed by then, so no call can appear.
   */
  async destroyAll(reason: TeardownReason): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    // repeated while it makes progress, for a call created by a command still in flight
    for (let before = Infinity; this.calls.size > 0 && this.calls.size < before;) {
      before = this.calls.size;
      const busy = this.all().filter((c) => c.writeLocked).map((c) => c.callId);
      if (busy.length > 0) log().info({ calls: busy }, 'shutdown waits for commands in progress');
      await Promise.all(this.all().map((call) => this.teardown(call, reason)));
    }
  }
}
