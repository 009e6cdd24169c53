/**
 * ICE on the call model (rtpengine's ICE handling in call.c/sdp.c): per m= line, whether the
 * relay terminates ICE toward a participant (`ICE` and `ICE-lite` flags), the agent that does
 * it (daemon/ice/agent.ts) with the participant's credentials and candidates from its SDP, the
 * attributes written into the SDP it gets, and where a selected pair sends media.
 *
 * Rules (rtpengine's documented `ICE` values):
 * - `remove`: no ICE toward the receiver; `reject` (or the `reject-ICE` flag) also none back
 *   toward the offerer in the answer, even if it offered ICE.
 * - `force`: ICE toward the receiver always (our candidates only).
 * - `default` / `optional` / absent: ICE toward the receiver if the sender's SDP had ICE.
 * - `force-relay` (when the sender's SDP has ICE): the relay runs no agent; the peers keep their
 *   own ICE end to end, and the SDP each gets keeps the other's c=/m= line, ufrag, pwd and
 *   candidates (except `relay` ones), with the relay added as the `relay` candidate. The
 *   peers' STUN is relayed between them like media (so a check to our candidate reaches the
 *   other peer and its answer comes back). Remembered for the answer.
 * - In an answer, the offerer gets ICE back if we terminate ICE toward it (it offered ICE).
 * The relay is controlling toward the receiver of an offer and controlled toward the offerer,
 * unless it acts ICE-lite there (`ICE-lite`: forward = toward the receiver of the offer,
 * backward = toward the offerer, both) or the peer is ICE-lite.
 */
import { candidatePriority, IceAgent, iceString, parseCandidate, type IceCandidate } from '../ice/agent.js';
import type { Endpoint } from '../net/endpoint.js';
import type { LocalAddress } from '../net/interfaces.js';
import type { SdpMedia, SdpSession } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';
import type { SdpRole } from './offer-answer.js';

/** The peer's ICE parameters from its SDP (media level first, then session level). */
export interface RemoteIce {
  ufrag: string;
  pwd: string;
  candidates: IceCandidate[];
  lite: boolean;
}

export function remoteIce(sdp: SdpMedia, session: SdpSession): RemoteIce | null {
  const get = (name: string) => sdp.attributes.find((a) => a.name === name)?.value
    ?? session.attributes.find((a) => a.name === name)?.value ?? null;
  const ufrag = get('ice-ufrag');
  const pwd = get('ice-pwd');
  if (!ufrag || !pwd) return null;
  const candidates = sdp.attributes
    .filter((a) => a.name === 'candidate' && a.value)
    .map((a) => parseCandidate(a.value!))
    .filter((c): c is IceCandidate => c !== null);
  const lite = session.attributes.some((a) => a.name === 'ice-lite') || sdp.attributes.some((a) => a.name === 'ice-lite');
  return { ufrag, pwd, candidates, lite };
}

function liteToward(flags: NgFlags, side: 'receiver' | 'offerer'): boolean {
  const v = flags.iceLite;
  return v === 'both' || (side === 'receiver' ? v === 'forward' : v === 'backward');
}

function ensureAgent(call: Call, media: CallMedia, controlling: boolean, lite: boolean): IceAgent {
  if (media.ice && !media.ice.isClosed && media.ice.lite === lite) return media.ice;
  if (media.ice) call.closeIce(media);
  const agent = new IceAgent({
    socket: (component) => (component === 1 ? media.rtp : media.rtcp).selectedFd?.socket ?? null,
    selected: (component, remote) => call.iceSelected(media, component, remote),
  }, { controlling, lite });
  call.adoptIce(media, agent);
  media.iceFoundation = iceString(16);
  return agent;
}

/**
 * Updates both sides' ICE for one m= line of an offer or answer, before the receiver's SDP is
 * written. Returns whether ICE attributes go into the receiver's SDP.
 */
export function updateIce(call: Call, sm: CallMedia, rm: CallMedia, sdp: SdpMedia, session: SdpSession, flags: NgFlags, role: SdpRole): boolean {
  const mode = flags.ice ?? 'default';
  const rejectIce = mode === 'reject' || flags.flags.has('reject-ice');
  const theirs = sdp.port === 0 ? null : remoteIce(sdp, session);
  if (sm.rejected || rm.rejected) {
    call.closeIce(sm);
    call.closeIce(rm);
    return false;
  }
  const relay = role === 'offer' ? mode === 'force-relay' && theirs !== null : sm.iceRelay && theirs !== null;
  setIceRelay(sm, relay);
  setIceRelay(rm, relay);
  if (relay) {
    call.closeIce(sm);
    call.closeIce(rm);
    return false;
  }
  // the sender's side: its ICE is terminated here when it offered ICE (or answers ours)
  if (role === 'offer') {
    if (theirs && !rejectIce) {
      const lite = liteToward(flags, 'offerer');
      const agent = ensureAgent(call, sm, theirs.lite, lite);
      // the offerer restarted ICE: the relay restarts toward the receiver as well
      if (agent.setRemote({ ufrag: theirs.ufrag, pwd: theirs.pwd }, theirs.candidates, theirs.lite, true)) rm.ice?.restartLocal();
    } else {
      call.closeIce(sm);
    }
  } else if (sm.ice) {
    if (theirs) sm.ice.setRemote({ ufrag: theirs.ufrag, pwd: theirs.pwd }, theirs.candidates, theirs.lite);
    else call.closeIce(sm); // the answerer does not do ICE: plain media
  }
  // the receiver's side
  let wanted: boolean;
  if (role === 'offer') {
    wanted = mode === 'force' || (!rejectIce && mode !== 'remove' && theirs !== null);
    if (wanted) ensureAgent(call, rm, true, liteToward(flags, 'receiver'));
    else call.closeIce(rm);
  } else {
    wanted = rm.ice !== null && mode !== 'remove' && !rejectIce;
    if (!wanted) call.closeIce(rm);
  }
  return wanted;
}

