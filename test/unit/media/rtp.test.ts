import { describe, expect, it } from 'vitest';
import { classifyPacket, isRtcpPayloadType, MAX_PACKET_SIZE, PacketKind, rtpPayloadType, rtpSsrc } from '../../../daemon/media/rtp.js';

interface RtpOpts {
  pt?: number;
  marker?: boolean;
  csrc?: number;
  ext?: { words: number; declared?: number };
  padding?: number;
  payload?: number;
  version?: number;
}

/** Builds an RTP packet (V=2 by default) with a 0xaa-filled payload. */
function rtp(o: RtpOpts = {}): Buffer {
  const csrc = o.csrc ?? 0;
  const extLen = o.ext ? 4 + 4 * o.ext.words : 0;
  const pad = o.padding ?? 0;
  const payload = o.payload ?? 160;
  const buf = Buffer.alloc(12 + 4 * csrc + extLen + payload + pad, 0xaa);
  buf[0] = ((o.version ?? 2) << 6) | (pad ? 0x20 : 0) | (o.ext ? 0x10 : 0) | csrc;
  buf[1] = (o.marker ? 0x80 : 0) | (o.pt ?? 0);
  buf.writeUInt16BE(1234, 2);
  buf.writeUInt32BE(160 * 1234, 4);
  buf.writeUInt32BE(0x12345678, 8);
  if (o.ext) {
    const at = 12 + 4 * csrc;
    buf.writeUInt16BE(0xbede, at);
    buf.writeUInt16BE(o.ext.declared ?? o.ext.words, at + 2);
  }
  if (pad) buf[buf.length - 1] = pad;
  return buf;
}

/** An RTCP packet: V=2, packet type `pt`, total length `len`. */
function rtcp(pt = 200, len = 28): Buffer {
  const buf = Buffer.alloc(len);
  buf[0] = 0x80;
  buf[1] = pt;
  buf.writeUInt16BE(len / 4 - 1, 2);
  buf.writeUInt32BE(0xdeadbeef, 4);
  return buf;
}

function stun(len = 20): Buffer {
  const buf = Buffer.alloc(len);
  buf.writeUInt16BE(0x0001, 0); // binding request
  buf.writeUInt16BE(len - 20, 2);
  buf.writeUInt32BE(0x2112a442, 4);
  return buf;
}

function dtls(first = 22): Buffer {
  const buf = Buffer.alloc(40, 0);
  buf[0] = first;
  buf[1] = 0xfe;
  buf[2] = 0xfd;
  return buf;
}

