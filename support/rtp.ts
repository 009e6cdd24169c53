/** RTP and RTCP packets for tests and benchmarks (RFC 3550 layouts, our own builders). */

export interface RtpOptions {
  /** payload type, default 0 (PCMU) */
  pt?: number;
  ssrc?: number;
  /** timestamp, default seq × 160 (20 ms of 8 kHz audio per packet) */
  ts?: number;
  marker?: boolean;
  /** default: 160 bytes of (seq & 0xff) */
  payload?: Buffer;
}

export function rtpPacket(seq: number, opts: RtpOptions = {}): Buffer {
  const payload = opts.payload ?? Buffer.alloc(160, seq & 0xff);
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = ((opts.pt ?? 0) & 0x7f) | (opts.marker ? 0x80 : 0);
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE((opts.ts ?? seq * 160) >>> 0, 4);
  header.writeUInt32BE((opts.ssrc ?? 0x11223344) >>> 0, 8);
  return Buffer.concat([header, payload]);
}

/** A receiver report (PT 201) with one report block; `marker` is written as the block's SSRC. */
export function rtcpPacket(ssrc = 0x11223344, marker = 0): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b.writeUInt32BE(0x55667788, 8);
  b.writeUInt32BE(marker >>> 0, 12);
  return b;
}
