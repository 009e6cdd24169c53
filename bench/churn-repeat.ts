/**
 * bench/churn-repeat: the leak audit's false-alarm check. Runs the churn (bench/lib/churn-load:
 * offer / answer / RTP both ways / delete, -d 0) against a fresh daemon started with
 * --leak-check=fatal, --runs times (default 20) of --cycles cycles (default 2,000) each, and
 * prints per run: cycles done, the settled leak report (`reachableAfterRelease`, the holders of
 * anything still reachable, `transientReachable`: objects seen held once and gone at the second
 * look), leaked / double releases, the "still reachable" line of the daemon's exit summary and
 * its exit code after SIGTERM (non-zero: the audit failed). A summary line at the end.
 *
 * Usage: node dist/bench/churn-repeat.js [--quick] [--runs=20] [--cycles=2000] [--window=50] [--packets=3]
 *        [--fast-path | --both] [--max-seconds=120]   (--max-seconds bounds each run;
 *        --quick: 2 runs of 500 cycles)
 */
import { runChurn, type LeakCounts } from './lib/churn-load.js';
import { startDaemon } from './lib/daemon.js';
import { ncpu } from './lib/proc.js';
import { argValue, fmt, hasFlag, table } from './lib/stats.js';

const quick = hasFlag('quick');
const runs = Number(argValue('runs') ?? (quick ? 2 : 20));
const cycles = Number(argValue('cycles') ?? (quick ? 500 : 2000));
const windowSize = Number(argValue('window') ?? 50);
const packets = Number(argValue('packets') ?? 3);
const maxSeconds = Number(argValue('max-seconds') ?? 120);
const paths: boolean[] = hasFlag('both') ? [false, true] : [hasFlag('fast-path')];

interface RunRow {
  path: string;
  run: number;
  done: number;
  failed: number;
  rtpMissing: number;
  seconds: number;
  reachable: number | null;
  transient: number | null;
  leaked: number | null;
  doubleRelease: number | null;
  liveNonZero: string;
  exitSummaryReachable: string;
  exitCode: number | null;
  holders: string;
}

type Reachable = { type: string; callId: string; holder?: string };

async function oneRun(fastPath: boolean, run: number): Promise<RunRow> {
  const d = await startDaemon({ fastPath, leakCheck: 'fatal' });
  const result = await runChurn(d, { cycles, window: windowSize, packets, maxSeconds });
  type Report = LeakCounts & { reachableObjects?: Reachable[] };
  let report: Report | null = null;
  try {
    // leak-report waits until the audit has judged everything released so far
    report = (await d.ng.request({ command: 'leak-report' }, { timeoutMs: 10_000, retries: 0 })) as unknown as Report;
  } catch (err) {
    console.log(`  leak-report failed: ${(err as Error).message}`);
  }
  const exitCode = await d.stop();
  const summary = /still reachable after release: (\d+ objects \([^)]*\))/.exec(d.output());
  const live = Object.entries(report?.live ?? {}).filter(([, v]) => v !== 0);
  const holders = (report?.reachableObjects ?? []).map((o) => `${o.type} held by ${o.holder ?? '?'}`);
  return {
    path: fastPath ? 'fast path (-t 0)' : 'JS path (-t -1)',
    run,
    done: result.done,
    failed: result.failed,
    rtpMissing: result.rtpMissing,
    seconds: result.elapsedSec,
    reachable: report?.reachableAfterRelease ?? null,
    transient: report?.transientReachable ?? null,
    leaked: report?.leaked ?? null,
    doubleRelease: report?.doubleRelease ?? null,
    liveNonZero: live.length ? JSON.stringify(Object.fromEntries(live)) : 'all zero',
    exitSummaryReachable: summary ? (summary[1] as string) : '(no exit summary)',
    exitCode,
    holders: [...new Set(holders)].join('; '),
  };
}

async function main(): Promise<void> {
  console.log(`bench/churn-repeat: ${runs} fresh-daemon runs of ${fmt(cycles)} churn cycles (offer/answer/${packets} RTP each way/delete), ` +
    `${windowSize} calls in flight, --leak-check=fatal, -d 0, ${paths.map((f) => (f ? '-t 0' : '-t -1')).join(' then ')}; each run bounded to ${maxSeconds} s`);
  console.log(`machine: ${ncpu()} core(s), shared by the daemon and this load generator; other processes may have been running.\n`);
  const rows: RunRow[] = [];
  for (const fastPath of paths) {
    for (let run = 1; run <= runs; run++) {
      const row = await oneRun(fastPath, run);
      rows.push(row);
      console.log(`${row.path} run ${String(run).padStart(2)}: ${fmt(row.done)}/${fmt(cycles)} cycles in ${row.seconds.toFixed(1)} s, ` +
        `reachableAfterRelease: ${row.reachable ?? '?'}, transientReachable: ${row.transient ?? '?'}, leaked: ${row.leaked ?? '?'}, ` +
        `doubleRelease: ${row.doubleRelease ?? '?'}, live: ${row.liveNonZero}, exit code: ${String(row.exitCode)}` +
        `${row.holders ? `, holders: ${row.holders}` : ''}${row.failed ? `, failed cycles: ${row.failed}` : ''}`);
    }
  }
  console.log('');
  console.log(table(
    ['path', 'run', 'cycles', 'failed', 'RTP missing', 's', 'reachableAfterRelease', 'transient', 'leaked', 'double', 'exit summary: still reachable', 'exit code'],
    rows.map((r) => [r.path, String(r.run), fmt(r.done), String(r.failed), String(r.rtpMissing), r.seconds.toFixed(1), String(r.reachable ?? '?'),
      String(r.transient ?? '?'), String(r.leaked ?? '?'), String(r.doubleRelease ?? '?'), r.exitSummaryReachable, String(r.exitCode)]),
  ));
  for (const fastPath of paths) {
    const mine = rows.filter((r) => r.path === (fastPath ? 'fast path (-t 0)' : 'JS path (-t -1)'));
    const clean = mine.filter((r) => r.reachable === 0 && r.leaked === 0 && r.doubleRelease === 0 && r.exitCode === 0 && r.done === cycles && r.liveNonZero === 'all zero');
    const transient = mine.reduce((n, r) => n + (r.transient ?? 0), 0);
    console.log(`\n${mine[0]?.path ?? ''}: ${clean.length} of ${mine.length} runs clean (all ${fmt(cycles)} cycles, reachableAfterRelease 0, nothing leaked, exit 0); ` +
      `transient holders seen and waited out: ${transient}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
