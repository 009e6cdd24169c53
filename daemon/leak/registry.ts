/**
 * The leak registry: every call-owned object is registered here when it is created and
 * released exactly once at teardown. Registration and release happen in signalling only, so
 * the packet hot path pays nothing.
 *
 * - Teardown audit: `auditCall()` after a call is destroyed reports anything of that call that
 *   is still registered (leaked), with allocation stacks for watched types.
 * - Double release: releasing a handle twice is counted and reported.
 * - Still reachable: released objects are watched through WeakRef/FinalizationRegistry; in
 *   full/fatal mode a forced GC a moment after teardown finds released objects that something
 *   still holds, and the registered holder probes say which map or listener list it is.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { LeakCheckMode } from '../config/config.js';
import { log } from '../log/logger.js';
import { LEAK_TYPES, type LeakType } from './types.js';
import { GrowthSampler, type GrowthReport } from './growth.js';

const CALL_OWNED_TYPES: ReadonlySet<string> = new Set(LEAK_TYPES);

export interface LeakHandle {
  readonly id: number;
  readonly type: LeakType;
  readonly callId: string;
  readonly stack: string | null;
  released: boolean;
}

export interface LeakRecordView {
  id: number;
  type: LeakType;
  callId: string;
  allocationSite: string | null;
  holder?: string;
}

export interface LeakCounters {
  live: Record<string, number>;
  leaked: number;
  reachableAfterRelease: number;
  doubleRelease: number;
  growth: GrowthReport[];
}

export interface LeakReport extends LeakCounters {
  mode: LeakCheckMode;
  stackTypes: string[];
  leakedObjects: LeakRecordView[];
  reachableObjects: LeakRecordView[];
  doubleReleases: LeakRecordView[];
  leakedByType: Record<string, number>;
  rss: { current: number; peak: number };
}

/** Says which container still holds a released object; registered by the owners of maps/lists. */
export type HolderProbe = (obj: object) => boolean;

interface Watched {
  handle: LeakHandle;
  ref: WeakRef<object>;
  releasedAt: number;
}

const REPORT_LIMIT = 200;

