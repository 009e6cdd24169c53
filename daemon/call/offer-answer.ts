/**
 * Offer/answer on the call model (rtpengine's monologue_offer_answer + sdp_replace): takes the
 * SDP one participant (the sender) sent, updates its medias and packet streams, makes sure both
 * sides have local ports, turns subscriptions into sinks, and writes the SDP the other
 * participant (the receiver) gets. Runs under the call's write lock.
 */
import type { NgFlags } from './flags.js';
import type { Endpoint, LearningMode } from '../net/endpoint.js';
import { isRtpProtocol, type SdpCodec, type SdpConnection, type SdpMedia, type SdpSession } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { cryptoAnswer, cryptoOffer, syncSrtpContexts } from './call-crypto.js';
import { dtlsAnswer, dtlsOffer, startDtls, syncDtlsContexts } from './call-dtls.js';
import { negotiateAnswer, negotiateOffer, type CodecOffer } from './codec-negotiation.js';
import type { Monologue } from './monologue.js';
import { iceLines, relayIceLines, updateIce } from './call-ice.js';
import { decideRtcpMux } from './rtcp-mux.js';
import { renderSdp, type MediaOutput } from './sdp-output.js';
import { attachBundles, bundleInfoOf, planBundles } from './bundle.js';
import { bundleMux } from './rtcp-mux.js';

export type SdpRole = 'offer' | 'answer';

/**
 * Where the sender's media goes before learning (rtpengine's fill_endpoint): the SDP address when
 * the address is trusted (the default; `trust address`), else the SIP source (`received from`)
 * with `SIP source address` or --sip-source. `trust address` wins over both.
 */
function senderEndpointAddress(media: SdpMedia, session: SdpSession, flags: NgFlags, sipSourceDefault: boolean): SdpConnection | null {
  const trusted = flags.flags.has('trust-address') || (!flags.flags.has('sip-source-address') && !sipSourceDefault);
  if (!trusted && flags.receivedFrom) return flags.receivedFrom;
  return media.connection ?? session.connection;
}

function learningFor(flags: NgFlags, fallback: LearningMode): LearningMode {
  if (flags.flags.has('asymmetric')) return 'off';
  return flags.endpointLearning ?? fallback;
}

/**
 * Makes sure a media of `side` has ports on the interface its name resolves to for `family`:
 * a re-offer keeps ports that still fit (a round-robin choice is not made again), otherwise
 * they move (rtpengine's __init_interface).
 */
export async function ensurePorts(call: Call, media: CallMedia, side: Monologue, family: 4 | 6 | undefined): Promise<void> {
  const interfaces = call.ctx.interfaces;
  if (media.ports && interfaces.accepts(side.interfaceName, family, media.ports.local)) return;
  if (!side.interfaceWarned && interfaces.isUnknown(side.interfaceName)) {
    side.interfaceWarned = true;
    call.log(side.tag).warn({ interface: side.interfaceName }, `Interface '${side.interfaceName}' not found, using default`);
  }
  if (media.ports) call.releasePorts(media);
  // every m= line of one side goes on one interface (rtpengine picks per participant, not per media)
  const sibling = side.medias.find((m) => m !== media && m.ports && interfaces.accepts(side.interfaceName, family, m.ports.local));
  await call.allocatePorts(media, side.interfaceName, family, sibling?.ports?.local.name);
}

/** A side's interface name; a new one is looked up (and warned about if unknown) again. */
export function setInterface(side: Monologue, name: string): void {
  if (side.interfaceName === name) return;
  side.interfaceName = name;
  side.interfaceWarned = false;
}

/** The family of a participant's SDP, used as its local family unless `address-family` says otherwise. */
export function sdpFamily(session: SdpSession): 4 | 6 | undefined {
  return session.medias.find((m) => m.connection)?.connection?.family ?? session.connection?.family;
}

