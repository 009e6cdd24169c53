/**
 * bench/signalling: ng signalling rate and latency, and memory per call.
 *
 * 1. offer + answer + delete cycles (no media) with 1, 10 and 50 concurrent clients (each client
 *    its own UDP socket, one request outstanding at a time) for a bounded time and count:
 *    calls/s and the latency of each ng command (p50 / p99), measured at the client.
 * 2. memory per call: a fresh daemon, VmRSS with 0 calls, then with 1,000 and 4,000 established
 *    calls (offer + answer, no media): KiB per call. The daemon listens on 127.0.0.1 and ::1 (each
 *    interface has its own port pool of 10000-19999, 4 ports per call: 5,000 calls need 20,000
 *    ports; the daemon tests own 20000-59999), calls alternate between IPv4 and IPv6.
 *
 * --one-core (issue 17): instead, each daemon pinned to one core and this generator to the other
 * (taskset), 32 requests in flight, a fresh daemon per measurement, side by side with the packaged
 * rtpengine (`rtpengine-daemon`) when installed: setup calls/s (offer + answer) at 1,000 and 4,000
 * calls, offer latency p50/p99 during the 1,000-call setup, RSS per 1,000 established calls (at
 * 4,000), and the ratios ours / rtpengine. See bench/lib/one-core.ts.
 *
 * Usage: node dist/bench/signalling.js [--quick] [--clients=1,10,50] [--seconds=10] [--calls=1000,5000]
 *        node dist/bench/signalling.js --one-core [--rounds=2] [--fast-path] [--floor] [--baseline=DIR] [--max-seconds=120]
 * --floor adds the I/O floor (bench/lib/io-floor-server.ts) as a column: our ng transport,
 * dispatcher and media-socket I/O with an empty call model, a lower bound for the daemon.
 */
import { spawnSync } from 'node:child_process';
import { startDaemon } from './lib/daemon.js';
import { NgClient } from '../support/ng-client.js';
import { ncpu, rssKiB, sleep } from './lib/proc.js';
import { sdpFor } from '../support/sdp.js';
import { argValue, fmt, hasFlag, percentile, table } from './lib/stats.js';
import { header, kinds, median, printSideBySide, setupRun, type SetupResult, type TargetKind } from './lib/one-core.js';

const quick = hasFlag('quick');
const clientCounts = (argValue('clients') ?? '1,10,50').split(',').map(Number).filter((n) => n > 0 && n <= 500);
const seconds = Number(argValue('seconds') ?? (quick ? 2 : 10));
// 5,000 calls would need 20,000 sockets (4 per call) and this machine's open-file limit is 20,000
// (hard), so the daemon runs out of descriptors (EMFILE) just short of 5,000: default 1,000 and 4,000
const memCalls = (argValue('calls') ?? (quick ? '200,1000' : '1000,4000')).split(',').map(Number).filter((n) => n > 0 && n <= 5000);
const MAX_CYCLES = 1_000_000;

