/**
 * Our SDP model: the raw lines of every section in order (so unknown lines pass through
 * untouched and rtpengine's output order can be rebuilt), plus the typed fields the call model
 * needs, read by sdp-transform. Numbers that can exceed 2^53 (o= session id/version) stay strings.
 */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

export interface SdpAttribute {
  /** Attribute name without `a=` (`rtpmap`, `x-foo`); flags have no value. */
  name: string;
  value: string | null;
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  family: 4 | 6;
  address: string;
}

export interface SdpCodec {
  payloadType: number;
  /** As written in the m= line; the key codec manipulations match. */
  encoding: string;
  clockRate: number;
  channels: number | null;
  rtpmap: string | null;
  fmtp: string[];
  rtcpFb: string[];
}

export interface SdpMedia {
  type: string;
  port: number;
  portCount: number | null;
  protocol: string;
  /** Formats in m= order (payload type numbers for RTP protocols). */
  formats: string[];
  codecs: SdpCodec[];
  connection: SdpConnection | null;
  bandwidth: string[];
  /** Every a= line except those the writer regenerates, in original order. */
  attributes: SdpAttribute[];
  direction: Direction | null;
  rtcpPort: number | null;
  rtcpAddress: SdpConnection | null;
  rtcpMux: boolean;
  mid: string | null;
  /** `a=bundle-only` (RFC 8843): port 0 that still means "in the BUNDLE group". */
  bundleOnly: boolean;
  hasIce: boolean;
  /** i= line and other non-attribute lines after m= (besides c=/b=), kept verbatim. */
  otherLines: string[];
}

export interface SdpSession {
  origin: SdpOrigin;
  sessionName: string;
  /** Lines between s= and t= other than c=/b= (i=, u=, e=, p=), verbatim. */
  infoLines: string[];
  connection: SdpConnection | null;
  bandwidth: string[];
  /** t=, r=, z= lines verbatim. */
  timing: string[];
  attributes: SdpAttribute[];
  direction: Direction | null;
  hasIce: boolean;
  /** `a=group:BUNDLE` lines: the mids of each group, in order (the first is the tagged one). */
  bundleGroups: string[][];
  medias: SdpMedia[];
}

/** rtpengine adds `a=rtpmap` for static payload types (RFC 3551) that came without one. */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { encoding: string; clockRate: number; channels?: number }>> = {
  0: { encoding: 'PCMU', clockRate: 8000 },
  3: { encoding: 'GSM', clockRate: 8000 },
  4: { encoding: 'G723', clockRate: 8000 },
  5: { encoding: 'DVI4', clockRate: 8000 },
  6: { encoding: 'DVI4', clockRate: 16000 },
  7: { encoding: 'LPC', clockRate: 8000 },
  8: { encoding: 'PCMA', clockRate: 8000 },
  9: { encoding: 'G722', clockRate: 8000 },
  10: { encoding: 'L16', clockRate: 44100, channels: 2 },
  11: { encoding: 'L16', clockRate: 44100 },
  12: { encoding: 'QCELP', clockRate: 8000 },
  13: { encoding: 'CN', clockRate: 8000 },
  14: { encoding: 'MPA', clockRate: 90000 },
  15: { encoding: 'G728', clockRate: 8000 },
  16: { encoding: 'DVI4', clockRate: 11025 },
  17: { encoding: 'DVI4', clockRate: 22050 },
  18: { encoding: 'G729', clockRate: 8000 },
  25: { encoding: 'CelB', clockRate: 90000 },
  26: { encoding: 'JPEG', clockRate: 90000 },
  28: { encoding: 'nv', clockRate: 90000 },
  31: { encoding: 'H261', clockRate: 90000 },
  32: { encoding: 'MPV', clockRate: 90000 },
  33: { encoding: 'MP2T', clockRate: 90000 },
  34: { encoding: 'H263', clockRate: 90000 },
};

export const ICE_ATTRIBUTES = new Set(['ice-ufrag', 'ice-pwd', 'ice-options', 'candidate', 'end-of-candidates', 'ice-lite', 'remote-candidates', 'ice-mismatch']);

export function isRtpProtocol(protocol: string): boolean {
  return /RTP\//i.test(protocol);
}

/** `a=extmap:ID[/DIRECTION] URI [ATTRIBUTES]` → id and URI; null if malformed. */
export function parseExtmap(value: string | null): { id: number; uri: string } | null {
  const m = /^(\d+)(?:\/\w+)?\s+(\S+)/.exec(value ?? '');
  if (!m) return null;
  const id = Number(m[1]);
  return id >= 1 && id <= 255 ? { id, uri: m[2] as string } : null;
}

/** The RTP header extension carrying the MID (RFC 8843 section 15.2). */
export const MID_EXTENSION_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
