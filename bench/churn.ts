/**
 * bench/churn: call churn against a daemon started with --leak-check=fatal and -d 0.
 *
 * N cycles (default 100,000; --cycles) of offer / answer / a few RTP packets each way (sent by
 * two local UDP peers, checked on arrival) / delete, with at most --window calls in flight
 * (default 50), as fast as the daemon answers. Prints calls/s, `leaks.live` per type at the end
 * (must all be zero), leaked / doubleRelease / reachableAfterRelease, the daemon's RSS at start,
 * peak and end (VmRSS sampled every 500 ms) and the RSS growth per 10,000 calls (least-squares
 * fit over the samples after the warm-up), then stops the daemon with SIGTERM and prints its exit
 * code (non-zero: the leak check failed).
 *
 * --one-core (issue 17): instead, offer/answer/delete cycles without media (default 20,000), each
 * daemon pinned to one core and this generator to the other (taskset), 32 requests in flight, a
 * fresh daemon per measurement, side by side with the packaged rtpengine (`rtpengine-daemon`)
 * when installed: cycles/s, RSS growth after the churn, and the ratios ours / rtpengine.
 *
 * Usage: node dist/bench/churn.js [--quick] [--cycles=100000] [--window=50] [--packets=3]
 *        [--fast-path] [--max-seconds=900]
 *        node dist/bench/churn.js --one-core [--cycles=20000] [--rounds=2] [--fast-path] [--floor] [--baseline=DIR] [--max-seconds=120]
 * --floor adds the I/O floor (bench/lib/io-floor-server.ts) as a column: our ng transport,
 * dispatcher and media-socket I/O with an empty call model, a lower bound for the daemon.
 */
import { rateText, runChurn, type LeakCounts } from './lib/churn-load.js';
import { startDaemon } from './lib/daemon.js';
import { ncpu, rssKiB, sleep } from './lib/proc.js';
import { argValue, fmt, hasFlag, linearFit, table } from './lib/stats.js';
import { churnRun, header, kinds, median, printSideBySide, type ChurnResult1, type TargetKind } from './lib/one-core.js';

const quick = hasFlag('quick');
const cycles = Number(argValue('cycles') ?? (quick ? 2000 : 100_000));
const windowSize = Number(argValue('window') ?? 50);
const packets = Number(argValue('packets') ?? 3);
const fastPath = hasFlag('fast-path');
const maxSeconds = Number(argValue('max-seconds') ?? (quick ? 60 : 900));

async function oneCore(): Promise<void> {
  const n = Math.min(1_000_000, Number(argValue('cycles') ?? (quick ? 2000 : 20_000)));
  const rounds = Math.min(5, Math.max(1, Number(argValue('rounds') ?? 2)));
  const bound = Number(argValue('max-seconds') ?? 120);
  console.log(`bench/churn --one-core: ${fmt(n)} offer/answer/delete cycles (no media), median of ${rounds} round(s), each bounded to ${bound} s`);
  header();
  const ks = kinds(fastPath);
  const res: Partial<Record<TargetKind, ChurnResult1[]>> = {};
  for (let r = 0; r < rounds; r++) {
    for (const k of ks) {
      const x = await churnRun(k, n, bound);
      (res[k] ??= []).push(x);
      console.log(`  round ${r + 1}, ${k}: ${fmt(x.cyclesPerSec)} cycles/s (${fmt(x.cycles)} cycles, ${x.errors} errors${x.firstError ? `: ${x.firstError}` : ''}), ` +
        `RSS ${fmt(x.rssStartKiB / 1024, 1)} -> ${fmt(x.rssEndKiB / 1024, 1)} MiB, daemon CPU ${fmt(x.cpuUsPerCycle)} µs/cycle (second half ${fmt(x.cpuUsPerCycleLastHalf)}), generator CPU ${fmt(x.generatorUsPerCycle)} µs/cycle`);
    }
  }
  const fig = (f: (x: ChurnResult1) => number) =>
    Object.fromEntries(ks.map((k) => [k, median((res[k] ?? []).map(f))])) as Partial<Record<TargetKind, number>>;
  console.log('');
  printSideBySide([
    { name: `churn cycles/s (${fmt(n)} cycles)`, values: fig((x) => x.cyclesPerSec) },
    { name: `RSS growth after ${fmt(n)} cycles, MB`, digits: 1, values: fig((x) => x.growthMB) },
    { name: 'daemon CPU per cycle, µs (lower is better)', values: fig((x) => x.cpuUsPerCycle) },
    { name: 'the same, second half of the cycles (JIT warm), µs', values: fig((x) => x.cpuUsPerCycleLastHalf) },
  ], ks);
}

