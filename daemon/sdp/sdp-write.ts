/**
 * SdpOutput → SDP text in rtpengine's order. The order is part of rtpengine's contract (its
 * tests compare SDP byte for byte), so the writer is ours rather than sdp-transform's.
 *
 * Session: v= o= s= (i= u= e= p=) [c=] b= t=/r=/z= session a= lines.
 * Media:   m= c= b= [a=mid] per-codec (rtpmap, fmtp, rtcp-fb) other a= lines in original order,
 *          direction, a=rtcp, a=rtcp-mux.
 */
import {
  DIRECTIONS,
  ICE_ATTRIBUTES,
  STATIC_PAYLOAD_TYPES,
  type Direction,
  type SdpAttribute,
  type SdpCodec,
  type SdpConnection,
  type SdpMedia,
  type SdpOrigin,
  type SdpSession,
} from './sdp-model.js';

export interface SdpOutputMedia {
  source: SdpMedia;
  port: number;
  codecs: SdpCodec[];
  /** Formats that are not RTP payload types (non-RTP protocols) pass through as given. */
  formats: string[];
  connection: SdpConnection | null;
  direction: Direction;
  /** `a=rtcp:PORT`; null leaves it out. */
  rtcpPort: number | null;
  rtcpMux: boolean;
}

export interface SdpOutput {
  session: SdpSession;
  origin: SdpOrigin;
  /** A session-level c= to write (only when asked to keep it); media sections carry their own. */
  sessionConnection: SdpConnection | null;
  medias: SdpOutputMedia[];
}

/** Attributes the writer regenerates; every other attribute passes through unchanged. */
const REGENERATED = new Set(['rtpmap', 'fmtp', 'rtcp-fb', 'rtcp', 'rtcp-mux', 'mid', ...DIRECTIONS]);

function attributeLine(a: SdpAttribute): string {
  return a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

function connectionLine(c: SdpConnection): string {
  return `c=IN IP${c.family} ${c.address}`;
}

export function rtpmapFor(codec: SdpCodec): string | null {
  if (codec.rtpmap) return codec.rtpmap;
  const known = STATIC_PAYLOAD_TYPES[codec.payloadType];
  if (!known) return null;
  return `${codec.payloadType} ${known.encoding}/${known.clockRate}${known.channels ? `/${known.channels}` : ''}`;
}

export function writeSdp(out: SdpOutput): string {
  const o = out.origin;
  const lines: string[] = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${out.session.sessionName}`,
    ...out.session.infoLines,
  ];
  if (out.sessionConnection) lines.push(connectionLine(out.sessionConnection));
  for (const b of out.session.bandwidth) lines.push(`b=${b}`);
  lines.push(...out.session.timing);
  for (const a of out.session.attributes) if (!ICE_ATTRIBUTES.has(a.name)) lines.push(attributeLine(a));
  for (const media of out.medias) lines.push(...mediaLines(media));
  return `${lines.join('\r\n')}\r\n`;
}

function mediaLines(m: SdpOutputMedia): string[] {
  const src = m.source;
  const portText = src.portCount !== null && m.port !== 0 ? `${m.port}/${src.portCount}` : `${m.port}`;
  const lines = [`m=${src.type} ${portText} ${src.protocol} ${m.formats.join(' ')}`.trimEnd()];
  lines.push(...src.otherLines);
  if (m.connection) lines.push(connectionLine(m.connection));
  for (const b of src.bandwidth) lines.push(`b=${b}`);
  if (src.mid !== null) lines.push(`a=mid:${src.mid}`);
  for (const codec of m.codecs) {
    const rtpmap = rtpmapFor(codec);
    if (rtpmap) lines.push(`a=rtpmap:${rtpmap}`);
    for (const f of codec.fmtp) lines.push(`a=fmtp:${f}`);
    for (const f of codec.rtcpFb) lines.push(`a=rtcp-fb:${f}`);
  }
  for (const a of src.attributes) {
    if (ICE_ATTRIBUTES.has(a.name)) continue;
    if (a.name === 'rtcp-fb' && a.value?.startsWith('* ')) {
      lines.push(attributeLine(a));
      continue;
    }
    // rtpmap/fmtp/rtcp-fb were written per kept codec above; those of stripped codecs go with them
    if (REGENERATED.has(a.name)) continue;
    lines.push(attributeLine(a));
  }
  lines.push(`a=${m.direction}`);
  if (m.rtcpPort !== null) lines.push(`a=rtcp:${m.rtcpPort}`);
  if (m.rtcpMux) lines.push('a=rtcp-mux');
  return lines;
}
