import { afterEach, describe, expect, it, vi } from 'vitest';
import { CookieCache } from '../../../daemon/control/cookie-cache.js';

const caches: CookieCache[] = [];
function cache(maxEntries?: number, rotateMs?: number, maxBytes?: number): CookieCache {
  const c = new CookieCache({ maxEntries, rotateMs, maxBytes });
  caches.push(c);
  return c;
}
afterEach(() => {
  for (const c of caches.splice(0)) c.close();
  vi.useRealTimers();
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CookieCache', () => {
  it('unknown cookie: null', () => {
    expect(cache().lookup('4821_1')).toBeNull();
  });

  it('returns the cached reply after run', async () => {
    const c = cache();
    const fn = vi.fn(async () => Buffer.from('d6:result4:ponge'));
    const reply = await c.run('4821_1', fn);
    expect(reply.toString()).toBe('d6:result4:ponge');
    const hit = c.lookup('4821_1');
    expect(Buffer.isBuffer(hit)).toBe(true);
    expect((hit as Buffer).toString()).toBe('d6:result4:ponge');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(c.size).toBe(1);
    expect(c.bytes).toBe('4821_1'.length + 'd6:result4:ponge'.length);
    // the key is the cookie alone
    expect(c.lookup('4821_2')).toBeNull();
  });

  it('a retransmit during processing shares the in-progress promise; fn runs once', async () => {
    const c = cache();
    const d = deferred<Buffer>();
    const fn = vi.fn(() => d.promise);
    const first = c.run('abc', fn);
    const pending = c.lookup('abc');
    expect(pending).toBeInstanceOf(Promise);
    expect(pending).toBe(first);
    d.resolve(Buffer.from('reply'));
    const [a, b] = await Promise.all([first, pending as Promise<Buffer>]);
    expect(a.toString()).toBe('reply');
    expect(b).toBe(a);
    expect(fn).toHaveBeenCalledTimes(1);
    // afterwards it is a plain cached Buffer
    expect(Buffer.isBuffer(c.lookup('abc'))).toBe(true);
  });

  it('a failing command is not cached and not left in progress', async () => {
    const c = cache();
    await expect(c.run('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(c.lookup('x')).toBeNull();
    expect(c.size).toBe(0);
  });

  it('rotation keeps entries for one generation', async () => {
    const c = cache();
    await c.run('a', async () => Buffer.from('A'));
    c.rotate();
    expect((c.lookup('a') as Buffer).toString()).toBe('A');
    await c.run('b', async () => Buffer.from('B'));
    c.rotate();
    expect(c.lookup('a')).toBeNull();
    expect((c.lookup('b') as Buffer).toString()).toBe('B');
    c.rotate();
    expect(c.lookup('b')).toBeNull();
    expect(c.size).toBe(0);
  });

  it('rotates on its own timer: an entry lives between one and two periods', async () => {
    vi.useFakeTimers();
    const c = cache(100, 30_000);
    vi.advanceTimersByTime(10_000);
    await c.run('a', async () => Buffer.from('A'));
    vi.advanceTimersByTime(20_000); // first rotation at 30 s
    expect(c.lookup('a')).not.toBeNull();
    vi.advanceTimersByTime(29_999);
    expect(c.lookup('a')).not.toBeNull();
    vi.advanceTimersByTime(1); // second rotation at 60 s
    expect(c.lookup('a')).toBeNull();
  });

  it('is bounded by maxEntries', async () => {
    const c = cache(4);
    for (let i = 0; i < 50; i++) {
      await c.run(`k${i}`, async () => Buffer.from(`v${i}`));
      expect(c.size).toBeLessThanOrEqual(4);
      // the newest is always there
      expect((c.lookup(`k${i}`) as Buffer).toString()).toBe(`v${i}`);
    }
    expect(c.lookup('k0')).toBeNull();
    expect(c.lookup('k40')).toBeNull();
    expect(c.lookup('k47')).not.toBeNull();
  });

  it('is bounded by bytes (large delete replies must not pile up)', async () => {
    const c = cache(1000, 30_000, 10_000);
    for (let i = 0; i < 100; i++) {
      await c.run(`big${i}`, async () => Buffer.alloc(1000, i));
      expect(c.bytes).toBeLessThanOrEqual(10_000);
      expect(c.lookup(`big${i}`)).not.toBeNull();
    }
    expect(c.lookup('big0')).toBeNull();
    expect(c.size).toBeLessThan(10);
  });

  it('close() drops everything and stops the timer', async () => {
    vi.useFakeTimers();
    const c = cache(100, 1000);
    await c.run('a', async () => Buffer.from('A'));
    expect(vi.getTimerCount()).toBe(1);
    c.close();
    expect(c.size).toBe(0);
    expect(c.lookup('a')).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
    c.close(); // idempotent
  });
});
