/**
 * Spawns the built daemon (dist/daemon/main.js) as a real process for daemon tests.
 *
 * Every daemon gets its own ng port (a free UDP port on 127.0.0.1) and a media port range that
 * is distinct per vitest worker, so test files running in parallel never collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NgClient } from './ng-client.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The daemon entry point; RTPENGINE_TS_DAEMON_MAIN overrides it (e.g. to test another build). */
export const DAEMON_MAIN = process.env.RTPENGINE_TS_DAEMON_MAIN ?? path.join(REPO_ROOT, 'dist', 'daemon', 'main.js');

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

const STDERR_KEEP = 4 * 1024 * 1024;
const PORT_BLOCK = 4000;
const PORT_BASE = 20000;
const PORT_BLOCKS = 10; // 20000-59999
/** Matches maxWorkers in vitest.config.ts: the blocks are shared out among this many workers. */
const WORKERS = 2;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
let blockCounter = 0;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAll);
  // a test process stopped by a signal does not run 'exit' handlers: kill the daemons, then
  // let the signal do what it would have done
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** A UDP port that was free a moment ago (bind to 0, read the port, close). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The next media port block of this worker: distinct per VITEST_POOL_ID and per call. */
export function nextPortRange(): [number, number] {
  const poolId = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '1') || 1;
  const perWorker = Math.floor(PORT_BLOCKS / WORKERS);
  const block = ((poolId - 1) % WORKERS + WORKERS * (blockCounter++ % perWorker)) % PORT_BLOCKS;
  const min = PORT_BASE + block * PORT_BLOCK;
  return [min, min + PORT_BLOCK - 1];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startDaemon(extraArgs: string[] = [], opts: DaemonOptions = {}): Promise<DaemonHandle> {
  if (!existsSync(DAEMON_MAIN)) {
    throw new Error(`${DAEMON_MAIN} does not exist: run 'npm run build' first`);
  }
  installExitHook();
  const ngPort = await freeUdpPort();
  const portRange = opts.portRange ?? nextPortRange();
  const interfaces = opts.interfaces ?? ['127.0.0.1'];
  const args = [
    DAEMON_MAIN,
    '--config-file=none',
    '-f', '-E', '-L', '7',
    '-n', `127.0.0.1:${ngPort}`,
    ...interfaces.flatMap((i) => ['-i', i]),
    '-m', String(portRange[0]),
    '-M', String(portRange[1]),
    '-d', '0',
    `--leak-check=${opts.leakCheck ?? 'fatal'}`,
    '-t', opts.fastPath ? '0' : '-1',
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let errText = '';
  const keep = (chunk: Buffer) => {
    errText += chunk.toString('utf8');
    if (errText.length > STDERR_KEEP) errText = errText.slice(errText.length - STDERR_KEEP);
  };
  child.stderr!.on('data', keep);
  // stdout is drained so the daemon can never block on a full pipe; it is kept with stderr
  child.stdout!.on('data', keep);

  let exitCode: number | null | undefined;
  let exitSignal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      live.delete(child);
      resolve(code);
    });
  });
  child.once('error', (err) => {
    errText += `\n[spawn error] ${err.message}\n`;
  });

  const ng = new NgClient(ngPort);
  const started = Date.now();
  let ok = false;
  while (Date.now() - started < 10_000) {
    if (exitCode !== undefined) break;
    try {
      const r = await ng.request({ command: 'ping' }, { timeoutMs: 200 });
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
    if (exitCode === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    throw new Error(
      `daemon did not answer ping within 10 s (exit code ${String(exitCode)}, signal ${String(exitSignal)})\n` +
      `command: node ${args.join(' ')}\n--- daemon output ---\n${errText.slice(-20_000)}`,
    );
  }

  const handle: DaemonHandle = {
    ng,
    ngPort,
    pid: child.pid!,
    portRange,
    stderr: () => errText,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      ng.close();
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const timer = setTimeout(() => {
        if (exitCode === undefined) child.kill('SIGKILL');
      }, 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return handle;
}
