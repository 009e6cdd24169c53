/**
 * bench/forward: RTP forwarding throughput, latency and CPU of three relays in one run —
 * the daemon's JS path (`-t -1`), the daemon's native fast path (`-t 0`) and the C reference
 * forwarder (bench/reference-forwarder.c, same socket layout: 2 sockets per call side pair).
 *
 * For each relay and each call count K (1, 100, 1000):
 *   - a fresh relay; K calls set up over ng (offer/answer, 2 relay ports per call carry media);
 *   - the generator (bench/out/blaster, C, sendmmsg/recvmmsg) sends one packet each way per
 *     call and waits until all arrived, so the relay knows both endpoints before the blast;
 *   - latency: 2,500 pps for a few seconds (send timestamp in the payload, kernel receive
 *     timestamp at the sink), p50/p99, and the relay's CPU% from /proc/PID/stat utime+stime;
 *   - max forwarded pps at < 0.1 % loss: offered rate doubled until a step fails, then bisected;
 *     each step a few seconds; a step where the generator could not send the offered rate is
 *     reported as generator-bound (the relay was not the limit there);
 *   - relay CPU seconds per million forwarded packets at the highest passing rate.
 * Results: a table on stdout and bench/out/forward.json.
 *
 * SRTP relays (AES_CM_128_HMAC_SHA1_80; the generator protects and unprotects with libsrtp2):
 *   - `js-srtp`: the JS path with every call SRTP on both sides (SDES pass-through of one key):
 *     the relay authenticates and decrypts every packet and encrypts it again;
 *   - `js-srtp-rtp` / `fast-srtp-rtp`: SRTP on the A side, plain RTP on the B side
 *     (transport-protocol RTP/AVP toward B), on the JS path and on the fast path: half of the
 *     packets are authenticated and decrypted, the other half encrypted (the relay's own key
 *     toward A, which the generator learns per SSRC from the answer);
 *   - `fast-srtp`: the fast path with SRTP on both sides, as `js-srtp`.
 * Compare their CPU per packet with `js` and `fast` (plain RTP).
 *
 * Two more relays on request: `js-dgram`, the JS path forced onto Node's dgram sockets
 * (`--media-sockets=dgram`, the fallback when the addon is absent), and `rtpengine`, the packaged
 * rtpengine (/usr/bin/rtpengine, `--table=-1`: userspace forwarding, 1 media thread) set up over ng
 * like our daemon. `--one-core` pins every thread of the relay to core 0 and the generator to
 * core 1 (taskset), as issue 17 measures.
 *
 * Usage: node dist/bench/forward.js [--quick] [--calls=1,100,1000] 
 *        [--relays=js,js-dgram,js-srtp,js-srtp-rtp,fast,fast-srtp-rtp,fast-srtp,ref,rtpengine]
 *        [--one-core] [--node-args='--cpu-prof ...'] [--step-seconds=3] [--lat-seconds=5] [--fast-path-threads=1] [--max-pps=1000000]
 * Only 127.0.0.1 is used. Every load step is bounded in packets and time.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, type BenchDaemon } from './lib/daemon.js';
import {
  LineReader, OUT_DIR, cTools, cpuSeconds, cpuSecondsPrecise, machineCpu, ncpu, sleep, stopChild, track, waitExit,
} from './lib/proc.js';
import { relayPortsOf, sdpFor } from '../support/sdp.js';
import type { NgClient } from '../support/ng-client.js';
import { pin, referenceBinary, REFERENCE_MISSING, startReference, type Target } from './lib/one-core.js';
import { argValue, fmt, hasFlag, table } from './lib/stats.js';

type RelayKind = 'js' | 'js-dgram' | 'js-srtp' | 'js-srtp-rtp' | 'fast' | 'fast-srtp-rtp' | 'fast-srtp' | 'ref' | 'rtpengine';
const RELAY_KINDS: RelayKind[] = ['js', 'js-dgram', 'js-srtp', 'js-srtp-rtp', 'fast', 'fast-srtp-rtp', 'fast-srtp', 'ref', 'rtpengine'];
const RELAY_NAME: Record<RelayKind, string> = {
  js: 'JS path (-t -1)', 'js-dgram': 'JS path on dgram', 'js-srtp': 'JS path, SRTP<->SRTP', 'js-srtp-rtp': 'JS path, SRTP<->RTP', fast: 'fast path (-t 0)',
  'fast-srtp-rtp': 'fast path, SRTP<->RTP', 'fast-srtp': 'fast path, SRTP<->SRTP', ref: 'C reference', rtpengine: 'rtpengine userspace',
};
/** SRTP on both sides, on the A side only, or none. */
const SRTP_MODE: Record<RelayKind, 'both' | 'a' | null> = {
  js: null, 'js-dgram': null, 'js-srtp': 'both', 'js-srtp-rtp': 'a', fast: null, 'fast-srtp-rtp': 'a', 'fast-srtp': 'both', ref: null, rtpengine: null,
};
const FAST: Record<RelayKind, boolean> = {
  js: false, 'js-dgram': false, 'js-srtp': false, 'js-srtp-rtp': false, fast: true, 'fast-srtp-rtp': true, 'fast-srtp': true, ref: false, rtpengine: false,
};
/** The one SDES key (key || salt) of every js-srtp call; the generator protects with it too. */
const SRTP_KEY = Buffer.from('bench/forward SRTP key & salt!').subarray(0, 30);

