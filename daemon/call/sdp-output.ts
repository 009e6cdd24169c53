/**
 * The one SDP output builder (rtpengine's sdp_replace): every SDP the relay writes — the
 * offer and answer it passes on, the answer to a publish, the offer of a subscription — is
 * made here, so every output flag (`media-address`, `no-rtcp-attribute`,
 * `full-rtcp-attribute`, `generate-mid`, `original-sendrecv`, the `replace` options) and
 * old-style hold apply to all of them alike. The callers decide what is negotiated (codecs,
 * direction, rtcp-mux); this module only says how it is written.
 */
import type { NgFlags } from './flags.js';
import { holdAddress, isHoldAddress } from '../net/endpoint.js';
import { isRtpProtocol, type Direction, type SdpCodec, type SdpConnection, type SdpMedia, type SdpOrigin, type SdpSession } from '../sdp/sdp-model.js';
import { writeSdp, type SdpOutputMedia } from '../sdp/sdp-write.js';
import type { CallMedia } from './call-media.js';
import { sessionIceLite } from './call-ice.js';
import { withLoopMarker } from './loop-protect.js';
import type { Monologue } from './monologue.js';
import type { RtcpMuxOutput } from './rtcp-mux.js';
import { withLegacyTwin } from './osrtp-legacy.js';
import { bundleGroupLines } from './bundle.js';

/** One m= line of an SDP the relay writes, before the output flags are applied. */
export interface MediaOutput {
  /** The m= section the line is made from: the sender's, or one the relay made itself. */
  sdp: SdpMedia;
  /** The receiver's media: its relay ports and local address are what the line advertises. */
  relay: CallMedia;
  /**
   * The media whose packets the receiver will get: when its participant put itself on hold
   * (c=0.0.0.0), the receiver is told so. null when the relay itself answers (publish).
   */
  sender: CallMedia | null;
  /** Port 0: the line is written rejected. */
  rejected: boolean;
  codecs: SdpCodec[];
  direction: Direction;
  mux: RtcpMuxOutput;
  /** SRTP negotiation (call-crypto.ts): the m= protocol and the a=crypto lines; undefined keeps the input's. */
  protocol?: string;
  crypto?: string[];
  /** Our ICE attributes (call-ice.ts) when the relay terminates ICE toward the receiver. */
  ice?: string[];
  /** a=setup/fingerprint/tls-id (call-dtls.ts) replacing the input's; undefined keeps the input's. */
  dtls?: string[];
  /** `a=ptime` as negotiated: absent = as in `sdp`, null = none, a number = that value. */
  ptime?: number | null;
  /** `OSRTP=offer-legacy` on an offer: an SRTP line gets its plain twin (osrtp-legacy.ts). */
  offerLegacy?: boolean;
  /** `a=mid` when it is not simply the input's (BUNDLE needs one on every grouped line). */
  mid?: string | null;
  /** `bundle: strict`: a grouped line other than the tagged one goes out with port 0 and `a=bundle-only`. */
  bundleOnly?: boolean;
  /** `ICE=force-relay`: the sender's own c=, port, a=rtcp and rtcp-mux, unchanged. */
  keepTransport?: { port: number; connection: SdpConnection | null; rtcpPort: number | null; rtcpMux: boolean };
}

function withoutRecv(direction: Direction): Direction {
  return direction === 'sendrecv' ? 'sendonly' : direction === 'recvonly' ? 'inactive' : direction;
}

/** The m= line as written: relay port, address, direction, a=rtcp, a=rtcp-mux, a=mid. */
export function outputMedia(m: MediaOutput, flags: NgFlags): SdpOutputMedia {
  const { sdp, relay } = m;
  const isRtp = isRtpProtocol(sdp.protocol);
  const local = relay.ports?.local ?? null;
  const port = m.rejected || !relay.ports || m.bundleOnly ? 0 : relay.ports.port;
  // `media-address` is the address written into the SDP the peer gets (rtpengine's behaviour)
  let connection: SdpConnection | null = flags.mediaAddress
    ? { family: flags.mediaAddress.includes(':') ? 6 : 4, address: flags.mediaAddress }
    : local ? { family: local.family, address: local.advertised } : sdp.connection;
  // old-style hold (RFC 2543 c=0.0.0.0): the sender will not receive; the peer is told so with
  // a null address and a direction without "recv", as rtpengine does
  const held = m.sender !== null && isHoldAddress(m.sender.rtp.advertisedEndpoint?.address);
  if (held && connection) connection = { family: connection.family, address: holdAddress(connection.family) };
  const direction = flags.flags.has('original-sendrecv') ? sdp.direction : held ? withoutRecv(m.direction) : m.direction;
  const keep = m.keepTransport;
  if (keep && !m.rejected) {
    return {
      source: sdp,
      port: keep.port,
      codecs: m.codecs,
      formats: isRtp ? m.codecs.map((c) => String(c.payloadType)) : sdp.formats,
      connection: keep.connection,
      direction,
      rtcpPort: flags.flags.has('no-rtcp-attribute') ? null : keep.rtcpPort,
      fullRtcp: flags.flags.has('full-rtcp-attribute'),
      rtcpMux: keep.rtcpMux,
      mid: m.mid !== undefined ? m.mid : sdp.mid ?? (flags.flags.has('generate-mid') ? String(relay.index) : null),
      ...(m.protocol !== undefined ? { protocol: m.protocol } : {}),
      ...(m.crypto !== undefined ? { crypto: m.crypto } : {}),
      ...(m.ice !== undefined ? { ice: m.ice } : {}),
      ptime: m.ptime,
    };
  }
  return {
    source: sdp,
    port,
    codecs: m.codecs,
    formats: isRtp ? m.codecs.map((c) => String(c.payloadType)) : sdp.formats,
    connection,
    direction,
    rtcpPort: !isRtp || port === 0 || flags.flags.has('no-rtcp-attribute') ? null : m.mux.onRtpPort ? port : port + 1,
    fullRtcp: flags.flags.has('full-rtcp-attribute'),
    rtcpMux: isRtp && m.mux.offer && (port !== 0 || m.bundleOnly === true),
    mid: m.mid !== undefined ? m.mid : sdp.mid ?? (flags.flags.has('generate-mid') ? String(relay.index) : null),
    ...(m.protocol !== undefined ? { protocol: m.protocol } : {}),
    ...(m.crypto !== undefined ? { crypto: m.crypto } : {}),
    ...(m.dtls !== undefined ? { dtls: m.dtls } : {}),
    ...(m.ice !== undefined && port !== 0 ? { ice: m.ice } : {}),
    ptime: m.ptime,
    ...(m.bundleOnly && !m.rejected ? { bundleOnly: true } : {}),
  };
}

