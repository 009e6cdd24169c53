/**
 * Publish/subscribe (rtpengine's `publish`, `subscribe request`, `subscribe answer`,
 * `unsubscribe`): one participant's media fanned out to any number of subscribers. A
 * subscription is the same monologue subscription offer/answer uses, so the packet path needs
 * nothing new: the publisher's streams simply get one sink per subscriber (and the fast path
 * an entry with several destinations). Runs under the call's write lock.
 */
import { randomInt } from 'node:crypto';
import type { NgFlags } from './flags.js';
import { NgCommandError } from '../errors.js';
import { isRtpProtocol, type Direction, type SdpMedia, type SdpOrigin, type SdpSession } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { negotiateAnswer, negotiateOffer } from './codec-negotiation.js';
import type { Monologue } from './monologue.js';
import { SDP_SESSION_NAME } from '../version.js';
import { ensurePorts, getMedia, sdpFamily, setInterface, setSenderEndpoints } from './offer-answer.js';
import { decideRtcpMux } from './rtcp-mux.js';
import { renderSdp, type MediaOutput } from './sdp-output.js';

/** An o= line of our own for SDP the relay writes itself (publish answers). */
export function ownOrigin(m: CallMedia | undefined, version = 1): SdpOrigin {
  const local = m?.ports?.local;
  return {
    username: '-',
    sessionId: String(randomInt(1_000_000_000, 2_147_483_647)),
    sessionVersion: String(version),
    netType: 'IN',
    addrType: `IP${local?.family ?? 4}`,
    address: local?.advertised ?? '0.0.0.0',
  };
}

/** `publish`: takes the publisher's (sendonly) SDP and answers it (recvonly) with relay ports. */
export async function publish(call: Call, publisher: Monologue, session: SdpSession, flags: NgFlags): Promise<string> {
  publisher.lastSession = session;
  if (flags.label !== undefined) publisher.label = flags.label;
  if (flags.interface) setInterface(publisher, flags.interface);
  publisher.family = sdpFamily(session) ?? publisher.family;
  const out: MediaOutput[] = [];
  for (const [i, sdp] of session.medias.entries()) {
    const media = getMedia(call, publisher, i + 1, sdp.type);
    media.sdp = sdp;
    media.protocol = sdp.protocol;
    media.direction = sdp.direction ?? session.direction ?? 'sendonly';
    // as rtpengine answers a publish: the first codec offered is the one taken
    media.codecs = sdp.codecs.slice(0, 1);
    media.rejected = sdp.port === 0;
    setSenderEndpoints(call, media, sdp, session, flags);
    if (media.rejected) call.releasePorts(media);
    else await ensurePorts(call, media, publisher, publisher.family);
    // the answer is the relay's own SDP: the chosen codec, no attributes of the publisher's
    const answered: SdpMedia = { ...sdp, codecs: media.codecs, direction: 'recvonly', attributes: [], otherLines: [], bandwidth: [] };
    const mux = decideRtcpMux({ kind: 'publish', publisher: media, senderMux: sdp.rtcpMux }, isRtpProtocol(sdp.protocol));
    // the relay answers for itself: no sender whose hold it would pass on
    out.push({ sdp: answered, relay: media, sender: null, rejected: media.rejected, codecs: media.codecs, direction: 'recvonly', mux });
  }
  for (const media of publisher.medias.filter((m) => m.index > session.medias.length)) call.removeMedia(media);
  call.answered = true; // negotiated: the regular media timeouts apply from now on
  call.rebuildSinks();
  const own: SdpSession = {
    ...session,
    origin: ownOrigin(publisher.medias.find((m) => m.ports)),
    sessionName: SDP_SESSION_NAME,
    infoLines: [],
    bandwidth: [],
    attributes: [],
  };
  return renderSdp(publisher, own, out, flags);
}

/**
 * `subscribe request`: a new (or named) monologue subscribes to the publisher; it gets relay
 * ports and a sendonly offer describing the publisher's media.
 */
