/**
 * Every teardown runs under the call's write lock. An offer is held at its await in port
 * allocation by the test-only pause point (RTPENGINE_TS_TEST_PAUSE=port-alloc:FILE: every
 * allocation waits while FILE exists) and raced against each path that tears a call down:
 * delete-delay expiry, CLI terminate, the timeout sweep and SIGTERM. Each teardown must wait
 * for the offer, the offer must finish normally, a command queued behind the teardown must get
 * "Unknown call-id", and nothing may leak.
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import type { NgReply } from '../helpers/ng-client.js';
import { RtpPeer } from '../helpers/rtp-peer.js';

import { sleep } from '../../support/sleep.js';
const PAUSED = /TEST-ONLY pause: port allocation waiting/g;

let fileCounter = 0;
function pauseFile(): string {
  return path.join(os.tmpdir(), `rtpe-ts-pause-${process.pid}-${++fileCounter}`);
}

function count(text: string, re: RegExp): number {
  return (text.match(new RegExp(re.source, 'g')) ?? []).length;
}

/** Waits until the daemon's output has more than `before` matches of `re`. */
async function waitForLog(d: DaemonHandle, re: RegExp, before: number, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count(d.stderr(), re) <= before) {
    if (Date.now() > deadline) throw new Error(`no new "${re.source}" in the daemon's output within ${timeoutMs} ms\n${d.stderr().slice(-3000)}`);
    await sleep(10);
  }
}

/** An offer SDP with two audio m= lines: the second needs a new port pair on a re-offer. */
function twoMediaSdp(peer: RtpPeer, version: number): string {
  return [
    'v=0', `o=- 1545997027 ${version} IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP 0`, `c=IN IP4 ${peer.address}`, 'a=sendrecv',
    `m=audio ${peer.port + 2} RTP/AVP 8`, `c=IN IP4 ${peer.address}`, 'a=sendrecv', '',
  ].join('\r\n');
}

/** Tracks whether a promise has settled, and in which order several did. */
function tracked<T>(p: Promise<T>, name: string, order: string[]): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => {
    done = true;
    order.push(name);
  });
  return { promise, settled: () => done };
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function cliCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(`${command}\n`));
    let text = '';
    c.on('data', (b) => (text += b.toString()));
    c.on('end', () => resolve(text));
    c.on('error', reject);
  });
}

