/**
 * 1,000 concurrent calls, each relaying both ways, on the JS path and on the fast path: every
 * call gets its own relay ports (never shared while a call holds them), every socket is bound
 * to the interface address (never the wildcard), and everything is released at teardown.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, uniqueCallId, type RelayPorts } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

const CALLS = 1000;

/** Local UDP sockets of the machine from /proc/net/udp: port → bound IPv4 addresses. */
function boundUdp4(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (!local) continue;
    const [hexAddr, hexPort] = local.split(':') as [string, string];
    const n = parseInt(hexAddr, 16);
    const addr = [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24].join('.');
    const port = parseInt(hexPort, 16);
    out.set(port, [...(out.get(port) ?? []), addr]);
  }
  return out;
}

/**
 * boundUdp4 for `ports`, read until two reads in a row agree on them (at most 10 reads): the
 * kernel writes /proc/net/udp a page at a time, so sockets that other processes bind or close
 * meanwhile can make one read skip a row or show one twice. A port bound to the wrong address,
 * to the wildcard, twice, or not at all shows the same in every read.
 */
function boundUdp4Settled(ports: readonly number[]): Map<number, string[]> {
  const view = (m: Map<number, string[]>) => JSON.stringify(ports.map((p) => m.get(p) ?? null));
  let last = boundUdp4();
  for (let i = 0; i < 9; i++) {
    const next = boundUdp4();
    if (view(next) === view(last)) return next;
    last = next;
  }
  return last;
}

describe.each([{ fastPath: false }, { fastPath: true }])('1,000 concurrent calls, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  let a: RtpPeer;
  let b: RtpPeer;
  const calls: Array<{ callId: string; r: RelayPorts }> = [];

  beforeAll(async () => {
    // above the ephemeral range, so no test peer can sit on these ports
    d = await startDaemon([], { fastPath, portRange: [61000, 65535] });
    a = await RtpPeer.open();
    b = await RtpPeer.open();
  });

  afterAll(async () => {
    a.close();
    b.close();
    await expectNoLeaks(d);
  });

  it('sets up 1,000 calls with distinct relay ports bound to the interface address', async () => {
    for (let i = 0; i < CALLS; i++) {
      const callId = uniqueCallId(`scale${i}`);
      calls.push({ callId, r: await offerAnswer(d, { callId, fromTag: `a${i}`, toTag: `b${i}`, a, b }) });
    }
    const ports = calls.flatMap(({ r }) => [r.aRtp, r.aRtcp, r.bRtp, r.bRtcp]);
    expect(new Set(ports).size, 'no port shared between calls').toBe(CALLS * 4);
    const bound = boundUdp4Settled(ports);
    for (const port of ports) expect(bound.get(port), `port ${port}`).toEqual(['127.0.0.1']);
    expect((await d.ng.request({ command: 'list', limit: 5000 })).calls.length).toBe(CALLS);
  }, 60_000);

  it('relays both ways on every call', async () => {
    const sendAll = async (from: RtpPeer, port: (r: RelayPorts) => number, to: RtpPeer) => {
      to.clear();
      for (let i = 0; i < CALLS; i++) {
        from.send(rtpPacket(i, { ssrc: i }), port(calls[i]!.r));
        // the next 100 only once these arrived: a loaded receiver never has more than 100
        // waiting, well inside its socket's default receive buffer (no loss at the test's end)
        if (i % 100 === 99) await to.waitFor(i + 1, 15_000);
      }
      return to.waitFor(CALLS, 15_000);
    };
    const atB = await sendAll(a, (r) => r.aRtp, b);
    expect(atB.length).toBe(CALLS);
    // each call's packet leaves from that call's own relay port toward B
    for (const p of atB) expect(p.port).toBe(calls[p.data.readUInt32BE(8)]!.r.bRtp);
    const atA = await sendAll(b, (r) => r.bRtp, a);
    expect(atA.length).toBe(CALLS);
    for (const p of atA) expect(p.port).toBe(calls[p.data.readUInt32BE(8)]!.r.aRtp);
  }, 60_000);

  it('tears all calls down and frees the ports for reuse', async () => {
    for (const { callId } of calls) {
      expect((await d.ng.request({ command: 'delete', 'call-id': callId })).result).toBe('ok');
    }
    const bound = boundUdp4();
    expect(calls.filter(({ r }) => bound.has(r.aRtp)).length, 'relay sockets closed').toBe(0);
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.statistics.currentstatistics.sessionsown).toBe(0);
    // the freed ports can be handed out again
    const again = await offerAnswer(d, { callId: uniqueCallId('again'), fromTag: 'x', toTag: 'y', a, b });
    expect(again.aRtp).toBeGreaterThanOrEqual(61000);
    await d.ng.request({ command: 'delete', 'call-id': (await d.ng.request({ command: 'list' })).calls[0] });
  }, 60_000);
});
