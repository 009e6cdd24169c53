/**
 * Gives memory back once a burst of calls is over. V8 keeps the heap it grew to (the young
 * generation stays at its 2 × 16 MB maximum, old-space pages stay committed) and glibc keeps
 * freed malloc pages, so without this an idle daemon's RSS stays at its peak. When the call
 * graph has stopped changing for a whole tick (no object registered or released) after it did
 * change, and V8's committed heap holds at least `minSlackBytes` more than its live objects,
 * V8 gets a moderate memory-pressure notification (an incremental GC that shrinks the heap and
 * returns its pages, with no long pause for the packets meanwhile) and, a tick later, malloc
 * returns its free pages. At most once per `minIntervalMs`; a steady load (never quiet, or
 * quiet with little slack) never triggers it.
 */
import { getHeapStatistics } from 'node:v8';

export interface MemoryHooks {
  /** V8's moderate memory-pressure notification (the addon's; Node has none). */
  memoryPressure(): void;
  /** glibc malloc_trim(0). */
  mallocTrim(): boolean;
}

export interface MemoryReturnOptions {
  tickMs: number;
  minSlackBytes: number;
  minIntervalMs: number;
}

export const MEMORY_RETURN_DEFAULTS: MemoryReturnOptions = { tickMs: 500, minSlackBytes: 8 * 1024 * 1024, minIntervalMs: 2000 };

/** Committed minus used bytes of V8's heap: what a shrinking GC can give back. */
export function heapSlack(): number {
  const h = getHeapStatistics();
  return h.total_heap_size - h.used_heap_size;
}

export class MemoryReturn {
  private last = -1;
  /** Start-up (modules, certificates) left garbage behind: the first quiet tick may return it. */
  private changed = true;
  private trimPending = false;
  private lastReturn = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  /** How often memory was given back (statistics, tests). */
  returns = 0;

  constructor(
    /** A number that changes whenever call-owned objects are created or released. */
    private readonly activity: () => number,
    private readonly hooks: MemoryHooks,
    private readonly opts: MemoryReturnOptions = MEMORY_RETURN_DEFAULTS,
    private readonly slack: () => number = heapSlack,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look; true when it notified V8 this time. */
  tick(): boolean {
    if (this.trimPending) {
      // the GC started by the last notification has released its native buffers by now
      this.trimPending = false;
      this.hooks.mallocTrim();
    }
    const a = this.activity();
    if (a !== this.last) {
      if (this.last !== -1) this.changed = true;
      this.last = a;
      return false;
    }
    if (!this.changed) return false;
    const t = this.now();
    if (t - this.lastReturn < this.opts.minIntervalMs) return false;
    if (this.slack() < this.opts.minSlackBytes) {
      this.changed = false;
      return false;
    }
    this.changed = false;
    this.lastReturn = t;
    this.returns++;
    this.hooks.memoryPressure();
    this.trimPending = true;
    return true;
  }
}
