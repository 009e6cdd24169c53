/**
 * The handler chain on real Call objects: decided from both sides' codecs and transport at
 * rebuildSinks (offer/answer, re-INVITE), re-decided when they change, every stateful handler
 * and SSRC context accounted and released at teardown; a packet's way through input handler,
 * codec handler (0..n packets out) and output handler over real UDP on 127.0.0.1; and the
 * fast-path verdict on a chain. The handlers registered here are test fixtures implementing the
 * codec/crypto contracts (no real SRTP or transcoding: those rooms plug in the same way).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inProcessCallContext } from '../../../support/call-context.js';
import { Call } from '../../../daemon/call/call.js';
import type { CallMedia } from '../../../daemon/call/call-media.js';
import type { CallContext, HandlerFactories } from '../../../daemon/call/context.js';
import { RenumberHandler } from '../../../daemon/codec/passthrough.js';
import type { CodecHandler, CodecHandlerFactory, CodecOutput } from '../../../daemon/codec/codec-handler.js';
import { PLAIN } from '../../../daemon/crypto/plain.js';
import type { CryptoParams, InputHandler, OutputHandler, TransportHandlerFactory, TransportSpec } from '../../../daemon/crypto/transport-handler.js';
import { handlerChainBlocker } from '../../../daemon/kernel/kernelize.js';
import type { SdpCodec } from '../../../daemon/sdp/sdp-model.js';
import { RtpPeer, rtpPacket } from '../../helpers/rtp-peer.js';

const codec = (payloadType: number, encoding: string, clockRate: number, channels: number | null = null): SdpCodec =>
  ({ payloadType, encoding, clockRate, channels, rtpmap: null, fmtp: [], rtcpFb: [] });

/** A toy "cipher" (XOR of the payload): a stateful transport handler per direction, like SRTP. */
class XorHandler implements InputHandler, OutputHandler {
  readonly kind = 'xor';
  readonly native = false;
  readonly stateless = false;
  closed = 0;
  constructor(readonly key: number) {}
  rtp(packet: Buffer): Buffer {
    const out = Buffer.from(packet);
    for (let i = 12; i < out.length; i++) out[i] = out[i]! ^ this.key;
    return out;
  }
  rtcp(packet: Buffer): Buffer {
    return packet;
  }
  close(): void {
    this.closed++;
  }
}

const xorFactory = (made: XorHandler[]): TransportHandlerFactory => ({
  name: 'xor',
  input: (spec: TransportSpec) => (spec.protocol === 'RTP/SAVP' && spec.crypto ? (made[made.length] = new XorHandler(spec.crypto.masterKey[0]!)) : null),
  output: (spec: TransportSpec) => (spec.protocol === 'RTP/SAVP' && spec.crypto ? (made[made.length] = new XorHandler(spec.crypto.masterKey[0]!)) : null),
});

/** A codec handler that emits every PCMA packet twice (a stand-in for a handler emitting n packets). */
class Doubler implements CodecHandler {
  readonly kind = 'double';
  readonly stateless = false;
  readonly native = null;
  closed = 0;
  constructor(private readonly out: CodecOutput) {}
  process(packet: Buffer): void {
    this.out.sendRtp(packet);
    this.out.sendRtp(packet);
  }
  close(): void {
    this.closed++;
  }
}

const doublerFactory = (made: Doubler[]): CodecHandlerFactory => ({
  name: 'double',
  create: (spec, out) => (spec.source.encoding === 'PCMA' ? (made[made.length] = new Doubler(out)) : null),
});

function context(factories?: HandlerFactories): CallContext {
  return inProcessCallContext(['-i', '127.0.0.1', '-m', '15000', '-M', '15099', '--endpoint-learning=immediate'],
    factories ? { handlerFactories: factories } : {});
}

