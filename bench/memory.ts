/**
 * bench/memory (issue 17): where the memory of established calls goes, measured in one daemon.
 *
 * A fresh daemon (`-t -1`, media sockets as configured by default; 127.0.0.1 and ::1), run with
 * `--expose-gc` and bench/lib/mem-probe preloaded. After 200 warm-up calls, at 0 calls, at N
 * established calls (offer + answer, no media, 32 in flight) and after deleting them all, the
 * probe runs two full GCs and reports V8's figures; this process reads /proc/PID/smaps_rollup.
 * Printed per established call: RSS, V8 heap used (live objects) and committed, external /
 * ArrayBuffer memory, and the anonymous memory outside V8's heap (native: malloc, the addon,
 * libuv). `--snapshot` also writes heap snapshots at 0 and N calls and prints the live heap per
 * call by constructor (the top `--top` rows). `--churn=C` adds C offer/answer/delete cycles after
 * the delete and the same figures after them.
 *
 * Usage: node dist/bench/memory.js [--calls=2000] [--snapshot [--by-owner]] [--top=30] [--churn=20000]
 *        [--fast-path] [--extra='--media-sockets=dgram'] [--node-args='…']
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon, type BenchDaemon } from './lib/daemon.js';
import { answerMsg, offerMsg } from './lib/one-core.js';
import { REPO_ROOT, sleep } from './lib/proc.js';
import { argValue, hasFlag, table } from './lib/stats.js';

const calls = Math.min(Number(argValue('calls') ?? 2000), 4500);
const churn = Math.min(Number(argValue('churn') ?? 0), 200_000);
const snapshot = hasFlag('snapshot');
const top = Number(argValue('top') ?? 30);
const byOwner = hasFlag('by-owner');
const extra = (argValue('extra') ?? '').split(' ').filter(Boolean);
const nodeArgs = (argValue('node-args') ?? '').split(' ').filter(Boolean);
const IN_FLIGHT = 32;

interface Figures {
  rssKiB: number;
  anonKiB: number;
  fileKiB: number;
  heapUsed: number;
  heapCommitted: number;
  heapPhysical: number;
  external: number;
  arrayBuffers: number;
  /** anonymous memory outside V8's heap, bytes (malloc, the addon, libuv, thread stacks) */
  nativeAnon: number;
  spaces: Record<string, { used: number; committed: number }>;
  snapshot: string;
}

interface ProbeOut {
  seq: number;
  memoryUsage: NodeJS.MemoryUsage;
  heap: { used_heap_size: number; total_heap_size: number; total_physical_size: number };
  spaces: Array<{ space_name: string; space_used_size: number; space_size: number }>;
  snapshot: string;
}

function smapsKiB(pid: number): { rss: number; anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: get('Rss'), anon: get('Anonymous'), file: get('Rss') - get('Anonymous') };
}

async function probe(d: BenchDaemon, outFile: string, expectSeq: number): Promise<Figures> {
  await sleep(1500);
  process.kill(d.pid, 'SIGWINCH');
  const until = Date.now() + 120_000;
  let p: ProbeOut | null = null;
  while (Date.now() < until) {
    await sleep(200);
    if (!existsSync(outFile)) continue;
    const parsed = JSON.parse(readFileSync(outFile, 'utf8')) as ProbeOut;
    if (parsed.seq >= expectSeq) {
      p = parsed;
      break;
    }
  }
  if (!p) throw new Error('the memory probe did not answer (is it preloaded?)');
  await sleep(500);
  const s = smapsKiB(d.pid);
  const spaces: Figures['spaces'] = {};
  for (const sp of p.spaces) spaces[sp.space_name] = { used: sp.space_used_size, committed: sp.space_size };
  return {
    rssKiB: s.rss, anonKiB: s.anon, fileKiB: s.file,
    heapUsed: p.heap.used_heap_size, heapCommitted: p.heap.total_heap_size, heapPhysical: p.heap.total_physical_size,
    external: p.memoryUsage.external, arrayBuffers: p.memoryUsage.arrayBuffers,
    nativeAnon: s.anon * 1024 - p.heap.total_physical_size,
    spaces, snapshot: p.snapshot,
  };
}

