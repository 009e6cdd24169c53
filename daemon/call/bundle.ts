/**
 * BUNDLE (RFC 8843) on the call model, with rtpengine's documented `bundle` options:
 *
 * - default: bundling is ignored. Outgoing SDPs are never bundled; an incoming bundled SDP is
 *   taken as if it were not (every m= line gets its own ports, `a=bundle-only` with port 0 is a
 *   rejected m= line).
 * - `accept`: a bundled offer is taken as bundled: its grouped m= lines share one transport
 *   toward the offerer (the tagged m= line's), and the answer to it is bundled too. The offer
 *   passed on is not bundled (unless `offer`/`require` say so).
 * - `offer`: the offer passed on is bundled (a group of every m= line, mids generated where
 *   missing), each m= line still with its own port; an answer with the group bundles them.
 * - `require`: as `offer`, but one port for all from the start (the same port on every m=
 *   line instead of RFC 8843's zero port, so a peer that does not bundle still connects).
 * - `strict`: the RFC's bundle-only offer: m= lines other than the tagged one get port 0 and
 *   `a=bundle-only`. Not remembered; `offer`/`require` are, for later offers to that participant.
 * - `reject`: forgets a remembered `offer`/`require`.
 *
 * A shared transport has its sockets and ICE agent on the head (tagged) m= line; the others use
 * them, with rtcp-mux (BUNDLE requires it), and packets are demultiplexed by SSRC, MID header
 * extension or payload type (media/bundle-demux.ts).
 */
import { BundleDemux } from '../media/bundle-demux.js';
import { MID_EXTENSION_URI, parseExtmap, type SdpAttribute, type SdpMedia, type SdpSession } from '../sdp/sdp-model.js';
import type { BundleGroup, BundleInfo, CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';
import type { Monologue } from './monologue.js';
import type { SdpRole } from './offer-answer.js';

/** The mids of an SDP's groups mapped to its m= lines (media i ↔ sdp.medias[i]). */
function groupsFromSdp(session: SdpSession, medias: readonly CallMedia[]): Array<{ head: CallMedia; medias: CallMedia[] }> {
  const out: Array<{ head: CallMedia; medias: CallMedia[] }> = [];
  const taken = new Set<CallMedia>();
  for (const mids of session.bundleGroups) {
    const members: CallMedia[] = [];
    let head: CallMedia | null = null;
    for (const mid of mids) {
      const i = session.medias.findIndex((m) => m.mid === mid);
      const sdp = session.medias[i];
      const media = medias[i];
      if (!sdp || !media || taken.has(media)) continue;
      // a zero port without bundle-only is a rejected m= line: not part of the group
      if (sdp.port === 0 && !sdp.bundleOnly) continue;
      if (head === null && sdp.port !== 0) head = media;
      members.push(media);
    }
    if (head === null || members.length === 0) continue;
    for (const m of members) taken.add(m);
    out.push({ head, medias: members.sort((a, b) => a.index - b.index) });
  }
  return out;
}

function newGroup(head: CallMedia, medias: CallMedia[], shared: boolean): BundleGroup {
  // a group that stays (same head) keeps its demultiplexer and the SSRCs it learned
  const demux = head.bundle?.head === head ? head.bundle.demux : null;
  return { head, medias, shared, demux };
}

/**
 * Puts a side's medias in their groups. A media that stops using a head's transport gives it
 * back first (while it still knows it is a member, so the head's sockets stay open).
 */
function setGroups(call: Call, side: readonly CallMedia[], groups: readonly BundleGroup[]): void {
  for (const m of side) {
    const g = groups.find((x) => x.medias.includes(m)) ?? null;
    const head = g && g.shared && g.head !== m ? g.head : null;
    // leaving a head's transport, or joining one with ports of its own: those go first
    if (m.bundleHead !== head && (m.bundleHead !== null || m.ports !== null)) call.releasePorts(m);
    m.bundle = g;
    m.bundleHead = head;
  }
}

export interface BundlePlan {
  /** Members whose head's SDP gives their endpoint (their own says port 0 or the same). */
  senderHeadSdp: Map<CallMedia, SdpMedia>;
  /** Strict offer: these receiver m= lines are written with port 0 and `a=bundle-only`. */
  bundleOnly: Set<CallMedia>;
}

/**
 * Decides both sides' groups for one offer or answer, before ports are handed out: a media
 * that will use its head's transport gets `bundleHead` (and no ports of its own); those that
 * no longer do give it back. `sms`/`rms` are the sender's/receiver's medias by m= position.
 */
export function planBundles(call: Call, sender: Monologue, receiver: Monologue, session: SdpSession,
  sms: readonly CallMedia[], rms: readonly CallMedia[], flags: NgFlags, role: SdpRole): BundlePlan {
  const plan: BundlePlan = { senderHeadSdp: new Map(), bundleOnly: new Set() };
  const opts = flags.bundle;

  // the sender's side: its SDP's groups, when we take them
  const takeSender = role === 'offer' ? opts.has('accept') : sender.bundleOffered || sms.some((m) => m.bundle?.shared);
  let senderGroups: BundleGroup[] = [];
  if (takeSender && session.bundleGroups.length > 0) {
    senderGroups = groupsFromSdp(session, sms).map((g) => newGroup(g.head, g.medias, true));
  } else if (role === 'answer' && sender.bundleMode === 'require') {
    // a required bundle stays one transport even when the answer does not group
    senderGroups = sms.flatMap((m) => (m.bundle && m.bundle.head === m && m.bundle.shared ? [newGroup(m, m.bundle.medias.filter((x) => sms.includes(x)), true)] : []));
  }
  if (role === 'answer') sender.bundleOffered = false;
  setGroups(call, sms, senderGroups);
  for (const g of senderGroups) {
    const headSdp = session.medias[g.head.index - 1];
    if (headSdp) for (const m of g.medias) if (m !== g.head) plan.senderHeadSdp.set(m, headSdp);
  }

  // the receiver's side
  if (role === 'offer') {
    if (opts.has('reject')) receiver.bundleMode = null;
    if (opts.has('require') || opts.has('strict')) receiver.bundleMode = 'require';
    else if (opts.has('offer')) receiver.bundleMode = receiver.bundleMode === 'require' ? 'require' : 'offer';
    const mode = receiver.bundleMode;
    let receiverGroups: BundleGroup[] = [];
    const live = rms.filter((m, i) => (session.medias[i]?.port ?? 0) !== 0 || senderGroups.some((g) => g.medias.includes(sms[i]!)));
    // a bundle the receiver already uses (it offered one we accepted, or answered ours) stays
    // in offers to it: RFC 8843 keeps the tagged line's transport for every grouped line
    const established = rms.find((m) => m.bundle?.shared && m.bundle.head === m && live.includes(m));
    if (mode !== null && live.length > 0) {
      const head = established ?? live[0]!;
      // an earlier answer that took the bundle keeps one transport in a re-offer
      const shared = mode === 'require' || head.bundle?.shared === true;
      receiverGroups = [newGroup(head, live, shared)];
      if (opts.has('strict')) for (const m of live) if (m !== head) plan.bundleOnly.add(m);
    } else if (established && !opts.has('reject')) {
      receiverGroups = [newGroup(established, established.bundle!.medias.filter((m) => live.includes(m)), true)];
    }
    receiver.bundleOffered = receiverGroups.length > 0;
    setGroups(call, rms, receiverGroups);
  }
  // in an answer the receiver (the offerer) keeps the groups its offer set up
  return plan;
}

/** What the demultiplexer needs of a participant's own m= line (its SDP). */
export function bundleInfoOf(sdp: SdpMedia, session: SdpSession): BundleInfo {
  const ssrcs = new Set<number>();
  for (const a of sdp.attributes) {
    if (a.name !== 'ssrc' || !a.value) continue;
    const n = Number(a.value.split(/[\s:]/)[0]);
    if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) ssrcs.add(n);
  }
  return {
    mid: sdp.mid,
    payloadTypes: sdp.codecs.map((c) => c.payloadType),
    ssrcs: [...ssrcs],
    midExtId: midExtension(sdp.attributes) ?? midExtension(session.attributes) ?? 0,
  };
}

