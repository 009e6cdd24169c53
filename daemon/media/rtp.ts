/**
 * RTP/RTCP recognition on a media port (RFC 3550, RFC 5761 for demultiplexing). Everything
 * here is allocation-free: it runs for every packet on the JS path.
 */
export const enum PacketKind {
  Rtp = 1,
  Rtcp = 2,
  Stun = 3,
  Dtls = 4,
  Invalid = 5,
}

/** Largest datagram we relay; anything bigger is counted and dropped. */
export const MAX_PACKET_SIZE = 4096;

/** RFC 5761: with rtcp-mux, a second byte of 192..223 is an RTCP packet type (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR …). */
export function isRtcpPayloadType(secondByte: number): boolean {
  return secondByte >= 192 && secondByte <= 223;
}

/**
 * Classifies a datagram. `rtcpOnly` is an RTCP port (odd port of a pair); `mux` demultiplexes
 * RTP and RTCP sharing one port. RFC 7983 first-byte ranges tell STUN and DTLS apart.
 */
export function classifyPacket(data: Buffer, rtcpOnly: boolean, mux: boolean): PacketKind {
  const len = data.length;
  if (len === 0 || len > MAX_PACKET_SIZE) return PacketKind.Invalid;
  const b0 = data[0] as number;
  if (b0 <= 3) return len >= 20 ? PacketKind.Stun : PacketKind.Invalid;
  if (b0 >= 20 && b0 <= 63) return PacketKind.Dtls;
  if (b0 >> 6 !== 2) return PacketKind.Invalid;
  if (len < 2) return PacketKind.Invalid;
  const b1 = data[1] as number;
  if (rtcpOnly || (mux && isRtcpPayloadType(b1))) {
    return len >= 8 && isRtcpPayloadType(b1) ? PacketKind.Rtcp : PacketKind.Invalid;
  }
  if (len < 12) return PacketKind.Invalid;
  const csrcBytes = (b0 & 0x0f) * 4;
  let headerLen = 12 + csrcBytes;
  if (b0 & 0x10) {
    if (len < headerLen + 4) return PacketKind.Invalid;
    headerLen += 4 + data.readUInt16BE(headerLen + 2) * 4;
  }
  if (headerLen > len) return PacketKind.Invalid;
  if (b0 & 0x20) {
    const pad = data[len - 1] as number;
    if (pad === 0 || headerLen + pad > len) return PacketKind.Invalid;
  }
  return PacketKind.Rtp;
}

export function rtpSsrc(data: Buffer): number {
  return data.readUInt32BE(8);
}

export function rtpPayloadType(data: Buffer): number {
  return (data[1] as number) & 0x7f;
}