export function setSenderEndpoints(call: Call, media: CallMedia, sdp: SdpMedia, session: SdpSession, flags: NgFlags): void {
  const conn = senderEndpointAddress(sdp, session, flags, call.ctx.config.sipSource);
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
  // `from-interface`/`to-interface` are the two halves of `direction`: the side this message
  // came from, the side it goes to (in an answer too, as rtpengine); omitted, they are remembered
  const fromIf = flags.fromInterface ?? flags.direction[0];
  const toIf = flags.toInterface ?? flags.direction[1];
  if (fromIf) setInterface(sender, fromIf);
  if (toIf) setInterface(receiver, toIf);
  sender.family = sdpFamily(session) ?? sender.family;
  if (flags.addressFamily) receiver.family = flags.addressFamily;
  else if (receiver.family === undefined) receiver.family = sender.family;

  const outMedias: MediaOutput[] = [];
  const sms = session.medias.map((sdp, i) => getMedia(call, sender, i + 1, sdp.type));
  const rms = session.medias.map((sdp, i) => getMedia(call, receiver, i + 1, sdp.type));
  // BUNDLE: which m= lines share a transport on either side, before any ports are handed out
  const bundle = planBundles(call, sender, receiver, session, sms, rms, flags, role);
  for (let i = 0; i < session.medias.length; i++) {
    const sdp = session.medias[i] as SdpMedia;
    const sm = sms[i] as CallMedia;
    const rm = rms[i] as CallMedia;
    sm.sdp = sdp;
    sm.protocol = sdp.protocol;
    sm.direction = sdp.direction ?? session.direction ?? 'sendrecv';
    sm.codecs = sdp.codecs;
    // a bundle-only m= line of an accepted group is not rejected: its head's port carries it
    const headSdp = bundle.senderHeadSdp.get(sm);
    sm.rejected = sdp.port === 0 && headSdp === undefined;
    sm.bundleInfo = bundleInfoOf(sdp, session);
    const before = sm.rtp.advertisedEndpoint;
    setSenderEndpoints(call, sm, headSdp ?? sdp, session, flags);
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
      // a BUNDLE member gets its head's transport after the loop, no ports of its own
      if (!sm.bundleHead) await ensurePorts(call, sm, sender, sender.family);
      if (!rm.bundleHead) await ensurePorts(call, rm, receiver, receiver.family);
    }
    const isRtp = isRtpProtocol(sdp.protocol);
    let mux = role === 'offer'
      ? decideRtcpMux({ kind: 'offer', sender: sm, receiver: rm, senderMux: sdp.rtcpMux, policy: new Set(flags.rtcpMux) }, isRtp)
      : decideRtcpMux({ kind: 'answer', sender: sm, receiver: rm, senderMux: sdp.rtcpMux }, isRtp);
    if (sm.bundle?.shared) bundleMux(sm);
    if (rm.bundle?.shared && isRtp) mux = bundleMux(rm);
    const { codecs, ptime } = isRtp ? negotiateCodecs(sm, rm, sdp, flags, role) : { codecs: sdp.codecs, ptime: undefined };
    const mid = outputMid(sdp, rm, flags, role);
    if (role === 'offer') {
      // what the receiver will send on this m= line: what we offer it (its answer refines it)
      rm.bundleInfo = { mid, payloadTypes: codecs.map((c) => c.payloadType), ssrcs: [], midExtId: stripsExtmap(flags) ? 0 : sm.bundleInfo.midExtId };
    }
    const out: MediaOutput = { sdp, relay: rm, sender: sm, rejected: sm.rejected, codecs, direction: sm.direction, mux, ptime, mid };
    if (bundle.bundleOnly.has(rm)) out.bundleOnly = true;
    if (!sm.rejected) {
      const crypto = role === 'offer' ? cryptoOffer(sm, rm, sdp, flags, call.callId) : cryptoAnswer(sm, rm, sdp, call.callId);
      if (crypto.protocol !== undefined) out.protocol = crypto.protocol;
      if (crypto.crypto !== undefined) out.crypto = crypto.crypto;
    }
    const dtls = role === 'offer'
      ? dtlsOffer(call, sm, rm, sdp, session, flags, out.protocol ?? sdp.protocol, out.crypto?.length ?? sdp.attributes.filter((a) => a.name === 'crypto').length)
      : dtlsAnswer(call, sm, rm, sdp, session, flags);
    if (dtls !== undefined) out.dtls = dtls;
    // ICE is decided after the rtcp-mux decision: our candidates depend on it. A BUNDLE
    // member has none of its own: the head's agent runs the shared transport
    const wantIce = updateIce(call, sm, rm, headSdp ?? sdp, session, flags, role);
    if (sm.bundleHead) call.closeIce(sm);
    if (rm.bundleHead || bundle.bundleOnly.has(rm)) call.closeIce(rm);
    else if (wantIce) out.ice = iceLines(call, rm, mux.onRtpPort);
    else if (rm.iceRelay && !sm.rejected) {
      out.ice = relayIceLines(call, rm, sdp, session, mux.onRtpPort);
      out.keepTransport = { port: sdp.port, connection: sdp.connection ?? session.connection, rtcpPort: sdp.rtcpPort, rtcpMux: sdp.rtcpMux };
    }
    outMedias.push(out);
  }
  attachBundles(call, sms);
  attachBundles(call, rms);
  // m= lines the sender no longer has (rtpengine keeps them; a shorter re-offer removes them)
  for (const side of [sender, receiver]) {
    for (const media of side.medias.filter((m) => m.index > session.medias.length)) call.removeMedia(media);
  }
  for (const side of [sender, receiver]) {
    for (const media of side.medias) {
      syncSrtpContexts(media);
      syncDtlsContexts(media);
      startDtls(call, media);
    }
  }
  call.rebuildSinks();
  return renderSdp(receiver, session, outMedias, flags);
}