export class LeakRegistry {
  private nextId = 1;
  private readonly live = new Map<number, LeakHandle>();
  private readonly byCall = new Map<string, Set<LeakHandle>>();
  private readonly liveCounts = new Map<LeakType, number>(LEAK_TYPES.map((t) => [t, 0]));
  private readonly watched = new Map<number, Watched>();
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.watched.delete(id));
  private readonly probes = new Map<string, HolderProbe>();
  private readonly growth = new GrowthSampler();
  private stackTypes: Set<string>;
  private gc: (() => void) | null = null;
  private reachCheckTimer: NodeJS.Timeout | null = null;
  private reachCheckWaiters: Array<() => void> = [];
  private peakRss = 0;

  leaked = 0;
  reachableAfterRelease = 0;
  doubleRelease = 0;
  readonly leakedObjects: LeakRecordView[] = [];
  readonly reachableObjects: LeakRecordView[] = [];
  readonly doubleReleases: LeakRecordView[] = [];
  private readonly leakedByType = new Map<string, number>();

  constructor(readonly mode: LeakCheckMode, stackTypes: readonly string[] = []) {
    this.stackTypes = new Set(stackTypes);
    if (this.tracksReachability) this.gc = exposeGc();
  }

  get tracksReachability(): boolean {
    return this.mode === 'full' || this.mode === 'fatal';
  }

  setStackTypes(types: readonly string[]): void {
    this.stackTypes = new Set(types);
  }

  getStackTypes(): string[] {
    return [...this.stackTypes];
  }

  addHolderProbe(name: string, probe: HolderProbe): void {
    this.probes.set(name, probe);
  }

  register(type: LeakType, callId: string): LeakHandle {
    const handle: LeakHandle = {
      id: this.nextId++,
      type,
      callId,
      stack: this.stackTypes.has(type) ? captureStack() : null,
      released: false,
    };
    this.live.set(handle.id, handle);
    let set = this.byCall.get(callId);
    if (!set) this.byCall.set(callId, (set = new Set()));
    set.add(handle);
    this.liveCounts.set(type, (this.liveCounts.get(type) ?? 0) + 1);
    return handle;
  }

  /** Releases `handle`; `obj` is the released object, watched for reachability in full mode. */
  release(handle: LeakHandle, obj?: object): void {
    if (handle.released) {
      this.doubleRelease++;
      const view = viewOf(handle);
      view.allocationSite = view.allocationSite ?? captureStack();
      pushBounded(this.doubleReleases, view);
      log().warn({ callId: handle.callId, type: handle.type, id: handle.id, allocationSite: view.allocationSite }, 'leak audit: object released twice');
      return;
    }
    handle.released = true;
    this.forget(handle);
    if (obj && this.tracksReachability) {
      this.watched.set(handle.id, { handle, ref: new WeakRef(obj), releasedAt: Date.now() });
      this.finalizer.register(obj, handle.id);
    }
  }

  private forget(handle: LeakHandle): void {
    this.live.delete(handle.id);
    const set = this.byCall.get(handle.callId);
    if (set) {
      set.delete(handle);
      if (set.size === 0) this.byCall.delete(handle.callId);
    }
    this.liveCounts.set(handle.type, (this.liveCounts.get(handle.type) ?? 1) - 1);
  }

  /**
   * Teardown audit: anything of `callId` still registered is a leak. Logged as one warning for
   * the call with counts per type (and allocation sites), counted, and moved out of `live`.
   */
  auditCall(callId: string): Record<string, number> {
    const left = this.byCall.get(callId);
    const counts: Record<string, number> = {};
    if (left && left.size > 0) {
      const sites: string[] = [];
      for (const handle of [...left]) {
        counts[handle.type] = (counts[handle.type] ?? 0) + 1;
        this.leaked++;
        this.leakedByType.set(handle.type, (this.leakedByType.get(handle.type) ?? 0) + 1);
        pushBounded(this.leakedObjects, viewOf(handle));
        if (handle.stack) sites.push(`${handle.type}: ${handle.stack}`);
        handle.released = true;
        this.forget(handle);
      }
      log().warn({ callId, leaked: counts, allocationSites: sites.length ? sites : undefined }, 'leak audit: call torn down with objects still registered');
    }
    if (this.tracksReachability) this.scheduleReachabilityCheck();
    return counts;
  }

  /**
   * Objects another bookkeeper (the native addon's own live counters) still holds although
   * this registry has released them: counted and reported as leaked for `callId`.
   */
  recordExternalLeak(type: LeakType, callId: string, count: number, detail: string): void {
    this.leaked += count;
    this.leakedByType.set(type, (this.leakedByType.get(type) ?? 0) + count);
    for (let i = 0; i < count; i++) pushBounded(this.leakedObjects, { id: 0, type, callId, allocationSite: detail });
    log().warn({ callId, type, count, detail }, 'leak audit: native objects outlive their release');
  }

  /** Resolves after the next reachability check has run (immediately if not tracking). */
  async settle(): Promise<void> {
    if (!this.tracksReachability) return;
    if (!this.reachCheckTimer && this.watched.size === 0) return;
    this.scheduleReachabilityCheck();
    // someone waits for the result: the pending check must keep the process alive
    this.reachCheckTimer?.ref();
    await new Promise<void>((resolve) => this.reachCheckWaiters.push(resolve));
  }

  private scheduleReachabilityCheck(): void {
    if (this.reachCheckTimer) return;
    // A moment after teardown, so the reply and the command's own stack frames are gone.
    this.reachCheckTimer = setTimeout(() => void this.checkReachability(), 50);
    this.reachCheckTimer.unref();
  }

  private async checkReachability(): Promise<void> {
    const cutoff = Date.now();
    if (this.gc) {
      this.gc();
      await new Promise((resolve) => setImmediate(resolve));
      this.gc();
    }
    for (const [id, entry] of this.watched) {
      if (entry.releasedAt > cutoff) continue;
      this.watched.delete(id);
      const obj = entry.ref.deref();
      if (obj === undefined) continue;
      const holder = this.findHolder(obj);
      this.reachableAfterRelease++;
      const view = { ...viewOf(entry.handle), holder };
      pushBounded(this.reachableObjects, view);
      log().warn({ callId: entry.handle.callId, type: entry.handle.type, holder, allocationSite: view.allocationSite }, 'leak audit: released object still reachable');
    }
    this.reachCheckTimer = null;
    const waiters = this.reachCheckWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }

  private findHolder(obj: object): string {
    for (const [name, probe] of this.probes) {
      try {
        if (probe(obj)) return name;
      } catch {
        // a probe must never break the audit
      }
    }
    return 'unknown (not held by any registered map or listener list)';
  }

  liveCountsByType(): Record<string, number> {
    return Object.fromEntries(this.liveCounts);
  }

  sampleGrowth(gauges: Record<string, number>): void {
    const rss = process.memoryUsage.rss();
    this.peakRss = Math.max(this.peakRss, rss);
    this.growth.record({ ...this.liveCountsByType(), ...gauges });
  }

  counters(): LeakCounters {
    return {
      live: this.liveCountsByType(),
      leaked: this.leaked,
      reachableAfterRelease: this.reachableAfterRelease,
      doubleRelease: this.doubleRelease,
      growth: this.growth.report(CALL_OWNED_TYPES),
    };
  }

  report(): LeakReport {
    const rss = process.memoryUsage.rss();
    this.peakRss = Math.max(this.peakRss, rss);
    return {
      ...this.counters(),
      mode: this.mode,
      stackTypes: this.getStackTypes(),
      leakedObjects: [...this.leakedObjects],
      reachableObjects: [...this.reachableObjects],
      doubleReleases: [...this.doubleReleases],
      leakedByType: Object.fromEntries(this.leakedByType),
      rss: { current: rss, peak: this.peakRss },
    };
  }

  /** Objects still registered (in use) — at exit, after every call was torn down, these are leaks. */
  inUse(): LeakRecordView[] {
    return [...this.live.values()].map(viewOf);
  }

  hasProblems(): boolean {
    return this.leaked > 0 || this.doubleRelease > 0 || this.reachableAfterRelease > 0 || this.live.size > 0;
  }

  /** valgrind's LEAK SUMMARY shape. */
  summaryText(): string {
    const inUse = this.inUse();
    const perType = (list: LeakRecordView[]) => {
      const m = new Map<string, number>();
      for (const v of list) m.set(v.type, (m.get(v.type) ?? 0) + 1);
      return [...m].map(([t, n]) => `${t}=${n}`).join(' ') || '-';
    };
    return [
      'LEAK SUMMARY:',
      `   in use at exit: ${inUse.length} objects (${perType(inUse)})`,
      `   definitely leaked: ${this.leaked} objects (${[...this.leakedByType].map(([t, n]) => `${t}=${n}`).join(' ') || '-'})`,
      `   still reachable after release: ${this.reachableAfterRelease} objects (${perType(this.reachableObjects)})`,
      `   double releases: ${this.doubleRelease} (${perType(this.doubleReleases)})`,
      `   mode: ${this.mode}${this.stackTypes.size ? `, stacks for ${[...this.stackTypes].join(',')}` : ''}`,
    ].join('\n');
  }
}

function viewOf(handle: LeakHandle): LeakRecordView {
  return { id: handle.id, type: handle.type, callId: handle.callId, allocationSite: handle.stack };
}

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > REPORT_LIMIT) list.shift();
}

/** A short creation stack: the frames above the registry, without Node internals. */
function captureStack(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .filter((l) => !l.includes('/leak/registry.') && !l.includes('/leak/inject.') && !l.startsWith('node:') && !l.includes('(node:'));
  return frames.slice(0, 6).join(' <- ');
}

function exposeGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}
