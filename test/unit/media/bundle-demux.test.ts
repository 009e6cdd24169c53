/** The BUNDLE demultiplexer: which m= line's stream a packet on a shared port belongs to. */
import { describe, expect, it } from 'vitest';
import { BundleDemux, BUNDLE_SSRC_LIMIT, readMid } from '../../../daemon/media/bundle-demux.js';
import { PacketKind } from '../../../daemon/media/rtp.js';
import { PacketStream, type CallGate } from '../../../daemon/media/packet-stream.js';
import { SsrcContext, type SsrcDirection } from '../../../daemon/codec/ssrc.js';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { rtcpPacket, rtpPacket } from '../../../support/rtp.js';

const registry = new LeakRegistry('summary');

/** The call side of real packet streams: SSRC contexts are made (the demultiplexer reads the output table). */
class Gate implements CallGate {
  readonly callId = 'c';
  readonly writeLocked = false;
  defer(): boolean {
    return true;
  }
  endpointChanged(): void {}
  createSsrc(ssrc: number, direction: SsrcDirection): SsrcContext {
    return new SsrcContext(ssrc, direction, registry.register('SsrcContext', 'c'));
  }
  releaseSsrc(): void {}
}

/** A real RTP packet stream that has sent `sent` (output SSRCs toward its participant). */
function stream(sent: number[] = []): PacketStream {
  const s = new PacketStream(new Gate(), 1, registry.register('PacketStream', 'c'));
  for (const ssrc of sent) s.ssrcOut.get(ssrc);
  return s;
}

function withExt(base: Buffer, ext: Buffer): Buffer {
  const header = Buffer.from(base.subarray(0, 12));
  header[0] = header[0]! | 0x10;
  return Buffer.concat([header, ext, base.subarray(12)]);
}

function oneByte(id: number, value: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, (id << 4) | (value.length - 1)]), Buffer.from(value, 'latin1')]);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const h = Buffer.alloc(4);
  h.writeUInt16BE(0xbede, 0);
  h.writeUInt16BE(padded.length / 4, 2);
  return Buffer.concat([h, padded]);
}

function twoByte(id: number, value: string): Buffer {
  const body = Buffer.concat([Buffer.from([id, value.length]), Buffer.from(value, 'latin1')]);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const h = Buffer.alloc(4);
  h.writeUInt16BE(0x1000, 0);
  h.writeUInt16BE(padded.length / 4, 2);
  return Buffer.concat([h, padded]);
}

describe('readMid', () => {
  it('reads the MID from one-byte and two-byte extension blocks (skipping padding and other ids)', () => {
    expect(readMid(withExt(rtpPacket(1), oneByte(3, 'video')), 3)).toBe('video');
    expect(readMid(withExt(rtpPacket(1), twoByte(3, 'a')), 3)).toBe('a');
    expect(readMid(withExt(rtpPacket(1), oneByte(2, 'x')), 3)).toBeNull();
    expect(readMid(rtpPacket(1), 3)).toBeNull();
  });

  it('never reads beyond the packet: truncated or lying lengths give null', () => {
    const p = withExt(rtpPacket(1, { payload: Buffer.alloc(0) }), oneByte(3, 'video'));
    expect(readMid(p.subarray(0, p.length - 2), 3)).toBeNull();
    const lying = Buffer.from(p);
    lying.writeUInt16BE(200, 14);
    expect(readMid(lying, 3)).toBeNull();
    expect(readMid(Buffer.from([0x90, 0, 0, 0]), 3)).toBeNull();
  });
});

describe('BundleDemux', () => {
  const audio = stream([0x51]);
  const video = stream();
  const make = () => {
    const d = new BundleDemux();
    d.update([
      { stream: audio, mid: 'a', payloadTypes: new Set([0, 8]), ssrcs: [0xa] },
      { stream: video, mid: 'v', payloadTypes: new Set([96]), ssrcs: [] },
    ], 3);
    return d;
  };

  it('declared SSRC, then unique payload type (learned), then MID; nothing: null', () => {
    const d = make();
    expect(d.route(rtpPacket(1, { ssrc: 0xa, pt: 96 }), PacketKind.Rtp)).toBe(audio);
    expect(d.route(rtpPacket(1, { ssrc: 0xb, pt: 96 }), PacketKind.Rtp)).toBe(video);
    // learned: the SSRC stays with video even with another payload type
    expect(d.route(rtpPacket(2, { ssrc: 0xb, pt: 0 }), PacketKind.Rtp)).toBe(video);
    expect(d.route(withExt(rtpPacket(1, { ssrc: 0xc, pt: 120 }), oneByte(3, 'a')), PacketKind.Rtp)).toBe(audio);
    expect(d.route(rtpPacket(1, { ssrc: 0xd, pt: 120 }), PacketKind.Rtp)).toBeNull();
    expect(d.route(Buffer.alloc(8), PacketKind.Rtp)).toBeNull();
  });

  it('RTCP: sender SSRC, else the SSRC a report is about, else the first member', () => {
    const d = make();
    expect(d.route(rtcpPacket(0xa, 0), PacketKind.Rtcp)).toBe(audio);
    expect(d.route(rtcpPacket(0xeeee, 0x51), PacketKind.Rtcp)).toBe(audio);
    d.route(rtpPacket(1, { ssrc: 0xb, pt: 96 }), PacketKind.Rtp);
    expect(d.route(rtcpPacket(0xb, 0), PacketKind.Rtcp)).toBe(video);
    expect(d.route(rtcpPacket(0xffff, 0), PacketKind.Rtcp)).toBe(audio);
  });

  it('learns a bounded number of SSRCs; a removed member is never routed to again', () => {
    const d = make();
    for (let i = 0; i < BUNDLE_SSRC_LIMIT + 50; i++) expect(d.route(rtpPacket(1, { ssrc: 0x1000 + i, pt: 96 }), PacketKind.Rtp)).toBe(video);
    d.remove(video);
    expect(d.route(rtpPacket(1, { ssrc: 0x1000, pt: 96 }), PacketKind.Rtp)).toBeNull();
    expect(d.streams).toEqual([audio]);
  });
});
