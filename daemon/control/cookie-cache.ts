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
interface Generation {
  replies: Map<string, Buffer>;
  bytes: number;
}

const newGeneration = (): Generation => ({ replies: new Map(), bytes: 0 });

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
    return this.current.replies.size + this.old.replies.size;
  }

  get bytes(): number {
    return this.current.bytes + this.old.bytes;
  }

  /** The cached reply, the pending one, or null (then the caller executes and calls `run`). */
  lookup(cookie: string): Buffer | Promise<Buffer> | null {
    return this.current.replies.get(cookie) ?? this.old.replies.get(cookie) ?? this.inProgress.get(cookie) ?? null;
  }

  /** Executes `fn` for `cookie`, marking it in progress, and caches whatever reply it produced. */
  run(cookie: string, fn: () => Promise<Buffer>): Promise<Buffer> {
    const pending = fn().then((reply) => {
      this.store(cookie, reply);
      return reply;
    }).finally(() => this.inProgress.delete(cookie));
    this.inProgress.set(cookie, pending);
    return pending;
  }

  private store(cookie: string, reply: Buffer): void {
    const size = cookie.length + reply.length;
    const halfEntries = Math.max(1, Math.floor(this.maxEntries / 2));
    if (this.current.replies.size >= halfEntries || this.current.bytes + size > this.maxBytes / 2) this.rotate();
    const previous = this.current.replies.get(cookie);
    if (previous) this.current.bytes -= cookie.length + previous.length;
    this.current.replies.set(cookie, reply);
    this.current.bytes += size;
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
