/**
 * A CallContext for object-level tests of the call logic: the real config parser, interface
 * set, leak registry and counters, and real dgram sockets on 127.0.0.1 (ports from a range of
 * their own, apart from the daemon tests' blocks) — no daemon process, no ng transport.
 */
import type { CallContext } from '../../daemon/call/context.js';
import { inProcessCallContext } from '../../support/call-context.js';
import { parseNgFlags } from '../../daemon/control/call-flags.js';
import type { BencodeDict } from '../../daemon/control/bencode.js';
import type { NgFlags } from '../../daemon/call/flags.js';
import { initLogger } from '../../daemon/log/logger.js';

/**
 * Media ports of the object-level call tests, in 14000-15999: below the daemon tests' per-worker
 * blocks (20000-59999) and apart from the 1,000-call test's 61000-65535, which run in parallel.
 * deferred-packets uses 14000-14099, handler-chain 15000-15099, teardown-lock 15100-15203.
 */
export const CALL_UNIT_PORTS: [number, number] = [14100, 14999];

// warnings and errors only: the call logic logs every call's life at info
initLogger(4, 'json');

export function callContext(args: string[] = [], overrides: Partial<CallContext> = {}): CallContext {
  return inProcessCallContext(['-i', '127.0.0.1', '-m', String(CALL_UNIT_PORTS[0]), '-M', String(CALL_UNIT_PORTS[1]), ...args], overrides);
}

/** NgFlags as the ng parser makes them from a message (bencode dictionary shape). */
export function ngFlags(msg: Record<string, unknown>): NgFlags {
  return parseNgFlags(msg as BencodeDict);
}

/** Every call-owned type's live count is 0 and nothing leaked or was released twice. */
export function leakState(ctx: CallContext): { live: Record<string, number>; leaked: number; doubleRelease: number } {
  const live = Object.fromEntries(Object.entries(ctx.leaks.liveCountsByType()).filter(([, n]) => n !== 0));
  return { live, leaked: ctx.leaks.leaked, doubleRelease: ctx.leaks.doubleRelease };
}

export const NO_LEAKS = { live: {}, leaked: 0, doubleRelease: 0 };

/** An SDP body (CRLF) from lines. */
export function sdp(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}
