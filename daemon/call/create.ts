/**
 * `create` and `create answer` (rtpengine's call_create_ng): the relay writes an offer of its
 * own for a participant that has not sent SDP (an announcement leg, a conference member dialled
 * out), then takes that participant's answer. The participant is an ordinary monologue: it is
 * joined to others with `connect`/`mesh`/subscriptions. Runs under the call's write lock.
 */
import { NgCommandError } from '../errors.js';
import { codecDefaults, canonicalName } from '../codec/codec-lib.js';
import { isRtpProtocol, STATIC_PAYLOAD_TYPES, type SdpCodec, type SdpMedia, type SdpSession } from '../sdp/sdp-model.js';
import { SDP_SESSION_NAME } from '../version.js';
import type { Call } from './call.js';
import type { CallMedia } from './call-media.js';
import { parseCodecSpec } from './codec-negotiation.js';
import type { NgFlags } from './flags.js';
import type { Monologue } from './monologue.js';
import { ensurePorts, getMedia, setInterface } from './offer-answer.js';
import { applyReceiverAnswer, ownOrigin } from './pub-sub.js';
import { createdPartyAnswer, cryptoOffer, syncSrtpContexts } from './call-crypto.js';
import { createIce, createdPartyIce, iceLines } from './call-ice.js';
import { dtlsAnswer, dtlsOffer, startDtls, syncDtlsContexts } from './call-dtls.js';
import { decideRtcpMux } from './rtcp-mux.js';
import { renderSdp, type MediaOutput } from './sdp-output.js';
import { formatCrypto } from '../crypto/sdes.js';

/** rtpengine's defaults for a created participant: one audio m= line with PCMA and PCMU. */
export const DEFAULT_CREATE_CODECS = ['PCMA', 'PCMU'];
const FIRST_DYNAMIC_PT = 96;

/** Codec specs (`opus/48000/2`, `PCMU`, `telephone-event`) → SDP codecs with payload types. */
export function codecsFromSpecs(specs: readonly string[]): SdpCodec[] {
  const out: SdpCodec[] = [];
  let next = FIRST_DYNAMIC_PT;
  for (const text of specs) {
    const spec = parseCodecSpec(text);
    if (!spec.name) throw new NgCommandError('INVALID_VALUE', `codec "${text}"`);
    const name = canonicalName(spec.name);
    const defaults = codecDefaults(name);
    const clockRate = spec.clockRate ?? defaults?.clockRate ?? 8000;
    const channels = spec.channels ?? defaults?.channels ?? 1;
    const known = Object.entries(STATIC_PAYLOAD_TYPES).find(([, v]) =>
      v.encoding.toLowerCase() === name.toLowerCase() && v.clockRate === clockRate && (v.channels ?? 1) === channels);
    const payloadType = known ? Number(known[0]) : next++;
    if (payloadType > 127) throw new NgCommandError('INVALID_VALUE', 'too many codecs');
    if (out.some((c) => c.payloadType === payloadType)) continue;
    const rtpmap = `${payloadType} ${name}/${clockRate}${channels > 1 ? `/${channels}` : ''}`;
    out.push({ payloadType, encoding: name, clockRate, channels: channels > 1 ? channels : null, rtpmap, fmtp: spec.fmtp ? [`${payloadType} ${spec.fmtp}`] : [], rtcpFb: [] });
  }
  return out;
}

/** An m= section the relay makes itself (nothing of a participant's SDP in it). */
function ownMedia(media: CallMedia, codecs: SdpCodec[]): SdpMedia {
  return {
    type: media.type, port: 0, portCount: null, protocol: media.protocol, formats: codecs.map((c) => String(c.payloadType)), codecs,
    connection: null, bandwidth: [], attributes: [], direction: 'sendrecv', rtcpPort: null, rtcpAddress: null, rtcpMux: false,
    mid: null, bundleOnly: false, hasIce: false, otherLines: [],
  };
}

function ownSession(party: Monologue): SdpSession {
  return {
    origin: ownOrigin(party.medias.find((m) => m.ports)),
    sessionName: SDP_SESSION_NAME, infoLines: [], connection: null, bandwidth: [], timing: ['t=0 0'],
    attributes: [], direction: null, hasIce: false, bundleGroups: [], medias: [],
  };
}