async function main(): Promise<void> {
  if (hasFlag('one-core')) return oneCore();
  console.log(`bench/churn${quick ? ' (--quick)' : ''}: ${fmt(cycles)} cycles of offer/answer/${packets} RTP each way/delete, ` +
    `${windowSize} calls in flight, ${fastPath ? 'native fast path (-t 0)' : 'JS path (-t -1)'}, --leak-check=fatal, -d 0; ` +
    `bounded to ${maxSeconds} s`);
  console.log(`machine: ${ncpu()} core(s), shared by the daemon and this load generator (node); other processes may have been running.`);
  const d = await startDaemon({ fastPath, leakCheck: 'fatal' });
  const pid = d.pid;
  const samples: Array<{ t: number; done: number; rss: number }> = [];
  let done = 0;
  const t0 = Date.now();
  const rssStart = rssKiB(pid) ?? 0;
  samples.push({ t: 0, done: 0, rss: rssStart });
  const sampler = setInterval(() => {
    const r = rssKiB(pid);
    if (r !== null) samples.push({ t: (Date.now() - t0) / 1000, done, rss: r });
  }, 500);
  const result = await runChurn(d, {
    cycles, window: windowSize, packets, maxSeconds,
    onCycle: (n) => (done = n),
    progress: (n, failedSoFar, el) => {
      console.log(`  ${rateText(n, el)}, RSS ${fmt((rssKiB(pid) ?? 0) / 1024, 1)} MiB, failed ${failedSoFar}`);
    },
  });
  done = result.done;
  const { failed, rtpMissing, firstError, stopReason } = result;
  const elapsed = result.elapsedSec;
  clearInterval(sampler);
  await sleep(1000);
  const rssEnd = rssKiB(pid) ?? NaN;
  samples.push({ t: (Date.now() - t0) / 1000, done, rss: rssEnd });

  let stats: Record<string, unknown> | null = null;
  try {
    stats = await d.ng.request({ command: 'statistics' });
  } catch (err) {
    console.log(`statistics failed: ${(err as Error).message}`);
  }
  const exitCode = await d.stop();

  const leaks = (stats?.leaks ?? {}) as LeakCounts;
  const live = leaks.live ?? {};
  const liveNonZero = Object.entries(live).filter(([, v]) => v !== 0);
  const total = ((stats?.statistics as Record<string, unknown> | undefined)?.totalstatistics ?? {}) as Record<string, number>;
  const peak = Math.max(...samples.map((s) => s.rss));
  const warm = Math.min(10_000, Math.floor(done * 0.1));
  const fitSamples = samples.filter((s) => s.done >= warm && s.done < done);
  const fit = linearFit(fitSamples.map((s) => s.done), fitSamples.map((s) => s.rss));
  // time-bounded caches (the ng cookie cache keeps replies for a while) make RSS ramp up for the
  // first minute or so; the fit over the second half of the run shows growth once they are full
  const half = samples.filter((s) => s.done >= done / 2 && s.done < done);
  const fitHalf = linearFit(half.map((s) => s.done), half.map((s) => s.rss));

  console.log(`\nchurn results (${fastPath ? 'fast path' : 'JS path'}, window ${windowSize}, ${packets} RTP packets each way per call):\n`);
  console.log(table(['figure', 'value'], [
    ['cycles completed', `${fmt(done)} of ${fmt(cycles)}${stopReason ? ` (${stopReason})` : ''}`],
    ['failed cycles', `${fmt(failed)}${firstError ? ` (first: ${firstError.slice(0, 120)})` : ''}`],
    ['RTP packets missing', fmt(rtpMissing)],
    ['elapsed', `${elapsed.toFixed(1)} s`],
    ['calls/s', fmt(done / elapsed, 0)],
    ['RSS start', `${fmt(rssStart / 1024, 1)} MiB`],
    ['RSS peak', `${fmt(peak / 1024, 1)} MiB`],
    ['RSS end (1 s after the last delete)', `${fmt(rssEnd / 1024, 1)} MiB`],
    [`RSS growth per 10,000 calls (fit over ${fitSamples.length} samples after ${fmt(warm)} calls)`, `${fmt(fit.slope * 10_000, 0)} KiB`],
    [`RSS growth per 10,000 calls (fit over the second half of the run, ${half.length} samples)`, `${fmt(fitHalf.slope * 10_000, 0)} KiB`],
    ['leaks.live (non-zero types)', liveNonZero.length ? JSON.stringify(Object.fromEntries(liveNonZero)) : 'all zero'],
    ['leaked / doubleRelease / reachableAfterRelease', `${leaks.leaked ?? '?'} / ${leaks.doubleRelease ?? '?'} / ${leaks.reachableAfterRelease ?? '?'}`],
    ['cookie cache at the end (entries / bytes)', `${String((stats?.cookieCache as Record<string, unknown> | undefined)?.entries ?? '?')} / ${fmt(Number((stats?.cookieCache as Record<string, unknown> | undefined)?.bytes ?? NaN))}`],
    ['managedSessions / regularTerminatedSessions', `${total.managedsessions ?? '?'} / ${total.regularterminatedsessions ?? '?'}`],
    ['daemon exit code after SIGTERM', String(exitCode)],
  ]));
  console.log(`\nleaks.live per type: ${JSON.stringify(live)}`);
  if (liveNonZero.length || (leaks.leaked ?? 0) > 0 || (leaks.doubleRelease ?? 0) > 0 || (leaks.reachableAfterRelease ?? 0) > 0) {
    console.log('\n*** LEAK CHECK PROBLEM: live objects or leak counters are not zero after every call was deleted ***');
  }
  if (exitCode !== 0) {
    console.log(`\n*** the daemon exited with code ${String(exitCode)} (non-zero: its --leak-check=fatal audit failed or it crashed) ***`);
  }
  const summary = d.output().split('\n').filter((l) => /LEAK SUMMARY|in use at exit|leaked|reachable|double/i.test(l)).slice(-10);
  if (summary.length) console.log(`\ndaemon's exit summary:\n${summary.join('\n')}`);
  if (done < cycles) console.log(`\nnote: only ${fmt(done)} of ${fmt(cycles)} cycles ran (${stopReason || 'errors'}); rate ${fmt(done / elapsed)} calls/s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
