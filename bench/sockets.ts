/**
 * bench/sockets: the addon's media sockets alone — CPU per RTP/RTCP pair opened and closed, the
 * work a call does four times over (two pairs). No daemon: the engine is loaded in JS-path I/O
 * mode (as the daemon runs it) and pairs are opened the daemon's way (`openPair` when the
 * factory has it, else two `open`s), 200 sockets live at a time, IPv4 and IPv6 alternating,
 * ports from the benchmarks' range (10000-19999).
 *
 * `--baseline=DIR` loads another build's engine (DIR/dist) into the same process and alternates
 * rounds between the two, so a shared, noisy machine hits both alike; the medians are printed.
 * `--single` opens this build's pairs with two `open`s (what the pair call saves).
 *
 * Usage: node dist/bench/sockets.js [--pairs=5000] [--rounds=40] [--baseline=DIR] [--single]
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MediaSocket, MediaSocketFactory } from '../daemon/net/media-socket.js';
import type { loadFastPath as LoadFastPath } from '../daemon/kernel/native-fast-path.js';
import { argValue, fmt, hasFlag } from './lib/stats.js';

const pairs = Math.min(100_000, Number(argValue('pairs') ?? 5000));
const rounds = Math.min(200, Number(argValue('rounds') ?? 40));
const baselineDir = argValue('baseline');
const single = hasFlag('single');
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Target {
  name: string;
  factory: MediaSocketFactory;
  close: () => Promise<void>;
  base: number;
  pairOpen: boolean;
  cpu: number[];
  user: number[];
}

async function target(name: string, root: string, base: number, pairOpen: boolean): Promise<Target> {
  const url = pathToFileURL(path.join(root, 'dist', 'daemon', 'kernel', 'native-fast-path.js')).href;
  const mod = (await import(url)) as { loadFastPath: typeof LoadFastPath };
  const e = await mod.loadFastPath({ threads: 1, ioOnly: true });
  if ('unavailable' in e) throw new Error(`${name}: the addon is not available: ${e.unavailable}`);
  return { name, factory: e.sockets, close: () => e.close(), base, pairOpen, cpu: [], user: [] };
}

const ignore = () => {};

async function round(t: Target): Promise<void> {
  const f = t.factory;
  const live: MediaSocket[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < pairs; i++) {
    const family = i & 1 ? 6 : 4;
    const address = family === 6 ? '::1' : '127.0.0.1';
    const port = t.base + (i % 100) * 2;
    if (t.pairOpen && f.openPair) {
      live.push(...(await f.openPair(address, port, family, ignore, ignore)));
    } else {
      live.push(await f.open(address, port, family, ignore));
      live.push(await f.open(address, port + 1, family, ignore));
    }
    if (live.length >= 200) for (const s of live.splice(0)) s.close();
  }
  for (const s of live.splice(0)) s.close();
  const c = process.cpuUsage(c0);
  t.cpu.push((c.user + c.system) / pairs);
  t.user.push(c.user / pairs);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const targets = [await target(single ? 'this build, two opens per pair' : 'this build', here, 10000, !single)];
  if (baselineDir) targets.push(await target(`baseline ${baselineDir}`, path.resolve(baselineDir), 11000, true));
  console.log(`bench/sockets: ${fmt(pairs)} RTP/RTCP pairs opened and closed per round, ${rounds} rounds per build, alternating`);
  for (let r = 0; r < rounds; r++) for (const t of r & 1 ? [...targets].reverse() : targets) await round(t);
  for (const t of targets)
    console.log(`  ${t.name}: CPU per pair opened and closed ${fmt(median(t.cpu), 2)} µs (user ${fmt(median(t.user), 2)} µs), median of ${rounds}`);
  for (const t of targets) await t.close();
}

await main();