/**
 * Self size and count of every kind of heap-snapshot node: objects and closures by constructor,
 * the rest by type. With `byOwner`, V8-internal arrays, plain Objects, Arrays and strings are
 * keyed by their first retainer instead (its constructor and the edge name), which says whose
 * table, record or list they are.
 */
function summarise(file: string, byOwner: boolean): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const meta = snap.snapshot.meta;
  const f = meta.node_fields;
  const types = meta.node_types[0];
  const n = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const iEdges = f.indexOf('edge_count');
  const ef = meta.edge_fields;
  const en = ef.length;
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const edgeTypes = meta.edge_types[0];
  const nodeName = (i: number) => {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    if (type === 'object') return name;
    if (type === 'closure') return `closure ${name}`;
    if (type === 'hidden' || type === 'native' || type === 'code') return `(${type}) ${name.slice(0, 40)}`;
    return `(${type})`;
  };
  // first retainer (skipping weak edges) of every node, as "Owner.edge"
  const owner = new Map<number, string>();
  const ownerNode = new Map<number, number>();
  if (byOwner) {
    let e = 0;
    for (let i = 0; i < snap.nodes.length; i += n) {
      const count = snap.nodes[i + iEdges]!;
      const from = nodeName(i);
      for (let k = 0; k < count; k++, e += en) {
        const et = edgeTypes[snap.edges[e + eType]!]!;
        if (et === 'weak' || et === 'shortcut') continue;
        const to = snap.edges[e + eTo]!;
        if (owner.has(to)) continue;
        const nm = et === 'element' || et === 'hidden' ? `[${et}]` : snap.strings[snap.edges[e + eName]!] ?? '?';
        owner.set(to, `${from}.${nm}`);
        ownerNode.set(to, i);
      }
    }
  }
  const by = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += n) {
    let key = nodeName(i);
    if (byOwner && (key === 'Object' || key === 'Array' || key === '(array)' || key === '(string)' || key === '(number)' || key.startsWith('(hidden)') || key.startsWith('closure'))) {
      key = `${key} <- ${owner.get(i) ?? '?'}`;
      // a table's or list's holder says more than "Map" or "Array": one more level up
      const up = ownerNode.get(i);
      if (up !== undefined && /^(Array|Map|Set|Object|\(array\))\./.test(owner.get(i) ?? '')) key += ` <- ${owner.get(up) ?? '?'}`;
    }
    const e = by.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + iSize]!;
    by.set(key, e);
  }
  return by;
}


async function inFlight(count: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let errors = 0;
  const deadline = Date.now() + 300_000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      try {
        await job(i);
      } catch {
        errors++;
      }
    }
  }));
  return errors;
}

const MB = (b: number) => (b / 1e6).toFixed(1);
const KB = (b: number) => (b / 1e3).toFixed(2);

