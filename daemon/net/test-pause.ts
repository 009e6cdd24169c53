/**
 * Test-only pause point in port allocation, switched on by the environment variable
 * RTPENGINE_TS_TEST_PAUSE read once at start-up (never by an ng command):
 *   port-alloc:PATH   every port allocation, once its sockets are open, waits while the file
 *                     PATH exists (checked every 20 ms, at most 30 s)
 * It lets daemon tests hold a command at its await deterministically and race a teardown
 * (delete-delay, CLI terminate, timeout sweep, SIGTERM) against it. Off, it costs nothing:
 * InterfaceSet's hook stays null.
 */
import { existsSync } from 'node:fs';
import { log } from '../log/logger.js';

export const TEST_PAUSE_ENV = 'RTPENGINE_TS_TEST_PAUSE';
const POLL_MS = 20;
const MAX_PAUSE_MS = 30_000;

/** What InterfaceSet calls after opening a pair; null in production. */
export type AllocationPause = (what: string) => Promise<void>;

export function readTestPause(env: NodeJS.ProcessEnv = process.env): AllocationPause | null {
  const value = env[TEST_PAUSE_ENV];
  if (!value) return null;
  const match = /^port-alloc:(.+)$/.exec(value);
  if (!match) throw new Error(`${TEST_PAUSE_ENV}: expected port-alloc:PATH, got "${value}"`);
  const path = match[1] as string;
  return async (what: string) => {
    if (!existsSync(path)) return;
    log().warn({ what, path }, 'TEST-ONLY pause: port allocation waiting');
    const deadline = Date.now() + MAX_PAUSE_MS;
    while (existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
    log().warn({ what }, 'TEST-ONLY pause: port allocation resumed');
  };
}
