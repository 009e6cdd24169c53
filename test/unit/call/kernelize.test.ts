/**
 * kernelize at the object level: a call built by CallInterfaces on the real native engine
 * (its sockets on 127.0.0.1, real dgram peers), no daemon process. A stream goes to the native
 * table only once its source is confirmed and every sink can be sent to; signalling that changes
 * it takes it back; teardown leaves no native entry. Needs the addon (skipped, saying so, without).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CallInterfaces } from '../../../daemon/call/call-interfaces.js';
import { CallHash } from '../../../daemon/call/callhash.js';
import type { CallContext } from '../../../daemon/call/context.js';
import { Kernelizer } from '../../../daemon/kernel/kernelize.js';
import { loadFastPath, type NativeFastPathEngine } from '../../../daemon/kernel/native-fast-path.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { RtpPeer, rtpPacket } from '../../../support/rtp-peer.js';
import { sdpFor, relayPortsOf } from '../../../support/sdp.js';
import { callContext, leakState, ngFlags, NO_LEAKS } from '../../helpers/call-context.js';

const loaded = await loadFastPath({ threads: 1 });
const engine: NativeFastPathEngine | null = 'unavailable' in loaded ? null : loaded;
if (!engine) console.warn(`kernelize tests skipped: fast path unavailable (${(loaded as { unavailable: string }).unavailable})`);

describe.skipIf(!engine)('kernelize on the native engine', () => {
  let ctx: CallContext;
  let calls: CallHash;
  let ci: CallInterfaces;
  const peers: RtpPeer[] = [];

  afterAll(async () => {
    await engine?.close();
  });
  afterEach(async () => {
    await calls.destroyAll('shutdown');
    for (const p of peers.splice(0)) p.close();
    expect(leakState(ctx)).toEqual(NO_LEAKS);
    expect(engine!.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
  });

  async function setup() {
    const leaks = new LeakRegistry('summary');
    const kernel = new Kernelizer(engine!, leaks);
    ctx = callContext(['--endpoint-learning=immediate'], { leaks, kernel, sockets: engine!.sockets });
    calls = new CallHash(ctx);
    ci = new CallInterfaces(calls);
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const offer = await ci.offer(ngFlags({ command: 'offer', 'call-id': 'k1', 'from-tag': 'a', sdp: sdpFor(a) }));
    const answer = await ci.answer(ngFlags({ command: 'answer', 'call-id': 'k1', 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(b) }));
    const call = calls.get('k1')!;
    return {
      a, b, kernel, call,
      toA: relayPortsOf(answer.sdp as string).rtp,
      toB: relayPortsOf(offer.sdp as string).rtp,
      ma: call.monologueByTag('a')!.medias[0]!,
      mb: call.monologueByTag('b')!.medias[0]!,
    };
  }

  it('nothing is kernelized before a source is confirmed; the first packet confirms it and the rest go native', async () => {
    const { a, b, kernel, toA, ma } = await setup();
    expect(kernel.entryCount).toBe(0);
    expect(ma.rtp.kernelized).toBe(false);
    a.send(rtpPacket(1), toA);
    await b.waitFor(1); // relayed by JS, which learned the source and handed the stream over
    expect(ma.rtp.confirmed).toBe(true);
    expect(ma.rtp.kernelized).toBe(true);
    expect(ctx.leaks.liveCountsByType().NativeEntry).toBeGreaterThanOrEqual(1);
    for (let i = 2; i <= 10; i++) a.send(rtpPacket(i), toA);
    expect((await b.waitFor(10)).map((p) => p.data.readUInt16BE(2))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(kernel.stats(ma.rtp)?.packets).toBeGreaterThanOrEqual(9);
  });

  it('a sink that cannot be sent to (peer on hold) keeps the stream on the JS path; a re-offer takes it back', async () => {
    const { a, b, kernel, toA, ma, mb } = await setup();
    a.send(rtpPacket(1), toA);
    await b.waitFor(1);
    expect(ma.rtp.kernelized).toBe(true);
    mb.rtp.setAdvertised({ address: '0.0.0.0', port: b.port, family: 4 });
    kernel.update(ma.rtp);
    expect(ma.rtp.kernelized).toBe(false);
    mb.rtp.setAdvertised({ address: b.address, port: b.port, family: 4 });
    kernel.update(ma.rtp);
    expect(ma.rtp.kernelized).toBe(true);
    // plain UDP (non-RTP) streams are relayed by JS only
    ma.rtp.plainUdp = true;
    kernel.update(ma.rtp);
    expect(ma.rtp.kernelized).toBe(false);
    ma.rtp.plainUdp = false;
    kernel.update(ma.rtp);
    // a re-offer rebuilds the sinks; the stream is re-evaluated and stays native while ready
    await ci.offer(ngFlags({ command: 'offer', 'call-id': 'k1', 'from-tag': 'a', sdp: sdpFor(a) }));
    expect(ma.rtp.kernelized).toBe(true);
  });

  it('releasing a media\'s ports removes its native entry at once', async () => {
    const { a, b, kernel, call, toA, ma } = await setup();
    a.send(rtpPacket(1), toA);
    await b.waitFor(1);
    const before = kernel.entryCount;
    await call.write(() => call.releasePorts(ma));
    expect(ma.rtp.kernelized).toBe(false);
    expect(kernel.entryCount).toBe(before - 1);
  });
});