/**
 * The whole SDP for `receiver`: the session part of `session` (its o= as the template of
 * ours), then `medias`. Applies the o= options (`replace: origin`, `origin-full`, `username`)
 * and the version rules (`sdp-version`, `force-increment-sdp-ver`), remembering on the
 * receiver what it was sent.
 */
export function renderSdp(receiver: Monologue, session: SdpSession, medias: readonly MediaOutput[], flags: NgFlags): string {
  // legacy OSRTP twins (osrtp-legacy.ts) are written next to the line they pair with
  const out: SdpOutputMedia[] = [];
  for (const m of medias) {
    const lines = withLegacyTwin(outputMedia(m, flags), m.relay.legacyOsrtp, m.offerLegacy === true);
    for (let i = 0; i < lines.length; i++) out.push(lines[i] as SdpOutputMedia);
  }
  // the relay's (advertised) address on the receiver's side, even when c= carries a hold
  // address or a media-address
  const local = receiver.medias.find((m) => m.ports)?.ports?.local;
  const firstLocal = local ? { family: local.family, address: local.advertised } : null;
  let origin: SdpOrigin = { ...session.origin };
  // `username` keeps the o= username of the first SDP this participant got from us;
  // `origin-full` keeps that whole first o= (and, like `origin`, puts the relay's address in it)
  const first = receiver.firstOrigin ?? (receiver.firstOrigin = { ...session.origin });
  if (flags.replace.has('origin-full')) origin = { ...first };
  else if (flags.replace.has('username')) origin.username = first.username;
  if ((flags.replace.has('origin') || flags.replace.has('origin-full')) && firstLocal) {
    origin = { ...origin, addrType: `IP${firstLocal.family}`, address: firstLocal.address };
  }
  // `loop protect`: our instance marker as the last session attribute
  const template = flags.flags.has('loop-protect') ? withLoopMarker(session) : session;
  const iceLite = sessionIceLite(receiver.medias);
  const bundleGroups = bundleGroupLines(medias.map((m, i) => ({ relay: m.relay, mid: out[i]!.mid, written: out[i]!.port !== 0 || out[i]!.bundleOnly === true })));
  const stripExtmap = flags.flags.has('strip-extmap') ? ['all'] : flags.extmapStrip;
  const build = (version: string) => writeSdp({
    session: template, origin: { ...origin, sessionVersion: version }, medias: out, iceLite, bundleGroups,
    ...(stripExtmap ? { stripExtmap } : {}),
  });
  // origin-full keeps the first o= whole, its version following the SDP body like sdp-version
  const fullOrigin = flags.replace.has('origin-full');
  const inputText = fullOrigin ? first.sessionVersion : session.origin.sessionVersion;
  const last = receiver.lastOutput;
  // the version as decimal text; BigInt arithmetic only where a version is counted up
  let version = canonicalVersion(inputText);
  if (flags.replace.has('force-increment-sdp-ver')) {
    version = String((last ? BigInt(last.version) : safeBigInt(inputText)) + 1n);
  } else if ((flags.replace.has('sdp-version') || fullOrigin) && last) {
    version = bodyWithout(build(last.version)) === bodyWithout(last.text) ? last.version : String(BigInt(last.version) + 1n);
  }
  const text = build(version);
  // the whole text is kept (it is the reply's string anyway); its body without o= is derived
  // only when a later sdp-version or origin-full compares against it
  receiver.lastOutput = { text, version };
  return text;
}

function bodyWithout(text: string): string {
  return text.split('\r\n').filter((l) => !l.startsWith('o=')).join('\r\n');
}

/** `text` as the decimal a BigInt would print: itself when it is digits without a leading zero. */
function canonicalVersion(text: string): string {
  if (/^(0|[1-9]\d*)$/.test(text)) return text;
  return String(safeBigInt(text));
}

function safeBigInt(text: string): bigint {
  return /^\d+$/.test(text) ? BigInt(text) : 0n;
}
