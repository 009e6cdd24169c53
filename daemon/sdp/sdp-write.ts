/**
 * SdpOutput → SDP text in rtpengine's order. The order is part of rtpengine's contract (its
 * tests compare SDP byte for byte), so the writer is ours rather than sdp-transform's.
 *
 * Session: v= o= s= (i= u= e= p=) b= t=/r=/z= session a= lines; a session-level c= is never
 *          written (every media section carries its own).
 * Media:   m= c= b= other a= lines in original order, a=mid, per-codec (rtpmap, fmtp, rtcp-fb),
 *          direction, a=rtcp, a=rtcp-mux, a=crypto (SDES), DTLS (setup, fingerprint, tls-id), ICE (ufrag, pwd, options, candidates), a=ptime, a=maxptime.
 * Rejected media (port 0): m= and a null c= only.
 */
import { holdAddress } from '../net/endpoint.js';
import {
  DIRECTIONS,
  ICE_ATTRIBUTES,
  STATIC_PAYLOAD_TYPES,
  parseExtmap,
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
  /** 0 = rejected: only m= and a null c= are written, as rtpengine does. */
  port: number;
  codecs: SdpCodec[];
  /** Formats that are not RTP payload types (non-RTP protocols) pass through as given. */
  formats: string[];
  connection: SdpConnection | null;
  /** null: none written (`original-sendrecv` with no direction in the input). */
  direction: Direction | null;
  /** `a=rtcp:PORT`; null leaves it out. */
  rtcpPort: number | null;
  /** `full-rtcp-attribute`: `a=rtcp:PORT IN IP4 ADDR`. */
  fullRtcp: boolean;
  rtcpMux: boolean;
  /** `a=mid` value: the input's, or generated (`generate-mid`). */
  mid: string | null;
  /** The m= protocol when it differs from the input's (`transport-protocol`, SRTP conversion). */
  protocol?: string;
  /** `a=crypto` values (SDES) replacing the input's; undefined passes the input's through. */
  crypto?: string[];
  /** ICE attribute values we write (ufrag, pwd, options, candidates); the input's never pass. */
  ice?: string[];
  /** `a=setup`/`a=fingerprint`/`a=tls-id` values (DTLS) replacing the input's; undefined passes them. */
  dtls?: string[];
  /** `a=ptime` override: absent = as in the source, null = none, a number = that value. */
  ptime?: number | null;
  /** `a=bundle-only` (RFC 8843): a bundled m= line offered with port 0 (`bundle: strict`). */
  bundleOnly?: boolean;
}

export interface SdpOutput {
  session: SdpSession;
  origin: SdpOrigin;
  medias: SdpOutputMedia[];
  /** Session-level `a=ice-lite`: the relay acts ICE-lite toward this receiver. */
  iceLite?: boolean;
  /** `a=group:BUNDLE` lines we write (mids, tagged first); the input's never pass through. */
  bundleGroups?: string[][];
  /** `strip extmap` / `extmap: {strip}`: `all`, or the header-extension URIs whose a=extmap lines go. */
  stripExtmap?: readonly string[];
}

/** The DTLS attributes (RFC 8122, RFC 8842): ours replace the input's when we terminate DTLS. */
const DTLS_ATTRIBUTES = new Set(['setup', 'fingerprint', 'tls-id']);

/** Packetisation attributes rtpengine writes last, in this order. */
const TRAILING = ['ptime', 'maxptime'];

/** Attributes the writer regenerates; every other attribute passes through unchanged. */
const REGENERATED = new Set(['rtpmap', 'fmtp', 'rtcp-fb', 'rtcp', 'rtcp-mux', 'mid', ...TRAILING, ...DIRECTIONS]);

function isBundleGroup(a: SdpAttribute): boolean {
  return a.name === 'group' && a.value !== null && /^BUNDLE(\s|$)/.test(a.value);
}

/** Session attributes that would be wrong after the rewrite: ICE (ours are per m= line) and BUNDLE groups (ours are written instead). */
function keepSessionAttribute(a: SdpAttribute, strip: readonly string[] | undefined): boolean {
  return !ICE_ATTRIBUTES.has(a.name) && !isBundleGroup(a) && !strippedExtmap(a, strip);
}

