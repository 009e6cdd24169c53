/**
 * bench/transcode: the cost of transcoding on the JS path. K calls, PCMU on the A side and PCMA
 * on the B side, 20 ms packets both ways, beside the same K calls passed through unchanged
 * (both sides PCMU/PCMA, no codec change), in one run:
 *   - highest loss-free rate: offered packets/s (both directions together) doubled until a step
 *     loses >= 0.1 %, then bisected; each step bounded in time;
 *   - relay CPU µs per packet at that rate (utime+stime of the daemon / packets delivered);
 *   - and at a fixed 20,000 pps, where both modes surely keep up.
 * The load generator is bench/out/blaster in its -X mode: the packets' identifying bytes are
 * written in an alphabet the relay's G.711 transcoding maps one to one (PCMU byte A[i] becomes
 * PCMA byte B[i] and back), so the sink still recognises every transcoded packet.
 *
 * Usage: node dist/bench/transcode.js [--quick] [--calls=1,100,500] [--step-seconds=2]
 * Only 127.0.0.1 is used. Every load step is bounded in packets and time. Results on stdout and
 * in bench/out/transcode.json.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../daemon/codec/g711.js';
import { startDaemon, type BenchDaemon } from './lib/daemon.js';
import { LineReader, OUT_DIR, cTools, cpuSeconds, sleep, stopChild, track, waitExit } from './lib/proc.js';
import { relayPortsOf } from '../support/sdp.js';
import { argValue, fmt, hasFlag, table } from './lib/stats.js';

type Mode = 'passthrough' | 'transcode';
const quick = hasFlag('quick');
const callCounts = (argValue('calls') ?? (quick ? '1,100' : '1,100,500')).split(',').map(Number).filter((n) => n > 0 && n <= 1000);
const stepSeconds = Number(argValue('step-seconds') ?? (quick ? 1 : 2));
const FIXED_PPS = 20_000;
const LOSS_LIMIT = 0.001;
const START_PPS = 5_000;
const MAX_PPS = 400_000;

/** 16 PCMU codes whose PCMA images map back to them: the generator's nibble alphabets. */
function alphabets(): string {
  const us: number[] = [];
  const as: number[] = [];
  const owner = new Map<number, number>();
  for (let u = 0; u < 256 && us.length < 16; u++) {
    const a = ULAW_TO_ALAW[u] as number;
    const i = us.length;
    if (ALAW_TO_ULAW[a] !== u || (owner.has(u) && owner.get(u) !== i) || (owner.has(a) && owner.get(a) !== i)) continue;
    us.push(u);
    as.push(a);
    owner.set(u, i);
    owner.set(a, i);
  }
  const hex = (l: number[]) => l.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex(us)}:${hex(as)}`;
}

function sdp(port: number, formats: string): string {
  return ['v=0', 'o=- 1545997027 1 IN IP4 127.0.0.1', 's=bench', 't=0 0', `m=audio ${port} RTP/AVP ${formats}`, 'c=IN IP4 127.0.0.1', 'a=sendrecv', ''].join('\r\n');
}

class Blaster {
  readonly child: ChildProcess;
  private readonly lines: LineReader;
  aPorts: number[] = [];
  bPorts: number[] = [];

  constructor(bin: string, na: number, nb: number) {
    this.child = track(bin, ['-l', '127.0.0.1', '-a', String(na), '-b', String(nb), '-T', '1800', '-X', alphabets()]);
    this.child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[blaster] ${d.toString()}`));
    this.lines = new LineReader(this.child.stdout!);
  }

  async ready(): Promise<void> {
    const m = /^ready a=([\d,]+) b=([\d,]+)/.exec(await this.lines.next(5000));
    if (!m) throw new Error('blaster did not start');
    this.aPorts = m[1]!.split(',').map(Number);
    this.bPorts = m[2]!.split(',').map(Number);
  }

  async cmd(line: string, timeoutMs = 10_000): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    return this.lines.next(timeoutMs);
  }

  async stop(): Promise<void> {
    try {
      this.child.stdin!.end('quit\n');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => void stopChild(this.child, 'SIGKILL'), 3000);
    await waitExit(this.child, 5000);
    clearTimeout(t);
  }
}

