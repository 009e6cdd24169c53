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
 *   The verdict is exact, never a guess on timing: only objects released before a check began
 *   are judged; the GC runs only after a close-callbacks phase of the event loop has passed
 *   (Node keeps a closing socket until then); an object found reachable is judged again at the
 *   next check, after another GC round, and reported only if it is still held then. A real
 *   holder never lets go, so nothing real is missed; a transient one (counted as
 *   `transientReachable`) is not reported.
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
  /** The owning call; changes only when calls merge (transferCall). */
  callId: string;
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
  /** Released objects still reachable at a first check and gone at the second (not leaks). */
  transientReachable: number;
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

/** Allocation stacks of the handles of watched types (rare): kept beside, not in, every handle. */
const stacks = new WeakMap<LeakHandle, string>();
const TYPE_INDEX = new Map<LeakType, number>(LEAK_TYPES.map((t, i) => [t, i]));

/**
 * A handle in four fields (~25 per call): id, call-id, type and released packed in one small
 * integer (type index × 2 + released), and its slot in its call's list (swap-removal on
 * release: no hash set per call, which grew and rehashed a few times per call).
 */
class Handle implements LeakHandle {
  bits: number;
  /** Index in the owning call's handle list while registered. */
  slot = -1;
  constructor(
    readonly id: number,
    typeIndex: number,
    public callId: string,
  ) {
    this.bits = typeIndex * 2;
  }

  get typeIndex(): number {
    return this.bits >> 1;
  }

  get type(): LeakType {
    return LEAK_TYPES[this.bits >> 1] as LeakType;
  }

  get released(): boolean {
    return (this.bits & 1) === 1;
  }

  set released(v: boolean) {
    this.bits = (this.bits & ~1) | (v ? 1 : 0);
  }

  get stack(): string | null {
    return stacks.get(this) ?? null;
  }
}

interface Watched {
  handle: LeakHandle;
  ref: WeakRef<object>;
  /** Release order: a check judges only objects released before it began. */
  seq: number;
  /** Found reachable by one check: the next one decides. */
  suspect: boolean;
}

const REPORT_LIMIT = 200;

export class LeakRegistry {
  private nextId = 1;
  /** Handles still registered: counted here, held only by their call's set (one map, not two). */
  private liveTotal = 0;
  /** Per call, its registered handles in a dense list (each handle knows its slot). */
  private readonly byCall = new Map<string, Handle[]>();
  /** Live handles per type index (LEAK_TYPES order). */
  private readonly liveCounts = new Float64Array(LEAK_TYPES.length);
  private readonly watched = new Map<number, Watched>();
  private readonly finalizer = new FinalizationRegistry<number>((id) => {
    if (this.watched.get(id)?.suspect) this.transientReachable++;
    this.watched.delete(id);
  });
  private readonly probes = new Map<string, HolderProbe>();
  private readonly growth = new GrowthSampler();
  private stackTypes: Set<string>;
  private gc: (() => void) | null = null;
  private reachCheckTimer: NodeJS.Timeout | null = null;
  private checking = false;
  private releaseSeq = 0;
  /** settle() callers: each waits for a complete verdict on what was released before it called. */
  private reachCheckWaiters: Array<{ seq: number; resolve: () => void }> = [];
  private peakRss = 0;
  private releases = 0;

  leaked = 0;
  reachableAfterRelease = 0;
  transientReachable = 0;
  doubleRelease = 0;
  readonly leakedObjects: LeakRecordView[] = [];
  readonly reachableObjects: LeakRecordView[] = [];
  readonly doubleReleases: LeakRecordView[] = [];
  private readonly leakedByType = new Map<string, number>();

  constructor(readonly mode: LeakCheckMode, stackTypes: readonly string[] = []) {
    this.stackTypes = new Set(stackTypes);
    if (this.tracksReachability) this.gc = exposeGc();
  }