/** Two participants, one audio m= line each, subscribed to each other. */
function twoParty(ctx: CallContext, aCodecs: SdpCodec[], bCodecs: SdpCodec[]) {
  const call = new Call(`chain-${Math.random()}`, ctx);
  const ma = call.addMonologue('a', undefined);
  const mb = call.addMonologue('b', undefined);
  ma.subscribe(mb);
  mb.subscribe(ma);
  const a = call.addMedia(ma, 1, 'audio');
  const b = call.addMedia(mb, 1, 'audio');
  a.codecs = aCodecs;
  b.codecs = bCodecs;
  return { call, a, b };
}

const A = [codec(0, 'PCMU', 8000), codec(8, 'PCMA', 8000), codec(101, 'telephone-event', 8000)];
const B = [codec(0, 'PCMU', 8000), codec(8, 'PCMA', 8000), codec(96, 'telephone-event', 8000)];
const key = (k: number): CryptoParams => ({ suite: 'TEST', masterKey: Buffer.from([k]), masterSalt: Buffer.alloc(0) });

function live(ctx: CallContext): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ctx.leaks.liveCountsByType())) if (v !== 0) out[k] = v;
  return out;
}

describe('handler chain decision on the call model', () => {
  it('decides at rebuildSinks: pass-through (no lookup) when alike, renumbering when not, re-decided on a change', async () => {
    const ctx = context();
    const { call, a, b } = twoParty(ctx, A, A);
    call.rebuildSinks();
    expect(a.rtp.rtpSinks).toHaveLength(1);
    expect(a.rtp.rtpSinks[0]!.codec).toBeNull();
    expect(a.rtp.rtpSinks[0]!.output).toBe(PLAIN);
    expect(a.rtp.input).toBe(PLAIN);
    expect(handlerChainBlocker(a.rtp)).toBeNull();

    b.codecs = B; // the answer (or a re-INVITE) numbers telephone-event differently
    call.rebuildSinks();
    const toB = a.rtp.rtpSinks[0]!.codec!;
    expect(toB.lookup(101)).toBeInstanceOf(RenumberHandler);
    expect(toB.lookup(101).native).toEqual({ from: 101, to: 96 });
    expect(b.rtp.rtpSinks[0]!.codec!.lookup(96).native).toEqual({ from: 96, to: 101 });
    // RTCP sinks never get codec handlers
    expect(a.rtp.rtcpSinks[0]!.codec).toBeNull();
    expect(handlerChainBlocker(a.rtp), 'renumbering is something the addon can do').toBeNull();

    expect(await call.write(() => call.destroy())).toEqual({});
    expect(live(ctx)).toEqual({});
  });

  it('accounts stateful handlers: registered when chosen, closed and released when replaced and at teardown', async () => {
    const xors: XorHandler[] = [];
    const doublers: Doubler[] = [];
    const ctx = context({ codec: [doublerFactory(doublers)], transport: [xorFactory(xors)] });
    const { call, a, b } = twoParty(ctx, A, B);
    a.protocol = b.protocol = 'RTP/SAVP';
    a.cryptoRecv = key(1);
    b.cryptoSend = key(2);
    call.rebuildSinks();
    expect(a.rtp.input).toBeInstanceOf(XorHandler);
    expect(b.rtp.input).toBe(PLAIN); // no keys from B yet
    expect(a.rtp.rtpSinks[0]!.output).toBeInstanceOf(XorHandler);
    expect(a.rtp.rtpSinks[0]!.codec!.lookup(8)).toBeInstanceOf(Doubler);
    // A's RTP and RTCP inputs; toward B one RTP and two RTCP sinks (from A's RTP and RTCP streams)
    expect(live(ctx)).toMatchObject({ TransportHandler: 2 + 3, CodecHandler: 2 });
    // the fast path's verdict names the first handler that needs JS
    expect(handlerChainBlocker(a.rtp)).toBe("input handler 'xor' needs the JS path");
    expect(handlerChainBlocker(b.rtp)).toBe("codec handler 'double' needs the JS path");
    a.cryptoRecv = null;
    call.rebuildSinks();
    expect(handlerChainBlocker(a.rtp)).toBe("output handler 'xor' needs the JS path");

    // a rebuild with the same input spec keeps the input handler (its SRTP state); sinks are rebuilt
    const inputBefore = b.rtp.input;
    const firstDoublers = doublers.slice();
    call.rebuildSinks();
    expect(b.rtp.input).toBe(inputBefore);
    expect(firstDoublers.every((d) => d.closed === 1)).toBe(true);

    await call.write(() => call.destroy());
    expect(xors.every((x) => x.closed === 1), 'every transport handler closed exactly once').toBe(true);
    expect(doublers.every((d) => d.closed === 1), 'every codec handler closed exactly once').toBe(true);
    expect(live(ctx)).toEqual({});
    expect(ctx.leaks.doubleRelease).toBe(0);
  });
});