export async function subscribeRequest(call: Call, publisher: Monologue, subscriber: Monologue, flags: NgFlags): Promise<string> {
  const session = publisher.lastSession;
  if (!session) throw new NgCommandError('TAG_NOT_FOUND', 'the publisher has sent no SDP yet');
  const bidirectional = flags.flags.has('bidirectional');
  subscriber.subscribe(publisher);
  subscriber.markPubSub(publisher);
  if (bidirectional) publisher.subscribe(subscriber);
  // for `subscribe request` rtpengine takes `to-label` as a synonym of `set-label`
  const label = flags.setLabel ?? flags.toLabel;
  if (label !== undefined) subscriber.label = label;
  if (flags.interface) setInterface(subscriber, flags.interface);
  if (flags.addressFamily) subscriber.family = flags.addressFamily;
  else if (subscriber.family === undefined) subscriber.family = publisher.family;
  const direction: Direction = flags.flags.has('inactive') ? 'inactive' : bidirectional ? 'sendrecv' : 'sendonly';
  const out: MediaOutput[] = [];
  for (const pm of [...publisher.medias].sort((a, b) => a.index - b.index)) {
    if (!pm.sdp) continue;
    const sm = getMedia(call, subscriber, pm.index, pm.type);
    sm.protocol = pm.protocol;
    sm.rejected = pm.rejected;
    sm.direction = direction;
    if (sm.rejected) call.releasePorts(sm);
    else await ensurePorts(call, sm, subscriber, subscriber.family);
    const isRtp = isRtpProtocol(pm.protocol);
    const mux = decideRtcpMux({ kind: 'subscribe request', publisher: pm, subscriber: sm, policy: new Set(flags.rtcpMux) }, isRtp);
    // the publisher's m= line with the codecs its publish negotiated, through the codec flags
    // (kept until the subscriber answers: `allow transcoding` may then transcode)
    const offer = isRtp ? negotiateOffer(pm.codecs, [], flags, null) : null;
    sm.codecOffer = offer;
    const codecs = offer ? offer.offered.map((o) => o.codec) : pm.codecs;
    out.push({ sdp: { ...pm.sdp, codecs: pm.codecs }, relay: sm, sender: pm, rejected: sm.rejected, codecs, direction, mux });
  }
  call.rebuildSinks();
  // rtpengine offers subscribers the publisher's own o= and session lines
  return renderSdp(subscriber, session, out, flags);
}

/**
 * A receiving party's answer (`subscribe answer`, `create answer`): its SDP says where it
 * receives; `perMedia` adds what the command decides beyond that. The sinks can then send.
 */
export function applyReceiverAnswer(call: Call, party: Monologue, session: SdpSession, flags: NgFlags,
  perMedia?: (media: CallMedia, sdp: SdpMedia) => void): void {
  party.lastSession = session;
  for (const [i, sdp] of session.medias.entries()) {
    const media = party.medias.find((m) => m.index === i + 1);
    if (!media) continue;
    media.sdp = sdp;
    media.codecs = sdp.codecs;
    if (sdp.port === 0) {
      media.rejected = true;
      call.releasePorts(media);
      continue;
    }
    decideRtcpMux({ kind: 'subscribe answer', subscriber: media, senderMux: sdp.rtcpMux });
    setSenderEndpoints(call, media, sdp, session, flags);
    perMedia?.(media, sdp);
  }
  call.answered = true;
  call.rebuildSinks();
}

/** `subscribe answer`: the subscriber's SDP says where it receives; the sinks can now send. */
export function subscribeAnswer(call: Call, subscriber: Monologue, session: SdpSession, flags: NgFlags): void {
  applyReceiverAnswer(call, subscriber, session, flags, (media, sdp) => {
    // `allow transcoding`: the subscriber may take a codec added for it; the publisher's media
    // is then transcoded toward it (without the flag it must take the publisher's codec)
    if (media.codecOffer && flags.flags.has('allow-transcoding')) {
      const ans = negotiateAnswer(media.codecOffer, sdp.codecs, flags);
      for (const publisher of subscriber.subscriptions) {
        const pm = publisher.medias.find((m) => m.index === media.index && m.type === media.type);
        if (!pm) continue;
        pm.sendRoutes.set(media, ans.forward);
        if (subscriber.subscribers.includes(publisher)) media.sendRoutes.set(pm, ans.reverse);
      }
    }
  });
}
