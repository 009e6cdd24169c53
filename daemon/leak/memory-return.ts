/**
 * Gives memory back once a burst of calls is over. V8 keeps the heap it grew to (the young
 * generation stays at its 2 × 16 MB maximum, old-space pages stay committed) and glibc keeps
 * freed malloc pages, so without this an idle daemon's RSS stays at its peak. When the call
 * graph has stopped changing for a whole tick (no object registered or released) after it did
 * change, and V8's committed heap holds at least `minSlackBytes` (and an eighth) more than its live objects,
 * V8 gets a moderate memory-pressure notification (an incremental GC that shrinks the heap and
 * returns its pages, with no long pause for the packets meanwhile) and, a tick later, malloc
 * returns its free pages. At most once per `minIntervalMs`; a steady load (never quiet, or
 * quiet with little slack) never triggers it.
 */
import { getHeapStatistics } from 'node:v8';
import { log } from '../log/logger.js';

export interface MemoryHooks {
  /** V8's moderate memory-pressure notification (the addon's; Node has none). */
  memoryPressure(): void;
  /** glibc malloc_trim(0). */
  mallocTrim(): boolean;
}

export interface MemoryReturnOptions {
  tickMs: number;
  /** Bytes of slack below which nothing is done (and at least an eighth of the live heap). */
  minSlackBytes: number;
  minIntervalMs: number;
}

export const MEMORY_RETURN_DEFAULTS: MemoryReturnOptions = { tickMs: 500, minSlackBytes: 4 * 1024 * 1024, minIntervalMs: 2000 };

/** V8's heap: committed and used bytes (the difference is what a shrinking GC can give back). */
export function heapSizes(): { committed: number; used: number } {
  const h = getHeapStatistics();
  return { committed: h.total_heap_size, used: h.used_heap_size };
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
    private readonly heap: () => { committed: number; used: number } = heapSizes,
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
    const { committed, used } = this.heap();
    // a large heap is worth a GC only for a proportionate gain
    if (committed - used < Math.max(this.opts.minSlackBytes, used / 8)) {
      this.changed = false;
      return false;
    }
    this.changed = false;
    this.lastReturn = t;
    this.returns++;
    log().debug({ committed, used }, 'Giving unused memory back (calls have gone quiet)');
    this.hooks.memoryPressure();
    this.trimPending = true;
    return true;
  }
}
