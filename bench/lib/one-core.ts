/**
 * One-core, side-by-side signalling measurements (issue 17): each daemon pinned to one core with
 * `taskset`, this load generator to the other, a fresh daemon per measurement, 32 ng requests in
 * flight, plain RTP/AVP offers with real caller ports and no media. The reference is rtpengine
 * from the system's packages (`rtpengine-daemon`, /usr/bin/rtpengine) when it is installed —
 * only a benchmark reference, never a dependency; without it the reference rows are skipped with
 * a message. Both daemons listen on loopback only, with the benchmarks' port range, and are
 * stopped by the PID this process started. `--baseline=DIR` adds another build (DIR/dist) as a
 * column, so before/after figures come from the same run; `--no-reference` leaves rtpengine out
 * (alternating rounds of our two builds only).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NgClient } from '../../support/ng-client.js';
import { freeUdpPort } from '../../support/ports.js';
import { sdpFor } from '../../support/sdp.js';
import { BENCH_PORTS, startDaemon } from './daemon.js';
import { cpuSecondsPrecise, REPO_ROOT, rssKiB, sleep, stopChild, track } from './proc.js';
import { fmt, hasFlag, percentile, table } from './stats.js';

export const IN_FLIGHT = 32;
const DAEMON_CORE = 0;
const GENERATOR_CORE = 1;

export interface Target {
  name: string;
  pid: number;
  ng: NgClient;
  stop(): Promise<number | null>;
  exited(): boolean;
}

export type TargetKind = 'ts' | 'ts-fast' | 'ts-baseline' | 'io-floor' | 'rtpengine';

/** --baseline=DIR: another checkout's build (its dist/daemon/main.js) measured in the same run. */
const baselineDir = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
/** --node-args='A B': options for node itself when it runs our daemon (both builds), e.g. V8 heap flags. */
const nodeArgs = (process.argv.find((a) => a.startsWith('--node-args='))?.slice('--node-args='.length) ?? '').split(' ').filter(Boolean);

/** Pins every thread of `pid` to `core`; false if taskset is missing or refused. */
export function pin(pid: number, core: number): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { encoding: 'utf8' });
  return r.status === 0;
}

export function pinGenerator(): boolean {
  return pin(process.pid, GENERATOR_CORE);
}

const REFERENCE_PATHS = ['/usr/bin/rtpengine', '/usr/sbin/rtpengine', '/usr/local/bin/rtpengine'];

/** The packaged rtpengine binary, or null (with the reason) when it is not installed. */
export function referenceBinary(): string | null {
  return REFERENCE_PATHS.find((p) => existsSync(p)) ?? null;
}

export const REFERENCE_MISSING = 'reference daemon: rtpengine is not installed (apt-get install rtpengine-daemon); ' +
  'the rtpengine columns and the ratios are skipped';

/** Interfaces of every measurement: 127.0.0.1 and ::1, each with its own 10,000-port pool (4 ports per call). */
const INTERFACES = ['127.0.0.1', '::1'];

export async function startReference(bin: string): Promise<Target> {
  const ngPort = await freeUdpPort();
  const [min, max] = BENCH_PORTS;
  return startPinged('rtpengine', bin, [
    '--config-file=none', '--foreground', '--log-stderr', '--log-level=4', '--table=-1',
    ...INTERFACES.map((i) => `--interface=${i}`),
    `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${min}`, `--port-max=${max}`,
    '--delete-delay=0', '--num-threads=1', '--media-num-threads=1',
  ], ngPort);
}

/** The I/O floor (bench/lib/io-floor-server.ts): our ng and socket I/O with an empty call model. */
async function startIoFloor(): Promise<Target> {
  const ngPort = await freeUdpPort();
  const [min, max] = BENCH_PORTS;
  return startPinged(KIND_NAME['io-floor'], process.execPath,
    [path.join(REPO_ROOT, 'dist', 'bench', 'lib', 'io-floor-server.js'), String(ngPort), String(min), String(max)], ngPort);
}

