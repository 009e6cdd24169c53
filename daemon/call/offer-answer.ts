/**
 * Offer/answer on the call model (rtpengine's monologue_offer_answer + sdp_replace): takes the
 * SDP one participant (the sender) sent, updates its medias and packet streams, makes sure both
 * sides have local ports, turns subscriptions into sinks, and writes the SDP the other
 * participant (the receiver) gets. Runs under the call's write lock.
 */
import type { NgFlags } from './flags.js';
import { NgCommandError } from '../errors.js';
import type { Endpoint, LearningMode } from '../media/packet-stream.js';
import type { LocalAddress } from '../net/interfaces.js';
import { isRtpProtocol, type Direction, type SdpConnection, type SdpMedia, type SdpOrigin, type SdpSession } from '../sdp/sdp-model.js';
import { writeSdp, type SdpOutputMedia } from '../sdp/sdp-write.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { applyCodecFlags } from './codecs.js';
import { cryptoAnswer, cryptoOffer, syncSrtpContexts } from './call-crypto.js';
import type { Monologue } from './monologue.js';

export type SdpRole = 'offer' | 'answer';

function senderEndpointAddress(media: SdpMedia, session: SdpSession, flags: NgFlags): SdpConnection | null {
  if (flags.flags.has('sip-source-address') && flags.receivedFrom) return flags.receivedFrom;
  return media.connection ?? session.connection;
}

function learningFor(flags: NgFlags, fallback: LearningMode): LearningMode {
  if (flags.flags.has('asymmetric')) return 'off';
  return flags.endpointLearning ?? fallback;
}

/** Chooses the local address for a side: its interface name, then the family it should see. */
export function localFor(call: Call, side: Monologue, family: 4 | 6 | undefined): LocalAddress {
  const local = call.ctx.interfaces.select(side.interfaceName, family);
  if (!local) throw new NgCommandError('NO_PORTS', 'no local interface');
  return local;
}

export async function ensurePorts(call: Call, media: CallMedia, local: LocalAddress): Promise<void> {
  if (media.ports && media.ports.local === local) return; // re-offer keeps its ports
  if (media.ports) call.releasePorts(media);
  await call.allocatePorts(media, local);
}

function isNullAddress(address: string | undefined): boolean {
  return address === '0.0.0.0' || address === '::';
}

function withoutRecv(direction: Direction): Direction {
  return direction === 'sendrecv' ? 'sendonly' : direction === 'recvonly' ? 'inactive' : direction;
}

/** The family of a participant's SDP, used as its local family unless `address-family` says otherwise. */
export function sdpFamily(session: SdpSession): 4 | 6 | undefined {
  return session.medias.find((m) => m.connection)?.connection?.family ?? session.connection?.family;
}

export function setSenderEndpoints(call: Call, media: CallMedia, sdp: SdpMedia, session: SdpSession, flags: NgFlags): void {
  const conn = senderEndpointAddress(sdp, session, flags);
  const rtpEp: Endpoint | null = conn ? { address: conn.address, family: conn.family, port: sdp.port } : null;
  let rtcpEp: Endpoint | null = null;
  if (conn) {
    const rtcpConn = sdp.rtcpAddress ?? conn;
    rtcpEp = { address: rtcpConn.address, family: rtcpConn.family, port: sdp.rtcpPort ?? sdp.port + 1 };
  }
  media.rtp.setAdvertised(rtpEp);
  media.rtcp.setAdvertised(rtcpEp);
  const learning = learningFor(flags, call.ctx.config.endpointLearning);
  for (const stream of [media.rtp, media.rtcp]) {
    stream.learning = learning;
    stream.strictSource = flags.flags.has('strict-source');
    stream.mediaHandover = flags.flags.has('media-handover');
    stream.plainUdp = !isRtpProtocol(sdp.protocol);
  }
}

