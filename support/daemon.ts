/**
 * Starts the built daemon (dist/daemon/main.js) as a real process: ng on a free 127.0.0.1 port,
 * media on the given interfaces and port range, waits until it answers `ping`, keeps its output,
 * and stops it by PID (SIGTERM, SIGKILL after a bound). Tests and benchmarks wrap this with
 * their own defaults (test/helpers/daemon.ts, bench/lib/daemon.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NgClient } from './ng-client.js';
import { freeUdpPort } from './ports.js';
import { DAEMON_MAIN, REPO_ROOT } from './repo.js';
import { spawnTracked } from './children.js';
import { sleep } from './sleep.js';

export interface LaunchOptions {
  /** Media port range [min, max] (-m/-M). */
  portRange: [number, number];
  /** `-i` values, default ['127.0.0.1']. */
  interfaces?: string[];
  /** -L, default 7 (debug: tests read the log). */
  logLevel?: number;
  /** --leak-check, default 'fatal' (a leak at exit makes the exit code EXIT_LEAKS). */
  leakCheck?: 'fatal' | 'summary' | 'full' | 'off';
  /** Use the native fast path (`-t 0`); default off (`-t -1`). */
  fastPath?: boolean;
  fastPathThreads?: number;
  /** More daemon options, after (and so overriding) the ones above. */
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Another build's entry point (benchmarks compare a baseline build); default dist/daemon/main.js. */
  main?: string;
  /** Options for node itself, before the entry point (bench/profile: --cpu-prof, --heap-prof). */
  nodeArgs?: string[];
  /** How long to wait for the first `pong`, default 10 s. */
  readyTimeoutMs?: number;
  /** How long stop() waits before SIGKILL, default 10 s. */
  killAfterMs?: number;
  /** Default retransmits of the ng client (0 for tests; benchmarks retransmit under load). */
  ngRetries?: number;
  /** Bytes of output kept (the last ones), default 4 MB. */
  outputKeep?: number;
}

export interface LaunchedDaemon {
  ng: NgClient;
  ngPort: number;
  pid: number;
  child: ChildProcess;
  args: string[];
  portRange: [number, number];
  /** Everything the daemon wrote to stderr and stdout so far (the last `outputKeep` bytes). */
  output(): string;
  exited(): boolean;
  /** SIGTERM by default; resolves with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function launchDaemon(opts: LaunchOptions): Promise<LaunchedDaemon> {
  const main = opts.main ?? DAEMON_MAIN;
  if (!existsSync(main)) throw new Error(`${main} does not exist: run 'npm run build' first`);
  const ngPort = await freeUdpPort();
  const [min, max] = opts.portRange;
  const args = [
    ...(opts.nodeArgs ?? []),
    main,
    '--config-file=none',
    '-f', '-E', '-L', String(opts.logLevel ?? 7),
    '-n', `127.0.0.1:${ngPort}`,
    ...(opts.interfaces ?? ['127.0.0.1']).flatMap((i) => ['-i', i]),
    '-m', String(min),
    '-M', String(max),
    '-d', '0',
    `--leak-check=${opts.leakCheck ?? 'fatal'}`,
    '-t', opts.fastPath ? '0' : '-1',
    ...(opts.fastPath && opts.fastPathThreads ? ['--fast-path-threads', String(opts.fastPathThreads)] : []),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawnTracked(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keepBytes = opts.outputKeep ?? 4 * 1024 * 1024;
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > keepBytes) out = out.slice(out.length - keepBytes);
  };
  child.stderr!.on('data', keep);
  // stdout is drained so the daemon can never block on a full pipe; it is kept with stderr
  child.stdout!.on('data', keep);
  child.once('error', (err) => {
    out += `\n[spawn error] ${err.message}\n`;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const ng = new NgClient(ngPort, '127.0.0.1', { retries: opts.ngRetries ?? 0 });
  const readyMs = opts.readyTimeoutMs ?? 10_000;
  const started = Date.now();
  let ok = false;
  while (Date.now() - started < readyMs && !hasExited()) {
    try {
      const r = await ng.request({ command: 'ping' }, { timeoutMs: 200, retries: 0 });
      if (r.result === 'pong') {
        ok = true;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  if (!ok) {
    ng.close();
    if (!hasExited()) {
      child.kill('SIGKILL');
      await exited;
    }
    throw new Error(
      `daemon did not answer ping within ${readyMs / 1000} s (exit code ${String(child.exitCode)}, signal ${String(child.signalCode)})\n` +
      `command: node ${args.join(' ')}\n--- daemon output ---\n${out.slice(-20_000)}`,
    );
  }

  const killAfterMs = opts.killAfterMs ?? 10_000;
  return {
    ng,
    ngPort,
    pid: child.pid!,
    child,
    args,
    portRange: [min, max],
    output: () => out,
    exited: hasExited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      ng.close();
      if (hasExited()) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => {
        if (!hasExited()) child.kill('SIGKILL');
      }, killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