/** An a=extmap line removed by `strip extmap` (all of them) or `extmap: {strip: [URI]}`. */
function strippedExtmap(a: SdpAttribute, strip: readonly string[] | undefined): boolean {
  if (!strip || strip.length === 0 || a.name !== 'extmap') return false;
  if (strip.includes('all')) return true;
  const uri = parseExtmap(a.value)?.uri;
  return uri !== undefined && strip.includes(uri);
}

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
  for (const b of out.session.bandwidth) lines.push(`b=${b}`);
  lines.push(...out.session.timing);
  // our BUNDLE groups go where the input had its first one (else after the other attributes)
  const groups = (out.bundleGroups ?? []).filter((g) => g.length > 0).map((g) => `a=group:BUNDLE ${g.join(' ')}`);
  for (const a of out.session.attributes) {
    if (isBundleGroup(a)) lines.push(...groups.splice(0));
    if (keepSessionAttribute(a, out.stripExtmap)) lines.push(attributeLine(a));
  }
  lines.push(...groups);
  if (out.iceLite) lines.push('a=ice-lite');
  for (const media of out.medias) lines.push(...mediaLines(media, out.stripExtmap));
  return `${lines.join('\r\n')}\r\n`;
}

function mediaLines(m: SdpOutputMedia, stripExtmap: readonly string[] | undefined): string[] {
  const src = m.source;
  const portText = src.portCount !== null && m.port !== 0 ? `${m.port}/${src.portCount}` : `${m.port}`;
  const lines = [`m=${src.type} ${portText} ${m.protocol ?? src.protocol} ${m.formats.join(' ')}`.trimEnd()];
  if (m.port === 0 && !m.bundleOnly) {
    const family = m.connection?.family ?? src.connection?.family ?? 4;
    lines.push(connectionLine({ family, address: holdAddress(family) }));
    return lines;
  }
  lines.push(...src.otherLines);
  if (m.connection) lines.push(connectionLine(m.connection));
  for (const b of src.bandwidth) lines.push(`b=${b}`);
  for (const a of src.attributes) {
    if (ICE_ATTRIBUTES.has(a.name) || a.name === 'bundle-only' || strippedExtmap(a, stripExtmap)) continue;
    // rtpmap/fmtp/rtcp-fb are written per kept codec below (those of stripped codecs go with
    // them); wildcard rtcp-fb applies to all and stays here
    if (a.name === 'rtcp-fb' && a.value?.startsWith('* ')) lines.push(attributeLine(a));
    else if (a.name === 'crypto' && m.crypto !== undefined) continue;
    else if (m.dtls !== undefined && DTLS_ATTRIBUTES.has(a.name)) continue;
    else if (!REGENERATED.has(a.name)) lines.push(attributeLine(a));
  }
  if (m.mid !== null) lines.push(`a=mid:${m.mid}`);
  if (m.bundleOnly) lines.push('a=bundle-only');
  for (const codec of m.codecs) {
    const rtpmap = rtpmapFor(codec);
    if (rtpmap) lines.push(`a=rtpmap:${rtpmap}`);
    for (const f of codec.fmtp) lines.push(`a=fmtp:${f}`);
    for (const f of codec.rtcpFb) lines.push(`a=rtcp-fb:${f}`);
  }
  if (m.direction) lines.push(`a=${m.direction}`);
  if (m.rtcpPort !== null) {
    const c = m.connection;
    lines.push(m.fullRtcp && c ? `a=rtcp:${m.rtcpPort} IN IP${c.family} ${c.address}` : `a=rtcp:${m.rtcpPort}`);
  }
  if (m.rtcpMux) lines.push('a=rtcp-mux');
  for (const c of m.crypto ?? []) lines.push(`a=crypto:${c}`);
  for (const v of m.dtls ?? []) lines.push(`a=${v}`);
  for (const v of m.ice ?? []) lines.push(`a=${v}`);
  for (const name of TRAILING) {
    if (name === 'ptime' && m.ptime !== undefined) {
      if (m.ptime !== null) lines.push(`a=ptime:${m.ptime}`);
      continue;
    }
    for (const a of src.attributes) if (a.name === name) lines.push(attributeLine(a));
  }
  return lines;
}