async function main(): Promise<void> {
  const outFile = path.join(tmpdir(), `rtpe-mem-probe-${process.pid}.json`);
  const snapBase = path.join(tmpdir(), `rtpe-mem-${process.pid}`);
  const probeJs = path.join(REPO_ROOT, 'dist', 'bench', 'lib', 'mem-probe.js');
  process.env.RTPE_MEM_PROBE_OUT = outFile;
  if (snapshot) process.env.RTPE_MEM_PROBE_SNAPSHOT = snapBase;
  const d = await startDaemon({
    fastPath: hasFlag('fast-path'), leakCheck: 'summary', extra: ['-i', '::1', ...extra],
    nodeArgs: ['--expose-gc', '--import', `file://${probeJs}`, ...nodeArgs],
  });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const rows: Array<[string, Figures]> = [];
  try {
    const start = await probe(d, outFile, 1);
    rows.push(['start', start]);
    await inFlight(200, async (i) => {
      const id = `${tag}-warm-${i}`;
      await d.ng.ok(offerMsg(id, i));
      await d.ng.ok(answerMsg(id, i));
      await d.ng.ok({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
    });
    let seq = 2;
    const zero = await probe(d, outFile, seq++);
    rows.push(['0 calls (after warm-up)', zero]);
    const errors = await inFlight(calls, async (i) => {
      const id = `${tag}-${i}`;
      await d.ng.ok(offerMsg(id, i));
      await d.ng.ok(answerMsg(id, i));
    });
    const loaded = await probe(d, outFile, seq++);
    rows.push([`${calls} calls`, loaded]);
    await inFlight(calls, async (i) => {
      await d.ng.ok({ command: 'delete', 'call-id': `${tag}-${i}`, 'delete-delay': 0 });
    });
    const after = await probe(d, outFile, seq++);
    rows.push(['after delete', after]);
    if (churn > 0) {
      await inFlight(churn, async (i) => {
        const id = `${tag}-churn-${i}`;
        await d.ng.ok(offerMsg(id, i));
        await d.ng.ok(answerMsg(id, i));
        await d.ng.ok({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
      });
      rows.push([`after ${churn} churn cycles`, await probe(d, outFile, seq++)]);
    }
    console.log(`bench/memory: ${calls} established calls (${errors} failed), daemon PID ${d.pid}${extra.length ? `, ${extra.join(' ')}` : ''}`);
    console.log(table(
      ['point', 'RSS MB', 'anon MB', 'file MB', 'V8 used MB', 'V8 committed MB', 'V8 physical MB', 'external MB', 'ArrayBuffers MB', 'native anon MB'],
      rows.map(([name, r]) => [name, MB(r.rssKiB * 1024), MB(r.anonKiB * 1024), MB(r.fileKiB * 1024), MB(r.heapUsed), MB(r.heapCommitted), MB(r.heapPhysical), MB(r.external), MB(r.arrayBuffers), MB(r.nativeAnon)]),
    ));
    const per = (k: (f: Figures) => number) => KB((k(loaded) - k(zero)) / calls);
    console.log(`\nper established call (KB): RSS ${per((f) => f.rssKiB * 1024)}, V8 used ${per((f) => f.heapUsed)}, V8 committed ${per((f) => f.heapCommitted)}, ` +
      `external ${per((f) => f.external)}, native anon ${per((f) => f.nativeAnon)}; RSS per 1,000 calls ${MB((loaded.rssKiB - zero.rssKiB) * 1024 / (calls / 1000))} MB`);
    console.log('V8 spaces at N calls (used / committed MB): ' + Object.entries(loaded.spaces).map(([k, v]) => `${k} ${MB(v.used)}/${MB(v.committed)}`).join(', '));
    console.log('V8 spaces after delete (used / committed MB): ' + Object.entries(after.spaces).map(([k, v]) => `${k} ${MB(v.used)}/${MB(v.committed)}`).join(', '));
    if (snapshot && zero.snapshot && loaded.snapshot) {
      const a = summarise(zero.snapshot, byOwner);
      const b = summarise(loaded.snapshot, byOwner);
      const diff = [...b].map(([k, v]) => {
        const o = a.get(k) ?? { count: 0, bytes: 0 };
        return { k, count: (v.count - o.count) / calls, bytes: (v.bytes - o.bytes) / calls };
      }).sort((x, y) => y.bytes - x.bytes);
      const total = diff.reduce((s, e) => s + e.bytes, 0);
      console.log(`\nlive heap per established call by constructor (heap snapshot, ${KB(total)} KB in all):`);
      console.log(table(['constructor', 'objects per call', 'bytes per call'], diff.slice(0, top).map((e) => [e.k, e.count.toFixed(2), e.bytes.toFixed(0)])));
    }
  } finally {
    const code = await d.stop();
    if (code !== 0) console.log(`daemon exit code ${code}\n${d.output().slice(-2000)}`);
    for (const r of rows) if (r[1].snapshot && existsSync(r[1].snapshot)) unlinkSync(r[1].snapshot);
    if (existsSync(outFile)) unlinkSync(outFile);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
