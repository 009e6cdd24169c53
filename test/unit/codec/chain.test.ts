/**
 * The codec part of the handler chain decision: which handler each payload type of a sender
 * gets toward one sink, and what the built-in handlers emit.
 */
import { describe, expect, it } from 'vitest';
import { buildCodecHandlers, planCodecHandlers, sameCodec } from '../../../daemon/codec/chain.js';
import type { CodecDesc, CodecHandler, CodecHandlerFactory, CodecOutput } from '../../../daemon/codec/codec-handler.js';
import { PassthroughHandler, RenumberHandler } from '../../../daemon/codec/passthrough.js';
import { SsrcContext } from '../../../daemon/codec/ssrc.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { rtpPacket } from '../../../support/rtp.js';

const c = (payloadType: number, encoding: string, clockRate: number, channels: number | null = null): CodecDesc =>
  ({ payloadType, encoding, clockRate, channels, fmtp: [] });

const PCMU = c(0, 'PCMU', 8000);
const PCMA = c(8, 'PCMA', 8000);
const A = [PCMU, c(96, 'opus', 48000, 2), c(101, 'telephone-event', 8000)];
const B = [PCMU, c(97, 'opus', 48000, 2), c(96, 'telephone-event', 8000)];

class Collect implements CodecOutput {
  readonly sent: Buffer[] = [];
  private readonly leaks = new LeakRegistry('summary');
  sendRtp(packet: Buffer): void {
    this.sent.push(packet);
  }
  outputSsrc(ssrc: number): SsrcContext {
    return new SsrcContext(ssrc, 'out', this.leaks.register('SsrcContext', 'c'));
  }
}

function rtp(pt: number, marker = false): Buffer {
  return rtpPacket(7, { pt, marker, ts: 160, ssrc: 0x1234, payload: Buffer.alloc(8, 0xab) });
}

const input = new SsrcContext(0x1234, 'in', new LeakRegistry('summary').register('SsrcContext', 'c'));

describe('sameCodec', () => {
  it('matches name case-insensitively, clock rate and channels (absent = 1)', () => {
    expect(sameCodec(c(96, 'OPUS', 48000, 2), c(111, 'opus', 48000, 2))).toBe(true);
    expect(sameCodec(c(96, 'opus', 48000, 2), c(96, 'opus', 48000, 1))).toBe(false);
    expect(sameCodec(c(96, 'L16', 8000, null), c(97, 'L16', 8000, 1))).toBe(true);
    expect(sameCodec(c(96, 'telephone-event', 8000), c(96, 'telephone-event', 48000))).toBe(false);
  });
});

describe('planCodecHandlers', () => {
  it('passes everything through when both sides number alike', () => {
    expect(planCodecHandlers(A, A).map((e) => e.kind)).toEqual(['passthrough', 'passthrough', 'passthrough']);
  });

  it('renumbers to the sink\'s number, reading the packet in the sender\'s numbering (even when the numbers cross)', () => {
    expect(planCodecHandlers(A, B)).toEqual([
      { pt: 0, kind: 'passthrough', to: 0 },
      { pt: 96, kind: 'renumber', to: 97 },
      { pt: 101, kind: 'renumber', to: 96 },
    ]);
    expect(planCodecHandlers(B, A)).toEqual([
      { pt: 0, kind: 'passthrough', to: 0 },
      { pt: 97, kind: 'renumber', to: 96 },
      { pt: 96, kind: 'renumber', to: 101 },
    ]);
  });

  it('passes a codec the sink does not list, and everything when the sink has not answered yet', () => {
    expect(planCodecHandlers([PCMU, PCMA], [PCMU])).toEqual([
      { pt: 0, kind: 'passthrough', to: 0 },
      { pt: 8, kind: 'passthrough', to: 8 },
    ]);
    expect(planCodecHandlers(A, []).every((e) => e.kind === 'passthrough')).toBe(true);
  });

  it('prefers the same number when the sink lists the codec twice', () => {
    const sink = [c(100, 'telephone-event', 8000), c(101, 'telephone-event', 8000)];
    expect(planCodecHandlers([c(101, 'telephone-event', 8000)], sink)).toEqual([{ pt: 101, kind: 'passthrough', to: 101 }]);
  });
});

describe('buildCodecHandlers', () => {
  const sides = (source: CodecDesc[], sink: CodecDesc[]) => ({ source, sink, sourcePtime: null, sinkPtime: null });

  it('is null when every payload type passes unchanged (the packet path then skips the lookup)', () => {
    expect(buildCodecHandlers(sides(A, A), new Collect(), [])).toBeNull();
    expect(buildCodecHandlers(sides(A, []), new Collect(), [])).toBeNull();
  });

  it('renumbers the listed payload types, passes the others, keeps the marker, never touches the input', () => {
    const out = new Collect();
    const set = buildCodecHandlers(sides(A, B), out, [])!;
    expect(set).not.toBeNull();
    expect(set.lookup(96)).toBeInstanceOf(RenumberHandler);
    expect(set.lookup(0)).toBeInstanceOf(PassthroughHandler);
    expect(set.lookup(13)).toBe(set.fallback);
    expect(set.handlers.map((h) => h.native)).toEqual([{ from: 0, to: 0 }, { from: 96, to: 97 }, { from: 101, to: 96 }]);
    const te = rtp(101, true);
    const copy = Buffer.from(te);
    set.lookup(101).process(te, input);
    set.lookup(0).process(rtp(0), input);
    set.lookup(13).process(rtp(13), input);
    expect(te.equals(copy)).toBe(true);
    expect(out.sent.map((p) => p[1])).toEqual([0x80 | 96, 0, 13]);
    expect(out.sent[0]!.subarray(2).equals(te.subarray(2))).toBe(true);
  });

  it('asks the factories first, in order, and falls back to the built-in choice when they decline', () => {
    const asked: number[] = [];
    class Dropper implements CodecHandler {
      readonly kind = 'drop';
      readonly stateless = false;
      readonly native = null;
      closed = 0;
      process(): void {}
      close(): void {
        this.closed++;
      }
    }
    const factories: CodecHandlerFactory[] = [
      { name: 'declines', create: (spec) => { asked.push(spec.source.payloadType); return null; } },
      { name: 'pcmu', create: (spec) => (spec.source.encoding === 'PCMU' ? new Dropper() : null) },
    ];
    const set = buildCodecHandlers(sides(A, B), new Collect(), factories)!;
    expect(asked).toEqual([0, 96, 101]);
    expect(set.lookup(0)).toBeInstanceOf(Dropper);
    expect(set.lookup(96)).toBeInstanceOf(RenumberHandler);
    // the spec tells the factory the sink's matching codec
    let seen: CodecDesc | null | undefined;
    buildCodecHandlers(sides(A, B), new Collect(), [{ name: 'spy', create: (spec) => { if (spec.source.payloadType === 101) seen = spec.sink; return null; } }]);
    expect(seen).toEqual(c(96, 'telephone-event', 8000));
  });
});