interface Step { offered: number; sent: number; received: number; loss: number; seconds: number; cpu: number; usPerPkt: number; pass: boolean }

async function step(bl: Blaster, d: BenchDaemon, pps: number, seconds: number): Promise<Step> {
  const c0 = cpuSeconds(d.pid) ?? NaN;
  const r = JSON.parse(await bl.cmd(`run ${pps} ${seconds} 500`, (seconds + 15) * 1000)) as { sent: number; received: number; seconds: number };
  const cpu = (cpuSeconds(d.pid) ?? NaN) - c0;
  const loss = r.sent > 0 ? Math.max(0, 1 - r.received / r.sent) : 1;
  return { offered: pps, sent: r.sent, received: r.received, loss, seconds: r.seconds, cpu, usPerPkt: r.received > 0 ? (cpu * 1e6) / r.received : NaN, pass: loss < LOSS_LIMIT };
}

const line = (s: Step) => `offered ${fmt(s.offered)} pps: sent ${fmt(s.sent)}, received ${fmt(s.received)}, loss ${(s.loss * 100).toFixed(3)} %, relay CPU ${(s.cpu / s.seconds * 100).toFixed(0)} %, ${s.usPerPkt.toFixed(2)} µs/pkt -> ${s.pass ? 'pass' : 'FAIL'}`;

interface Result { mode: Mode; calls: number; maxPps: number | null; usAtMax: number | null; usAtFixed: number | null; transcoded: number; notes: string[] }