function midExtension(attributes: readonly SdpAttribute[]): number | null {
  for (const a of attributes) {
    if (a.name !== 'extmap') continue;
    const e = parseExtmap(a.value);
    if (e && e.uri === MID_EXTENSION_URI) return e.id;
  }
  return null;
}

/**
 * After ports are handed out: members take their head's transport, and every shared group's
 * demultiplexer is (re)built from what each m= line's participant said.
 */
export function attachBundles(call: Call, side: readonly CallMedia[]): void {
  for (const m of side) {
    if (m.bundleHead && m.bundleHead.ports) call.shareTransport(m, m.bundleHead);
  }
  for (const m of side) {
    const g = m.bundle;
    if (!g || !g.shared) {
      m.rtp.bundle = null;
      m.rtcp.bundle = null;
      continue;
    }
    if (g.head !== m) continue;
    g.demux ??= new BundleDemux();
    const infos = g.medias.map((x) => x.bundleInfo);
    g.demux.update(
      g.medias.map((x, i) => ({
        stream: x.rtp,
        mid: infos[i]?.mid ?? null,
        payloadTypes: new Set(infos[i]?.payloadTypes ?? []),
        ssrcs: infos[i]?.ssrcs ?? [],
      })),
      infos.find((x) => x && x.midExtId !== 0)?.midExtId ?? 0,
    );
    // RTCP streams too: one arriving on the head's RTCP port is demultiplexed the same way, and
    // none of them may take the shared socket onto the fast path
    for (const x of g.medias) {
      x.rtp.bundle = g.demux;
      x.rtcp.bundle = g.demux;
    }
  }
}

/** A media leaving the call leaves its group (the group's other m= lines stay grouped). */
export function leaveBundle(media: CallMedia): void {
  const g = media.bundle;
  media.bundle = null;
  media.bundleHead = null;
  media.rtp.bundle = null;
  media.rtcp.bundle = null;
  if (!g) return;
  g.medias = g.medias.filter((m) => m !== media);
  g.demux?.remove(media.rtp);
}

/** `a=group:BUNDLE` lines for an SDP: each group's mids, the tagged (head) m= line first. */
export function bundleGroupLines(outs: ReadonlyArray<{ relay: CallMedia; mid: string | null; written: boolean }>): string[][] {
  const groups: BundleGroup[] = [];
  for (const o of outs) if (o.relay.bundle && !groups.includes(o.relay.bundle)) groups.push(o.relay.bundle);
  return groups.map((g) => {
    const mids: string[] = [];
    const midOf = (m: CallMedia) => outs.find((o) => o.relay === m && o.written)?.mid ?? null;
    const head = midOf(g.head);
    if (head !== null) mids.push(head);
    for (const m of g.medias) {
      const mid = m === g.head ? null : midOf(m);
      if (mid !== null) mids.push(mid);
    }
    return mids;
  });
}
