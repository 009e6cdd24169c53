/**
 * The retransmit cache (rtpengine's cookie_cache.c): a request is executed at most once per
 * cookie. Replies live in two generations rotated every 30 s, so an entry survives 30–60 s; a
 * retransmit arriving while the original is still being handled waits for its reply.
 *
 * Bounded by entries and by bytes: under heavy load (delete replies carry full call
 * statistics) the current generation is rotated early once it holds half of either bound, so
 * the cache never holds more than `maxEntries` replies or `maxBytes` bytes. Proxies retransmit
 * within seconds (Kamailio: 5 × 1 s), well inside even a shortened window.
 */
import { decodeDelta, DeltaReference, encodeDelta } from './reply-delta.js';

/** Replies shorter than this are stored as they are. */
const DELTA_MIN = 64;
const SLAB_BYTES = 64 * 1024;
/** Numbers kept per entry in `Generation.meta`. */
const META = 4;

/**
 * One generation of replies, stored compactly: the bytes of all entries are packed into 64 KiB
 * slabs (no Buffer, ArrayBuffer and malloc'd store per reply), and a reply of a size class that
 * already has a reference in this generation is kept as its delta from it (reply-delta.ts): a
 * 2 KB delete reply takes about a tenth of that. The first reply of each size class (by powers
 * of two) is stored whole and becomes the class's reference. Dropping a generation drops its
 * slabs, index and references at once.
 */
class Generation {
  /** cookie → entry number */
  readonly index = new Map<string, number>();
  /** per entry: slab, offset, stored length, reply length; the size class is negative for a whole reply */
  private readonly meta: number[] = [];
  private readonly classes: number[] = [];
  private readonly slabs: Buffer[] = [];
  private slabPos = 0;
  private readonly refs = new Map<number, DeltaReference>();
  bytes = 0;

  get size(): number {
    return this.index.size;
  }

  get(cookie: string): Buffer | undefined {
    const e = this.index.get(cookie);
    if (e === undefined) return undefined;
    const m = this.meta;
    const k = e * META;
    const slab = this.slabs[m[k] as number] as Buffer;
    const off = m[k + 1] as number;
    const stored = slab.subarray(off, off + (m[k + 2] as number));
    const cls = this.classes[e] as number;
    const ref = cls >= 0 ? this.refs.get(cls) : undefined;
    // a copy: the caller may hold it while this generation is dropped or overwritten
    return ref ? decodeDelta(stored, ref.bytes, m[k + 3] as number) : Buffer.from(stored);
  }

  /** Stores `reply` for `cookie`; returns the bytes it takes (the caller's accounting). */
  set(cookie: string, reply: Buffer): number {
    const previous = this.index.get(cookie);
    if (previous !== undefined) this.bytes -= cookie.length + (this.meta[previous * META + 2] as number);
    let data = reply;
    let cls = -1;
    if (reply.length >= DELTA_MIN) {
      const c = 31 - Math.clz32(reply.length);
      const ref = this.refs.get(c);
      if (ref) {
        const coded = encodeDelta(reply, ref);
        if (coded.length < reply.length) {
          data = coded;
          cls = c;
        }
      }
    }
    const [slab, off] = this.put(data);
    if (reply.length >= DELTA_MIN && cls < 0 && !this.refs.has(31 - Math.clz32(reply.length))) {
      this.refs.set(31 - Math.clz32(reply.length), new DeltaReference((this.slabs[slab] as Buffer).subarray(off, off + data.length)));
    }
    const e = this.classes.length;
    this.meta.push(slab, off, data.length, reply.length);
    this.classes.push(cls);
    this.index.set(cookie, e);
    const size = cookie.length + data.length;
    this.bytes += size;
    return size;
  }

  private put(data: Buffer): [number, number] {
    let slab = this.slabs[this.slabs.length - 1];
    if (!slab || this.slabPos + data.length > slab.length) {
      slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, data.length));
      this.slabs.push(slab);
      this.slabPos = 0;
    }
    const off = this.slabPos;
    slab.set(data, off);
    this.slabPos += data.length;
    return [this.slabs.length - 1, off];
  }
}

const newGeneration = (): Generation => new Generation();

export class CookieCache {
  private current = newGeneration();
  private old = newGeneration();
  private readonly inProgress = new Map<string, Promise<Buffer>>();
  private timer: NodeJS.Timeout | null = null;

  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: { maxEntries?: number; maxBytes?: number; rotateMs?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.timer = setInterval(() => this.rotate(), options.rotateMs ?? 30_000);
    this.timer.unref();
  }

  get size(): number {
    return this.current.size + this.old.size;
  }

  get bytes(): number {
    return this.current.bytes + this.old.bytes;
  }

  /** The cached reply, the pending one, or null (then the caller executes and calls `run`). */
  lookup(cookie: string): Buffer | Promise<Buffer> | null {
    return this.current.get(cookie) ?? this.old.get(cookie) ?? this.inProgress.get(cookie) ?? null;
  }

  /** Executes `fn` for `cookie`, marking it in progress, and caches whatever reply it produced. */
  run(cookie: string, fn: () => Promise<Buffer>): Promise<Buffer> {
    // one reaction for both outcomes (no `finally` promise per command)
    const pending = fn().then((reply) => {
      this.inProgress.delete(cookie);
      this.store(cookie, reply);
      return reply;
    }, (err: unknown) => {
      this.inProgress.delete(cookie);
      throw err;
    });
    this.inProgress.set(cookie, pending);
    return pending;
  }

  private store(cookie: string, reply: Buffer): void {
    // the bound is checked on the whole reply: its stored form is never larger
    const size = cookie.length + reply.length;
    const halfEntries = Math.max(1, Math.floor(this.maxEntries / 2));
    if (this.current.size >= halfEntries || this.current.bytes + size > this.maxBytes / 2) this.rotate();
    this.current.set(cookie, reply);
  }

  rotate(): void {
    this.old = this.current;
    this.current = newGeneration();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.current = newGeneration();
    this.old = newGeneration();
  }
}