export async function monologueOfferAnswer(
  call: Call,
  sender: Monologue,
  receiver: Monologue,
  session: SdpSession,
  flags: NgFlags,
  role: SdpRole,
): Promise<string> {
  sender.lastSession = session;
  if (flags.label !== undefined) sender.label = flags.label;
  if (role === 'offer') {
    const [fromIf, toIf] = flags.direction;
    if (fromIf ?? flags.fromInterface) sender.interfaceName = fromIf ?? flags.fromInterface;
    if (toIf ?? flags.toInterface) receiver.interfaceName = toIf ?? flags.toInterface;
    receiver.muxFlags = new Set(flags.rtcpMux);
  }
  sender.family = sdpFamily(session) ?? sender.family;
  if (flags.addressFamily) receiver.family = flags.addressFamily;
  else if (receiver.family === undefined) receiver.family = sender.family;

  const outMedias: SdpOutputMedia[] = [];
  for (let i = 0; i < session.medias.length; i++) {
    const sdp = session.medias[i] as SdpMedia;
    const index = i + 1;
    const sm = getMedia(call, sender, index, sdp.type);
    const rm = getMedia(call, receiver, index, sdp.type);
    sm.sdp = sdp;
    sm.protocol = sdp.protocol;
    sm.direction = sdp.direction ?? session.direction ?? 'sendrecv';
    sm.codecs = sdp.codecs;
    sm.rejected = sdp.port === 0;
    if (role === 'offer') {
      sm.muxOffered = sdp.rtcpMux;
      sm.rtp.rtcpMux = sdp.rtcpMux || sm.rtcpMux;
    }
    const before = sm.rtp.advertisedEndpoint;
    setSenderEndpoints(call, sm, sdp, session, flags);
    const after = sm.rtp.advertisedEndpoint;
    // rtpengine hands out a new relay port toward the peer when a participant's media address
    // or port changes, unless port-latching keeps it
    if (before && after && (before.address !== after.address || before.port !== after.port)
      && !flags.flags.has('port-latching') && rm.ports) {
      call.releasePorts(rm);
    }

    if (sm.rejected) {
      // a rejected m= line stays rejected and holds no ports on either side
      call.releasePorts(sm);
      if (role === 'offer') call.releasePorts(rm);
      rm.rejected = role === 'offer' ? true : rm.rejected;
    } else {
      if (role === 'offer') rm.rejected = false;
      await ensurePorts(call, sm, localFor(call, sender, sender.family));
      await ensurePorts(call, rm, localFor(call, receiver, receiver.family));
    }
    const out = outputMedia(sm, rm, sdp, flags, role);
    if (!sm.rejected) {
      const crypto = role === 'offer' ? cryptoOffer(sm, rm, sdp, flags, call.callId) : cryptoAnswer(sm, rm, sdp, call.callId);
      if (crypto.protocol !== undefined) out.protocol = crypto.protocol;
      if (crypto.crypto !== undefined) out.crypto = crypto.crypto;
    }
    outMedias.push(out);
  }
  // m= lines the sender no longer has (rtpengine keeps them; a shorter re-offer removes them)
  for (const side of [sender, receiver]) {
    for (const media of side.medias.filter((m) => m.index > session.medias.length)) call.removeMedia(media);
  }
  for (const side of [sender, receiver]) for (const media of side.medias) syncSrtpContexts(media);
  call.rebuildSinks();
  return renderSdp(receiver, session, outMedias, flags);
}

export function getMedia(call: Call, m: Monologue, index: number, type: string): CallMedia {
  const existing = m.medias.find((x) => x.index === index);
  if (existing && existing.type === type) return existing;
  if (existing) call.removeMedia(existing);
  return call.addMedia(m, index, type);
}

