/**
 * bench/compose-churn: merged-call churn against a daemon started with --leak-check=fatal.
 *
 * N cycles (default 20,000; --cycles) of: `create` + `create answer` for a party in call A,
 * the same for call B, `connect` A's party to B's (to-call-id: the calls merge), --packets RTP
 * packets each way (default 1; counted on arrival, not waited for beyond 1 s at the end), then
 * `delete` by one of the two call-ids (alternating), at most --window cycles in flight
 * (default 20), bounded by --max-seconds. Prints cycles/s, failures, the daemon's RSS at start,
 * peak and end, `leaks.live` per type (must all be zero), leaked / doubleRelease /
 * reachableAfterRelease, and the daemon's exit code after SIGTERM (non-zero: the leak check
 * failed).
 *
 * Usage: node dist/bench/compose-churn.js [--cycles=20000] [--window=20] [--packets=1]
 *        [--fast-path] [--max-seconds=600]
 */
import dgram from 'node:dgram';
import { rtpPacket } from '../support/rtp.js';
import { relayPortsOf } from '../support/sdp.js';
import type { LeakCounts } from './lib/churn-load.js';
import { startDaemon, type BenchDaemon } from './lib/daemon.js';
import { ncpu, rssKiB, sleep } from './lib/proc.js';
import { argValue, fmt, hasFlag, table } from './lib/stats.js';

const cycles = Number(argValue('cycles') ?? 20_000);
const windowSize = Number(argValue('window') ?? 20);
const packets = Number(argValue('packets') ?? 1);
const fastPath = hasFlag('fast-path');
const maxSeconds = Number(argValue('max-seconds') ?? 600);

function answerSdp(port: number): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} RTP/AVP 8`, 'c=IN IP4 127.0.0.1', 'a=sendrecv', ''].join('\r\n');
}

async function bind(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

async function ok(d: BenchDaemon, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await d.ng.request(msg);
  if (r.result !== 'ok') throw new Error(`${String(msg.command)}: ${String(r['error-reason'] ?? JSON.stringify(r))}`);
  return r;
}

async function main(): Promise<void> {
  console.log(`bench/compose-churn: ${fmt(cycles)} cycles of create+answer ×2 / connect across calls (merge) / ${packets} RTP each way / delete by either call-id, ` +
    `${windowSize} in flight, ${fastPath ? 'native fast path (-t 0)' : 'JS path (-t -1)'}, --leak-check=fatal; bounded to ${maxSeconds} s`);
  console.log(`machine: ${ncpu()} core(s), shared by the daemon and this load generator; other processes may have been running.`);
  const d = await startDaemon({ fastPath, leakCheck: 'fatal' });
  const pid = d.pid;
  const peerA = await bind();
  const peerB = await bind();
  let received = 0;
  peerA.on('message', () => received++);
  peerB.on('message', () => received++);
  const portA = peerA.address().port;
  const portB = peerB.address().port;
  const rssStart = rssKiB(pid) ?? 0;
  let peak = rssStart;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid) ?? 0); }, 500);
  const t0 = Date.now();
  const deadline = t0 + maxSeconds * 1000;
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstError = '';
  const runId = `${process.pid}-${Date.now()}`;

  async function cycle(i: number): Promise<void> {
    const callA = `cc-${runId}-${i}-a`;
    const callB = `cc-${runId}-${i}-b`;
    try {
      const ca = await ok(d, { command: 'create', 'call-id': callA, 'from-tag': 'a' });
      await ok(d, { command: 'create answer', 'call-id': callA, 'from-tag': 'a', sdp: answerSdp(portA) });
      const cb = await ok(d, { command: 'create', 'call-id': callB, 'from-tag': 'b' });
      await ok(d, { command: 'create answer', 'call-id': callB, 'from-tag': 'b', sdp: answerSdp(portB) });
      await ok(d, { command: 'connect', 'call-id': callA, 'from-tag': 'a', 'to-tag': 'b', 'to-call-id': callB });
      const toA = relayPortsOf(ca.sdp as string).rtp;
      const toB = relayPortsOf(cb.sdp as string).rtp;
      for (let p = 0; p < packets; p++) {
        peerA.send(rtpPacket(p, { pt: 8 }), toA, '127.0.0.1');
        peerB.send(rtpPacket(p, { pt: 8 }), toB, '127.0.0.1');
      }
      await ok(d, { command: 'delete', 'call-id': i % 2 === 0 ? callA : callB, 'delete-delay': 0 });
      done++;
    } catch (err) {
      failed++;
      if (!firstError) firstError = (err as Error).message;
      // whatever was made goes, so the leak figures stay meaningful
      for (const id of [callA, callB]) await d.ng.request({ command: 'delete', 'call-id': id, 'delete-delay': 0 }).catch(() => undefined);
    }
  }

  let lastReport = t0;
  async function worker(): Promise<void> {
    while (next < cycles && Date.now() < deadline) {
      await cycle(next++);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        console.log(`  ${fmt(done)} cycles, ${fmt(done / ((Date.now() - t0) / 1000), 0)}/s, RSS ${fmt((rssKiB(pid) ?? 0) / 1024, 1)} MiB, failed ${failed}`);
      }
    }
  }
  await Promise.all(Array.from({ length: windowSize }, () => worker()));
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  await sleep(1000);
  const rssEnd = rssKiB(pid) ?? NaN;
  const stats = await d.ng.request({ command: 'statistics' }).catch(() => null);
  const exitCode = await d.stop();
  peerA.close();
  peerB.close();
  const leaks = (stats?.leaks ?? {}) as LeakCounts;
  const live = leaks.live ?? {};
  const liveNonZero = Object.entries(live).filter(([, v]) => v !== 0);
  console.log(`\ncompose-churn results (${fastPath ? 'fast path' : 'JS path'}, window ${windowSize}):\n`);
  console.log(table(['figure', 'value'], [
    ['cycles completed', `${fmt(done)} of ${fmt(cycles)}${next < cycles ? ' (time bound reached)' : ''}`],
    ['failed cycles', `${fmt(failed)}${firstError ? ` (first: ${firstError.slice(0, 120)})` : ''}`],
    ['elapsed', `${elapsed.toFixed(1)} s`],
    ['cycles/s (each: 2 calls, 6 commands)', fmt(done / elapsed, 0)],
    ['RTP packets received by the two peers', `${fmt(received)} of ${fmt(2 * packets * done)} sent`],
    ['RSS start / peak / end', `${fmt(rssStart / 1024, 1)} / ${fmt(peak / 1024, 1)} / ${fmt(rssEnd / 1024, 1)} MiB`],
    ['leaks.live (non-zero types)', liveNonZero.length ? JSON.stringify(Object.fromEntries(liveNonZero)) : 'all zero'],
    ['leaked / doubleRelease / reachableAfterRelease', `${leaks.leaked ?? '?'} / ${leaks.doubleRelease ?? '?'} / ${leaks.reachableAfterRelease ?? '?'}`],
    ['daemon exit code after SIGTERM', String(exitCode)],
  ]));
  if (exitCode !== 0) console.log(`\n*** the daemon exited with code ${String(exitCode)} (its --leak-check=fatal audit failed or it crashed) ***`);
  const summary = d.output().split('\n').filter((l) => /LEAK SUMMARY|in use at exit|leaked|reachable|double/i.test(l)).slice(-10);
  if (summary.length) console.log(`\ndaemon's exit summary:\n${summary.join('\n')}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
