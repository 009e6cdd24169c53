/**
 * DTMF security (rtpengine's `block DTMF` modes and DTMF triggers): what happens to DTMF a
 * participant sends, and the trigger state machine that switches the mode when the
 * participant keys a digit sequence.
 *
 * Modes, as rtpengine documents `DTMF-security`: `drop` (events dropped), `silence` (events
 * replaced by silence audio), `tone` (by a single sine tone; `frequencies` taken in turn, one
 * per event, default 400 Hz), `random` (by another random digit, the same for the whole event),
 * `zero` (by digit 0), `DTMF` (by the digit given as `digit`), `off` (passed).
 *
 * Triggers: `trigger` digits switch the mode to `DTMF-security-trigger` (default `drop`);
 * once triggered, `trigger-end` digits, `trigger-end-digits` further digits or
 * `trigger-end-time` ms switch it to `DTMF-security-trigger-end` (default `off`). Matching is
 * on the digits as they arrive (a mismatch restarts the match, the current digit counting as
 * a possible first one).
 *
 * One object per participant (or for the whole call), owned by the call's media-control state
 * and shared by that participant's streams; changed by signalling under the write lock and by
 * the packet path (digits) under the read side. No timers: the end time is checked when the
 * next packet or digit arrives.
 */
import { NgCommandError } from '../errors.js';

export type DtmfBlockMode = 'off' | 'drop' | 'silence' | 'tone' | 'random' | 'zero' | 'dtmf';

const MODES: readonly DtmfBlockMode[] = ['off', 'drop', 'silence', 'tone', 'random', 'zero', 'dtmf'];

/** A mode name as rtpengine spells it (case-insensitive); a clear error for anything else. */
export function parseBlockMode(s: string): DtmfBlockMode {
  const m = s.trim().toLowerCase();
  if ((MODES as readonly string[]).includes(m)) return m as DtmfBlockMode;
  throw new NgCommandError('INVALID_VALUE', `unknown DTMF-security mode '${s}'`);
}

export interface DtmfTriggerConfig {
  trigger: string;
  triggerEnd: string;
  modeTrigger: DtmfBlockMode;
  modeTriggerEnd: DtmfBlockMode;
  /** 0: no limit. */
  endMs: number;
  endDigits: number;
}

const DIGITS = '0123456789*#ABCD';

export class DtmfSecurity {
  /** The mode in force now (triggers change it). */
  mode: DtmfBlockMode;
  /** For `DTMF`: the replacement event. */
  digit: number;
  frequencies: readonly number[];
  private nextFreq = 0;
  trigger: DtmfTriggerConfig | null;
  private matched = 0;
  private endMatched = 0;
  private triggeredAt = 0;
  private digitsSince = 0;
  private triggered = false;
  /** How often a trigger switched the mode (for `query`). */
  switches = 0;

  constructor(mode: DtmfBlockMode, digit = 0, frequencies: readonly number[] = [400], trigger: DtmfTriggerConfig | null = null) {
    this.mode = mode;
    this.digit = digit;
    this.frequencies = frequencies.length > 0 ? frequencies : [400];
    this.trigger = trigger;
  }

  /** Does any DTMF need inspecting at all (a mode that does something, or a trigger)? */
  get inspects(): boolean {
    return this.mode !== 'off' || this.trigger !== null;
  }

  /** The frequency of the next `tone` replacement (one per event, in turn). */
  takeFrequency(): number {
    const f = this.frequencies[this.nextFreq % this.frequencies.length] as number;
    this.nextFreq++;
    return f;
  }

  /** The time-based end of a triggered mode; called per packet with the current time. */
  tick(now: number): void {
    const t = this.trigger;
    if (t === null || !this.triggered || t.endMs <= 0) return;
    if (now - this.triggeredAt >= t.endMs) this.end();
  }

  /** A finished DTMF digit from this participant: may switch the mode. */
  digitSeen(event: number, now: number): void {
    const t = this.trigger;
    if (t === null) return;
    this.tick(now);
    const ch = DIGITS[event] ?? '?';
    if (!this.triggered) {
      this.matched = advance(t.trigger, this.matched, ch);
      if (t.trigger.length > 0 && this.matched === t.trigger.length) {
        this.matched = 0;
        this.triggered = true;
        this.triggeredAt = now;
        this.digitsSince = 0;
        this.endMatched = 0;
        this.switchTo(t.modeTrigger);
      }
      return;
    }
    this.digitsSince++;
    this.endMatched = advance(t.triggerEnd, this.endMatched, ch);
    if ((t.triggerEnd.length > 0 && this.endMatched === t.triggerEnd.length) || (t.endDigits > 0 && this.digitsSince >= t.endDigits)) this.end();
  }

  private end(): void {
    const t = this.trigger as DtmfTriggerConfig;
    this.triggered = false;
    this.endMatched = 0;
    this.switchTo(t.modeTriggerEnd);
  }

  private switchTo(mode: DtmfBlockMode): void {
    this.mode = mode;
    this.switches++;
  }
}

/** Digits of `pattern` matched after `ch`, given `matched` before (restarting on a mismatch). */
function advance(pattern: string, matched: number, ch: string): number {
  if (pattern.length === 0) return 0;
  if (pattern[matched] === ch) return matched + 1;
  return pattern[0] === ch ? 1 : 0;
}
