/**
 * Test-only deliberate leaks, switched on by the environment variable RTPENGINE_TS_LEAK_INJECT
 * read once at start-up (never by an ng command):
 *   skip-release:TYPE    one release of TYPE per call is forgotten
 *   double-release:TYPE  one release of TYPE per call happens twice
 *   keep-listener        a "call observer" keeps holding each call after its release
 * They exist so tests can prove the audit catches each kind of mistake. With the switch set,
 * the daemon is built with an InjectingLeakRegistry instead of the plain LeakRegistry; the
 * production objects (Call, CallHash) know nothing about it.
 */
import type { LeakCheckMode } from '../config/config.js';
import { log } from '../log/logger.js';
import { LeakRegistry, type LeakHandle } from './registry.js';
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

/** The holder name the audit reports for calls kept by the keep-listener injection. */
export const KEPT_CALLS_HOLDER = 'call observers';

/**
 * A LeakRegistry that gets releases wrong on purpose, once per call, as the injection asks.
 * Everything else (registration, audit, reachability check) is the real registry's.
 */
export class InjectingLeakRegistry extends LeakRegistry {
  private readonly injector: LeakInjector;
  /** keep-listener: the observers a buggy teardown forgot to remove, each holding its call. */
  private readonly keptCalls: object[] = [];

  constructor(readonly injection: LeakInjection, mode: LeakCheckMode, stackTypes: readonly string[] = []) {
    super(mode, stackTypes);
    this.injector = new LeakInjector(injection);
    this.addHolderProbe(KEPT_CALLS_HOLDER, (obj) => this.keptCalls.includes(obj));
  }

  override release(handle: LeakHandle, obj?: object): void {
    const { type, callId } = handle;
    if (this.injector.skipRelease(type, callId)) return;
    super.release(handle, obj);
    if (this.injector.releaseTwice(type, callId)) super.release(handle, obj);
    if (type === 'Call' && obj && this.injector.keepListener(callId)) this.keptCalls.push(obj);
  }

  override auditCall(callId: string): Record<string, number> {
    const leaked = super.auditCall(callId);
    this.injector.finishCall(callId);
    return leaked;
  }
}

/** The registry the daemon runs with: the injecting one only when the test switch is set. */
export function createLeakRegistry(mode: LeakCheckMode, stackTypes: readonly string[], injection: LeakInjection | null): LeakRegistry {
  if (!injection) return new LeakRegistry(mode, stackTypes);
  log().warn({ injection }, 'TEST-ONLY leak injection is active');
  return new InjectingLeakRegistry(injection, mode, stackTypes);
}
