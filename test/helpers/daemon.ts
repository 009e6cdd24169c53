/**
 * The daemon tests' launcher: the shared one (support/daemon.ts) with the tests' defaults.
 *
 * Every daemon gets its own ng port (a free UDP port on 127.0.0.1) and a media port range that
 * is distinct per vitest worker, so test files running in parallel never collide.
 */
import { launchDaemon } from '../../support/daemon.js';
import type { NgClient } from '../../support/ng-client.js';

export { DAEMON_MAIN, REPO_ROOT } from '../../support/repo.js';
export { freeUdpPort } from '../../support/ports.js';

export interface DaemonOptions {
  env?: Record<string, string>;
  /** `-i` values, default ['127.0.0.1']. */
  interfaces?: string[];
  /** Media port range [min, max]; default: a 4000-port block reserved for this worker. */
  portRange?: [number, number];
  /** --leak-check mode, default 'fatal' (a leak at exit makes the exit code non-zero). */
  leakCheck?: 'fatal' | 'summary' | 'full' | 'off';
  /** Use the native fast path (`-t 0`); default off (`-t -1`). */
  fastPath?: boolean;
}

export interface DaemonHandle {
  ng: NgClient;
  ngPort: number;
  pid: number;
  portRange: [number, number];
  /** Everything the daemon wrote to stderr so far (the last few MB). */
  stderr(): string;
  /** SIGTERM by default; resolves with the exit code (null if killed by a signal); SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const PORT_BLOCK = 4000;
const PORT_BASE = 20000;
const PORT_BLOCKS = 10; // 20000-59999
/** Matches maxWorkers in vitest.config.ts: the blocks are shared out among this many workers. */
const WORKERS = 2;

let blockCounter = 0;

/** The next media port block of this worker: distinct per VITEST_POOL_ID and per call. */
export function nextPortRange(): [number, number] {
  const poolId = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '1') || 1;
  const perWorker = Math.floor(PORT_BLOCKS / WORKERS);
  const block = ((poolId - 1) % WORKERS + WORKERS * (blockCounter++ % perWorker)) % PORT_BLOCKS;
  const min = PORT_BASE + block * PORT_BLOCK;
  return [min, min + PORT_BLOCK - 1];
}

export async function startDaemon(extraArgs: string[] = [], opts: DaemonOptions = {}): Promise<DaemonHandle> {
  const d = await launchDaemon({
    portRange: opts.portRange ?? nextPortRange(),
    interfaces: opts.interfaces,
    leakCheck: opts.leakCheck ?? 'fatal',
    fastPath: opts.fastPath,
    extraArgs,
    env: opts.env,
  });
  return { ng: d.ng, ngPort: d.ngPort, pid: d.pid, portRange: d.portRange, stderr: d.output, stop: d.stop };
}