async function rateRun(clients: number): Promise<Record<string, unknown>> {
  const d = await startDaemon({ leakCheck: 'summary' });
  const lat: Record<'offer' | 'answer' | 'delete', number[]> = { offer: [], answer: [], delete: [] };
  let done = 0;
  let errors = 0;
  let seq = 0;
  const tag = `${process.pid}-${Date.now().toString(36)}-${clients}`;
  const ngs = Array.from({ length: clients }, () => new NgClient(d.ngPort, '127.0.0.1', { retries: 2 }));
  // warm-up (JIT, port pool): a few hundred cycles not counted
  const cycle = async (ng: NgClient, record: boolean) => {
    const i = seq++;
    const callId = `sig-${tag}-${i}`;
    const timed = async (name: 'offer' | 'answer' | 'delete', msg: Record<string, unknown>) => {
      const t = process.hrtime.bigint();
      await ng.ok(msg, { timeoutMs: 5000 });
      if (record) lat[name].push(Number(process.hrtime.bigint() - t) / 1e6);
    };
    await timed('offer', { command: 'offer', 'call-id': callId, 'from-tag': `a${i}`, sdp: sdpFor({ address: '127.0.0.1', port: 40000 + (i % 1000) * 2 }) });
    await timed('answer', { command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdpFor({ address: '127.0.0.1', port: 50000 + (i % 1000) * 2 }) });
    await timed('delete', { command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  };
  const warmEnd = Date.now() + (quick ? 500 : 2000);
  await Promise.all(ngs.map(async (ng) => {
    while (Date.now() < warmEnd) await cycle(ng, false).catch(() => undefined);
  }));
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  await Promise.all(ngs.map(async (ng) => {
    while (Date.now() < end && done < MAX_CYCLES) {
      try {
        await cycle(ng, true);
        done++;
      } catch {
        errors++;
      }
    }
  }));
  const elapsed = (Date.now() - t0) / 1000;
  const genCpu = process.cpuUsage(cpu0);
  for (const ng of ngs) ng.close();
  const st = await d.ng.request({ command: 'statistics' }).catch(() => null);
  const live = Object.entries((st?.leaks?.live ?? {}) as Record<string, number>).filter(([, v]) => v > 0);
  const exit = await d.stop();
  const all = [...lat.offer, ...lat.answer, ...lat.delete].sort((a, b) => a - b);
  const p = (xs: number[], q: number) => percentile([...xs].sort((a, b) => a - b), q);
  return {
    clients, calls: done, errors, seconds: elapsed, callsPerSec: done / elapsed,
    offerP50: p(lat.offer, 0.5), offerP99: p(lat.offer, 0.99),
    answerP50: p(lat.answer, 0.5), answerP99: p(lat.answer, 0.99),
    deleteP50: p(lat.delete, 0.5), deleteP99: p(lat.delete, 0.99),
    allP50: percentile(all, 0.5), allP99: percentile(all, 0.99),
    generatorCpuPct: (100 * (genCpu.user + genCpu.system)) / 1e6 / elapsed,
    liveAfter: Object.fromEntries(live), daemonExit: exit,
  };
}

async function rssSettled(pid: number): Promise<number> {
  // three samples 500 ms apart after 2 s of quiet; the median
  await sleep(2000);
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    xs.push(rssKiB(pid) ?? NaN);
    await sleep(500);
  }
  return xs.sort((a, b) => a - b)[1]!;
}

async function memoryRun(): Promise<Record<string, unknown>> {
  const d = await startDaemon({ leakCheck: 'summary', extra: ['-i', '::1'] });
  const tag = `${process.pid}-${Date.now().toString(36)}-mem`;
  // warm the code paths with 100 calls set up and deleted, so JIT/compiled code is not counted as per-call memory
  let n = 0;
  const make = async (count: number, prefix: string) => {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const v6 = i % 2 === 1;
        const addr = v6 ? '::1' : '127.0.0.1';
        const callId = `${prefix}-${i}`;
        const fam = { 'address family': v6 ? 'IP6' : 'IP4' };
        await d.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': `a${i}`, sdp: sdpFor({ address: addr, port: 40000 + (i % 1000) * 2 }), ...fam });
        await d.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdpFor({ address: addr, port: 50000 + (i % 1000) * 2 }), ...fam });
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
  };
  await make(100, `${tag}-warm`);
  for (let i = 0; i < 100; i++) await d.ng.ok({ command: 'delete', 'call-id': `${tag}-warm-${i}`, 'delete-delay': 0 });
  const rows: Array<{ calls: number; rssKiB: number }> = [];
  rows.push({ calls: 0, rssKiB: await rssSettled(d.pid) });
  console.log(`  0 calls: RSS ${fmt(rows[0]!.rssKiB / 1024, 1)} MiB`);
  const prefix = `${tag}-c`;
  let made = 0;
  for (const target of memCalls) {
    const add = target - made;
    if (add <= 0) continue;
    const t0 = Date.now();
    // calls are numbered from `made`, so the earlier ones stay up
    let next = made;
    const worker = async () => {
      while (next < target) {
        const i = next++;
        const v6 = i % 2 === 1;
        const addr = v6 ? '::1' : '127.0.0.1';
        const fam = { 'address family': v6 ? 'IP6' : 'IP4' };
        await d.ng.ok({ command: 'offer', 'call-id': `${prefix}-${i}`, 'from-tag': `a${i}`, sdp: sdpFor({ address: addr, port: 40000 + (i % 1000) * 2 }), ...fam });
        await d.ng.ok({ command: 'answer', 'call-id': `${prefix}-${i}`, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdpFor({ address: addr, port: 50000 + (i % 1000) * 2 }), ...fam });
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    made = target;
    const setupS = (Date.now() - t0) / 1000;
    const st = await d.ng.request({ command: 'statistics' });
    const sessions = st.statistics?.currentstatistics?.sessionsown;
    const rss = await rssSettled(d.pid);
    rows.push({ calls: target, rssKiB: rss });
    console.log(`  ${fmt(target)} calls (daemon reports ${String(sessions)}; set up in ${setupS.toFixed(1)} s): RSS ${fmt(rss / 1024, 1)} MiB`);
  }
  n = made;
  // tear down and look at leaks.live
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < n) {
      const i = next++;
      await d.ng.request({ command: 'delete', 'call-id': `${prefix}-${i}`, 'delete-delay': 0 }).catch(() => undefined);
    }
  }));
  await sleep(500);
  const st = await d.ng.request({ command: 'statistics' }).catch(() => null);
  const live = Object.entries((st?.leaks?.live ?? {}) as Record<string, number>).filter(([, v]) => v > 0);
  const rssAfter = rssKiB(d.pid);
  const exit = await d.stop();
  return { rows, liveAfterDelete: Object.fromEntries(live), rssAfterDeleteKiB: rssAfter, daemonExit: exit };
}