describe('classifyPacket', () => {
  it('RTP on an RTP port, with and without mux', () => {
    expect(classifyPacket(rtp(), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp(), false, true)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ pt: 8, marker: true }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ pt: 127 }), false, true)).toBe(PacketKind.Rtp);
  });

  it('minimum RTP: a 12-byte header without payload', () => {
    expect(classifyPacket(rtp({ payload: 0 }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ payload: 0 }).subarray(0, 11), false, false)).toBe(PacketKind.Invalid);
  });

  it('RTP with CSRCs, header extension and valid padding', () => {
    expect(classifyPacket(rtp({ csrc: 15 }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ ext: { words: 2 } }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ ext: { words: 0 }, payload: 0 }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ csrc: 2, ext: { words: 1 }, padding: 4 }), false, false)).toBe(PacketKind.Rtp);
    expect(classifyPacket(rtp({ padding: 1, payload: 0 }), false, false)).toBe(PacketKind.Rtp);
  });

  it('RTP marker bit with PT 72..95 looks like RTCP 200..223 under mux (RFC 5761)', () => {
    // M=1, PT=72 → second byte 200: the mux demultiplexer treats it as RTCP
    expect(classifyPacket(rtp({ pt: 72, marker: true }), false, true)).toBe(PacketKind.Rtcp);
    // without mux it is RTP
    expect(classifyPacket(rtp({ pt: 72, marker: true }), false, false)).toBe(PacketKind.Rtp);
  });

  it('RTCP demultiplexed by PT 192..223 under rtcp-mux', () => {
    for (const pt of [192, 200, 201, 202, 203, 204, 205, 206, 207, 223]) {
      expect(classifyPacket(rtcp(pt), false, true)).toBe(PacketKind.Rtcp);
    }
    // without mux an RTCP-looking packet on an RTP port is parsed as RTP (M=1, PT=72)
    expect(classifyPacket(rtcp(200), false, false)).toBe(PacketKind.Rtp);
  });

  it('RTCP-only sockets accept only RTCP packet types', () => {
    expect(classifyPacket(rtcp(200), true, false)).toBe(PacketKind.Rtcp);
    expect(classifyPacket(rtcp(201, 8), true, false)).toBe(PacketKind.Rtcp);
    expect(classifyPacket(rtcp(191), true, false)).toBe(PacketKind.Invalid);
    expect(classifyPacket(rtcp(224), true, false)).toBe(PacketKind.Invalid);
    expect(classifyPacket(rtp(), true, false)).toBe(PacketKind.Invalid);
    expect(classifyPacket(rtp(), true, true)).toBe(PacketKind.Invalid);
  });

  it('RTCP shorter than 8 bytes is invalid', () => {
    expect(classifyPacket(rtcp(200, 28).subarray(0, 7), true, false)).toBe(PacketKind.Invalid);
    expect(classifyPacket(rtcp(200, 28).subarray(0, 4), false, true)).toBe(PacketKind.Invalid);
  });

  it('STUN (first byte 0..3, at least 20 bytes)', () => {
    expect(classifyPacket(stun(), false, false)).toBe(PacketKind.Stun);
    expect(classifyPacket(stun(48), true, false)).toBe(PacketKind.Stun);
    expect(classifyPacket(stun(48), false, true)).toBe(PacketKind.Stun);
    expect(classifyPacket(stun().subarray(0, 19), false, false)).toBe(PacketKind.Invalid);
  });

  it('DTLS (first byte 20..63)', () => {
    for (const b of [20, 21, 22, 23, 63]) expect(classifyPacket(dtls(b), false, false)).toBe(PacketKind.Dtls);
    expect(classifyPacket(dtls(22), true, false)).toBe(PacketKind.Dtls);
  });

  describe('invalid', () => {
    it('zero length', () => {
      expect(classifyPacket(Buffer.alloc(0), false, false)).toBe(PacketKind.Invalid);
      expect(classifyPacket(Buffer.alloc(0), true, true)).toBe(PacketKind.Invalid);
    });

    it('oversized', () => {
      expect(classifyPacket(rtp({ payload: MAX_PACKET_SIZE - 12 }), false, false)).toBe(PacketKind.Rtp);
      expect(classifyPacket(rtp({ payload: MAX_PACKET_SIZE - 11 }), false, false)).toBe(PacketKind.Invalid);
      expect(classifyPacket(Buffer.alloc(65000, 0x80), false, false)).toBe(PacketKind.Invalid);
    });

    it('wrong version', () => {
      expect(classifyPacket(rtp({ version: 1 }), false, false)).toBe(PacketKind.Invalid);
      expect(classifyPacket(rtp({ version: 3 }), false, false)).toBe(PacketKind.Invalid);
      const v0 = rtp({ version: 0 });
      v0[0] = 0x0f; // version 0, not in the STUN range either
      expect(classifyPacket(v0, false, false)).toBe(PacketKind.Invalid);
    });

    it('too short', () => {
      expect(classifyPacket(Buffer.from([0x80]), false, false)).toBe(PacketKind.Invalid);
      expect(classifyPacket(Buffer.from([0x80, 0x00, 0x00, 0x01]), false, false)).toBe(PacketKind.Invalid);
      expect(classifyPacket(Buffer.from([0x80]), true, false)).toBe(PacketKind.Invalid);
    });

    it('CSRC count beyond the length', () => {
      expect(classifyPacket(rtp({ csrc: 15, payload: 0 }).subarray(0, 12 + 14 * 4), false, false)).toBe(PacketKind.Invalid);
      const b = rtp({ payload: 8 });
      b[0] = 0x80 | 5; // claims 5 CSRCs = 20 bytes, only 8 follow
      expect(classifyPacket(b, false, false)).toBe(PacketKind.Invalid);
    });

    it('header extension beyond the length', () => {
      expect(classifyPacket(rtp({ ext: { words: 2, declared: 50 } }), false, false)).toBe(PacketKind.Invalid);
      // extension bit set but not even room for the extension header
      const b = rtp({ payload: 2 });
      b[0] |= 0x10;
      expect(classifyPacket(b, false, false)).toBe(PacketKind.Invalid);
    });

    it('bad padding', () => {
      const zero = rtp({ padding: 4 });
      zero[zero.length - 1] = 0;
      expect(classifyPacket(zero, false, false)).toBe(PacketKind.Invalid);
      const tooBig = rtp({ padding: 4, payload: 10 });
      tooBig[tooBig.length - 1] = 200;
      expect(classifyPacket(tooBig, false, false)).toBe(PacketKind.Invalid);
      // padding bigger than what follows the header (header itself would be eaten)
      const intoHeader = rtp({ padding: 1, payload: 0 });
      intoHeader[intoHeader.length - 1] = 2;
      expect(classifyPacket(intoHeader, false, false)).toBe(PacketKind.Invalid);
    });

    it('first byte 4..19 and 64..127 are neither STUN, DTLS nor RTP', () => {
      for (const b of [4, 19, 64, 127]) {
        const buf = Buffer.alloc(40);
        buf[0] = b;
        expect(classifyPacket(buf, false, false)).toBe(PacketKind.Invalid);
      }
    });
  });
});

describe('RTP header accessors', () => {
  it('isRtcpPayloadType bounds', () => {
    expect(isRtcpPayloadType(191)).toBe(false);
    expect(isRtcpPayloadType(192)).toBe(true);
    expect(isRtcpPayloadType(223)).toBe(true);
    expect(isRtcpPayloadType(224)).toBe(false);
  });

  it('ssrc and payload type', () => {
    const b = rtp({ pt: 8, marker: true });
    expect(rtpSsrc(b)).toBe(0x12345678);
    expect(rtpPayloadType(b)).toBe(8);
  });
});
