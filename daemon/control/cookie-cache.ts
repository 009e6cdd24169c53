/**
 * The retransmit cache (rtpengine's cookie_cache.c): a request is executed at most once per
 * cookie. Replies live in two generations rotated every 30 s, so an entry survives 30–60 s; a
 * retransmit arriving while the original is still being handled waits for its reply. Bounded:
 * past `maxEntries` the older generation is dropped early.
 */
export class CookieCache {
  private current = new Map<string, Buffer>();
  private old = new Map<string, Buffer>();
  private readonly inProgress = new Map<string, Promise<Buffer>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxEntries = 100_000,
    rotateMs = 30_000,
  ) {
    this.timer = setInterval(() => this.rotate(), rotateMs);
    this.timer.unref();
  }

  get size(): number {
    return this.current.size + this.old.size;
  }

  get bytes(): number {
    let n = 0;
    for (const m of [this.current, this.old]) for (const [k, v] of m) n += k.length + v.length;
    return n;
  }

  /** The cached reply, the pending one, or null (then the caller executes and calls `run`). */
  lookup(cookie: string): Buffer | Promise<Buffer> | null {
    return this.current.get(cookie) ?? this.old.get(cookie) ?? this.inProgress.get(cookie) ?? null;
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
    if (this.current.size >= this.maxEntries) this.rotate();
    this.current.set(cookie, reply);
  }

  rotate(): void {
    this.old = this.current;
    this.current = new Map();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.current.clear();
    this.old.clear();
  }
}