/**
 * `create`: the SDP offer for `party`. A party with media already (a repeated `create`, or one
 * set up by offer/answer) gets an SDP of its established media unless `medias`/`codecs-offer`
 * ask for new ones.
 */
export async function createOffer(call: Call, party: Monologue, flags: NgFlags): Promise<string> {
  if (flags.addressFamily) party.family = flags.addressFamily;
  if (flags.label !== undefined) party.label = flags.label;
  if (flags.interface) setInterface(party, flags.interface);
  const fresh = flags.medias !== undefined || flags.codecsOffer !== undefined || party.medias.length === 0;
  const specs = flags.medias && flags.medias.length > 0
    ? flags.medias
    : [{ type: 'audio', codecs: flags.codecsOffer && flags.codecsOffer.length > 0 ? flags.codecsOffer : DEFAULT_CREATE_CODECS }];
  const policy = new Set(flags.rtcpMux);
  const out: MediaOutput[] = [];
  const session = ownSession(party);
  if (fresh) {
    // everything is checked before a port is taken
    const wanted = specs.map((s) => ({ type: s.type || 'audio', codecs: codecsFromSpecs(s.codecs.length > 0 ? s.codecs : DEFAULT_CREATE_CODECS) }));
    for (const [i, spec] of wanted.entries()) {
      const media = getMedia(call, party, i + 1, spec.type);
      media.protocol = flags.transportProtocol ?? 'RTP/AVP';
      media.codecs = spec.codecs;
      media.direction = 'sendrecv';
      media.rejected = false;
      await ensurePorts(call, media, party, party.family);
    }
    for (const media of party.medias.filter((m) => m.index > wanted.length)) call.removeMedia(media);
  }
  for (const media of [...party.medias].sort((a, b) => a.index - b.index)) {
    const rtp = isRtpProtocol(media.protocol);
    const mux = decideRtcpMux({ kind: 'subscribe request', publisher: media, subscriber: media, policy: fresh ? policy : media.muxPolicy }, rtp);
    const own = ownMedia(media, media.codecs);
    const o: MediaOutput = { sdp: own, relay: media, sender: null, rejected: media.rejected, codecs: media.codecs, direction: media.direction, mux };
    if (fresh && !media.rejected) {
      // the transport flags (SDES, OSRTP, transport-protocol, and what the offer path learns
      // later) go through the offer's own code, the created party standing on both sides
      const crypto = cryptoOffer(media, media, own, flags, call.callId);
      if (crypto.protocol !== undefined) o.protocol = crypto.protocol;
      if (crypto.crypto !== undefined) o.crypto = crypto.crypto;
      // DTLS as an offer decides it (UDP/TLS/RTP/SAVP[F], the DTLS flags, SRTP that SDES does
      // not key); our m= line is a live one, whatever port the template says
      const dtls = dtlsOffer(call, media, media, { ...own, port: media.ports?.port ?? 9 }, session, flags,
        o.protocol ?? own.protocol, o.crypto?.length ?? 0);
      if (dtls !== undefined) o.dtls = dtls;
      if (createIce(call, media, flags)) o.ice = iceLines(call, media, mux.onRtpPort);
    } else {
      // an existing party's offer reflects what it has: its protocol, our lines, our ICE
      if (media.sdes.sent.length > 0) o.crypto = media.sdes.sent.map((c) => formatCrypto(c, { pad: media.sdesFlags?.pad ?? false, lifetime: media.sdesFlags?.lifetime ?? false }));
      if (media.protocolSent) o.protocol = media.protocolSent;
      if (media.ice) o.ice = iceLines(call, media, mux.onRtpPort);
    }
    out.push(o);
  }
  for (const media of party.medias) syncDtlsContexts(media);
  call.rebuildSinks();
  return renderSdp(party, { ...session, origin: ownOrigin(party.medias.find((m) => m.ports)) }, out, flags);
}

/** `create answer`: the created party's SDP says where it receives and what it took. */
export function createAnswer(call: Call, party: Monologue, session: SdpSession, flags: NgFlags): void {
  applyReceiverAnswer(call, party, session, flags, (media, sdp) => {
    createdPartyAnswer(media, sdp, call.callId);
    syncSrtpContexts(media);
    // the DTLS association the relay offered: the answer's a=setup decides our end
    dtlsAnswer(call, media, media, sdp, session, flags);
    syncDtlsContexts(media);
    startDtls(call, media);
    createdPartyIce(call, media, sdp, session);
  });
}