async function oneCore(): Promise<void> {
  const rounds = Math.min(5, Math.max(1, Number(argValue('rounds') ?? 2)));
  const maxSeconds = Number(argValue('max-seconds') ?? 120);
  console.log(`bench/signalling --one-core: setup (offer + answer) of 1,000 and 4,000 calls, median of ${rounds} round(s), each bounded to ${maxSeconds} s`);
  header();
  const ks = kinds(hasFlag('fast-path'));
  const res: Record<string, Partial<Record<TargetKind, SetupResult[]>>> = { 1000: {}, 4000: {} };
  for (let r = 0; r < rounds; r++) {
    for (const n of [1000, 4000]) {
      for (const k of ks) {
        const x = await setupRun(k, n, maxSeconds);
        (res[n]![k] ??= []).push(x);
        console.log(`  round ${r + 1}, ${k}, ${fmt(n)} calls: ${fmt(x.callsPerSec)} calls/s, offer p50 ${x.offerP50.toFixed(1)} ms / p99 ${x.offerP99.toFixed(1)} ms, ` +
          `RSS ${fmt(x.rss0KiB / 1024, 1)} -> ${fmt(x.rssKiB / 1024, 1)} MiB, daemon CPU ${fmt(x.cpuUsPerCall)} µs/call (second half ${fmt(x.cpuUsPerCallLastHalf)}; ${fmt(x.calls)} calls, ${x.errors} errors${x.firstError ? `: ${x.firstError}` : ''})`);
      }
    }
  }
  const fig = (n: number, f: (x: SetupResult) => number) =>
    Object.fromEntries(ks.map((k) => [k, median((res[n]![k] ?? []).map(f))])) as Partial<Record<TargetKind, number>>;
  console.log('');
  printSideBySide([
    { name: 'setup calls/s, 1,000 calls', values: fig(1000, (x) => x.callsPerSec) },
    { name: 'setup calls/s, 4,000 calls', values: fig(4000, (x) => x.callsPerSec) },
    { name: 'offer latency p50 (1,000-call setup), ms', digits: 1, values: fig(1000, (x) => x.offerP50) },
    { name: 'offer latency p99 (1,000-call setup), ms', digits: 1, values: fig(1000, (x) => x.offerP99) },
    { name: 'RSS per 1,000 established calls (4,000), MB', digits: 1, values: fig(4000, (x) => x.mbPer1000) },
    { name: 'daemon CPU per call set up (4,000), µs (lower is better)', values: fig(4000, (x) => x.cpuUsPerCall) },
    { name: 'the same, second half of the 4,000 calls (JIT warm), µs', values: fig(4000, (x) => x.cpuUsPerCallLastHalf) },
    { name: 'daemon CPU per call set up (1,000), µs', values: fig(1000, (x) => x.cpuUsPerCall) },
  ], ks);
}