/**
 * The a=mid a line goes out with: the receiver's own (in an answer, or when it is bundled),
 * else the input's, else generated (the m= index) for `generate mid` and every grouped line.
 */
function outputMid(sdp: SdpMedia, rm: CallMedia, flags: NgFlags, role: SdpRole): string | null {
  // the participant's own mids where it has them (its answer must repeat them; a bundle it
  // uses names them)
  const own = role === 'answer' || rm.bundle !== null ? rm.sdp?.mid ?? null : null;
  return own ?? sdp.mid ?? (flags.flags.has('generate-mid') || rm.bundle !== null ? String(rm.index) : null);
}

function stripsExtmap(flags: NgFlags): boolean {
  return flags.flags.has('strip-extmap') || (flags.extmapStrip?.includes('all') ?? false) || (flags.extmapStrip?.includes('urn:ietf:params:rtp-hdrext:sdes:mid') ?? false);
}

export function getMedia(call: Call, m: Monologue, index: number, type: string): CallMedia {
  const existing = m.medias.find((x) => x.index === index);
  if (existing && existing.type === type) return existing;
  if (existing) call.removeMedia(existing);
  return call.addMedia(m, index, type);
}

function siblingOffer(sm: CallMedia, rm: CallMedia): CodecOffer | null {
  for (const m of rm.monologue.call.medias) {
    if (m !== sm && m.index === sm.index && m.codecOffer && m.monologue.peer() === rm.monologue) return m.codecOffer;
  }
  return null;
}

/**
 * Codec negotiation of one m= line (codec-negotiation.ts): on an offer, what the receiver is
 * offered (kept on its media until it answers); on an answer, what the offerer gets back and
 * the routes both ways.
 */
function negotiateCodecs(sm: CallMedia, rm: CallMedia, sdp: SdpMedia, flags: NgFlags, role: SdpRole): { codecs: SdpCodec[]; ptime: number | null | undefined } {
  if (role === 'offer') {
    const offer = negotiateOffer(sdp.codecs, sdp.attributes, flags, rm.previousCodecs);
    rm.codecOffer = offer;
    return { codecs: offer.offered.map((o) => o.codec), ptime: offer.ptime ?? undefined };
  }
  // a new branch (a to-tag the offer never reached) answers the offer its sibling received
  const offer = sm.codecOffer ?? siblingOffer(sm, rm);
  if (!offer) return { codecs: sdp.codecs, ptime: undefined };
  sm.codecOffer = offer;
  const ans = negotiateAnswer(offer, sdp.codecs, flags);
  rm.sendRoutes.set(sm, ans.forward);
  sm.sendRoutes.set(rm, ans.reverse);
  // remembered from each side's point of view, for the next offer either of them makes
  sm.previousCodecs = { offerer: ans.toOfferer, answerer: ans.answerer, offered: offer.offered };
  rm.previousCodecs = { offerer: ans.answerer, answerer: ans.toOfferer, offered: ans.answerer.map((codec) => ({ codec, added: false })) };
  return { codecs: ans.toOfferer, ptime: ans.ptimeToOfferer };
}
