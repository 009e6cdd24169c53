/**
 * One participant of a call, named by its SIP tag (rtpengine's call_monologue). Owned by its
 * Call (call.monologues); subscriptions/subscribers are plain references to other monologues of
 * the same call, turned into sinks by Call.rebuildSinks(). Changed only under the call's write lock.
 */
import type { LeakHandle } from '../leak/registry.js';
import type { SdpOrigin, SdpSession } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { emptyControl, type MediaControlState } from './media-control.js';

/**
 * The parser builds an SDP's lists line by line, and a list grown by push keeps room for 17
 * entries (~150 bytes) where most hold one to four. A session kept for the call's lifetime
 * (and its medias, which CallMedia.sdp shares) gets its lists copied to their size, in place:
 * same contents, so whoever reads them sees no difference.
 */
function shrinkSession(s: SdpSession): SdpSession {
  s.infoLines = s.infoLines.slice();
  s.bandwidth = s.bandwidth.slice();
  s.timing = s.timing.slice();
  s.attributes = s.attributes.slice();
  s.bundleGroups = s.bundleGroups.slice();
  s.medias = s.medias.slice();
  for (const m of s.medias) {
    m.formats = m.formats.slice();
    m.codecs = m.codecs.slice();
    m.bandwidth = m.bandwidth.slice();
    m.attributes = m.attributes.slice();
    m.otherLines = m.otherLines.slice();
  }
  return s;
}

export class Monologue {
  medias: CallMedia[] = [];
  /** Monologues whose media this one receives. */
  subscriptions: Monologue[] = [];
  /** Monologues that receive this one's media. */
  subscribers: Monologue[] = [];
  label: string | undefined;
  readonly created = Date.now();
  /** Interface name chosen for this side (from `direction`/`from-interface`/`to-interface`). */
  interfaceName: string | undefined;
  /** The unknown-interface warning for interfaceName was logged (once per name per participant). */
  interfaceWarned = false;
  /** Address family wanted in SDP sent to this participant (`address-family`). */
  family: 4 | 6 | undefined;
  private session: SdpSession | null = null;
  /** Subscriptions that came from pub/sub, for `query` (absent = offer/answer; null until one does). */
  private pubSubOf: Set<Monologue> | null = null;
  /** The o= of the first SDP we sent this participant, for `replace: username|origin-full`. */
  firstOrigin: SdpOrigin | null = null;
  /** What we last sent to this participant, for `replace: sdp-version`. */
  lastOutput: { text: string; version: string } | null = null;
  deleted = false;
  /** `bundle: offer|require` is remembered for later offers toward this participant (`strict` is not). */
  bundleMode: 'offer' | 'require' | null = null;
  /** The last offer this participant received was bundled: a BUNDLE group in its answer is taken. */
  bundleOffered = false;
  /** block DTMF / block media / silence media for this participant (`directional` or `label`). */
  readonly control: MediaControlState = emptyControl();

  constructor(
    /** The owning call; re-pointed only when calls merge. */
    public call: Call,
    public tag: string,
    public viaBranch: string | undefined,
    readonly leak: LeakHandle,
  ) {}

  /** The last SDP this participant sent us: the template of SDPs made for its subscribers. */
  get lastSession(): SdpSession | null {
    return this.session;
  }

  /** Kept for the call's lifetime: its lists are shrunk to fit first (see shrinkSession). */
  set lastSession(session: SdpSession | null) {
    this.session = session === null ? null : shrinkSession(session);
  }

  /** The participant on the other side of the dialogue (first subscription), if any. */
  peer(): Monologue | undefined {
    return this.subscriptions[0] ?? this.subscribers[0];
  }

  /** How this participant's subscription to `to` came about, for `query`. */
  subscriptionKind(to: Monologue): 'pub/sub' | 'offer/answer' {
    return this.pubSubOf?.has(to) ? 'pub/sub' : 'offer/answer';
  }

  markPubSub(to: Monologue): void {
    (this.pubSubOf ??= new Set()).add(to);
  }

  subscribe(to: Monologue): void {
    // concat, not push: a list grown by push keeps room for 17 (most hold one or two)
    if (!this.subscriptions.includes(to)) this.subscriptions = this.subscriptions.concat(to);
    if (!to.subscribers.includes(this)) to.subscribers = to.subscribers.concat(this);
  }

  /** Stops hearing everyone (those who hear this participant keep hearing it). */
  unsubscribeSubscriptions(): void {
    this.pubSubOf = null;
    for (const m of this.subscriptions) m.subscribers = m.subscribers.filter((x) => x !== this);
    this.subscriptions = [];
  }

  unsubscribeAll(): void {
    this.pubSubOf = null;
    for (const m of this.subscribers) m.pubSubOf?.delete(this);
    for (const m of this.subscriptions) m.subscribers = m.subscribers.filter((x) => x !== this);
    for (const m of this.subscribers) m.subscriptions = m.subscriptions.filter((x) => x !== this);
    this.subscriptions = [];
    this.subscribers = [];
  }
}