/** Starts `bin` and waits (15 s at most) until it answers an ng ping on `ngPort`. */
async function startPinged(name: string, bin: string, args: string[], ngPort: number): Promise<Target> {
  const child: ChildProcess = track(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (err.length < 100_000) err += c.toString('utf8');
  });
  const ng = new NgClient(ngPort, '127.0.0.1', { retries: 2 });
  const until = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited at start (${String(child.exitCode ?? child.signalCode)}): ${err.slice(-2000)}`);
    }
    try {
      await ng.ok({ command: 'ping' }, { timeoutMs: 300, retries: 0 });
      break;
    } catch {
      if (Date.now() > until) {
        await stopChild(child);
        throw new Error(`${name} did not answer ping in 15 s: ${err.slice(-2000)}`);
      }
    }
  }
  return {
    name,
    pid: child.pid!,
    ng,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: async () => {
      ng.close();
      return stopChild(child, 'SIGTERM', 15_000);
    },
  };
}

/** A fresh daemon of the kind, pinned to the daemon core. */
export async function startTarget(kind: TargetKind): Promise<Target> {
  let t: Target;
  if (kind === 'rtpengine') {
    const bin = referenceBinary();
    if (!bin) throw new Error(REFERENCE_MISSING);
    t = await startReference(bin);
  } else if (kind === 'io-floor') {
    t = await startIoFloor();
  } else {
    const d = await startDaemon({
      fastPath: kind === 'ts-fast', leakCheck: 'summary', extra: INTERFACES.slice(1).flatMap((i) => ['-i', i]),
      main: kind === 'ts-baseline' && baselineDir ? path.join(baselineDir, 'dist', 'daemon', 'main.js') : undefined,
      nodeArgs,
    });
    t = { name: KIND_NAME[kind], pid: d.pid, ng: d.ng, exited: d.exited, stop: () => d.stop() };
  }
  if (!pin(t.pid, DAEMON_CORE)) console.log(`  note: taskset could not pin ${t.name} (PID ${t.pid}) to core ${DAEMON_CORE}`);
  return t;
}

async function rssSettled(pid: number): Promise<number> {
  await sleep(1500);
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    xs.push(rssKiB(pid) ?? NaN);
    await sleep(300);
  }
  return xs.sort((a, b) => a - b)[1]!;
}

/**
 * Runs `count` jobs with at most IN_FLIGHT at once, stopping at `deadline`; returns how many ran.
 * `atHalf` runs once when half of them are done (the second-half CPU figures start there).
 */
async function inFlight(count: number, deadline: number, job: (i: number) => Promise<void>, atHalf?: () => void): Promise<{ done: number; errors: number; firstError: string }> {
  let next = 0;
  let done = 0;
  const half = Math.floor(count / 2);
  let errors = 0;
  let firstError = '';
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      try {
        await job(i);
        done++;
        if (done === half) atHalf?.();
      } catch (err) {
        errors++;
        if (!firstError) firstError = (err as Error).message.slice(0, 200);
      }
    }
  }));
  return { done, errors, firstError };
}

/** Calls alternate between IPv4 and IPv6 (each family has its own port pool). */
const v6 = (i: number) => i % 2 === 1;
/** The i-th call's offer: plain RTP/AVP with a real caller port, no media. */
export const offerMsg = (callId: string, i: number) => ({
  command: 'offer', 'call-id': callId, 'from-tag': `a${i}`,
  sdp: sdpFor({ address: v6(i) ? '::1' : '127.0.0.1', port: 30000 + (i % 5000) * 2 }),
  'address family': v6(i) ? 'IP6' : 'IP4',
});
export const answerMsg = (callId: string, i: number) => ({
  command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`,
  sdp: sdpFor({ address: v6(i) ? '::1' : '127.0.0.1', port: 40000 + (i % 5000) * 2 }),
  'address family': v6(i) ? 'IP6' : 'IP4',
});

