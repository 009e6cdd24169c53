/**
 * GET /metrics against `statistics`: after a known number of calls and packets, the
 * Prometheus text passes `promtool check metrics` (the Prometheus project's own parser and
 * linter) and every figure equals the one `statistics` reports, with and without the fast path.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, offerAnswer, uniqueCallId } from '../helpers/media-call.js';
import { freeTcpPort, httpRequest } from '../helpers/ng-transports.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

type Samples = Map<string, number>;

/** `promtool check metrics`: exit 0 (clean) or 3 (lint findings); anything else is a parse error. */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool not runnable (Debian package "prometheus"): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Sample lines (`name{labels} value`) of a text promtool accepted. */
function samples(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

describe.each([{ fastPath: false }, { fastPath: true }])('/metrics, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  let httpPort: number;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    httpPort = await freeTcpPort();
    d = await startDaemon([`--listen-http=127.0.0.1:${httpPort}`], { fastPath });
    for (let i = 0; i < 2; i++) peers.push(await RtpPeer.open());
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  /** Bounded wait until both RTP streams of the call are forwarded natively. */
  async function untilNative(callId: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const q = await d.ng.request({ command: 'query', 'call-id': callId });
      const streams = Object.values(q.tags as Record<string, { medias: { streams: { fastPath: { native: number } }[] }[] }>).map((t) => t.medias[0]!.streams[0]!);
      if (streams.length === 2 && streams.every((st) => st.fastPath.native === 1)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`call ${callId}: streams not native after 2 s`);
  }

  it('parses with promtool and matches statistics after 3 finished calls and 1 running', async () => {
    const [a, b] = peers as [RtpPeer, RtpPeer];
    for (let call = 0; call < 4; call++) {
      a.clear();
      b.clear();
      const callId = uniqueCallId('metrics');
      const r = await offerAnswer(d, { callId, fromTag: 'fa', toTag: 'fb', a, b });
      // first packets teach both endpoints; on the fast path the rest go once the streams are native
      for (let i = 0; i < 2; i++) a.send(rtpPacket(i), r.aRtp);
      for (let i = 0; i < 2; i++) b.send(rtpPacket(i), r.bRtp);
      await b.waitFor(2);
      await a.waitFor(2);
      if (fastPath) await untilNative(callId);
      for (let i = 2; i < 10; i++) a.send(rtpPacket(i), r.aRtp);
      for (let i = 2; i < 6; i++) b.send(rtpPacket(i), r.bRtp);
      await b.waitFor(10);
      await a.waitFor(6);
      if (call < 3) await deleteCall(d, callId);
    }
    const res = await httpRequest(`http://127.0.0.1:${httpPort}/metrics`);
    const stats = (await d.ng.request({ command: 'statistics' })).statistics;
    expect(res.status).toBe(200);
    const text = res.body.toString();

    const check = promtool(text);
    expect([0, 3], `promtool check metrics:\n${check.output}`).toContain(check.status);
    // lint findings may only concern Node's default metrics, never ours
    const ours = check.output.split('\n').filter((l) => l.trim() !== '' && !/^(nodejs|process)_/.test(l));
    expect(ours, check.output).toEqual([]);

    const m = samples(text);
    const cur = stats.currentstatistics;
    const tot = stats.totalstatistics;
    expect(m.get('rtpengine_sessions{type="own"}')).toBe(1);
    expect(cur.sessionsown).toBe(1);
    expect(m.get('rtpengine_sessions_total')).toBe(4);
    expect(tot.managedsessions).toBe(4);
    expect(m.get('rtpengine_closed_sessions_total{reason="terminated"}')).toBe(3);
    expect(tot.regularterminatedsessions).toBe(3);
    // 4 calls × 16 RTP packets, all relayed
    expect(tot.relayedpackets).toBe(64);
    expect(m.get('rtpengine_packets_total{type="userspace"}')! + m.get('rtpengine_packets_total{type="kernel"}')!).toBe(64);
    expect(m.get('rtpengine_packets_total{type="kernel"}')).toBe(tot.relayedpackets_kernel);
    if (fastPath) expect(tot.relayedpackets_kernel).toBeGreaterThan(0);
    expect(m.get('rtpengine_protocol_packets_total{protocol="RTP"}')).toBe(64);
    expect(m.get('rtpengine_protocol_packets_total{protocol="RTCP"}')).toBe(0);
    expect(m.get('rtpengine_protocol_bytes_total{protocol="RTP"}')).toBe(tot.relayedbytes_rtp);
    expect(tot.relayedbytes).toBe(64 * 172);
    // control: 4 offers, 4 answers, 3 deletes from our one proxy address
    const proxy = stats.controlstatistics.proxies.find((p: { proxy: string }) => p.proxy === '127.0.0.1');
    expect(proxy.offercount).toBe(4);
    expect(proxy.deletecount).toBe(3);
    expect(m.get('rtpengine_requests_total{proxy="127.0.0.1",request="offer"}')).toBe(4);
    expect(m.get('rtpengine_requests_total{proxy="127.0.0.1",request="answer"}')).toBe(4);
    expect(m.get('rtpengine_requests_total{proxy="127.0.0.1",request="delete"}')).toBe(3);
    expect(m.get('rtpengine_request_seconds_total{proxy="127.0.0.1",request="offer"}')).toBeCloseTo(Number(proxy.offerduration), 5);
    expect(stats.controlstatistics.totaloffercount).toBe(4);
    // the running call holds 2 RTP/RTCP pairs on the one interface
    const iface = stats.interfaces[0];
    expect(iface.ports.used).toBe(4);
    expect(m.get('rtpengine_ports_used{name="default",address="127.0.0.1"}')).toBe(4);
    expect(m.get('rtpengine_ports{name="default",address="127.0.0.1"}')).toBe(iface.ports.totals);
    expect(m.get('rtpengine_ports_free{name="default",address="127.0.0.1"}')).toBe(iface.ports.free);
    // the cookie cache as statistics saw it (its own reply is cached after it was built)
    expect(m.get('rtpengine_cookie_cache_entries')).toBe(cur.cookiecacheentries);
    expect(m.get('rtpengine_leak_live_objects{type="Call"}')).toBe(1);
    expect(m.get('rtpengine_leaked_objects_total')).toBe(0);
    expect(m.get('rtpengine_fastpath_entries')).toBe(cur.fastpathentries);
    expect(m.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    // the CLI totals come from the same list
    const cli = await httpRequest(`http://127.0.0.1:${httpPort}/cli/list%20totals`);
    expect(cli.body.toString()).toMatch(/ Total managed sessions\s+:4\n/);
    expect(cli.body.toString()).toMatch(/ Total relayed packets\s+:64\n/);

    for (const callId of (await d.ng.request({ command: 'list' })).calls as string[]) await deleteCall(d, callId);
  });
});