function setIceRelay(media: CallMedia, on: boolean): void {
  media.iceRelay = on;
  media.rtp.stunPassthrough = on;
  media.rtcp.stunPassthrough = on;
}

/**
 * `ICE=force-relay`: the sender's ICE attributes (media level, else session level) without its
 * `relay` candidates, then ours as `relay` candidates toward `rm`'s participant.
 */
export function relayIceLines(call: Call, rm: CallMedia, sdp: SdpMedia, session: SdpSession, rtcpMux: boolean): string[] {
  const out: string[] = [];
  const pick = (name: string) => sdp.attributes.find((a) => a.name === name) ?? session.attributes.find((a) => a.name === name);
  for (const name of ['ice-ufrag', 'ice-pwd', 'ice-options']) {
    const a = pick(name);
    if (a) out.push(a.value === null ? name : `${name}:${a.value}`);
  }
  for (const a of sdp.attributes) {
    if (a.name !== 'candidate' || !a.value) continue;
    if (parseCandidate(a.value)?.type.toLowerCase() === 'relay') continue;
    out.push(`candidate:${a.value}`);
  }
  const local = rm.ports?.local;
  if (local && rm.ports) {
    if (!rm.iceFoundation) rm.iceFoundation = iceString(16);
    const port = rm.ports.port;
    const localPref = localPreference(call, local);
    out.push(`candidate:${rm.iceFoundation} 1 UDP ${candidatePriority(0, localPref, 1)} ${local.advertised} ${port} typ relay raddr ${local.advertised} rport ${port}`);
    if (!rtcpMux && !sdp.rtcpMux) out.push(`candidate:${rm.iceFoundation} 2 UDP ${candidatePriority(0, localPref, 2)} ${local.advertised} ${port + 1} typ relay raddr ${local.advertised} rport ${port + 1}`);
  }
  if (sdp.attributes.some((a) => a.name === 'end-of-candidates')) out.push('end-of-candidates');
  return out;
}

function localPreference(call: Call, local: LocalAddress): number {
  const sameName = call.ctx.interfaces.addresses.filter((a) => a.name === local.name);
  return 65535 - Math.max(0, sameName.indexOf(local));
}

/**
 * `create`: ICE toward a participant the relay offers to itself. No SDP came in, so `default`
 * means none; `force` and `optional` (rtpengine: "if no ICE attributes are present, a new set
 * is generated") give it our candidates, the relay controlling unless `ICE-lite` says
 * otherwise. Returns whether ICE attributes go into the offer.
 */
export function createIce(call: Call, media: CallMedia, flags: NgFlags): boolean {
  const mode = flags.ice ?? 'default';
  const wanted = !media.rejected && (mode === 'force' || mode === 'optional') && !flags.flags.has('reject-ice');
  if (wanted) ensureAgent(call, media, true, liteToward(flags, 'receiver'));
  else call.closeIce(media);
  return wanted;
}

/** `create answer`: the created participant's ICE (its credentials and candidates), or none. */
export function createdPartyIce(call: Call, media: CallMedia, sdp: SdpMedia, session: SdpSession): void {
  if (!media.ice) return;
  const theirs = sdp.port === 0 ? null : remoteIce(sdp, session);
  if (theirs) media.ice.setRemote({ ufrag: theirs.ufrag, pwd: theirs.pwd }, theirs.candidates, theirs.lite);
  else call.closeIce(media); // it answered without ICE: plain media
}

/** The ICE attributes we write for `media` (rtpengine's order and formats). */
export function iceLines(call: Call, media: CallMedia, rtcpMux: boolean): string[] {
  const agent = media.ice;
  const local = media.ports?.local;
  if (!agent || !local || !media.ports) return [];
  const sameName = call.ctx.interfaces.addresses.filter((a) => a.name === local.name);
  const localPref = 65535 - Math.max(0, sameName.indexOf(local));
  const port = media.ports.port;
  const lines = [
    `ice-ufrag:${agent.local.ufrag}`,
    `ice-pwd:${agent.local.pwd}`,
    'ice-options:trickle',
    `candidate:${media.iceFoundation} 1 UDP ${candidatePriority(126, localPref, 1)} ${local.advertised} ${port} typ host`,
  ];
  if (!rtcpMux) lines.push(`candidate:${media.iceFoundation} 2 UDP ${candidatePriority(126, localPref, 2)} ${local.advertised} ${port + 1} typ host`);
  lines.push('end-of-candidates');
  return lines;
}

/** Session-level `a=ice-lite` when we act ICE-lite toward the receiver of this SDP. */
export function sessionIceLite(receiverMedias: readonly CallMedia[]): boolean {
  return receiverMedias.some((m) => m.ice?.lite === true);
}

export type { Endpoint };