  /** Released objects found reachable once and waiting for the second look. */
  get undecided(): number {
    let n = 0;
    for (const entry of this.watched.values()) if (entry.suspect) n++;
    return n;
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

  /** Changes whenever an object is registered or released: "the call graph changed" (memory-return.ts). */
  get activity(): number {
    return this.nextId + this.releases;
  }

  addHolderProbe(name: string, probe: HolderProbe): void {
    this.probes.set(name, probe);
  }

  register(type: LeakType, callId: string): LeakHandle {
    const typeIndex = TYPE_INDEX.get(type);
    if (typeIndex === undefined) throw new TypeError(`leak registry: unknown type ${String(type)}`);
    const handle = new Handle(this.nextId++, typeIndex, callId);
    if (this.stackTypes.size > 0 && this.stackTypes.has(type)) stacks.set(handle, captureStack());
    this.liveTotal++;
    let list = this.byCall.get(callId);
    if (!list) this.byCall.set(callId, (list = []));
    handle.slot = list.length;
    list.push(handle);
    this.liveCounts[typeIndex]++;
    return handle;
  }

  /**
   * Calls merged (connect across calls, mesh): everything `fromCallId` owns is now owned by
   * `toCallId`, so the merged call's teardown audit covers it exactly once.
   */
  transferCall(fromCallId: string, toCallId: string): number {
    const from = this.byCall.get(fromCallId);
    if (!from || fromCallId === toCallId) return 0;
    this.byCall.delete(fromCallId);
    let to = this.byCall.get(toCallId);
    if (!to) this.byCall.set(toCallId, (to = []));
    for (const handle of from) {
      handle.callId = toCallId;
      handle.slot = to.length;
      to.push(handle);
    }
    return from.length;
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
    this.releases++;
    this.forget(handle);
    if (obj && this.tracksReachability) {
      this.watched.set(handle.id, { handle, ref: new WeakRef(obj), seq: ++this.releaseSeq, suspect: false });
      this.finalizer.register(obj, handle.id);
    }
  }

  private forget(handle: LeakHandle): void {
    const h = handle as Handle;
    this.liveTotal--;
    this.liveCounts[h.typeIndex]--;
    const list = this.byCall.get(h.callId);
    const slot = h.slot;
    h.slot = -1;
    if (!list || list[slot] !== h) return;
    // swap-remove: the last handle takes the freed slot
    const last = list.pop() as Handle;
    if (last !== h) {
      list[slot] = last;
      last.slot = slot;
    }
    if (list.length === 0) this.byCall.delete(h.callId);
  }

  /**
   * Teardown audit: anything of `callId` still registered is a leak. Logged as one warning for
   * the call with counts per type (and allocation sites), counted, and moved out of `live`.
   */
  auditCall(callId: string): Record<string, number> {
    const left = this.byCall.get(callId);
    const counts: Record<string, number> = {};
    if (left && left.length > 0) {
      const sites: string[] = [];
      // registration order (the list's own order changes with swap-removal)
      for (const handle of [...left].sort((a, b) => a.id - b.id)) {
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

  /**
   * Resolves once every object released before this call has been judged (immediately if not
   * tracking): all reports it can cause are in the counters by then.
   */
  async settle(): Promise<void> {
    if (!this.tracksReachability) return;
    if (!this.reachCheckTimer && !this.checking && this.watched.size === 0) return;
    const seq = this.releaseSeq;
    const done = new Promise<void>((resolve) => this.reachCheckWaiters.push({ seq, resolve }));
    this.scheduleReachabilityCheck();
    this.reachCheckTimer?.ref();
    await done;
  }

  private scheduleReachabilityCheck(): void {
    if (this.reachCheckTimer || this.checking) return;
    // A moment after teardown, so the reply and the command's own stack frames are gone.
    this.reachCheckTimer = setTimeout(() => void this.checkReachability(), 50);
    // while someone waits for the verdict, the pending check keeps the process alive
    if (this.reachCheckWaiters.length === 0) this.reachCheckTimer.unref();
  }

  /** GC, let a close-callbacks phase pass (closing sockets let go of their JS objects), GC again. */
  private async collect(): Promise<void> {
    if (!this.gc) return;
    this.gc();
    // a setImmediate queued from the check phase runs in the next loop iteration, so between
    // the two, the close callbacks of sockets closed up to now have run
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    this.gc();
  }

  private async checkReachability(): Promise<void> {
    this.reachCheckTimer = null;
    this.checking = true;
    const cutoff = this.releaseSeq;
    await this.collect();
    let suspects = 0;
    for (const [id, entry] of this.watched) {
      if (entry.seq > cutoff) continue;
      const obj = entry.ref.deref();
      if (obj === undefined) {
        if (entry.suspect) this.transientReachable++;
        this.watched.delete(id);
        continue;
      }
      if (!entry.suspect) {
        entry.suspect = true;
        suspects++;
        continue;
      }
      this.watched.delete(id);
      const holder = this.findHolder(obj);
      this.reachableAfterRelease++;
      const view = { ...viewOf(entry.handle), holder };
      pushBounded(this.reachableObjects, view);
      log().warn({ callId: entry.handle.callId, type: entry.handle.type, holder, allocationSite: view.allocationSite }, 'leak audit: released object still reachable');
    }
    this.checking = false;
    // a waiter is answered when nothing released before it is still undecided
    const undecided = suspects > 0 ? Math.min(...[...this.watched.values()].filter((e) => e.suspect).map((e) => e.seq)) : Infinity;
    const ready = this.reachCheckWaiters.filter((w) => w.seq <= cutoff && w.seq < undecided);
    this.reachCheckWaiters = this.reachCheckWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
    let newer = false;
    for (const entry of this.watched.values()) if (entry.seq > cutoff) newer = true;
    // suspects get their second look; objects released during this check get their first
    if (suspects > 0 || newer || this.reachCheckWaiters.length > 0) this.scheduleReachabilityCheck();
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
    const out: Record<string, number> = {};
    for (let i = 0; i < LEAK_TYPES.length; i++) out[LEAK_TYPES[i] as string] = this.liveCounts[i] as number;
    return out;
  }

  /** Live handles of one type (the teardown's native audit asks for two after every call). */
  liveCount(type: LeakType): number {
    const i = TYPE_INDEX.get(type);
    return i === undefined ? 0 : (this.liveCounts[i] as number);
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
      transientReachable: this.transientReachable,
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
    const all: LeakHandle[] = [];
    for (const list of this.byCall.values()) for (const h of list) all.push(h);
    return all.sort((a, b) => a.id - b.id).map(viewOf);
  }

  hasProblems(): boolean {
    return this.leaked > 0 || this.doubleRelease > 0 || this.reachableAfterRelease > 0 || this.liveTotal > 0;
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
