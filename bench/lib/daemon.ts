/**
 * Starts the built daemon (dist/daemon/main.js) for a benchmark: ng on a free 127.0.0.1 port,
 * media on 127.0.0.1 in a port range below the tests' range (tests use 20000-59999), waits for
 * `ping`, and stops it with SIGTERM (exit code returned; SIGKILL after 15 s).
 */
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { NgClient } from './ng.js';
import { DAEMON_MAIN, REPO_ROOT, sleep, stopChild, track } from './proc.js';

export interface BenchDaemon {
  pid: number;
  ngPort: number;
  ng: NgClient;
  child: ChildProcess;
  args: string[];
  output(): string;
  exited(): boolean;
  stop(): Promise<number | null>;
}

export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface DaemonOpts {
  /** -t 0 (native fast path) instead of -t -1 */
  fastPath?: boolean;
  fastPathThreads?: number;
  leakCheck?: 'off' | 'summary' | 'full' | 'fatal';
  portRange?: [number, number];
  extra?: string[];
}

/** The default media port range of the benchmarks: 10000-19999 (the daemon tests use 20000-59999). */
export const BENCH_PORTS: [number, number] = [10000, 19999];

export async function startDaemon(opts: DaemonOpts = {}): Promise<BenchDaemon> {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} missing: run 'npm run build' first`);
  const ngPort = await freeUdpPort();
  const [min, max] = opts.portRange ?? BENCH_PORTS;
  const args = [
    DAEMON_MAIN, '--config-file=none', '-f', '-E', '-L', '4',
    '-n', `127.0.0.1:${ngPort}`, '-i', '127.0.0.1',
    '-m', String(min), '-M', String(max), '-d', '0',
    '-t', opts.fastPath ? '0' : '-1',
    ...(opts.fastPath && opts.fastPathThreads ? ['--fast-path-threads', String(opts.fastPathThreads)] : []),
    `--leak-check=${opts.leakCheck ?? 'summary'}`,
    ...(opts.extra ?? []),
  ];
  const child = track(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const ng = new NgClient(ngPort);
  const t0 = Date.now();
  let ok = false;
  while (Date.now() - t0 < 15_000 && child.exitCode === null) {
    try {
      const r = await ng.request({ command: 'ping' }, 300, 0);
      if (r.result === 'pong') {
        ok = true;
        break;
      }
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  if (!ok) {
    ng.close();
    await stopChild(child, 'SIGKILL');
    throw new Error(`daemon did not answer ping\ncommand: node ${args.join(' ')}\n${out.slice(-5000)}`);
  }
  return {
    pid: child.pid!,
    ngPort,
    ng,
    child,
    args,
    output: () => out,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      ng.close();
      return stopChild(child, 'SIGTERM', 15_000);
    },
  };
}
