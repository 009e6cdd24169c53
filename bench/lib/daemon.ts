/**
 * The benchmarks' launcher: the shared one (support/daemon.ts) with the benchmarks' defaults —
 * media in a port range below the tests' (tests use 20000-59999), log level 4, leak summary,
 * ng retransmits under load, 15 s to start and to stop.
 */
import { launchDaemon, type LaunchedDaemon } from '../../support/daemon.js';
import { installBenchHooks } from './proc.js';

export type BenchDaemon = LaunchedDaemon;

export { freeUdpPort } from '../../support/ports.js';

export interface DaemonOpts {
  /** -t 0 (native fast path) instead of -t -1 */
  fastPath?: boolean;
  fastPathThreads?: number;
  leakCheck?: 'off' | 'summary' | 'full' | 'fatal';
  portRange?: [number, number];
  extra?: string[];
  /** Another build's dist/daemon/main.js (a baseline to compare with). */
  main?: string;
  /** Options for node itself (V8 flags, profilers). */
  nodeArgs?: string[];
}

/** The default media port range of the benchmarks: 10000-19999 (the daemon tests use 20000-59999). */
export const BENCH_PORTS: [number, number] = [10000, 19999];

export function startDaemon(opts: DaemonOpts = {}): Promise<BenchDaemon> {
  installBenchHooks();
  return launchDaemon({
    portRange: opts.portRange ?? BENCH_PORTS,
    logLevel: 4,
    leakCheck: opts.leakCheck ?? 'summary',
    fastPath: opts.fastPath,
    fastPathThreads: opts.fastPathThreads,
    extraArgs: opts.extra,
    main: opts.main,
    nodeArgs: opts.nodeArgs,
    readyTimeoutMs: 15_000,
    killAfterMs: 15_000,
    ngRetries: 2,
    outputKeep: 2_000_000,
  });
}
