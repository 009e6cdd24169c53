import { describe, expect, it } from 'vitest';
import { MasterLock } from '../../../daemon/call/master-lock.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('MasterLock', () => {
  it('serialises writers in call order', async () => {
    const lock = new MasterLock();
    const events: string[] = [];
    const writer = (name: string, ms: number) =>
      lock.write(
        async () => {
          events.push(`start ${name}`);
          await tick(ms);
          events.push(`end ${name}`);
          return name;
        },
        () => events.push(`release ${name}`),
      );
    const results = await Promise.all([writer('a', 15), writer('b', 1), writer('c', 5)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'release a', 'start b', 'end b', 'release b', 'start c', 'end c', 'release c']);
  });

  it('synchronous writers and their return values', async () => {
    const lock = new MasterLock();
    const order: number[] = [];
    const p1 = lock.write(() => (order.push(1), 'one'), () => undefined);
    const p2 = lock.write(() => (order.push(2), 2), () => undefined);
    expect(await p1).toBe('one');
    expect(await p2).toBe(2);
    expect(order).toEqual([1, 2]);
  });

  it('writeLocked is true only while a writer runs', async () => {
    const lock = new MasterLock();
    expect(lock.writeLocked).toBe(false);
    const seen: boolean[] = [];
    let releaseSeen: boolean | undefined;
    const p = lock.write(
      async () => {
        seen.push(lock.writeLocked);
        await tick(5);
        seen.push(lock.writeLocked);
      },
      () => {
        releaseSeen = lock.writeLocked;
      },
    );
    await p;
    expect(seen).toEqual([true, true]);
    // the packet queue is drained from onRelease: by then the lock is free
    expect(releaseSeen).toBe(false);
    expect(lock.writeLocked).toBe(false);
  });

  it('writeLocked stays true across back-to-back writers and drops after the last', async () => {
    const lock = new MasterLock();
    const gaps: boolean[] = [];
    const a = lock.write(() => tick(5), () => undefined);
    const b = lock.write(() => tick(5), () => undefined);
    const poll = setInterval(() => gaps.push(lock.writeLocked), 1);
    await Promise.all([a, b]);
    clearInterval(poll);
    expect(lock.writeLocked).toBe(false);
    expect(gaps.filter((x) => x).length).toBeGreaterThan(0);
  });

  it('onRelease is called once after each writer', async () => {
    const lock = new MasterLock();
    let releases = 0;
    await Promise.all(Array.from({ length: 5 }, () => lock.write(async () => tick(1), () => releases++)));
    expect(releases).toBe(5);
  });

  it('an exception releases the lock and the next writer still runs', async () => {
    const lock = new MasterLock();
    const events: string[] = [];
    const failing = lock.write(
      async () => {
        events.push('start bad');
        await tick(2);
        throw new Error('boom');
      },
      () => events.push('release bad'),
    );
    const throwingSync = lock.write(
      () => {
        events.push('start sync-bad');
        throw new Error('sync boom');
      },
      () => events.push('release sync-bad'),
    );
    const ok = lock.write(
      async () => {
        events.push(`start ok locked=${lock.writeLocked}`);
        return 'fine';
      },
      () => events.push('release ok'),
    );
    await expect(failing).rejects.toThrow('boom');
    await expect(throwingSync).rejects.toThrow('sync boom');
    expect(await ok).toBe('fine');
    expect(events).toEqual(['start bad', 'release bad', 'start sync-bad', 'release sync-bad', 'start ok locked=true', 'release ok']);
    expect(lock.writeLocked).toBe(false);
  });

  it('separate locks do not wait for each other', async () => {
    const a = new MasterLock();
    const b = new MasterLock();
    const events: string[] = [];
    const slow = a.write(async () => {
      await tick(20);
      events.push('a done');
    }, () => undefined);
    const fast = b.write(async () => {
      events.push('b done');
    }, () => undefined);
    await Promise.all([slow, fast]);
    expect(events).toEqual(['b done', 'a done']);
  });
});