async function main(): Promise<void> {
  if (hasFlag('one-core')) return oneCore();
  console.log(`bench/signalling${quick ? ' (--quick)' : ''}: offer+answer+delete (no media), ${seconds} s per client count, JS path (-t -1)`);
  console.log(`machine: ${ncpu()} core(s), shared by the daemon and this load generator (node, one process for all clients); ` +
    'other processes may have been running.');
  const rates: Array<Record<string, unknown>> = [];
  for (const c of clientCounts) {
    const r = await rateRun(c);
    rates.push(r);
    console.log(`  ${c} client(s): ${fmt(r.callsPerSec as number)} calls/s (${fmt(r.calls as number)} calls, ${r.errors} errors), ` +
      `command p50 ${(r.allP50 as number).toFixed(2)} ms, p99 ${(r.allP99 as number).toFixed(2)} ms; generator CPU ${(r.generatorCpuPct as number).toFixed(0)} %`);
    if (Object.keys(r.liveAfter as object).length) console.log(`  note: leaks.live after the run: ${JSON.stringify(r.liveAfter)}`);
    if (r.daemonExit !== 0) console.log(`  note: daemon exit code ${String(r.daemonExit)}`);
  }
  console.log('\nsignalling rate (offer + answer + delete = 1 call; latency per ng command at the client, ms):\n');
  console.log(table(
    ['clients', 'calls/s', 'all p50', 'all p99', 'offer p50', 'offer p99', 'answer p50', 'answer p99', 'delete p50', 'delete p99'],
    rates.map((r) => [
      String(r.clients), fmt(r.callsPerSec as number),
      ...(['allP50', 'allP99', 'offerP50', 'offerP99', 'answerP50', 'answerP99', 'deleteP50', 'deleteP99'] as const).map((k) => (r[k] as number).toFixed(2)),
    ]),
  ));

  console.log(`\nmemory per call (established calls, no media; open-file limit ${String(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout).trim()}, 4 sockets per call):`);
  const mem = await memoryRun();
  const rows = mem.rows as Array<{ calls: number; rssKiB: number }>;
  const base = rows[0]!.rssKiB;
  console.log('\n' + table(['calls', 'RSS', 'RSS - RSS(0)', 'KiB per call', 'marginal KiB per call'], rows.map((r, i) => [
    fmt(r.calls), `${fmt(r.rssKiB / 1024, 1)} MiB`, `${fmt((r.rssKiB - base) / 1024, 1)} MiB`,
    r.calls ? fmt((r.rssKiB - base) / r.calls, 1) : '-',
    i > 0 && r.calls ? fmt((r.rssKiB - rows[i - 1]!.rssKiB) / (r.calls - rows[i - 1]!.calls), 1) : '-',
  ])));
  console.log(`after deleting every call: RSS ${fmt((mem.rssAfterDeleteKiB as number) / 1024, 1)} MiB, leaks.live non-zero: ` +
    `${JSON.stringify(mem.liveAfterDelete)}, daemon exit code ${String(mem.daemonExit)}`);
  console.log('(RSS includes the V8 heap, which grows in steps and is not returned at once; KiB per call is an upper-bound estimate)');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