async function warmUp(t: Target, tag: string): Promise<void> {
  // 200 calls set up and deleted: JIT, pools and first-use allocations are not measured
  await inFlight(200, Date.now() + 30_000, async (i) => {
    const id = `${tag}-warm-${i}`;
    await t.ng.ok(offerMsg(id, i));
    await t.ng.ok(answerMsg(id, i));
    await t.ng.ok({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
  });
}

export interface SetupResult {
  calls: number;
  errors: number;
  firstError: string;
  callsPerSec: number;
  offerP50: number;
  offerP99: number;
  rss0KiB: number;
  rssKiB: number;
  /** MB (10^6 bytes) of RSS per 1,000 established calls */
  mbPer1000: number;
  /** the daemon's own CPU time (all threads) per call set up, µs: not capped by the generator */
  cpuUsPerCall: number;
  /**
   * the same over the second half of the calls only: our daemon's JIT compiles most of its hot
   * code during the first few thousand commands (measured: ~2 s of CPU over the first 4,000
   * churn cycles), so this is nearer its steady state; rtpengine has no warm-up
   */
  cpuUsPerCallLastHalf: number;
}

/** A fresh daemon; `calls` calls set up (offer + answer) with 32 in flight and left established. */
export async function setupRun(kind: TargetKind, calls: number, maxSeconds: number): Promise<SetupResult> {
  const t = await startTarget(kind);
  try {
    const tag = `${process.pid}-${Date.now().toString(36)}-setup`;
    await warmUp(t, tag);
    const rss0 = await rssSettled(t.pid);
    const offerLat: number[] = [];
    const cpu0 = cpuSecondsPrecise(t.pid) ?? NaN;
    let cpuHalf = NaN;
    const t0 = process.hrtime.bigint();
    const r = await inFlight(calls, Date.now() + maxSeconds * 1000, async (i) => {
      const id = `${tag}-${i}`;
      const s = process.hrtime.bigint();
      await t.ng.ok(offerMsg(id, i));
      offerLat.push(Number(process.hrtime.bigint() - s) / 1e6);
      await t.ng.ok(answerMsg(id, i));
    }, () => (cpuHalf = cpuSecondsPrecise(t.pid) ?? NaN));
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (cpuSecondsPrecise(t.pid) ?? NaN) - cpu0;
    const rss = await rssSettled(t.pid);
    offerLat.sort((a, b) => a - b);
    return {
      calls: r.done, errors: r.errors, firstError: r.firstError, callsPerSec: r.done / elapsed,
      offerP50: percentile(offerLat, 0.5), offerP99: percentile(offerLat, 0.99),
      rss0KiB: rss0, rssKiB: rss, mbPer1000: r.done ? ((rss - rss0) * 1024 / 1e6) / (r.done / 1000) : NaN,
      cpuUsPerCall: r.done ? (cpu * 1e6) / r.done : NaN,
      cpuUsPerCallLastHalf: r.done === calls ? ((cpu + cpu0 - cpuHalf) * 1e6) / (calls - Math.floor(calls / 2)) : NaN,
    };
  } finally {
    await t.stop();
  }
}

export interface ChurnResult1 {
  cycles: number;
  errors: number;
  firstError: string;
  cyclesPerSec: number;
  rssStartKiB: number;
  rssEndKiB: number;
  /** MB (10^6 bytes) of RSS growth from after the warm-up to 1.5 s after the last delete */
  growthMB: number;
  /** the daemon's own CPU time (all threads) per offer/answer/delete cycle, µs */
  cpuUsPerCycle: number;
  /** the same over the second half of the cycles (after our daemon's JIT warm-up, see SetupResult) */
  cpuUsPerCycleLastHalf: number;
  /** this load generator's CPU time per cycle, µs: when it nears 1 s / cycles/s, the generator is the limit */
  generatorUsPerCycle: number;
}

/** A fresh daemon; `cycles` offer/answer/delete cycles (no media) with 32 in flight. */
export async function churnRun(kind: TargetKind, cycles: number, maxSeconds: number): Promise<ChurnResult1> {
  const t = await startTarget(kind);
  try {
    const tag = `${process.pid}-${Date.now().toString(36)}-churn`;
    await warmUp(t, tag);
    const rss0 = await rssSettled(t.pid);
    const cpu0 = cpuSecondsPrecise(t.pid) ?? NaN;
    let cpuHalf = NaN;
    const gen0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await inFlight(cycles, Date.now() + maxSeconds * 1000, async (i) => {
      const id = `${tag}-${i}`;
      await t.ng.ok(offerMsg(id, i));
      await t.ng.ok(answerMsg(id, i));
      await t.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': `a${i}`, 'delete-delay': 0 });
    }, () => (cpuHalf = cpuSecondsPrecise(t.pid) ?? NaN));
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (cpuSecondsPrecise(t.pid) ?? NaN) - cpu0;
    const rss = await rssSettled(t.pid);
    const gen = process.cpuUsage(gen0);
    return {
      cpuUsPerCycle: r.done ? (cpu * 1e6) / r.done : NaN,
      cpuUsPerCycleLastHalf: r.done === cycles ? ((cpu + cpu0 - cpuHalf) * 1e6) / (cycles - Math.floor(cycles / 2)) : NaN,
      generatorUsPerCycle: r.done ? (gen.user + gen.system) / r.done : NaN,
      cycles: r.done, errors: r.errors, firstError: r.firstError, cyclesPerSec: r.done / elapsed,
      rssStartKiB: rss0, rssEndKiB: rss, growthMB: ((rss - rss0) * 1024) / 1e6,
    };
  } finally {
    await t.stop();
  }
}

/** The kinds to measure: ours (JS path, optionally -t 0 too) and the reference when installed. */
export function kinds(withFastPath: boolean): TargetKind[] {
  const k: TargetKind[] = ['ts'];
  if (baselineDir) k.push('ts-baseline');
  if (withFastPath) k.push('ts-fast');
  if (hasFlag('floor')) k.push('io-floor');
  if (hasFlag('no-reference')) return k;
  if (referenceBinary()) k.push('rtpengine');
  else console.log(REFERENCE_MISSING);
  return k;
}

export const KIND_NAME: Record<TargetKind, string> = {
  ts: 'rtpengine-ts', 'ts-fast': 'rtpengine-ts -t 0', 'ts-baseline': 'baseline', 'io-floor': 'I/O floor', rtpengine: 'rtpengine',
};

export function header(): void {
  const pinned = pinGenerator();
  console.log(`one-core mode: each daemon pinned to core ${DAEMON_CORE}, this generator to core ${GENERATOR_CORE}` +
    `${pinned ? '' : ' (taskset failed: not pinned)'}; ${IN_FLIGHT} ng requests in flight; a fresh daemon per measurement; ` +
    `calls alternate 127.0.0.1 / ::1; no media`);
  const bin = referenceBinary();
  if (bin) {
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    console.log(`reference: ${bin} ${(v.stdout || v.stderr || '').trim().split('\n')[0] ?? ''}`);
  }
}

/**
 * Prints one table: a row per figure, a column per daemon, and the ratio ours / rtpengine per
 * measured kind of ours (for "lower is better" figures the ratio is still ours / rtpengine).
 */
export function printSideBySide(figures: Array<{ name: string; digits?: number; values: Partial<Record<TargetKind, number>> }>, ks: TargetKind[]): void {
  const ours = ks.filter((k) => k !== 'rtpengine');
  const hasRef = ks.includes('rtpengine');
  const head = ['figure', ...ks.map((k) => KIND_NAME[k]), ...(hasRef ? ours.map((k) => `${KIND_NAME[k]} / rtpengine`) : [])];
  const rows = figures.map((f) => [
    f.name,
    ...ks.map((k) => fmt(f.values[k], f.digits ?? 0)),
    ...(hasRef ? ours.map((k) => {
      const a = f.values[k];
      const b = f.values.rtpengine;
      return a !== undefined && b !== undefined && b !== 0 ? `${(a / b).toFixed(2)}x` : '-';
    }) : []),
  ]);
  console.log(table(head, rows));
}

/** Median of the rounds (2 rounds: their mean). */
export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
