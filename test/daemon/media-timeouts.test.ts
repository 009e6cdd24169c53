/**
 * Timeouts tear calls down by themselves, through the same zero-leak teardown as `delete`:
 * --offer-timeout (never answered), -o/--timeout (no media), -s/--silent-timeout (on hold),
 * -a/--final-timeout (hard cap) and -d/--delete-delay (kept a while after delete).
 * One daemon with short timeouts runs all scenarios side by side, on the JS path and on the
 * fast path (where media keeping a call alive is seen through the addon's counters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

import { sleep } from '../../support/sleep.js';

describe.each([{ fastPath: false }, { fastPath: true }])('call timeouts, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];
  const peer = async () => {
    const p = await RtpPeer.open();
    peers.push(p);
    return p;
  };
  const listed = async () => (await d.ng.request({ command: 'list' })).calls as string[];

  beforeAll(async () => {
    d = await startDaemon(['-o', '2', '-s', '5', '--offer-timeout', '2', '-a', '9'], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('tears down unanswered, silent, held and over-age calls; media keeps a call alive until the final timeout', async () => {
    const offerOnly = uniqueCallId('offer-only');
    const a0 = await peer();
    expect((await d.ng.request({ command: 'offer', 'call-id': offerOnly, 'from-tag': 'a', sdp: sdpFor(a0) })).result).toBe('ok');

    const silent = uniqueCallId('silent');
    await offerAnswer(d, { callId: silent, fromTag: 'a', toTag: 'b', a: await peer(), b: await peer() });

    const held = uniqueCallId('held');
    const ha = await peer();
    const hb = await peer();
    await d.ng.request({ command: 'offer', 'call-id': held, 'from-tag': 'a', sdp: sdpFor(ha, { direction: 'sendonly' }) });
    await d.ng.request({ command: 'answer', 'call-id': held, 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(hb, { direction: 'recvonly' }) });

    const active = uniqueCallId('active');
    const aa = await peer();
    const ab = await peer();
    const r = await offerAnswer(d, { callId: active, fromTag: 'a', toTag: 'b', a: aa, b: ab });

    const deleted = uniqueCallId('delayed-delete');
    const da = await peer();
    const db = await peer();
    const rd = await offerAnswer(d, { callId: deleted, fromTag: 'a', toTag: 'b', a: da, b: db });
    const del = await d.ng.request({ command: 'delete', 'call-id': deleted, 'delete-delay': 1 });
    expect(del.result).toBe('ok');
    expect(await listed(), 'kept during the delete delay').toContain(deleted);
    da.send(rtpPacket(1), rd.aRtp);
    expect((await db.waitFor(1)).length, 'media still relayed during the delete delay').toBe(1);

    // media on the active call every 300 ms
    let seq = 0;
    const pump = setInterval(() => aa.send(rtpPacket(seq++), r.aRtp), 300);
    try {
      await sleep(2000);
      expect(await listed(), 'delete delay over').not.toContain(deleted);
      await sleep(2000);
      const now = await listed();
      expect(now, 'offer timeout (2 s)').not.toContain(offerOnly);
      expect(now, 'no media for 2 s').not.toContain(silent);
      expect(now, 'on hold: silent timeout is 5 s').toContain(held);
      expect(now, 'media keeps it alive').toContain(active);
      await sleep(3000); // 5 s silent timeout + up to 1 s until the sweep + margin for a busy machine
      expect(await listed(), 'silent timeout (5 s) reached').not.toContain(held);
      expect(await listed()).toContain(active);
    } finally {
      clearInterval(pump);
    }
    expect(ab.received.length).toBeGreaterThan(5);
    // the final timeout (9 s after creation) caps even a call with media
    aa.send(rtpPacket(seq++), r.aRtp);
    const deadline = Date.now() + 5000;
    while ((await listed()).includes(active) && Date.now() < deadline) {
      aa.send(rtpPacket(seq++), r.aRtp);
      await sleep(250);
    }
    expect(await listed(), 'final timeout').not.toContain(active);

    const stats = await d.ng.request({ command: 'statistics' });
    const totals = stats.statistics.totalstatistics;
    expect(totals.offertimeoutsessions).toBe(1);
    expect(totals.timeoutsessions).toBe(1);
    expect(totals.silenttimeoutsessions).toBe(1);
    expect(totals.finaltimeoutsessions).toBe(1);
    expect(totals.regularterminatedsessions).toBe(1);
    expect(stats.leaks.leaked).toBe(0);
    // the ports of a timed-out call are closed: nothing is relayed any more
    ab.clear();
    aa.send(rtpPacket(999), r.aRtp);
    expect((await ab.settle(200)).length).toBe(0);
  }, 20_000);
});
