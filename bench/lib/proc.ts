/**
 * Process helpers for the benchmarks: children that are always cleaned up (support/children.ts,
 * plus a message and exit 130 on SIGINT/SIGTERM and a kill on uncaught errors), /proc readers
 * for CPU and RSS, and the paths of the C tools (built on first use).
 */
import { spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { killTracked as killAll, spawnTracked } from '../../support/children.js';
import { REPO_ROOT } from '../../support/repo.js';

export { DAEMON_MAIN, REPO_ROOT } from '../../support/repo.js';
export { sleep } from '../../support/sleep.js';

export const BENCH_DIR = path.join(REPO_ROOT, 'bench');
export const OUT_DIR = path.join(BENCH_DIR, 'out');

let hooks = false;

/** The benchmarks' way of stopping: say so, let children end (SIGTERM), exit 130; kill on a crash. */
export function installBenchHooks(): void {
  if (hooks) return;
  hooks = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping the benchmark and its child processes`);
      killAll('SIGTERM');
      setTimeout(() => process.exit(130), 300).unref();
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('uncaught exception:', err);
    killAll('SIGKILL');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('unhandled rejection:', err);
    killAll('SIGKILL');
    process.exit(1);
  });
}

/** spawn() whose child is killed (by its PID) when this process exits for any reason. */
export function track(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  installBenchHooks();
  return spawnTracked(cmd, args, opts);
}

/** Waits for a child to exit (resolves its exit code, null if signalled); SIGKILL after `killAfterMs`. */
export function waitExit(child: ChildProcess, killAfterMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      if (child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  if (child.pid) {
    try {
      process.kill(child.pid, signal);
    } catch {
      /* gone */
    }
  }
  return waitExit(child, killAfterMs);
}

let clkTck = 0;
export function clockTicks(): number {
  if (!clkTck) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clkTck = Number(r.stdout?.trim()) || 100;
  }
  return clkTck;
}

/** utime+stime of a process (all its threads), in seconds; null if it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm)": state=0 ... utime=11 stime=12
    return (Number(f[11]) + Number(f[12])) / clockTicks();
  } catch {
    return null;
  }
}

/** Sum of sum_exec_runtime over all threads (ns precision), seconds; falls back to /proc/PID/stat. */
export function cpuSecondsPrecise(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* thread gone */
      }
    }
    return ns / 1e9;
  } catch {
    return cpuSeconds(pid);
  }
}

/** VmRSS in KiB, null if the process is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Whole-machine CPU: busy and total jiffies from /proc/stat (for "what else was running"). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
}

export function ncpu(): number {
  return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length || 1;
}

/** Builds bench/out/blaster and bench/out/reference-forwarder when missing; returns their paths. */
export function cTools(): { blaster: string; reference: string } {
  const blaster = path.join(OUT_DIR, 'blaster');
  const reference = path.join(OUT_DIR, 'reference-forwarder');
  if (!existsSync(blaster) || !existsSync(reference)) {
    console.log('building the C tools (bench/build-tools.mjs) ...');
    const r = spawnSync(process.execPath, [path.join(BENCH_DIR, 'build-tools.mjs')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/build-tools.mjs failed (is a C compiler installed?)');
  }
  return { blaster, reference };
}

/** Splits a child's stdout into lines and hands each to the waiter queue. */
export class LineReader {
  private buf = '';
  private readonly lines: string[] = [];
  private readonly waiters: Array<(l: string | null) => void> = [];
  private ended = false;

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    stream.on('end', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  next(timeoutMs: number): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.reject(new Error('stream ended'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no line within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (line: string | null) => {
        clearTimeout(t);
        if (line === null) reject(new Error('stream ended'));
        else resolve(line);
      };
      this.waiters.push(w);
    });
  }
}
