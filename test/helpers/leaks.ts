/**
 * The zero-leak assertion every daemon test file ends with.
 */
import { expect } from 'vitest';
import type { DaemonHandle } from './daemon.js';
import type { NgReply } from './ng-client.js';
import { EXIT_OK } from '../../daemon/exit-codes.js';

interface LeakReport {
  leaked: number;
  doubleRelease: number;
  reachableAfterRelease: number;
  live: Record<string, number>;
}

function liveNonZero(leaks: LeakReport | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(leaks?.live ?? {})) if (v !== 0) out[k] = v;
  return out;
}

/**
 * Asserts via `statistics` that the daemon owns no call objects any more (no leaks, no double
 * releases, every live count of the call-owned types at 0), then stops the daemon and asserts
 * exit code 0 (it runs with --leak-check=fatal, so a leak found at exit fails too).
 *
 * Teardown may finish asynchronously (sockets closing), so live counts get up to 3 s to drain.
 */
export async function expectNoLeaks(d: DaemonHandle): Promise<void> {
  let reply: NgReply | undefined;
  try {
    const deadline = Date.now() + 3000;
    for (;;) {
      reply = await d.ng.request({ command: 'statistics' });
      const leaks = reply.leaks as LeakReport | undefined;
      const settled = leaks !== undefined && leaks.leaked === 0 && leaks.doubleRelease === 0 &&
        Object.keys(liveNonZero(leaks)).length === 0;
      if (settled || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reply.result, 'statistics result').toBe('ok');
    expect(reply.leaks, 'statistics reply has a "leaks" key').toBeDefined();
    const leaks = reply.leaks as LeakReport;
    expect(leaks.leaked, 'leaks.leaked').toBe(0);
    expect(leaks.doubleRelease, 'leaks.doubleRelease').toBe(0);
    expect(leaks.reachableAfterRelease, 'leaks.reachableAfterRelease').toBe(0);
    expect(leaks.live, 'leaks.live').toBeTypeOf('object');
    expect(liveNonZero(leaks), 'call-owned objects still alive (leaks.live)').toEqual({});
  } catch (err) {
    // do not leave the daemon running when the assertion fails
    await d.stop('SIGKILL').catch(() => undefined);
    throw err;
  }
  const code = await d.stop();
  // the exit code only means something if the shutdown audit really ran to its end
  expect(d.stderr(), 'the daemon printed its LEAK SUMMARY at exit').toMatch(/LEAK SUMMARY:\n   in use at exit: 0 objects/);
  expect(code, `daemon exit code after SIGTERM (--leak-check=fatal)\n--- daemon output tail ---\n${d.stderr().slice(-4000)}`)
    .toBe(EXIT_OK);
}