const quick = hasFlag('quick');
const callCounts = (argValue('calls') ?? (quick ? '1,100' : '1,100,1000')).split(',').map(Number).filter((n) => n > 0 && n <= 4000);
const relays = (argValue('relays') ?? 'js,js-srtp,js-srtp-rtp,fast,fast-srtp-rtp,ref').split(',').filter((r): r is RelayKind => (RELAY_KINDS as string[]).includes(r));
/** --one-core: the relay (every thread) on core 0, the generator on core 1, as issue 17 measures. */
const oneCore = hasFlag('one-core');
const stepSeconds = Number(argValue('step-seconds') ?? (quick ? 0.7 : 3));
const latSeconds = Number(argValue('lat-seconds') ?? (quick ? 1 : 5));
const fastThreads = Number(argValue('fast-path-threads') ?? 1);
const maxPps = Number(argValue('max-pps') ?? 1_000_000);
const startPps = Number(argValue('start-pps') ?? (quick ? 20_000 : 5_000));
const bisections = quick ? 1 : 3;
const LOSS_LIMIT = 0.001;
const LAT_PPS = 2500;
const DRAIN_MS = 600;
/** the sender counts as keeping up when it sent at least this share of the offered rate */
const GEN_OK = 0.97;

interface Step {
  offered: number;
  achieved: number;
  sent: number;
  received: number;
  loss: number;
  seconds: number;
  relayCpu: number;
  relayCpuPct: number;
  blasterCpuPct: number;
  machineBusyPct: number;
  otherCpuPct: number;
  sinkDrops: number;
  relaySocketDrops: number;
  /** machine-wide /proc/net/snmp Udp deltas during the step (other processes included) */
  udpNoPorts: number;
  udpRcvbufErrors: number;
  udpSndbufErrors: number;
  generatorSendErrors: number;
  generatorBound: boolean;
  pass: boolean;
  latUs: Record<string, number>;
}

interface Result {
  relay: RelayKind;
  calls: number;
  maxPps: number | null;
  maxPpsGeneratorBound: boolean;
  lossAtMax: number | null;
  p50Us: number | null;
  p99Us: number | null;
  cpuPctAt2500: number | null;
  cpuSecPerMpkt: number | null;
  cpuSecPerMpktRate: number | null;
  highestOffered: number;
  cpuSecPerMpktAtHighestOffered: number | null;
  steps: Step[];
  latency: Step | null;
  notes: string[];
  fastPath?: unknown;
  leaksLive?: unknown;
  relayExit?: number | null;
}

/** bench/out/blaster as a child: stdin commands, one stdout line per reply. */
class Blaster {
  readonly child: ChildProcess;
  private readonly lines: LineReader;
  aPorts: number[] = [];
  bPorts: number[] = [];