async function runOne(mode: Mode, k: number, blasterBin: string): Promise<Result> {
  const res: Result = { mode, calls: k, maxPps: null, usAtMax: null, usAtFixed: null, transcoded: 0, notes: [] };
  const na = Math.min(k, 4);
  const nb = Math.min(k, 4);
  const bl = new Blaster(blasterBin, na, nb);
  await bl.ready();
  const d = await startDaemon({ fastPath: false, leakCheck: 'summary' });
  const ids: string[] = [];
  try {
    const flows: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < k) {
        const i = next++;
        const callId = `tc-${process.pid}-${mode}-${i}`;
        ids.push(callId);
        const offerFlags = mode === 'transcode' ? { codec: { transcode: ['PCMA'] } } : {};
        const offer = await d.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': `a${i}`, sdp: sdp(bl.aPorts[i % na]!, mode === 'transcode' ? '0' : '0 8'), ...offerFlags });
        const answer = await d.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdp(bl.bPorts[i % nb]!, mode === 'transcode' ? '8' : '0 8') });
        flows.push(`flow ${i % na} ${relayPortsOf(answer.sdp as string).rtp}`, `flow ${na + (i % nb)} ${relayPortsOf(offer.sdp as string).rtp}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(20, k) }, worker));
    for (const f of flows) {
      const r = await bl.cmd(f);
      if (!r.startsWith('ok')) throw new Error(`blaster: ${r}`);
    }
    const primed = JSON.parse(await bl.cmd('prime 6 1500', 30_000)) as { primed: number; flows: number };
    if (primed.primed < primed.flows) res.notes.push(`only ${primed.primed}/${primed.flows} flows passed the priming packet`);
    console.log(`  ${k} call(s), ${flows.length} flows primed ${primed.primed}/${primed.flows}`);
    await sleep(300);

    const fixed = await step(bl, d, FIXED_PPS, stepSeconds);
    console.log(`  fixed: ${line(fixed)}`);
    res.usAtFixed = fixed.pass ? fixed.usPerPkt : null;
    let good: Step | null = null;
    let bad: Step | null = null;
    for (let pps = START_PPS; pps <= MAX_PPS; pps *= 2) {
      const s = await step(bl, d, pps, stepSeconds);
      console.log(`  step: ${line(s)}`);
      if (s.pass) good = s;
      else {
        bad = s;
        break;
      }
    }
    if (good && bad) {
      let lo = good.offered;
      let hi = bad.offered;
      for (let i = 0; i < (quick ? 1 : 3) && hi / lo > 1.08; i++) {
        const mid = Math.round(Math.sqrt(lo * hi) / 500) * 500;
        const s = await step(bl, d, mid, stepSeconds);
        console.log(`  step: ${line(s)}`);
        if (s.pass) {
          good = s;
          lo = mid;
        } else hi = mid;
      }
    }
    if (good) {
      res.maxPps = good.received / good.seconds;
      res.usAtMax = good.usPerPkt;
    }
    // proof that the relay really transcoded: the query of the first call
    const q = await d.ng.request({ command: 'query', 'call-id': ids[0]! });
    for (const tag of Object.values((q.tags ?? {}) as Record<string, any>)) {
      for (const m of tag.medias ?? []) for (const s of m.streams ?? []) for (const t of s.transcoding ?? []) res.transcoded += Number(t['packets out'] ?? 0);
    }
    if (mode === 'transcode' && res.transcoded === 0) res.notes.push('the query shows no transcoded packets');
  } finally {
    await bl.stop();
    let n = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (n < ids.length) await d.ng.request({ command: 'delete', 'call-id': ids[n++]!, 'delete-delay': 0 }).catch(() => undefined);
    }));
    const code = await d.stop();
    if (code !== 0) res.notes.push(`daemon exit code ${String(code)}`);
  }
  for (const n of res.notes) console.log(`  note: ${n}`);
  return res;
}

async function main(): Promise<void> {
  const tools = cTools();
  console.log(`bench/transcode${quick ? ' (--quick)' : ''}: calls ${callCounts.join(', ')}; JS path (-t -1); steps of ${stepSeconds} s; 172-byte RTP (160-byte G.711 payload), both directions`);
  const results: Result[] = [];
  for (const k of callCounts) {
    for (const mode of ['passthrough', 'transcode'] as const) {
      console.log(`\n== ${mode}, ${k} call(s) ==`);
      try {
        results.push(await runOne(mode, k, tools.blaster));
      } catch (err) {
        console.log(`  ERROR: ${(err as Error).stack ?? String(err)}`);
        results.push({ mode, calls: k, maxPps: null, usAtMax: null, usAtFixed: null, transcoded: 0, notes: [`error: ${(err as Error).message}`] });
      }
    }
  }
  const rows = callCounts.map((k) => {
    const p = results.find((r) => r.calls === k && r.mode === 'passthrough');
    const t = results.find((r) => r.calls === k && r.mode === 'transcode');
    const ratio = p?.usAtFixed && t?.usAtFixed ? (t.usAtFixed / p.usAtFixed).toFixed(2) : '-';
    return [String(k), p?.maxPps ? fmt(p.maxPps) : '-', t?.maxPps ? fmt(t.maxPps) : '-',
      p?.usAtFixed ? p.usAtFixed.toFixed(2) : '-', t?.usAtFixed ? t.usAtFixed.toFixed(2) : '-', ratio,
      p?.usAtMax ? p.usAtMax.toFixed(2) : '-', t?.usAtMax ? t.usAtMax.toFixed(2) : '-'];
  });
  console.log('\nResults (packets/s both directions together, loss < 0.1 %; CPU µs of the relay per delivered packet):\n');
  console.log(table(['calls', 'max pps pass-through', 'max pps transcode', `µs/pkt pass @${fmt(FIXED_PPS)}`, `µs/pkt tc @${fmt(FIXED_PPS)}`, 'tc / pass', 'µs/pkt pass @max', 'µs/pkt tc @max'], rows));
  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, quick ? 'transcode-quick.json' : 'transcode.json');
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick, node: process.version, stepSeconds, fixedPps: FIXED_PPS, results }, null, 2));
  console.log(`\nwritten ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
