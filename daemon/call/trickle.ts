/**
 * Trickle ICE over ng (RFC 8838/8840), as rtpengine handles it: an `offer` with the `fragment`
 * flag carries an SDP fragment of the participant named by `from-tag` (its new candidates, per
 * m= line by a=mid or position). They go to the ICE agent the relay runs toward that
 * participant; a fragment whose ufrag is not the participant's current one belongs to an old
 * ICE generation and is ignored. The reply is a plain `ok` (no SDP).
 *
 * A fragment can overtake the SDP it belongs to (the INFO before the 200 OK's answer): rtpengine
 * keeps such fragments and applies them once the participant's SDP is processed. So do we, in a
 * bounded queue (per-daemon count and age limits, no timers: old entries are dropped when seen).
 */
import { log } from '../log/logger.js';
import type { SdpFragment } from '../sdp/sdp-fragment.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { Monologue } from './monologue.js';

/** How long a fragment waits for its participant's SDP, and how many wait at most. */
export const PENDING_FRAGMENT_MS = 30_000;
export const PENDING_FRAGMENT_LIMIT = 1000;

interface Pending {
  key: string;
  fragment: SdpFragment;
  received: number;
}

/** Counts of what one fragment did, for the log line. */
export interface TrickleResult {
  added: number;
  ignored: number;
}

/** The agent a fragment's m= line updates: the media's own, or its BUNDLE head's. */
function agentMedia(media: CallMedia): CallMedia {
  return media.bundleHead ?? media;
}

/** Applies a fragment to `party`'s medias (under the call's write lock). */
export function applyFragment(call: Call, party: Monologue, fragment: SdpFragment): TrickleResult {
  const result: TrickleResult = { added: 0, ignored: 0 };
  for (const fm of fragment.medias) {
    const media = (fm.mid !== null ? party.medias.find((m) => m.sdp?.mid === fm.mid || m.bundleInfo?.mid === fm.mid) : undefined)
      ?? party.medias.find((m) => m.index === fm.index + 1);
    const agent = media ? agentMedia(media).ice : null;
    result.ignored += fm.ignored;
    if (!media || !agent) {
      result.ignored += fm.candidates.length;
      continue;
    }
    const ufrag = fm.ufrag ?? fragment.ufrag;
    if (ufrag !== null && agent.remoteUfrag !== null && ufrag !== agent.remoteUfrag) {
      // a candidate of an earlier ICE generation (before a restart)
      result.ignored += fm.candidates.length;
      continue;
    }
    for (const c of fm.candidates) {
      if (c.type.toLowerCase() === 'relay' && media.iceRelay) continue;
      agent.addRemoteCandidate(c);
      result.added++;
    }
  }
  call.log(party.tag).info({ added: result.added, ignored: result.ignored }, 'trickle ICE fragment applied');
  return result;
}

/** Fragments that arrived before their participant's SDP. */
export class PendingFragments {
  private readonly items: Pending[] = [];

  private static key(callId: string, tag: string): string {
    return `${callId}\u0000${tag}`;
  }

  /** Keeps a fragment for later; the oldest go when the queue is full. */
  add(callId: string, tag: string, fragment: SdpFragment, now = Date.now()): void {
    this.expire(now);
    if (this.items.length >= PENDING_FRAGMENT_LIMIT) this.items.shift();
    this.items.push({ key: PendingFragments.key(callId, tag), fragment, received: now });
  }

  /** Applies (and forgets) the fragments waiting for `party` of `call`, in arrival order. */
  applyTo(call: Call, party: Monologue, now = Date.now()): void {
    this.expire(now);
    if (this.items.length === 0) return;
    const keys = new Set([call.callId, ...call.aliases].map((id) => PendingFragments.key(id, party.tag)));
    for (let i = 0; i < this.items.length;) {
      const p = this.items[i]!;
      if (keys.has(p.key)) {
        this.items.splice(i, 1);
        applyFragment(call, party, p.fragment);
      } else i++;
    }
  }

  get size(): number {
    return this.items.length;
  }

  private expire(now: number): void {
    let n = 0;
    while (n < this.items.length && now - this.items[n]!.received > PENDING_FRAGMENT_MS) n++;
    if (n > 0) {
      this.items.splice(0, n);
      log().debug({ dropped: n }, 'trickle ICE fragments expired before their SDP arrived');
    }
  }
}