/** rtcp-mux negotiation, then the receiver's view of this m= line. */
function outputMedia(sm: CallMedia, rm: CallMedia, sdp: SdpMedia, flags: NgFlags, role: SdpRole): SdpOutputMedia {
  const isRtp = isRtpProtocol(sdp.protocol);
  let emitMux = false;
  let rtcpOnRtpPort = false;
  if (role === 'offer') {
    const p = flags.rtcpMux;
    // `reject` only refuses mux toward the offerer (in the answer); the answerer is still offered it
    emitMux = isRtp && (p.has('require') || p.has('offer') || (sdp.rtcpMux && !p.has('demux')));
    rtcpOnRtpPort = p.has('require');
    // the receiver must mux if we require it; otherwise we learn it from its answer
    rm.rtcpMux = p.has('require');
    rm.rtp.rtcpMux = emitMux;
  } else {
    // the rtcp-mux flags of the offer, remembered on the monologue that received it
    const p = sm.monologue.muxFlags;
    // the answerer (sender) muxes if it accepted the mux we offered
    sm.rtcpMux = sdp.rtcpMux || sm.rtcpMux;
    sm.rtp.rtcpMux = sm.rtcpMux;
    const offererMux = rm.muxOffered && !p.has('reject') && (p.has('accept') || p.has('demux') || p.has('require') || sm.rtcpMux);
    rm.rtcpMux = offererMux;
    rm.rtp.rtcpMux = offererMux || rm.muxOffered;
    emitMux = isRtp && offererMux;
    rtcpOnRtpPort = offererMux;
  }
  const local = rm.ports?.local ?? null;
  const port = sm.rejected || !rm.ports ? 0 : rm.ports.port;
  const codecs = role === 'offer' && isRtp ? applyCodecFlags(sdp.codecs, flags.codec) : sdp.codecs;
  // `media-address` is the address written into the SDP the peer gets (rtpengine's behaviour)
  let connection: SdpConnection | null = flags.mediaAddress
    ? { family: flags.mediaAddress.includes(':') ? 6 : 4, address: flags.mediaAddress }
    : local ? { family: local.family, address: local.advertised } : sdp.connection;
  // old-style hold (RFC 2543 c=0.0.0.0): the sender will not receive; the peer is told so with
  // a null address and a direction without "recv", as rtpengine does
  const held = isNullAddress(sm.rtp.advertisedEndpoint?.address);
  if (held && connection) connection = { family: connection.family, address: connection.family === 6 ? '::' : '0.0.0.0' };
  const direction = flags.flags.has('original-sendrecv') ? sdp.direction : held ? withoutRecv(sm.direction) : sm.direction;
  return {
    source: sdp,
    port,
    codecs,
    formats: isRtp ? codecs.map((c) => String(c.payloadType)) : sdp.formats,
    connection,
    direction,
    rtcpPort: !isRtp || port === 0 || flags.flags.has('no-rtcp-attribute') ? null : rtcpOnRtpPort ? port : port + 1,
    fullRtcp: flags.flags.has('full-rtcp-attribute'),
    rtcpMux: emitMux && port !== 0,
    mid: sdp.mid ?? (flags.flags.has('generate-mid') ? String(sm.index) : null),
  };
}

function renderSdp(receiver: Monologue, session: SdpSession, medias: SdpOutputMedia[], flags: NgFlags): string {
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
  const build = (version: string) => writeSdp({ session, origin: { ...origin, sessionVersion: version }, medias });
  // origin-full keeps the first o= whole, its version following the SDP body like sdp-version
  const fullOrigin = flags.replace.has('origin-full');
  const inputVersion = safeBigInt(fullOrigin ? first.sessionVersion : session.origin.sessionVersion);
  const last = receiver.lastOutput;
  let version = inputVersion;
  const bodyWithout = (text: string) => text.split('\r\n').filter((l) => !l.startsWith('o=')).join('\r\n');
  if (flags.replace.has('force-increment-sdp-ver')) {
    version = (last?.version ?? inputVersion) + 1n;
  } else if ((flags.replace.has('sdp-version') || fullOrigin) && last) {
    version = bodyWithout(build(String(last.version))) === last.body ? last.version : last.version + 1n;
  }
  const text = build(String(version));
  receiver.lastOutput = { body: bodyWithout(text), version };
  return text;
}

function safeBigInt(text: string): bigint {
  return /^\d+$/.test(text) ? BigInt(text) : 0n;
}