  private constructor(bin: string, na: number, nb: number, srtpKey?: Buffer, aOnly = false) {
    this.child = track(bin, ['-l', '127.0.0.1', '-a', String(na), '-b', String(nb), '-T', '1800',
      ...(srtpKey ? ['-k', srtpKey.toString('hex')] : []), ...(aOnly ? ['-A'] : [])]);
    this.child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[blaster] ${d.toString()}`));
    this.lines = new LineReader(this.child.stdout!);
  }

  static async start(bin: string, na: number, nb: number, srtpKey?: Buffer, aOnly = false): Promise<Blaster> {
    const b = new Blaster(bin, na, nb, srtpKey, aOnly);
    const ready = await b.lines.next(5000);
    const m = /^ready a=([\d,]+) b=([\d,]+)/.exec(ready);
    if (!m) throw new Error(`blaster: unexpected ${ready}`);
    b.aPorts = m[1]!.split(',').map(Number);
    b.bPorts = m[2]!.split(',').map(Number);
    return b;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async cmd(line: string, timeoutMs = 10_000): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    return this.lines.next(timeoutMs);
  }

  async flows(list: Array<[number, number]>): Promise<void> {
    this.child.stdin!.write(list.map(([s, p]) => `flow ${s} ${p}\n`).join(''));
    for (let i = 0; i < list.length; i++) {
      const l = await this.lines.next(10_000);
      if (!l.startsWith('ok')) throw new Error(`blaster flow: ${l}`);
    }
  }

  /** SRTP receive keys per SSRC (the relay's own SDES key toward A, one per call). */
  async rxKeys(keys: Array<[number, Buffer]>): Promise<void> {
    for (const [ssrc, key] of keys) {
      const l = await this.cmd(`rxkey ${ssrc} ${key.toString('hex')}`);
      if (l !== 'ok') throw new Error(`blaster rxkey: ${l}`);
    }
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

interface Relay {
  pid: number;
  kind: RelayKind;
  /** relay ports the generator sends to (for /proc/net/udp drop counts) */
  ports: Set<number>;
  daemon?: BenchDaemon;
  /** the packaged rtpengine */
  rtpengine?: Target;
  ref?: ChildProcess;
  callIds?: string[];
  refOut?: string[];
}

/** Machine-wide UDP counters of /proc/net/snmp (NoPorts, RcvbufErrors, SndbufErrors, InErrors). */
function udpSnmp(): Record<string, number> {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/).slice(1);
    const vals = lines[1]!.split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(names.map((n, i) => [n, vals[i] ?? 0]));
  } catch {
    return {};
  }
}

/** Sum of the drops column of /proc/net/udp for sockets bound to one of `ports`. */
function udpDrops(ports: Set<number>): number {
  let sum = 0;
  try {
    const lines = readFileSync('/proc/net/udp', 'utf8').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const f = lines[i]!.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = parseInt(f[1]!.split(':')[1]!, 16);
      if (ports.has(port)) sum += Number(f[f.length - 1]);
    }
  } catch {
    /* no /proc/net/udp */
  }
  return sum;
}

/** The blaster numbers a flow's SSRC by the order flows were added (blaster.c). */
const flowSsrc = (flowIndex: number): number => 0x10000000 + flowIndex;

async function setupDaemonCalls(ng: NgClient, k: number, bl: Blaster, na: number, nb: number, ids: string[], srtp: 'both' | 'a' | null,
  rxKeys: Array<[number, Buffer]>): Promise<Array<[number, number]>> {
  const crypto = srtp ? `1 AES_CM_128_HMAC_SHA1_80 inline:${SRTP_KEY.toString('base64')}` : undefined;
  const extra = srtp === 'both' ? { SDES: ['nonew'] } : srtp === 'a' ? { 'transport-protocol': 'RTP/AVP' } : {};
  const flows: Array<[number, number]> = new Array(2 * k);
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  let next = 0;
  const worker = async () => {
    while (next < k) {
      const i = next++;
      const callId = `fwd-${tag}-${i}`;
      ids.push(callId);
      const aPort = bl.aPorts[i % na]!;
      const bPort = bl.bPorts[i % nb]!;
      const offer = await ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': `a${i}`, sdp: sdpFor({ address: '127.0.0.1', port: aPort }, { crypto }), ...extra });
      const answer = await ng.ok({
        command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`,
        sdp: sdpFor({ address: '127.0.0.1', port: bPort }, { crypto: srtp === 'a' ? undefined : crypto }),
      });
      if (srtp === 'a') {
        // what B sends reaches A encrypted with the relay's own key from this answer
        const m = /a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)/.exec(answer.sdp as string);
        if (!m) throw new Error(`no AES_CM_128_HMAC_SHA1_80 key in the answer to A: ${String(answer.sdp)}`);
        rxKeys.push([flowSsrc(2 * i + 1), Buffer.from(m[1]!, 'base64')]);
      }
      const toB = relayPortsOf(offer.sdp as string).rtp; // B sends here
      const toA = relayPortsOf(answer.sdp as string).rtp; // A sends here
      flows[2 * i] = [i % na, toA];
      flows[2 * i + 1] = [na + (i % nb), toB];
    }
  };
  await Promise.all(Array.from({ length: Math.min(20, k) }, worker));
  return flows;
}

async function deleteDaemonCalls(ng: NgClient, ids: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      await ng.request({ command: 'delete', 'call-id': id, 'delete-delay': 0 }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(20, Math.max(1, ids.length)) }, worker));
}

