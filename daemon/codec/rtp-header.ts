/**
 * RTP fixed-header accessors for handlers (RFC 3550 §5.1). The packet path has already
 * validated the packet (daemon/media/rtp.ts), so these do no bounds checks beyond the header.
 */
export function payloadType(p: Buffer): number {
  return (p[1] as number) & 0x7f;
}

export function marker(p: Buffer): boolean {
  return ((p[1] as number) & 0x80) !== 0;
}

export function sequence(p: Buffer): number {
  return ((p[2] as number) << 8) | (p[3] as number);
}

export function timestamp(p: Buffer): number {
  return p.readUInt32BE(4);
}

export function ssrc(p: Buffer): number {
  return p.readUInt32BE(8);
}

/** Offset of the payload: after CSRCs and the header extension. */
export function payloadOffset(p: Buffer): number {
  const b0 = p[0] as number;
  let off = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) off += 4 + p.readUInt16BE(off + 2) * 4;
  return off;
}

/** Payload length without padding. */
export function payloadLength(p: Buffer): number {
  const pad = (p[0] as number) & 0x20 ? (p[p.length - 1] as number) : 0;
  return p.length - payloadOffset(p) - pad;
}

/** A copy of `p` with payload type `pt` (the marker bit kept). */
export function withPayloadType(p: Buffer, pt: number): Buffer {
  const out = Buffer.allocUnsafe(p.length);
  p.copy(out);
  out[1] = ((p[1] as number) & 0x80) | (pt & 0x7f);
  return out;
}
