import { describe, expect, it } from 'vitest';
import { PortPool } from '../../../daemon/net/port-pool.js';

/** Reserves every candidate the pool offers, like openPair does, until exhausted. */
function drain(pool: PortPool): number[] {
  const got: number[] = [];
  for (const port of pool.candidates()) {
    pool.reserve(port);
    got.push(port);
  }
  return got;
}

describe('PortPool', () => {
  it('even/odd pairs inside the range', () => {
    const pool = new PortPool(30000, 30019);
    expect(pool.first).toBe(30000);
    expect(pool.last).toBe(30019);
    expect(pool.capacity).toBe(10);
    const ports = drain(pool);
    expect(ports).toHaveLength(10);
    for (const p of ports) {
      expect(p % 2).toBe(0);
      expect(p).toBeGreaterThanOrEqual(30000);
      expect(p + 1).toBeLessThanOrEqual(30019);
    }
    expect([...ports].sort((a, b) => a - b)).toEqual([30000, 30002, 30004, 30006, 30008, 30010, 30012, 30014, 30016, 30018]);
    expect(pool.inUse).toBe(10);
  });

  it('odd min and even max are narrowed to whole pairs', () => {
    const pool = new PortPool(30001, 30010);
    expect(pool.first).toBe(30002);
    expect(pool.last).toBe(30009);
    expect(pool.capacity).toBe(4);
    expect(drain(pool).sort((a, b) => a - b)).toEqual([30002, 30004, 30006, 30008]);
  });

  it('tiny ranges', () => {
    expect(new PortPool(30000, 30001).capacity).toBe(1);
    expect(drain(new PortPool(30000, 30001))).toEqual([30000]);
    expect(new PortPool(30001, 30002).capacity).toBe(0);
    expect(drain(new PortPool(30001, 30002))).toEqual([]);
    expect(new PortPool(30000, 30000).capacity).toBe(0);
    expect(new PortPool(30001, 30004).capacity).toBe(1);
    expect(drain(new PortPool(30001, 30004))).toEqual([30002]);
  });

  it('the default range has 5000 pairs', () => {
    expect(new PortPool(30000, 39999).capacity).toBe(5000);
  });

  it('never hands out a reserved pair twice', () => {
    const pool = new PortPool(40000, 40099);
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      for (const port of pool.candidates()) {
        expect(seen.has(port)).toBe(false);
        pool.reserve(port);
        seen.add(port);
        if (seen.size % 7 === 0) break; // allocate in small batches, like calls arriving
      }
    }
    const rest = drain(pool);
    for (const p of rest) expect(seen.has(p)).toBe(false);
    expect(seen.size + rest.length).toBe(50);
    expect([...pool.candidates()]).toEqual([]);
  });

  it('reserve of an already reserved port throws', () => {
    const pool = new PortPool(30000, 30009);
    pool.reserve(30002);
    expect(() => pool.reserve(30002)).toThrow();
    expect(pool.has(30002)).toBe(true);
  });

  it('release makes a pair available again', () => {
    const pool = new PortPool(30000, 30005);
    const ports = drain(pool);
    expect(ports).toHaveLength(3);
    expect([...pool.candidates()]).toEqual([]);
    expect(pool.release(ports[1]!)).toBe(true);
    expect(pool.release(ports[1]!)).toBe(false);
    expect(pool.has(ports[1]!)).toBe(false);
    expect(pool.inUse).toBe(2);
    expect([...pool.candidates()]).toEqual([ports[1]]);
  });

  it('allocation continues after the last handed-out pair (round robin)', () => {
    const pool = new PortPool(30000, 30009);
    const [a] = pool.candidates();
    pool.reserve(a!);
    pool.release(a!);
    const [b] = pool.candidates();
    expect(b).not.toBe(a);
    expect(b).toBe(a! + 2 > 30009 ? 30000 : a! + 2);
  });

  it('candidates visit every pair once per pass', () => {
    for (let i = 0; i < 20; i++) {
      const pool = new PortPool(30000, 30013);
      const pass = [...pool.candidates()];
      expect(pass).toHaveLength(7);
      expect(new Set(pass).size).toBe(7);
    }
  });
});
