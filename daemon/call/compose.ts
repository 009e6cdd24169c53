/**
 * Joining participants that did not negotiate with each other (rtpengine's `connect` and
 * `mesh`): who hears whom is a set of monologue subscriptions, checked first and applied in one
 * go, so a refused join changes nothing. Runs under the (merged) call's write lock.
 */
import { NgCommandError } from '../errors.js';
import { isRtpProtocol } from '../sdp/sdp-model.js';
import type { CodecRoute } from '../codec/transcode.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { joinRoutes } from './codec-negotiation.js';
import type { Monologue } from './monologue.js';

/** One media flow: `to` hears `from`. */
export interface Flow {
  from: Monologue;
  to: Monologue;
}

/** The media of `to` that receives `media` (as Call.rebuildSinks pairs them). */
function receivingMedia(media: CallMedia, to: Monologue): CallMedia | undefined {
  return to.medias.find((m) => m.index === media.index && m.type === media.type) ?? to.medias.find((m) => m.type === media.type);
}

interface RoutePlan {
  from: CallMedia;
  to: CallMedia;
  routes: CodecRoute[] | null;
}

/**
 * Decides the codec routes of every flow before anything changes: a pair sharing a codec needs
 * none; one sharing none is transcoded into the receiver's primary codec, or refused when that
 * is impossible.
 */
export function planRoutes(flows: readonly Flow[]): RoutePlan[] {
  const plan: RoutePlan[] = [];
  for (const { from, to } of flows) {
    for (const media of from.medias) {
      const dst = receivingMedia(media, to);
      if (!dst || media.rejected || dst.rejected) continue;
      if (!isRtpProtocol(media.protocol) || !isRtpProtocol(dst.protocol)) continue;
      const routes = joinRoutes(media.codecs, dst.codecs);
      if (routes === 'impossible') {
        const names = (m: CallMedia) => m.codecs.map((c) => c.encoding || String(c.payloadType)).join(',');
        throw new NgCommandError('NO_COMMON_CODEC', `${from.tag} (${names(media)}) → ${to.tag} (${names(dst)})`);
      }
      plan.push({ from: media, to: dst, routes });
    }
  }
  return plan;
}

/**
 * Sets up `flows`, then rebuilds the sinks. `replace` lose their previous media relations
 * first: with `both` (connect) what they heard and who heard them, with `heard` (mesh
 * `unsubscribe`) only what they heard.
 */
export function applyFlows(call: Call, flows: readonly Flow[], replace: readonly Monologue[], mode: 'both' | 'heard' = 'both'): void {
  const plan = planRoutes(flows);
  for (const m of replace) {
    if (mode === 'both') m.unsubscribeAll();
    else m.unsubscribeSubscriptions();
  }
  for (const { from, to } of flows) to.subscribe(from);
  for (const p of plan) {
    if (p.routes) p.from.sendRoutes.set(p.to, p.routes);
    else p.from.sendRoutes.delete(p.to);
  }
  call.rebuildSinks();
}
