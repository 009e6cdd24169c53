import { describe, expect, it } from 'vitest';
import { AllocationsInFlight } from '../../../daemon/call/allocations-in-flight.js';

describe('AllocationsInFlight', () => {
  it('runs a check at once when no allocation is in flight', () => {
    const a = new AllocationsInFlight();
    const ran: string[] = [];
    a.whenIdle(() => ran.push('now'));
    expect(ran).toEqual(['now']);
  });

  it('holds checks until the last of overlapping allocations ends, then runs each once in order', () => {
    const a = new AllocationsInFlight();
    const ran: string[] = [];
    a.begin();
    a.begin();
    a.whenIdle(() => ran.push('first'));
    a.whenIdle(() => ran.push('second'));
    a.end();
    expect(ran, 'one allocation still in flight').toEqual([]);
    expect(a.inFlight).toBe(1);
    a.end();
    expect(ran).toEqual(['first', 'second']);
    a.begin();
    a.end();
    expect(ran, 'nothing runs twice').toEqual(['first', 'second']);
  });

  it('refuses an end without a begin', () => {
    expect(() => new AllocationsInFlight().end()).toThrow(/without begin/);
  });
});
