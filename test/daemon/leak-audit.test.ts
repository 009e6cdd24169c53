/**
 * The leak audit catches each kind of mistake. A test-only environment switch
 * (RTPENGINE_TS_LEAK_INJECT, read at start-up) makes the daemon skip one release, release one
 * object twice, or keep one listener holding the call; for each, the audit must report the
 * right type, call-id and allocation site, and --leak-check=fatal must exit non-zero. With
 * the switch off, the same scenario reports nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';
import { EXIT_LEAKS } from '../../daemon/exit-codes.js';
import { sleep } from '../../support/sleep.js';

/** One full call: offer, answer, a packet each way, delete. */
async function oneCall(d: DaemonHandle, prefix: string): Promise<string> {
  const a = await RtpPeer.open();
  const b = await RtpPeer.open();
  try {
    const callId = uniqueCallId(prefix);
    const r = await offerAnswer(d, { callId, fromTag: 'a', toTag: 'b', a, b });
    a.send(rtpPacket(1), r.aRtp);
    await b.waitFor(1);
    b.send(rtpPacket(2), r.bRtp);
    await a.waitFor(1);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId });
    expect(del.result).toBe('ok');
    return callId;
  } finally {
    a.close();
    b.close();
  }
}

describe('leak audit', () => {
  const started: DaemonHandle[] = [];
  const start = async (args: string[], inject?: string) => {
    const d = await startDaemon(args, { env: inject ? { RTPENGINE_TS_LEAK_INJECT: inject } : {} });
    started.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of started.splice(0)) await d.stop('SIGKILL').catch(() => undefined);
  });

  it('a skipped release is reported as leaked, with type, call-id and allocation site; fatal exits non-zero', async () => {
    const d = await start(['--leak-stacks=Media'], 'skip-release:Media');
    const callId = await oneCall(d, 'skip');
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.leaks.leaked).toBe(1);
    expect(stats.leaks.live.Media).toBe(0); // moved from live to leaked by the audit
    const report = await d.ng.request({ command: 'leak-report' });
    const leaked = report.leakedObjects as Array<{ type: string; callId: string; allocationSite: string | null }>;
    expect(leaked).toHaveLength(1);
    expect(leaked[0]).toMatchObject({ type: 'Media', callId });
    expect(leaked[0]?.allocationSite, 'allocation site of the leaked Media').toMatch(/addMedia/);
    expect(report.leakedByType).toEqual({ Media: 1 });
    expect(d.stderr()).toMatch(/leak audit: call torn down with objects still registered/);
    expect(await d.stop()).toBe(EXIT_LEAKS);
    expect(d.stderr()).toMatch(/definitely leaked: 1 objects \(Media=1\)/);
  });

  it('a double release is reported with type and call-id; fatal exits non-zero', async () => {
    const d = await start([], 'double-release:StreamFd');
    const callId = await oneCall(d, 'double');
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.leaks.doubleRelease).toBe(1);
    expect(stats.leaks.leaked).toBe(0);
    const report = await d.ng.request({ command: 'leak-report' });
    expect(report.doubleReleases).toHaveLength(1);
    expect(report.doubleReleases[0]).toMatchObject({ type: 'StreamFd', callId });
    expect(report.doubleReleases[0].allocationSite, 'where the second release happened').toMatch(/closeFd|releasePorts/);
    expect(await d.stop()).toBe(EXIT_LEAKS);
  });

  it('a listener that keeps the call is reported as still reachable after release, naming its holder', async () => {
    const d = await start([], 'keep-listener');
    const callId = await oneCall(d, 'listener');
    const report = await d.ng.request({ command: 'leak-report' }); // waits for the post-teardown GC check
    const reachable = report.reachableObjects as Array<{ type: string; callId: string; holder: string }>;
    expect(reachable.length).toBeGreaterThanOrEqual(1);
    expect(reachable).toContainEqual(expect.objectContaining({ type: 'Call', callId, holder: 'call observers' }));
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.leaks.reachableAfterRelease).toBeGreaterThanOrEqual(1);
    expect(stats.leaks.leaked).toBe(0);
    expect(await d.stop()).toBe(EXIT_LEAKS);
    expect(d.stderr()).toMatch(/still reachable after release: [1-9]/);
  });

  it('leak-stacks switches allocation stacks on at run time', async () => {
    const d = await start([], 'skip-release:SinkHandler');
    const first = await oneCall(d, 'nostack');
    const set = await d.ng.request({ command: 'leak-stacks', types: ['SinkHandler', 'Call'] });
    expect(set.result).toBe('ok');
    expect((await d.ng.request({ command: 'leak-stacks', types: ['NoSuchType'] }))['error-reason']).toMatch(/unknown object type/);
    const second = await oneCall(d, 'stack');
    const report = await d.ng.request({ command: 'leak-report' });
    const byCall = (id: string) => (report.leakedObjects as Array<{ callId: string; allocationSite: string | null }>).find((o) => o.callId === id);
    expect(byCall(first)).toBeDefined();
    expect(byCall(first)?.allocationSite ?? null, "no stack before leak-stacks").toBeNull();
    expect(byCall(second)?.allocationSite).toMatch(/newSink|rebuildSinks/);
    expect(report.stackTypes).toEqual(['SinkHandler', 'Call']);
  });

  it('reports growth of a type that keeps rising (the cookie cache filling up)', async () => {
    const d = await start(['--leak-sample-interval=1']);
    const deadline = Date.now() + 5500;
    while (Date.now() < deadline) {
      for (let i = 0; i < 20; i++) await d.ng.request({ command: 'ping' });
      await sleep(100);
    }
    const stats = await d.ng.request({ command: 'statistics' });
    const growth = stats.leaks.growth as Array<{ type: string; trend: string; samples: number }>;
    const cache = growth.find((g) => g.type === 'CookieCacheEntry');
    expect(cache, JSON.stringify(growth)).toBeDefined();
    expect(['linear', 'logarithmic']).toContain(cache?.trend);
    expect(cache?.samples).toBeGreaterThanOrEqual(4);
    await expectNoLeaks(d);
  });

  it('with the switch off the same scenarios report nothing, under full reachability checking', async () => {
    const d = await start(['--leak-stacks=Call,Media,StreamFd,SinkHandler']);
    for (let i = 0; i < 3; i++) await oneCall(d, 'clean');
    const report = await d.ng.request({ command: 'leak-report' });
    expect(report.leaked).toBe(0);
    expect(report.doubleRelease).toBe(0);
    expect(report.reachableAfterRelease, JSON.stringify(report.reachableObjects)).toBe(0);
    await expectNoLeaks(d);
  });
});