describe.each([{ fastPath: false }, { fastPath: true }])('teardown waits for the command holding the call, fast path $fastPath', ({ fastPath }) => {
  const peers: RtpPeer[] = [];
  const files: string[] = [];
  const daemons: DaemonHandle[] = [];
  let a: RtpPeer;
  let b: RtpPeer;

  const start = async (file: string, args: string[] = []) => {
    const d = await startDaemon(args, { fastPath, env: { RTPENGINE_TS_TEST_PAUSE: `port-alloc:${file}` } });
    daemons.push(d);
    return d;
  };
  const pause = (file: string) => {
    files.push(file);
    writeFileSync(file, '');
  };
  const resume = (file: string) => {
    if (existsSync(file)) unlinkSync(file);
  };

  beforeAll(async () => {
    a = await RtpPeer.open();
    b = await RtpPeer.open();
    peers.push(a, b);
  });
  afterEach(async () => {
    for (const f of files.splice(0)) resume(f);
    for (const d of daemons.splice(0)) await d.stop('SIGKILL').catch(() => undefined);
  });
  afterAll(() => {
    for (const p of peers) p.close();
  });

  it('delete-delay expiry: the timer waits for a re-offer at its await; an answer queued behind the teardown gets "Unknown call-id"', async () => {
    const file = pauseFile();
    const d = await start(file);
    const callId = uniqueCallId('race-delay');
    await offerAnswer(d, { callId, fromTag: 'a', toTag: 'b', a, b });
    expect((await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 1 })).result).toBe('ok');

    pause(file);
    const before = count(d.stderr(), PAUSED);
    const order: string[] = [];
    const reoffer = tracked(d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: twoMediaSdp(a, 2) }, { timeoutMs: 15_000 }), 'offer', order);
    await waitForLog(d, PAUSED, before);
    await sleep(1600); // the delete-delay timer has fired by now
    expect((await d.ng.request({ command: 'list' })).calls, 'the expired call is still there: its teardown waits').toContain(callId);
    expect(d.stderr()).not.toMatch(new RegExp(`${callId}.*Call torn down|Call torn down.*${callId}`));
    const answer = tracked(d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(b) }, { timeoutMs: 15_000 }), 'answer', order);
    await sleep(100);
    expect(reoffer.settled() || answer.settled(), 'both commands wait while the offer is paused').toBe(false);

    resume(file);
    const offerReply: NgReply = await reoffer.promise;
    expect(offerReply.result, JSON.stringify(offerReply)).toBe('ok');
    expect((offerReply.sdp as string).match(/^m=audio/gm)).toHaveLength(2);
    const answerReply = await answer.promise;
    expect(answerReply['error-reason']).toBe('Unknown call-id');
    expect(order).toEqual(['offer', 'answer']);
    expect((await d.ng.request({ command: 'list' })).calls).not.toContain(callId);
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.statistics.totalstatistics.regularterminatedsessions).toBe(1);
    expect(stats.statistics.totalstatistics.refuseddestroyedcalladds).toBe(0);
    await expectNoLeaks(d);
  });

  it('CLI terminate: answers only after the paused offer has finished, then the call is gone', async () => {
    const file = pauseFile();
    const cliPort = await freeTcpPort();
    const d = await start(file, ['-c', `127.0.0.1:${cliPort}`]);
    const callId = uniqueCallId('race-cli');
    pause(file);
    const before = count(d.stderr(), PAUSED);
    const order: string[] = [];
    const offer = tracked(d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdpFor(a) }, { timeoutMs: 15_000 }), 'offer', order);
    await waitForLog(d, PAUSED, before);
    const terminate = tracked(cliCommand(cliPort, `terminate ${callId}`), 'terminate', order);
    await sleep(300);
    expect(terminate.settled(), 'terminate waits for the offer holding the call').toBe(false);
    const queued = tracked(d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(b) }, { timeoutMs: 15_000 }), 'answer', order);
    await sleep(50);

    resume(file);
    const offerReply = await offer.promise;
    expect(offerReply.result, JSON.stringify(offerReply)).toBe('ok');
    expect(await terminate.promise).toBe(`Call Id (${callId}) successfully terminated by operator.\n`);
    expect((await queued.promise)['error-reason']).toBe('Unknown call-id');
    expect(order.indexOf('offer')).toBeLessThan(order.indexOf('terminate'));
    expect(await cliCommand(cliPort, 'list numsessions')).toMatch(/Current sessions own: 0/);
    expect(await cliCommand(cliPort, 'list totals')).toMatch(/Total forced terminated sessions\s+:1\n/);
    await expectNoLeaks(d);
  });

  it('timeout sweep: a call due for --offer-timeout while a re-offer holds it is torn down after the re-offer', async () => {
    const file = pauseFile();
    const d = await start(file, ['--offer-timeout', '1']);
    const callId = uniqueCallId('race-sweep');
    expect((await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdpFor(a) })).result).toBe('ok');

    pause(file);
    const before = count(d.stderr(), PAUSED);
    const waiting = /Call timed out, waiting for the command holding it/;
    const waitingBefore = count(d.stderr(), waiting);
    const reoffer = d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: twoMediaSdp(a, 2) }, { timeoutMs: 15_000 });
    await waitForLog(d, PAUSED, before);
    await waitForLog(d, waiting, waitingBefore); // the sweep found it due and queued its teardown
    expect((await d.ng.request({ command: 'list' })).calls).toContain(callId);

    resume(file);
    const reply = await reoffer;
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    expect((reply.sdp as string).match(/^m=audio/gm)).toHaveLength(2);
    const deadline = Date.now() + 3000;
    while ((await d.ng.request({ command: 'list' })).calls.includes(callId) && Date.now() < deadline) await sleep(50);
    expect((await d.ng.request({ command: 'list' })).calls).not.toContain(callId);
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.statistics.totalstatistics.offertimeoutsessions).toBe(1);
    await expectNoLeaks(d);
  });

  it('SIGTERM: shutdown waits for the paused offer, then tears its call down; exit 0 with nothing leaked', async () => {
    const file = pauseFile();
    const d = await start(file);
    const callId = uniqueCallId('race-term');
    pause(file);
    const before = count(d.stderr(), PAUSED);
    // the reply cannot arrive: shutdown closes the ng listener first
    const offer = d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdpFor(a) }, { timeoutMs: 3000 }).catch(() => null);
    await waitForLog(d, PAUSED, before);
    process.kill(d.pid, 'SIGTERM');
    await waitForLog(d, /shutdown waits for commands in progress/, 0);
    await sleep(200);
    expect(d.stderr(), 'nothing torn down while the offer holds the call').not.toMatch(/Call torn down/);
    resume(file);
    const code = await d.stop();
    await offer;
    const out = d.stderr();
    expect(out).toMatch(/"reason":"shutdown"[^\n]*Call torn down|Call torn down[^\n]*"reason":"shutdown"/);
    expect(out).toMatch(/LEAK SUMMARY:\n   in use at exit: 0 objects \(-\)\n   definitely leaked: 0 objects \(-\)\n   still reachable after release: 0 objects \(-\)\n   double releases: 0 \(-\)/);
    expect(code, out.slice(-4000)).toBe(0);
  });
});