describe('a packet through the chain (real UDP on 127.0.0.1)', () => {
  const peers: RtpPeer[] = [];
  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });

  async function wired(ctx: CallContext, aCodecs: SdpCodec[], bCodecs: SdpCodec[], setup?: (a: CallMedia, b: CallMedia) => void) {
    const pa = await RtpPeer.open();
    const pb = await RtpPeer.open();
    peers.push(pa, pb);
    const { call, a, b } = twoParty(ctx, aCodecs, bCodecs);
    const local = ctx.interfaces.addresses[0]!;
    await call.allocatePorts(a, local);
    await call.allocatePorts(b, local);
    a.rtp.setAdvertised({ address: pa.address, port: pa.port, family: 4 });
    b.rtp.setAdvertised({ address: pb.address, port: pb.port, family: 4 });
    setup?.(a, b);
    call.rebuildSinks();
    return { call, a, b, pa, pb, portForA: a.ports!.port };
  }

  it('input handler, codec handler emitting two packets, output handler; per-SSRC state on both sides', async () => {
    const ctx = context({ codec: [doublerFactory([])], transport: [xorFactory([])] });
    const { call, a, b, pa, pb, portForA } = await wired(ctx, A, B, (a, b) => {
      a.protocol = b.protocol = 'RTP/SAVP';
      a.cryptoRecv = key(0x0f);
      b.cryptoSend = key(0xf0);
    });
    const payload = Buffer.alloc(20, 0x11);
    pa.send(rtpPacket(1, { ssrc: 0x77, pt: 8, payload }), portForA); // doubled
    pa.send(rtpPacket(2, { ssrc: 0x77, pt: 101, payload }), portForA); // renumbered to 96
    const got = await pb.waitFor(3);
    expect(got).toHaveLength(3);
    // decrypted with 0x0f on the way in, encrypted with 0xf0 on the way out
    const wire = Buffer.alloc(20, 0x11 ^ 0x0f ^ 0xf0);
    expect(got.map((r) => r.data[1])).toEqual([8, 8, 96]);
    for (const r of got) expect(r.data.subarray(12).equals(wire)).toBe(true);
    expect(a.rtp.ssrcIn.peek(0x77)).toMatchObject({ packets: 2, lastSeq: 2, direction: 'in' });
    expect(b.rtp.ssrcOut.peek(0x77)).toMatchObject({ packets: 3, lastSeq: 2, direction: 'out' });
    expect(live(ctx)).toMatchObject({ SsrcContext: 2 });
    await call.write(() => call.destroy());
    expect(live(ctx)).toEqual({});
  });

  it('pass-through leaves the very buffer untouched and counts the output SSRC', async () => {
    const ctx = context();
    const { call, b, pa, pb, portForA } = await wired(ctx, A, A);
    const sent = rtpPacket(9, { ssrc: 0x99, pt: 0 });
    pa.send(sent, portForA);
    const got = await pb.waitFor(1);
    expect(got[0]!.data.equals(sent)).toBe(true);
    expect(b.rtp.ssrcOut.ssrcs()).toEqual([0x99]);
    await call.write(() => call.destroy());
    expect(live(ctx)).toEqual({});
  });
});
