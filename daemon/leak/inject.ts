/**
 * Test-only deliberate leaks, switched on by the environment variable RTPENGINE_TS_LEAK_INJECT
 * read once at start-up (never by an ng command):
 *   skip-release:TYPE    teardown forgets to release one object of TYPE per call
 *   double-release:TYPE  teardown releases one object of TYPE per call twice
 *   keep-listener        teardown leaves one call observer registered, holding the call
 * They exist so tests can prove the audit catches each kind of mistake.
 */
import { isLeakType, type LeakInjection, type LeakType } from './types.js';

export const LEAK_INJECT_ENV = 'RTPENGINE_TS_LEAK_INJECT';

export function readLeakInjection(env: NodeJS.ProcessEnv = process.env): LeakInjection | null {
  const value = env[LEAK_INJECT_ENV];
  if (!value) return null;
  if (value === 'keep-listener') return { kind: 'keep-listener' };
  const match = /^(skip-release|double-release):(\w+)$/.exec(value);
  if (!match || !isLeakType(match[2] as string)) {
    throw new Error(`${LEAK_INJECT_ENV}: expected skip-release:TYPE, double-release:TYPE or keep-listener, got "${value}"`);
  }
  return { kind: match[1] as 'skip-release' | 'double-release', type: match[2] as LeakType };
}

/** Per-call bookkeeping so each injection happens once per call teardown. */
export class LeakInjector {
  private readonly done = new Set<string>();
  constructor(readonly injection: LeakInjection | null) {}

  private once(kind: string, callId: string): boolean {
    const key = `${kind}\0${callId}`;
    if (this.done.has(key)) return false;
    this.done.add(key);
    return true;
  }

  /** Called at the end of a call's teardown; the per-call memo is dropped. */
  finishCall(callId: string): void {
    for (const kind of ['skip-release', 'double-release', 'keep-listener']) this.done.delete(`${kind}\0${callId}`);
  }

  skipRelease(type: LeakType, callId: string): boolean {
    const inj = this.injection;
    return inj?.kind === 'skip-release' && inj.type === type && this.once('skip-release', callId);
  }

  releaseTwice(type: LeakType, callId: string): boolean {
    const inj = this.injection;
    return inj?.kind === 'double-release' && inj.type === type && this.once('double-release', callId);
  }

  keepListener(callId: string): boolean {
    return this.injection?.kind === 'keep-listener' && this.once('keep-listener', callId);
  }
}
