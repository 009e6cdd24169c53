/**
 * The master lock's packet side: packets that arrive while a signalling command holds a call's
 * write lock wait in the call's bounded queue and are relayed in arrival order when the writer
 * releases; beyond the bound they are dropped and counted. Real Call objects and real UDP
 * sockets on 127.0.0.1 (no daemon process).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inProcessCallContext } from '../../../support/call-context.js';
import { Call, DEFERRED_QUEUE_LIMIT } from '../../../daemon/call/call.js';
import type { CallContext } from '../../../daemon/call/context.js';
import { RtpPeer, rtpPacket } from '../../helpers/rtp-peer.js';

import { sleep } from '../../../support/sleep.js';

function context(): CallContext {
  return inProcessCallContext(['-i', '127.0.0.1', '-m', '14000', '-M', '14099', '--endpoint-learning=immediate']);
}

async function twoPartyCall(ctx: CallContext, a: RtpPeer, b: RtpPeer) {
  const call = new Call('deferred-test', ctx);
  const local = ctx.interfaces.addresses[0]!;
  const ma = call.addMonologue('a', undefined);
  const mb = call.addMonologue('b', undefined);
  ma.subscribe(mb);
  mb.subscribe(ma);
  const mediaA = call.addMedia(ma, 1, 'audio');
  const mediaB = call.addMedia(mb, 1, 'audio');
  await call.allocatePorts(mediaA, local);
  await call.allocatePorts(mediaB, local);
  mediaA.rtp.setAdvertised({ address: a.address, port: a.port, family: 4 });
  mediaB.rtp.setAdvertised({ address: b.address, port: b.port, family: 4 });
  call.rebuildSinks();
  return { call, portForA: mediaA.ports!.port, portForB: mediaB.ports!.port };
}

describe('deferred packets under the write lock', () => {
  const peers: RtpPeer[] = [];
  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });

  it('holds packets while a writer runs, relays them in order afterwards, drops and counts the overflow', async () => {
    const ctx = context();
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const { call, portForA } = await twoPartyCall(ctx, a, b);
    const total = DEFERRED_QUEUE_LIMIT + 44;
    await call.write(async () => {
      for (let i = 0; i < total; i++) {
        a.send(rtpPacket(i), portForA);
        if (i % 50 === 49) await sleep(5);
      }
      await sleep(200);
      expect(b.received.length, 'nothing relayed while the writer holds the call').toBe(0);
      expect(call.writeLocked).toBe(true);
    });
    await b.waitFor(DEFERRED_QUEUE_LIMIT);
    await b.settle(100);
    const seqs = b.received.map((p) => p.data.readUInt16BE(2));
    expect(seqs).toEqual([...Array(DEFERRED_QUEUE_LIMIT).keys()]);
    expect(ctx.counters.get('deferredPackets')).toBe(DEFERRED_QUEUE_LIMIT);
    expect(ctx.counters.get('droppedDeferredOverflow')).toBe(total - DEFERRED_QUEUE_LIMIT);
    // once released, packets go straight through again
    a.send(rtpPacket(9999), portForA);
    expect((await b.waitFor(DEFERRED_QUEUE_LIMIT + 1)).at(-1)?.data.readUInt16BE(2)).toBe(9999);

    await call.write(() => call.destroy());
    expect(Object.values(ctx.leaks.liveCountsByType()).every((n) => n === 0), JSON.stringify(ctx.leaks.liveCountsByType())).toBe(true);
    expect(ctx.leaks.leaked).toBe(0);
    expect(ctx.leaks.doubleRelease).toBe(0);
  });

  it('packets of a call torn down while they wait are dropped with it, never relayed', async () => {
    const ctx = context();
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const { call, portForA } = await twoPartyCall(ctx, a, b);
    await call.write(async () => {
      for (let i = 0; i < 10; i++) a.send(rtpPacket(i), portForA);
      await sleep(100);
      call.destroy();
    });
    expect((await b.settle(200)).length).toBe(0);
    expect(ctx.leaks.leaked).toBe(0);
    expect(Object.values(ctx.leaks.liveCountsByType()).every((n) => n === 0)).toBe(true);
  });
});
