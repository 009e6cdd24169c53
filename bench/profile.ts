/**
 * bench/profile: profiles the offer/answer/delete path on one core. Starts the daemon (JS path,
 * leak summary) under `node --cpu-prof --heap-prof` pinned to one core, this generator on the
 * other, runs N offer/answer/delete cycles (no media, 32 in flight, bounded in time), stops the
 * daemon by its PID and prints the top functions by self time and the top allocation sites
 * (the sampling heap profile). The raw profiles stay in bench/out/profile/ for a flame graph
 * (Chrome DevTools or speedscope open .cpuprofile files).
 *
 * Usage: node dist/bench/profile.js [--cycles=5000] [--max-seconds=60] [--top=30]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { launchDaemon } from '../support/daemon.js';
import { sdpFor } from '../support/sdp.js';
import { BENCH_PORTS } from './lib/daemon.js';
import { pin, pinGenerator } from './lib/one-core.js';
import { installBenchHooks, OUT_DIR } from './lib/proc.js';
import { argValue, fmt, table } from './lib/stats.js';

const cycles = Math.min(200_000, Number(argValue('cycles') ?? 5000));
const maxSeconds = Number(argValue('max-seconds') ?? 60);
const top = Number(argValue('top') ?? 30);
const dir = path.join(OUT_DIR, 'profile');

interface CpuNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }

const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
const site = (f: { functionName: string; url: string; lineNumber: number }) =>
  `${f.functionName || '(anonymous)'} ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

function cpuTop(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: CpuNode[] };
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const h = n.hitCount ?? 0;
    total += h;
    const k = site(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + h);
    const f = n.callFrame.url ? short(n.callFrame.url) : `(${n.callFrame.functionName || 'native'})`;
    byFile.set(f, (byFile.get(f) ?? 0) + h);
  }
  const pct = (h: number) => `${((100 * h) / total).toFixed(1)} %`;
  console.log(`\nCPU, self time by function (top ${top} of ${self.size}; ${fmt(total)} samples):\n`);
  console.log(table(['function', 'self'], [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, h]) => [k, pct(h)])));
  console.log(`\nCPU, self time by file (top ${top}):\n`);
  console.log(table(['file', 'self'], [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, h]) => [k, pct(h)])));
}

function heapTop(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    total += n.selfSize;
    const k = site(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(prof.head);
  console.log(`\nallocation sampling profile (bytes sampled still live at exit are not the point: sites by sampled bytes), top ${top}:\n`);
  console.log(table(['allocation site', 'sampled', 'share'], [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, b]) => [k, `${fmt(b / 1024)} KiB`, `${((100 * b) / total).toFixed(1)} %`])));
}

async function main(): Promise<void> {
  installBenchHooks();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  pinGenerator();
  const d = await launchDaemon({
    portRange: BENCH_PORTS, logLevel: 4, leakCheck: 'summary', readyTimeoutMs: 15_000, killAfterMs: 30_000, ngRetries: 2,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--heap-prof', `--heap-prof-dir=${dir}`],
  });
  pin(d.pid, 0);
  const tag = `${process.pid}-${Date.now().toString(36)}-prof`;
  let next = 0;
  let done = 0;
  const end = Date.now() + maxSeconds * 1000;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < cycles && Date.now() < end) {
      const i = next++;
      const id = `${tag}-${i}`;
      await d.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': `a${i}`, sdp: sdpFor({ address: '127.0.0.1', port: 30000 + (i % 5000) * 2 }) });
      await d.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdpFor({ address: '127.0.0.1', port: 40000 + (i % 5000) * 2 }) });
      await d.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': `a${i}`, 'delete-delay': 0 });
      done++;
    }
  }));
  const el = (Date.now() - t0) / 1000;
  console.log(`bench/profile: ${fmt(done)} offer/answer/delete cycles in ${el.toFixed(1)} s (${fmt(done / el)} cycles/s under the profiler), daemon pinned to core 0`);
  const code = await d.stop();
  console.log(`daemon exit code ${String(code)}; profiles in ${dir}`);
  const files = readdirSync(dir);
  const cpu = files.find((f) => f.endsWith('.cpuprofile'));
  const heap = files.find((f) => f.endsWith('.heapprofile'));
  if (cpu) cpuTop(path.join(dir, cpu));
  else console.log('no .cpuprofile written (did the daemon exit normally?)');
  if (heap) heapTop(path.join(dir, heap));
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