async function startRelay(kind: RelayKind, k: number, bl: Blaster, na: number, nb: number, refBin: string): Promise<{ relay: Relay; flows: Array<[number, number]> }> {
  if (kind === 'ref') {
    const child = track(refBin, ['-l', '127.0.0.1', '-p', '0', '-n', String(k), '-t', '1800', '-T', '1']);
    const lines = new LineReader(child.stdout!);
    const ready = await lines.next(10_000);
    const m = /ports=([\d,]+)/.exec(ready);
    if (!m) throw new Error(`reference-forwarder: ${ready}`);
    const ports = m[1]!.split(',').map(Number);
    const refOut: string[] = [];
    void (async () => {
      for (;;) {
        try {
          refOut.push(await lines.next(3_600_000));
        } catch {
          return;
        }
      }
    })();
    const flows: Array<[number, number]> = [];
    for (let i = 0; i < k; i++) {
      flows.push([i % na, ports[2 * i]!]);
      flows.push([na + (i % nb), ports[2 * i + 1]!]);
    }
    return { relay: { pid: child.pid!, kind, ports: new Set(ports), ref: child, refOut }, flows };
  }
  if (kind === 'rtpengine') {
    const bin = referenceBinary();
    if (!bin) throw new Error(REFERENCE_MISSING);
    const t = await startReference(bin);
    const t0 = Date.now();
    const callIds: string[] = [];
    const flows = await setupDaemonCalls(t.ng, k, bl, na, nb, callIds, null, []);
    console.log(`  ${k} call(s) set up over ng in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { relay: { pid: t.pid, kind, ports: new Set(flows.map((f) => f[1])), rtpengine: t, callIds }, flows };
  }
  const d = await startDaemon({
    fastPath: FAST[kind], fastPathThreads: fastThreads, leakCheck: 'summary',
    extra: kind === 'js-dgram' ? ['--media-sockets', 'dgram'] : undefined,
    nodeArgs: (argValue('node-args') ?? '').split(' ').filter(Boolean),
  });
  const t0 = Date.now();
  const callIds: string[] = [];
  const rxKeys: Array<[number, Buffer]> = [];
  const flows = await setupDaemonCalls(d.ng, k, bl, na, nb, callIds, SRTP_MODE[kind], rxKeys);
  await bl.rxKeys(rxKeys);
  console.log(`  ${k} call(s) set up over ng in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { relay: { pid: d.pid, kind, ports: new Set(flows.map((f) => f[1])), daemon: d, callIds }, flows };
}

async function step(bl: Blaster, relay: Relay, pps: number, seconds: number): Promise<Step> {
  const c0 = cpuSeconds(relay.pid) ?? NaN;
  const p0 = cpuSecondsPrecise(relay.pid) ?? NaN;
  const b0 = cpuSeconds(bl.pid) ?? NaN;
  const m0 = machineCpu();
  const drops0 = udpDrops(relay.ports);
  const snmp0 = udpSnmp();
  const t0 = process.hrtime.bigint();
  const reply = await bl.cmd(`run ${pps} ${seconds} ${DRAIN_MS}`, (seconds + 15) * 1000);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = cpuSeconds(relay.pid) ?? NaN;
  const p1 = cpuSecondsPrecise(relay.pid) ?? NaN;
  const b1 = cpuSeconds(bl.pid) ?? NaN;
  const m1 = machineCpu();
  const snmp1 = udpSnmp();
  const r = JSON.parse(reply) as { sendErrors: number; sent: number; received: number; seconds: number; achievedPps: number; sinkDrops: number; latUs: Record<string, number> };
  const relayCpu = c1 - c0;
  const loss = r.sent > 0 ? Math.max(0, 1 - r.received / r.sent) : 1;
  const generatorBound = r.achievedPps < GEN_OK * pps;
  const machineBusy = m1.busy - m0.busy;
  return {
    offered: pps,
    achieved: r.achievedPps,
    sent: r.sent,
    received: r.received,
    loss,
    seconds: r.seconds,
    relayCpu,
    relayCpuPct: (100 * relayCpu) / wall,
    blasterCpuPct: (100 * (b1 - b0)) / wall,
    machineBusyPct: (100 * machineBusy) / wall,
    otherCpuPct: Math.max(0, (100 * (machineBusy - (p1 - p0) - (b1 - b0))) / wall),
    sinkDrops: r.sinkDrops,
    relaySocketDrops: udpDrops(relay.ports) - drops0,
    udpNoPorts: (snmp1.NoPorts ?? 0) - (snmp0.NoPorts ?? 0),
    udpRcvbufErrors: (snmp1.RcvbufErrors ?? 0) - (snmp0.RcvbufErrors ?? 0),
    udpSndbufErrors: (snmp1.SndbufErrors ?? 0) - (snmp0.SndbufErrors ?? 0),
    generatorSendErrors: r.sendErrors,
    generatorBound,
    pass: loss < LOSS_LIMIT,
    latUs: r.latUs,
  };
}

/** A step, repeated (up to 3 times in all) when other processes used more than OTHERS_MAX % CPU during it. */
const OTHERS_MAX = 25;
async function measured(bl: Blaster, relay: Relay, pps: number, seconds: number): Promise<Step> {
  let best: Step | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const s = await step(bl, relay, pps, seconds);
    if (!best || s.otherCpuPct < best.otherCpuPct) best = s;
    if (s.otherCpuPct <= OTHERS_MAX) break;
    console.log(`  (other processes used ~${s.otherCpuPct.toFixed(0)} % CPU during the ${fmt(pps)} pps step: repeating it)`);
    await sleep(2000);
  }
  return best!;
}

function describe(s: Step): string {
  return `offered ${fmt(s.offered)} pps, sent ${fmt(s.achieved)} pps, loss ${(s.loss * 100).toFixed(3)} %, ` +
    `relay CPU ${s.relayCpuPct.toFixed(0)} %, generator CPU ${s.blasterCpuPct.toFixed(0)} %, machine ${s.machineBusyPct.toFixed(0)} % ` +
    `(others ~${s.otherCpuPct.toFixed(0)} %), relay socket drops ${s.relaySocketDrops}, sink drops ${s.sinkDrops}, ` +
    `UDP NoPorts/RcvbufErrors/SndbufErrors +${s.udpNoPorts}/+${s.udpRcvbufErrors}/+${s.udpSndbufErrors}, generator send errors ${s.generatorSendErrors}` +
    `${s.generatorBound ? ' [generator could not send the offered rate]' : ''} -> ${s.pass ? 'pass' : 'FAIL'}`;
}

/** Stops a relay: our daemon after deleting its calls and checking that nothing leaked. */
async function stopRelay(relay: Relay, res: Result, notes: string[]): Promise<void> {
  if (relay.daemon) {
    const d = relay.daemon;
    if (!d.exited()) {
      try {
        const st = await d.ng.request({ command: 'statistics' });
        res.fastPath = st.fastPath;
        await deleteDaemonCalls(d.ng, relay.callIds ?? []);
        await sleep(300);
        const after = await d.ng.request({ command: 'statistics' });
        res.leaksLive = after.leaks?.live;
        const live = Object.entries((after.leaks?.live ?? {}) as Record<string, number>).filter(([, v]) => v > 0);
        if (live.length) notes.push(`after deleting every call, leaks.live is not zero: ${JSON.stringify(Object.fromEntries(live))}`);
      } catch (err) {
        notes.push(`statistics/delete failed: ${(err as Error).message}`);
      }
    } else {
      notes.push(`daemon exited during the benchmark (code ${String(d.child.exitCode)}, signal ${String(d.child.signalCode)})`);
      console.log(d.output().slice(-3000));
    }
    res.relayExit = await d.stop();
    if (res.relayExit !== 0) {
      notes.push(`daemon exit code ${String(res.relayExit)} after SIGTERM`);
      console.log(d.output().slice(-3000));
    }
  } else if (relay.rtpengine) {
    await deleteDaemonCalls(relay.rtpengine.ng, relay.callIds ?? []);
    res.relayExit = await relay.rtpengine.stop();
  } else if (relay.ref) {
    res.relayExit = await stopChild(relay.ref, 'SIGTERM', 5000);
    const json = relay.refOut?.find((l) => l.startsWith('{'));
    if (json) res.fastPath = { referenceForwarder: JSON.parse(json) };
  }
}

async function runOne(kind: RelayKind, k: number, tools: { blaster: string; reference: string }): Promise<Result> {
  const notes: string[] = [];
  const res: Result = {
    relay: kind, calls: k, maxPps: null, maxPpsGeneratorBound: false, lossAtMax: null, p50Us: null, p99Us: null,
    cpuPctAt2500: null, cpuSecPerMpkt: null, cpuSecPerMpktRate: null, highestOffered: 0, cpuSecPerMpktAtHighestOffered: null,
    steps: [], latency: null, notes,
  };
  const na = Math.min(k, 4);
  const nb = Math.min(k, 4);
  const bl = await Blaster.start(tools.blaster, na, nb, SRTP_MODE[kind] ? SRTP_KEY : undefined, SRTP_MODE[kind] === 'a');
  let relay = null as Relay | null; // (re)assigned by bringUp
  /** A fresh relay with the K calls, pinned, its flows primed. */
  const bringUp = async (): Promise<Relay> => {
    const started = await startRelay(kind, k, bl, na, nb, tools.reference);
    const r = started.relay;
    relay = r;
    if (oneCore) {
      // every thread of the relay (the addon's threads too) on core 0, the generator on core 1
      if (!pin(r.pid, 0)) notes.push(`taskset could not pin the relay (PID ${r.pid}) to core 0`);
      if (!pin(bl.pid, 1)) notes.push(`taskset could not pin the generator (PID ${bl.pid}) to core 1`);
    }
    await bl.cmd('clear');
    await bl.flows(started.flows);
    const primed = JSON.parse(await bl.cmd('prime 6 1500', 30_000)) as { primed: number; flows: number; rounds: number };
    console.log(`  endpoints primed: ${primed.primed}/${primed.flows} flows answered (round ${primed.rounds})`);
    if (primed.primed < primed.flows) notes.push(`only ${primed.primed}/${primed.flows} flows passed the priming packet`);
    await sleep(500);
    if (r.daemon) {
      const st = await r.daemon.ng.request({ command: 'statistics' });
      const fp = st.fastPath as Record<string, unknown>;
      console.log(`  fast path: enabled=${String(fp.enabled)} entries=${String(fp.entries)} sockets=${String(fp.sockets)}`);
      if (FAST[kind] && Number(fp.entries) < 2 * k) notes.push(`fast path has ${String(fp.entries)} entries for ${2 * k} flows`);
    }
    return r;
  };
  /**
   * After a failing step the next step gets a fresh relay with the same calls: a relay that stays
   * broken after an overload (rtpengine 10.5 at times stops reading a socket and loses 50-99 % of
   * every later, slower step at a few % CPU) would otherwise fail every later step and its figure
   * would say nothing about its capacity. Not for SRTP with the relay's own key toward A (the
   * generator holds one receive key per SSRC).
   */
  const canRestart = SRTP_MODE[kind] !== 'a';
  let restarts = 0;
  const freshAfterFailure = async (): Promise<void> => {
    if (!canRestart || !relay) return;
    const old = relay;
    relay = null;
    await stopRelay(old, res, notes);
    restarts++;
    console.log('  (the last step failed: a fresh relay with the same calls for the next step)');
    await bringUp();
  };
  try {
    await bringUp();
    // (b)+(c) latency and CPU at 2,500 pps
    const lat = await measured(bl, relay!, LAT_PPS, latSeconds);
    res.latency = lat;
    res.p50Us = lat.latUs.p50 ?? null;
    res.p99Us = lat.latUs.p99 ?? null;
    res.cpuPctAt2500 = lat.relayCpuPct;
    console.log(`  latency @${LAT_PPS} pps: p50 ${lat.latUs.p50} us, p99 ${lat.latUs.p99} us, max ${lat.latUs.max} us; ${describe(lat)}`);

    // (a) max pps at < 0.1 % loss: double, then bisect
    let good: Step | null = null;
    let bad: Step | null = null;
    let pps = startPps;
    let genBoundSteps = 0;
    const rate = (x: Step) => x.received / x.seconds;
    const deadline = Date.now() + (quick ? 20_000 : 180_000); // repeated steps and fresh relays take time too
    for (let i = 0; i < 16 && Date.now() < deadline && pps <= maxPps; i++) {
      const s = await measured(bl, relay!, pps, stepSeconds);
      res.steps.push(s);
      console.log(`  step: ${describe(s)}`);
      const rl: Relay = relay!;
      if (rl.daemon?.exited() || rl.rtpengine?.exited() || (rl.ref && rl.ref.exitCode !== null)) throw new Error('relay exited during the load');
      if (s.pass && !s.generatorBound) {
        good = s;
        pps *= 2;
      } else if (s.pass) {
        // generator-bound: a higher offered rate makes the generator's sendmmsg batches bigger
        // (cheaper per datagram), so it may still send more; go on while that gains >= 3 %
        const gained = !good || rate(s) >= 1.03 * rate(good);
        if (!good || rate(s) > rate(good)) good = s;
        if (!gained || ++genBoundSteps >= 3) break;
        pps *= 2;
      } else {
        bad = s;
        break;
      }
    }
    if (good && bad) {
      let lastPassed = false;
      let lo = good.offered;
      let hi = bad.offered;
      for (let i = 0; i < bisections && Date.now() < deadline && hi / lo > 1.08; i++) {
        const mid = Math.round(Math.sqrt(lo * hi) / 500) * 500;
        if (!lastPassed) await freshAfterFailure();
        const s = await measured(bl, relay!, mid, stepSeconds);
        lastPassed = s.pass;
        res.steps.push(s);
        console.log(`  step: ${describe(s)}`);
        if (s.pass) {
          if (!good || rate(s) > rate(good)) good = s;
          if (s.generatorBound) break;
          lo = mid;
        } else {
          hi = mid;
        }
      }
      if (bad.generatorBound) notes.push(`at ${fmt(bad.offered)} pps offered the generator also fell short (${fmt(bad.achieved)} pps sent): generator and relay share 2 cores`);
    }
    if (good?.generatorBound) {
      // the generator, not the relay, limited the best step, unless the relay lost at a rate the generator did reach above it
      const lostAbove = res.steps.some((x) => !x.pass && x.achieved > rate(good!));
      if (!lostAbove) {
        res.maxPpsGeneratorBound = true;
        notes.push(`generator-bound: the blaster sent only ${fmt(good.achieved)} of ${fmt(good.offered)} pps with no loss; the relay was not the limit`);
      }
    }
    if (good) {
      res.maxPps = good.received / good.seconds;
      res.lossAtMax = good.loss;
      res.cpuSecPerMpkt = good.relayCpu / (good.received / 1e6);
      res.cpuSecPerMpktRate = res.maxPps;
    } else {
      notes.push(`no step passed (first step ${fmt(startPps)} pps already lost >= 0.1 %)`);
    }
    const highest = res.steps.reduce<Step | null>((a, s) => (!a || s.offered > a.offered ? s : a), null);
    if (highest) {
      res.highestOffered = highest.offered;
      res.cpuSecPerMpktAtHighestOffered = highest.received > 0 ? highest.relayCpu / (highest.received / 1e6) : null;
    }
    if (restarts) notes.push(`${restarts} fresh relay(s) after failing steps (see freshAfterFailure)`);
  } finally {
    await bl.stop();
    if (relay) await stopRelay(relay, res, notes);
  }
  for (const n of notes) console.log(`  note: ${n}`);
  return res;
}

/** How to read a max-pps ratio ours / reference when the generator limited either figure. */
function boundNote(ours: Result | undefined, ref: Result | undefined): string {
  if (!ours?.maxPps || !ref?.maxPps) return '';
  if (ours.maxPpsGeneratorBound && ref.maxPpsGeneratorBound) return '(both gen-bound)';
  if (ours.maxPpsGeneratorBound) return '(ours gen-bound: >=)';
  if (ref.maxPpsGeneratorBound) return '(rtpengine gen-bound: <=)';
  return '';
}

async function main(): Promise<void> {
  const tools = cTools();
  const cores = ncpu();
  console.log(`bench/forward${quick ? ' (--quick)' : ''}: relays ${relays.join(', ')}; calls ${callCounts.join(', ')}; ` +
    `steps of ${stepSeconds} s, latency run ${latSeconds} s at ${LAT_PPS} pps; 172-byte RTP, both directions of every call`);
  console.log(`machine: ${cores} core(s); the relay and the load generator (bench/out/blaster: 1 sender + 1 receiver thread) ` +
    `share ${cores === 2 ? 'these 2' : 'the'} cores, and loopback delivery is charged to the sending process, so absolute ` +
    `figures are lower than on a dedicated box; other processes may have been running too (see "others" per step).`);
  const results: Result[] = [];
  for (const k of callCounts) {
    for (const kind of relays) {
      console.log(`\n== ${RELAY_NAME[kind]}, ${k} call(s) ==`);
      try {
        results.push(await runOne(kind, k, tools));
      } catch (err) {
        console.log(`  ERROR: ${(err as Error).stack ?? String(err)}`);
        results.push({
          relay: kind, calls: k, maxPps: null, maxPpsGeneratorBound: false, lossAtMax: null, p50Us: null, p99Us: null,
          cpuPctAt2500: null, cpuSecPerMpkt: null, cpuSecPerMpktRate: null, highestOffered: 0,
          cpuSecPerMpktAtHighestOffered: null, steps: [], latency: null, notes: [`error: ${(err as Error).message}`],
        });
      }
    }
  }

  const rows = results.map((r) => [
    RELAY_NAME[r.relay],
    String(r.calls),
    r.maxPps === null ? '-' : `${fmt(r.maxPps)}${r.maxPpsGeneratorBound ? ' (gen-bound)' : ''}`,
    r.p50Us === null ? '-' : `${fmt(r.p50Us, 0)} us`,
    r.p99Us === null ? '-' : `${fmt(r.p99Us, 0)} us`,
    r.cpuPctAt2500 === null ? '-' : `${r.cpuPctAt2500.toFixed(1)} %`,
    r.cpuSecPerMpkt === null ? '-' : r.cpuSecPerMpkt.toFixed(2),
  ]);
  console.log('\nResults (max pps = forwarded packets/s, both directions together, at < 0.1 % loss; CPU % of one core):\n');
  console.log(table(['relay', 'calls', 'max pps @<0.1% loss', 'p50 @2500pps', 'p99 @2500pps', 'CPU% @2500pps', 'CPU s per Mpkt @max'], rows));

  const cmp: Array<Record<string, unknown>> = [];
  for (const k of callCounts) {
    const get = (kind: RelayKind) => results.find((r) => r.relay === kind && r.calls === k);
    const js = get('js'), fast = get('fast'), ref = get('ref'), jsSrtp = get('js-srtp');
    const jsSrtpRtp = get('js-srtp-rtp'), fastSrtpRtp = get('fast-srtp-rtp'), fastSrtp = get('fast-srtp');
    const entry: Record<string, unknown> = { calls: k };
    if (fast?.maxPps && ref?.maxPps) entry.fastVsReferencePct = (100 * fast.maxPps) / ref.maxPps;
    if (fast?.maxPps && js?.maxPps) entry.fastVsJsX = fast.maxPps / js.maxPps;
    if (fast?.cpuSecPerMpkt && ref?.cpuSecPerMpkt) entry.fastVsReferenceCpuPerPktPct = (100 * fast.cpuSecPerMpkt) / ref.cpuSecPerMpkt;
    if (fast?.cpuSecPerMpkt && js?.cpuSecPerMpkt) entry.jsVsFastCpuPerPktX = js.cpuSecPerMpkt / fast.cpuSecPerMpkt;
    if (jsSrtp?.cpuSecPerMpkt && js?.cpuSecPerMpkt) entry.jsSrtpVsJsCpuPerPktX = jsSrtp.cpuSecPerMpkt / js.cpuSecPerMpkt;
    if (jsSrtp?.cpuPctAt2500 && js?.cpuPctAt2500) entry.jsSrtpVsJsCpuAt2500X = jsSrtp.cpuPctAt2500 / js.cpuPctAt2500;
    // CPU per packet at the same offered rate (the highest rate both relays took without loss)
    const sameRate = (x: Result | undefined, base: Result | undefined): number | undefined => {
      if (!x || !base) return undefined;
      const ok = (r: Result) => new Map(r.steps.filter((s) => s.pass && s.received > 0).map((s) => [s.offered, s.relayCpu / s.received]));
      const a = ok(x), b = ok(base);
      const rates = [...a.keys()].filter((r) => b.has(r)).sort((p, q) => q - p);
      return rates.length ? a.get(rates[0]!)! / b.get(rates[0]!)! : undefined;
    };
    entry.srtpCpuPerPktX = {
      'js-srtp-rtp/js': sameRate(jsSrtpRtp, js), 'js-srtp/js': sameRate(jsSrtp, js),
      'fast-srtp-rtp/fast': sameRate(fastSrtpRtp, fast), 'fast-srtp/fast': sameRate(fastSrtp, fast),
    };
    entry.srtpCpuAt2500X = {
      'js-srtp-rtp/js': jsSrtpRtp?.cpuPctAt2500 && js?.cpuPctAt2500 ? jsSrtpRtp.cpuPctAt2500 / js.cpuPctAt2500 : undefined,
      'fast-srtp-rtp/fast': fastSrtpRtp?.cpuPctAt2500 && fast?.cpuPctAt2500 ? fastSrtpRtp.cpuPctAt2500 / fast.cpuPctAt2500 : undefined,
    };
    const rte = get('rtpengine'), jsDgram = get('js-dgram');
    entry.generatorBound = [js, jsDgram, jsSrtp, jsSrtpRtp, fast, fastSrtpRtp, fastSrtp, ref, rte].filter((r) => r?.maxPpsGeneratorBound).map((r) => r!.relay);
    if (js?.maxPps && rte?.maxPps) entry.jsVsRtpengineX = js.maxPps / rte.maxPps;
    // the same offered rate, both without loss: rtpengine's CPU per packet over ours (> 1: ours is cheaper)
    const rteCpu = sameRate(rte, js);
    if (rteCpu !== undefined) entry.rtpengineVsJsCpuPerPktX = rteCpu;
    const rteCpuDgram = sameRate(rte, jsDgram);
    if (rteCpuDgram !== undefined) entry.rtpengineVsJsDgramCpuPerPktX = rteCpuDgram;
    entry.jsVsRtpengineNote = boundNote(js, rte);
    entry.jsDgramVsRtpengineNote = boundNote(jsDgram, rte);
    entry.fastVsRtpengineNote = boundNote(fast, rte);
    if (jsDgram?.maxPps && rte?.maxPps) entry.jsDgramVsRtpengineX = jsDgram.maxPps / rte.maxPps;
    if (fast?.maxPps && rte?.maxPps) entry.fastVsRtpengineX = fast.maxPps / rte.maxPps;
    if (js?.maxPps && jsDgram?.maxPps) entry.jsVsJsDgramX = js.maxPps / jsDgram.maxPps;
    cmp.push(entry);
  }
  const x = (v: unknown) => (v === undefined ? '-' : `${(v as number).toFixed(2)} x`);
  const xn = (v: unknown, note: unknown) => (v === undefined ? '-' : `${(v as number).toFixed(2)} x${note ? ` ${String(note)}` : ''}`);
  if (relays.includes('rtpengine')) {
    console.log('\nAgainst rtpengine userspace (max pps ratios in this run; "gen-bound" marks a figure the generator, not the relay, limited):\n');
    console.log(table(['calls', 'JS path / rtpengine', 'JS on dgram / rtpengine', 'fast path / rtpengine', 'JS path / JS on dgram',
      'rtpengine / JS CPU per pkt (same rate)', 'rtpengine / JS on dgram CPU per pkt', 'generator-bound'],
      cmp.map((c) => [String(c.calls), xn(c.jsVsRtpengineX, c.jsVsRtpengineNote), xn(c.jsDgramVsRtpengineX, c.jsDgramVsRtpengineNote),
        xn(c.fastVsRtpengineX, c.fastVsRtpengineNote), x(c.jsVsJsDgramX), x(c.rtpengineVsJsCpuPerPktX), x(c.rtpengineVsJsDgramCpuPerPktX),
        (c.generatorBound as string[]).join(', ') || '-'])));
    console.log('A max-pps ratio is a measurement of both relays only when neither figure is gen-bound; "(ours gen-bound: >=)" means ours could');
    console.log('take more than the generator offered, so the true ratio is at least this; "(both gen-bound)" means the run cannot rank them by');
    console.log('max pps, and the CPU per packet at the same rate is the comparison.');
  }
  console.log('\n' + table(
    ['calls', 'fast vs reference (max pps)', 'fast vs JS (max pps)', 'fast vs ref (CPU/pkt)', 'JS vs fast (CPU/pkt)', 'JS SRTP vs JS (CPU/pkt @max, @2500pps)', 'generator-bound'],
    cmp.map((c) => [
      String(c.calls),
      c.fastVsReferencePct === undefined ? '-' : `${(c.fastVsReferencePct as number).toFixed(0)} %`,
      c.fastVsJsX === undefined ? '-' : `${(c.fastVsJsX as number).toFixed(1)} x`,
      c.fastVsReferenceCpuPerPktPct === undefined ? '-' : `${(c.fastVsReferenceCpuPerPktPct as number).toFixed(0)} %`,
      c.jsVsFastCpuPerPktX === undefined ? '-' : `${(c.jsVsFastCpuPerPktX as number).toFixed(1)} x`,
      c.jsSrtpVsJsCpuPerPktX === undefined ? '-' : `${(c.jsSrtpVsJsCpuPerPktX as number).toFixed(2)} x, ${c.jsSrtpVsJsCpuAt2500X === undefined ? '-' : `${(c.jsSrtpVsJsCpuAt2500X as number).toFixed(2)} x`}`,
      (c.generatorBound as string[]).join(', ') || '-',
    ]),
  ));
  console.log('\nSRTP cost: relay CPU per forwarded packet against plain RTP on the same path, at the highest rate both took without loss (and CPU% at 2,500 pps):\n');
  console.log(table(
    ['calls', 'JS SRTP<->RTP / JS', 'JS SRTP<->SRTP / JS', 'fast SRTP<->RTP / fast', 'fast SRTP<->SRTP / fast', 'JS SRTP<->RTP / JS @2500', 'fast SRTP<->RTP / fast @2500'],
    cmp.map((c) => {
      const r = c.srtpCpuPerPktX as Record<string, number | undefined>;
      const a = c.srtpCpuAt2500X as Record<string, number | undefined>;
      return [String(c.calls), x(r['js-srtp-rtp/js']), x(r['js-srtp/js']), x(r['fast-srtp-rtp/fast']), x(r['fast-srtp/fast']), x(a['js-srtp-rtp/js']), x(a['fast-srtp-rtp/fast'])];
    }),
  ));
  console.log('\n"gen-bound": the generator could not offer more without loss; the relay was not the limit at that rate.');
  console.log('A relay that is not gen-bound hit >= 0.1 % loss at the next step; on 2 shared cores that limit is where relay and generator');
  console.log('together saturate the CPU, so the relay with the lower CPU cost per packet leaves more CPU to the generator.');

  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, argValue('out') ?? (quick ? 'forward-quick.json' : 'forward.json')); // --quick never overwrites a full run
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), quick, oneCore, cores, node: process.version, stepSeconds, latSeconds, latPps: LAT_PPS,
    lossLimit: LOSS_LIMIT, fastPathThreads: fastThreads, packetBytes: 172,
    table: results.map((r) => ({
      relay: r.relay, calls: r.calls, maxPps: r.maxPps, maxPpsGeneratorBound: r.maxPpsGeneratorBound, p50Us: r.p50Us, p99Us: r.p99Us,
      cpuPctAt2500: r.cpuPctAt2500, cpuSecPerMpkt: r.cpuSecPerMpkt,
    })),
    comparison: cmp,
    details: results,
  }, null, 2));
  console.log(`\nwritten: ${path.relative(process.cwd(), file) || file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
