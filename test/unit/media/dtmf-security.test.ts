/** The DTMF trigger state machine and the DTMF log destination parser (pure). */
import { describe, expect, it } from 'vitest';
import { DtmfSecurity, parseBlockMode } from '../../../daemon/media/dtmf-security.js';
import { parseDtmfLogDest } from '../../../daemon/log/dtmf-log.js';

const D = (s: string): number[] => [...s].map((c) => '0123456789*#ABCD'.indexOf(c));

describe('DtmfSecurity', () => {
  it('switches on the trigger (restarting a broken match) and back on trigger-end', () => {
    const s = new DtmfSecurity('off', 0, [400], { trigger: '123', triggerEnd: '#', modeTrigger: 'silence', modeTriggerEnd: 'zero', endMs: 0, endDigits: 0 });
    const seen: string[] = [];
    for (const e of D('1213123')) {
      s.digitSeen(e, 0);
      seen.push(s.mode);
    }
    expect(seen).toEqual(['off', 'off', 'off', 'off', 'off', 'off', 'silence']);
    for (const e of D('55#')) s.digitSeen(e, 0);
    expect(s.mode).toBe('zero');
    expect(s.switches).toBe(2);
  });

  it('ends a triggered mode after trigger-end-time (checked on the next packet) or trigger-end-digits', () => {
    const t = new DtmfSecurity('off', 0, [400], { trigger: '#', triggerEnd: '', modeTrigger: 'drop', modeTriggerEnd: 'off', endMs: 1000, endDigits: 0 });
    t.digitSeen(11, 5000);
    expect(t.mode).toBe('drop');
    t.tick(5999);
    expect(t.mode).toBe('drop');
    t.tick(6000);
    expect(t.mode).toBe('off');
    const n = new DtmfSecurity('off', 0, [400], { trigger: '#', triggerEnd: '', modeTrigger: 'drop', modeTriggerEnd: 'tone', endMs: 0, endDigits: 2 });
    for (const e of D('#1')) n.digitSeen(e, 0);
    expect(n.mode).toBe('drop');
    n.digitSeen(2, 0);
    expect(n.mode).toBe('tone');
  });

  it('takes tone frequencies in turn and parses modes case-insensitively', () => {
    const s = new DtmfSecurity('tone', 0, [500, 700]);
    expect([s.takeFrequency(), s.takeFrequency(), s.takeFrequency()]).toEqual([500, 700, 500]);
    expect(parseBlockMode('DTMF')).toBe('dtmf');
    expect(() => parseBlockMode('loud')).toThrow(/unknown DTMF-security mode 'loud'/);
  });
});

describe('parseDtmfLogDest', () => {
  it('takes ADDR:PORT, [V6]:PORT and a bare port (loopback); refuses the rest', () => {
    expect(parseDtmfLogDest('127.0.0.1:22223')).toEqual({ address: '127.0.0.1', port: 22223 });
    expect(parseDtmfLogDest('[::1]:5000')).toEqual({ address: '::1', port: 5000 });
    expect(parseDtmfLogDest('9999')).toEqual({ address: '127.0.0.1', port: 9999 });
    for (const bad of ['host:1', '127.0.0.1:0', '127.0.0.1:70000', '127.0.0.1', '']) expect(parseDtmfLogDest(bad)).toBeNull();
  });
});
