/**
 * The ng command handlers on calls (rtpengine's call_interfaces.c: call_offer_ng,
 * call_answer_ng, call_delete_ng, call_query_ng, call_list_ng). Each takes typed NgFlags and
 * returns the reply's keys; failures are thrown as NgCommandErrors and turned into
 * `error-reason` replies by the dispatcher.
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from './reply.js';
import type { NgFlags } from './flags.js';
import { NgCommandError } from '../errors.js';
import { parseSdp } from '../sdp/sdp-parse.js';
import type { Call } from './call.js';
import type { CallHash } from './callhash.js';
import type { Monologue } from './monologue.js';
import { monologueOfferAnswer } from './offer-answer.js';
import { publish, subscribeAnswer, subscribeRequest } from './pub-sub.js';
import { callStats } from './query.js';
import { applyOfferAnswerDtmf, playDtmf, setForwarding, setMediaControl, type ControlKey } from './media-control.js';
import { loadMedia, playMedia, stopMedia } from './media-play.js';
import { isOwnSdp } from './loop-protect.js';
import { warnUnsupported } from './unsupported-flags.js';
import { createAnswer, createOffer } from './create.js';
import { applyFlows, planRoutes, type Flow } from './compose.js';
import { parseSdpFragment } from '../sdp/sdp-fragment.js';
import { applyFragment, PendingFragments } from './trickle.js';

export type { Reply };

function requireKeys(flags: NgFlags, needSdp: boolean, needToTag: boolean): { callId: string; fromTag: string; sdp: string } {
  if (needSdp && !flags.sdp) throw new NgCommandError('NO_SDP');
  if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
  if (!flags.fromTag) throw new NgCommandError('NO_FROM_TAG');
  if (needToTag && !flags.toTag) throw new NgCommandError('NO_TO_TAG');
  return { callId: flags.callId, fromTag: flags.fromTag, sdp: flags.sdp ?? '' };
}

/** The monologue that will receive the offer: the known peer, a via-branch, or a new one. */
function offerReceiver(call: Call, sender: Monologue, flags: NgFlags): Monologue {
  if (flags.toTag) {
    const byTag = call.monologueByTag(flags.toTag);
    if (byTag && byTag !== sender) return byTag;
    const tagless = sender.subscribers.find((m) => m.tag === '' && (!flags.viaBranch || m.viaBranch === flags.viaBranch));
    if (tagless) {
      tagless.tag = flags.toTag;
      return tagless;
    }
    return call.addMonologue(flags.toTag, flags.viaBranch);
  }
  const branch = flags.viaBranch;
  const peers = sender.subscribers.filter((m) => !m.deleted);
  if (branch !== undefined) {
    const match = peers.find((m) => m.viaBranch === branch);
    if (match) return match;
    // a new branch of a forked INVITE only if the dialogue has no answered peer yet
    if (!peers.some((m) => m.tag !== '')) return call.addMonologue('', branch);
  }
  return peers.find((m) => m.tag !== '') ?? peers[0] ?? call.addMonologue('', branch);
}

/** In an answer the to-tag names the answerer; tag-less branches get their tag now. */
function answerSender(call: Call, offerer: Monologue, flags: NgFlags, toTag: string): Monologue {
  const byTag = call.monologueByTag(toTag);
  if (byTag && byTag !== offerer) return byTag;
  const peers = offerer.subscribers.filter((m) => !m.deleted);
  const branch = peers.find((m) => m.tag === '' && flags.viaBranch !== undefined && m.viaBranch === flags.viaBranch)
    ?? peers.find((m) => m.tag === '');
  if (branch) {
    branch.tag = toTag;
    return branch;
  }
  // rtpengine's default: an unexpected to-tag is an alias of the existing answerer
  const existing = peers.find((m) => m.tag !== '');
  if (existing && !flags.flags.has('new-branch')) return existing;
  return call.addMonologue(toTag, flags.viaBranch);
}

/** Internal: the calls a merging command locked were merged meanwhile (it runs again). */
class MergedMeanwhile extends Error {}

async function retryIfMerged<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof MergedMeanwhile)) throw err;
      if (attempt >= 3) throw new NgCommandError('UNKNOWN_CALL');
    }
  }
}

/** Two participants by tag, or by label (`label` for the first, `to-label` for the second), as rtpengine selects them. */
function byTagOrLabel(call: Call, tag: string | undefined, label: string | undefined): Monologue | undefined {
  if (tag !== undefined) return call.monologueByTag(tag);
  if (label !== undefined) return call.monologues.find((m) => !m.deleted && m.label === label);
  return undefined;
}

export class CallInterfaces {
  /** Trickle ICE fragments that arrived before their participant's SDP (call/trickle.ts). */
  readonly pendingFragments = new PendingFragments();

  constructor(private readonly calls: CallHash) {}

  /** Every command on a call starts here, under its write lock: flags not implemented yet are reported. */
  private begin(call: Call, flags: NgFlags): void {
    call.lastSignal = Date.now();
    if (flags.audioPlayer !== undefined) call.audioPlayerMode = flags.audioPlayer;
    if (flags.flags.has('early-media')) call.earlyMedia = true;
    warnUnsupported(call, flags, this.calls.ctx.counters);
  }

  async offer(flags: NgFlags): Promise<Reply> {
    if (flags.flags.has('fragment')) return this.trickle(flags);
    const { callId, fromTag, sdp } = requireKeys(flags, true, false);
    const session = parseSdp(sdp);
    // `loop protect`: an SDP we wrote ourselves comes back untouched and changes nothing
    if (flags.flags.has('loop-protect') && isOwnSdp(session)) return { sdp };
    const { call, created } = this.calls.getOrCreate(callId);
    const out = await this.createOrUpdate(call, created, flags, async () => {
      call.applyTos(flags.tos);
      const sender = call.monologueByTag(fromTag) ?? call.addMonologue(fromTag, undefined);
      const receiver = offerReceiver(call, sender, flags);
      applyOfferAnswerDtmf(sender, flags);
      if (flags.flags.has('generate-rtcp')) call.startRtcpGenerator();
      sender.subscribe(receiver);
      receiver.subscribe(sender);
      const text = await monologueOfferAnswer(call, sender, receiver, session, flags, 'offer');
      this.pendingFragments.applyTo(call, sender);
      return text;
    });
    return { sdp: out };
  }

  /**
   * An `offer` with the `fragment` flag: trickled ICE candidates of the `from-tag` participant
   * (an SDP fragment, RFC 8840). Kept for later when the call or participant is not known yet.
   */
  private async trickle(flags: NgFlags): Promise<Reply> {
    const { callId, fromTag, sdp } = requireKeys(flags, true, false);
    const fragment = parseSdpFragment(sdp);
    const call = this.calls.get(callId);
    if (!call) {
      this.pendingFragments.add(callId, fromTag, fragment);
      return {};
    }
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      this.begin(call, flags);
      const party = call.monologueByTag(fromTag);
      if (!party || party.medias.length === 0) this.pendingFragments.add(callId, fromTag, fragment);
      else applyFragment(call, party, fragment);
      return {};
    });
  }

  /**
   * Runs a command that may have created `call` under its write lock. A call torn down while
   * the command waited for the lock is gone ("Unknown call-id"); a call this command created
   * and then failed is torn down before the lock is released, so no other command sees it.
   */
  private createOrUpdate<T>(call: Call, created: boolean, flags: NgFlags, fn: () => Promise<T>): Promise<T> {
    return call.write(async () => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      this.begin(call, flags);
      try {
        return await fn();
      } catch (err) {
        if (created) this.calls.destroyLocked(call, 'failed');
        throw err;
      }
    });
  }

  async answer(flags: NgFlags): Promise<Reply> {
    const { callId, fromTag, sdp } = requireKeys(flags, true, true);
    const session = parseSdp(sdp);
    if (flags.flags.has('loop-protect') && isOwnSdp(session)) return { sdp };
    const call = this.calls.get(callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    const out = await call.write(async () => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      this.begin(call, flags);
      // as rtpengine: an answer naming a from-tag the call has not seen still gets its dialogue
      const offerer = call.monologueByTag(fromTag) ?? call.addMonologue(fromTag, undefined);
      const sender = answerSender(call, offerer, flags, flags.toTag as string);
      applyOfferAnswerDtmf(sender, flags);
      if (flags.flags.has('generate-rtcp')) call.startRtcpGenerator();
      sender.subscribe(offerer);
      offerer.subscribe(sender);
      // the sinks this answer builds already see an answered call (the audio player starts with it)
      const wasAnswered = call.answered;
      call.answered = true;
      try {
        const text = await monologueOfferAnswer(call, sender, offerer, session, flags, 'answer');
        this.pendingFragments.applyTo(call, sender);
        return text;
      } catch (err) {
        call.answered = wasAnswered;
        throw err;
      }
    });
    return { sdp: out };
  }

  async delete(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    const call = this.calls.get(flags.callId);
    const notFound = (): Reply => {
      if (flags.flags.has('fatal')) throw new NgCommandError('DELETE_NOT_FOUND');
      return { warning: "Call-ID not found or tags didn't match" };
    };
    if (!call || call.destroyed) return notFound();
    const delay = flags.deleteDelay ?? this.calls.ctx.config.deleteDelay;
    return call.write(() => {
      if (call.destroyed) return notFound();
      this.begin(call, flags);
      const stats = flags.flags.has('fast') ? {} : callStats(call);
      const tag = flags.flags.has('to-tag') && flags.toTag ? flags.toTag : flags.fromTag;
      if (tag !== undefined && !call.monologueByTag(tag)) return notFound();
      // a via-branch names one branch of a forked offer: it goes alone while others remain
      const branch = flags.viaBranch !== undefined
        ? call.monologues.find((m) => m.tag === '' && m.viaBranch === flags.viaBranch)
        : undefined;
      if (branch && call.monologues.some((m) => m !== branch && m.tag === '')) {
        call.removeMonologue(branch);
        call.rebuildSinks();
        return stats;
      }
      this.calls.scheduleDestroy(call, delay);
      return stats;
    });
  }

  /**
   * connect (rtpengine's call_connect_ng): the named participants now hear each other instead
   * of their previous peers (with `directional`, only the to-tag participant hears the others).
   * The sources are `from-tag`, `from-tags`, or with `all` every other participant of the
   * call-id's call. With `to-call-id` naming another call, the two calls are merged into the
   * call-id's call first (both call-ids then name it); codecs the two sides do not share are
   * transcoded.
   */
  connect(flags: NgFlags): Promise<Reply> {
    return retryIfMerged(() => this.connectOnce(flags));
  }

  private async connectOnce(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    const all = flags.flags.has('all');
    const sourceTags = flags.fromTags.length > 0 ? flags.fromTags : flags.fromTag !== undefined ? [flags.fromTag] : [];
    if (sourceTags.length === 0 && !all && flags.label === undefined) throw new NgCommandError('NO_FROM_TAG');
    if (!flags.toTag && flags.toLabel === undefined) throw new NgCommandError('NO_TO_TAG');
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    const other = this.calls.get(flags.toCallId ?? flags.callId);
    if (!other) throw new NgCommandError('UNKNOWN_CALL');
    return this.calls.allLocked([call, other], () => {
      this.mergedMeanwhile([call, other]);
      this.calls.checkMergeable(call === other ? [call] : [call, other]);
      const to = byTagOrLabel(other, flags.toTag, flags.toLabel);
      if (!to) throw new NgCommandError('TO_TAG_NOT_FOUND');
      const sources = all
        ? call.monologues.filter((m) => m !== to && !m.deleted)
        : (sourceTags.length > 0 ? sourceTags : [undefined]).map((t) => {
          const m = byTagOrLabel(call, t, flags.label);
          if (!m) throw new NgCommandError('TAG_NOT_FOUND');
          return m;
        });
      if (sources.includes(to)) throw new NgCommandError('CONNECT_SELF');
      const flows: Flow[] = sources.map((from) => ({ from, to }));
      if (!flags.flags.has('directional')) flows.push(...sources.map((s) => ({ from: to, to: s })));
      planRoutes(flows); // refused here, nothing has changed yet
      if (other !== call) this.calls.mergeLocked(call, other);
      this.begin(call, flags);
      applyFlows(call, flows, [to, ...sources]);
      return {};
    });
  }

  /**
   * mesh: the listed calls become one (the first survives, every call-id names it) and the
   * flows of `tags` ([{from, to: [...]}]: each `to` hears `from`; with `bidirectional` also the
   * reverse) are set up; without `tags` every participant hears every other. With
   * `unsubscribe` the participants named stop hearing what they heard before.
   */
  mesh(flags: NgFlags): Promise<Reply> {
    return retryIfMerged(() => this.meshOnce(flags));
  }

  /** A call merged into another while this command waited for its lock: look the call-ids up again. */
  private mergedMeanwhile(calls: readonly Call[]): void {
    if (calls.some((c) => c.destroyed && this.calls.get(c.callId) !== undefined)) throw new MergedMeanwhile();
  }

  private async meshOnce(flags: NgFlags): Promise<Reply> {
    const ids = flags.calls ?? (flags.callId !== undefined ? [flags.callId] : []);
    if (ids.length === 0) throw new NgCommandError('NO_CALLS');
    const calls = ids.map((id) => {
      const c = this.calls.get(id);
      if (!c) throw new NgCommandError('UNKNOWN_CALL');
      return c;
    });
    const distinct = [...new Set(calls)];
    const survivor = calls[0] as Call;
    return this.calls.allLocked(distinct, () => {
      this.mergedMeanwhile(distinct);
      this.calls.checkMergeable(distinct);
      const everyone = distinct.flatMap((c) => c.monologues.filter((m) => !m.deleted));
      const byTag = (tag: string, code: 'TAG_NOT_FOUND' | 'TO_TAG_NOT_FOUND') => {
        const m = everyone.find((x) => x.tag === tag);
        if (!m) throw new NgCommandError(code);
        return m;
      };
      const flows: Flow[] = [];
      const named = new Set<Monologue>();
      if (flags.meshTags && flags.meshTags.length > 0) {
        for (const entry of flags.meshTags) {
          const from = byTag(entry.from, 'TAG_NOT_FOUND');
          for (const t of entry.to) {
            const to = byTag(t, 'TO_TAG_NOT_FOUND');
            if (to === from) throw new NgCommandError('CONNECT_SELF');
            flows.push({ from, to });
            if (flags.flags.has('bidirectional')) flows.push({ from: to, to: from });
            named.add(from).add(to);
          }
        }
      } else {
        for (const from of everyone) for (const to of everyone) if (from !== to) flows.push({ from, to });
        for (const m of everyone) named.add(m);
      }
      planRoutes(flows);
      for (const c of distinct) if (c !== survivor) this.calls.mergeLocked(survivor, c);
      this.begin(survivor, flags);
      applyFlows(survivor, flows, flags.flags.has('unsubscribe') ? [...named] : [], 'heard');
      return {};
    });
  }

  /**
   * create: a new call and/or participant with the relay's own SDP offer for it (rtpengine's
   * defaults: one audio media, plain RTP, PCMA and PCMU); call-id and from-tag are generated
   * when absent and returned.
   */
  async create(flags: NgFlags): Promise<Reply> {
    const callId = flags.callId ?? randomUUID();
    const fromTag = flags.fromTag ?? randomUUID();
    const { call, created } = this.calls.getOrCreate(callId);
    const sdp = await this.createOrUpdate(call, created, flags, async () => {
      const party = call.monologueByTag(fromTag) ?? call.addMonologue(fromTag, undefined);
      return createOffer(call, party, flags);
    });
    return { sdp, 'call-id': callId, 'from-tag': fromTag };
  }

  /** create answer: the created participant's answer to the relay's offer. */
  async createAnswer(flags: NgFlags): Promise<Reply> {
    const { callId, fromTag, sdp } = requireKeys(flags, true, false);
    const session = parseSdp(sdp);
    const call = this.calls.get(callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      const party = call.monologueByTag(fromTag);
      if (!party || party.medias.length === 0) throw new NgCommandError('TAG_NOT_FOUND');
      this.begin(call, flags);
      createAnswer(call, party, session, flags);
      return {};
    });
  }

  /** publish: a participant that only sends; subscribers get its media later. */
  async publish(flags: NgFlags): Promise<Reply> {
    if (!flags.sdp) throw new NgCommandError('NO_SDP');
    const session = parseSdp(flags.sdp);
    const callId = flags.callId ?? randomUUID();
    const fromTag = flags.fromTag ?? randomUUID();
    const { call, created } = this.calls.getOrCreate(callId);
    const sdp = await this.createOrUpdate(call, created, flags, async () => {
      const publisher = call.monologueByTag(fromTag) ?? call.addMonologue(fromTag, undefined);
      return publish(call, publisher, session, flags);
    });
    return { sdp, 'call-id': callId, 'from-tag': fromTag };
  }

  async subscribeRequest(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    const fromTag = flags.fromTag ?? flags.fromTags[0];
    if (!fromTag) throw new NgCommandError('NO_FROM_TAG');
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    return call.write(async () => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      const publisher = call.monologueByTag(fromTag);
      if (!publisher) throw new NgCommandError('TAG_NOT_FOUND');
      this.begin(call, flags);
      const toTag = flags.toTag ?? randomUUID();
      const subscriber = call.monologueByTag(toTag) ?? call.addMonologue(toTag, undefined);
      if (subscriber === publisher) throw new NgCommandError('DIALOGUE');
      const sdp = await subscribeRequest(call, publisher, subscriber, flags);
      return { sdp, 'from-tag': publisher.tag, 'from-tags': [publisher.tag], 'to-tag': subscriber.tag };
    });
  }

  async subscribeAnswer(flags: NgFlags): Promise<Reply> {
    if (!flags.sdp) throw new NgCommandError('NO_SDP');
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    if (!flags.toTag) throw new NgCommandError('NO_TO_TAG');
    const session = parseSdp(flags.sdp);
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    const toTag = flags.toTag;
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      const subscriber = call.monologueByTag(toTag);
      if (!subscriber || subscriber.subscriptions.length === 0) throw new NgCommandError('TO_TAG_NOT_FOUND');
      this.begin(call, flags);
      subscribeAnswer(call, subscriber, session, flags);
      return {};
    });
  }

  async unsubscribe(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    if (!flags.toTag) throw new NgCommandError('NO_TO_TAG');
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    const toTag = flags.toTag;
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      const subscriber = call.monologueByTag(toTag);
      if (!subscriber) throw new NgCommandError('TO_TAG_NOT_FOUND');
      this.begin(call, flags);
      call.removeMonologue(subscriber);
      call.rebuildSinks();
      return {};
    });
  }

  async query(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    return callStats(call);
  }

  /** block/unblock DTMF, block/unblock media, silence/unsilence media (media-control.ts). */
  async mediaControl(flags: NgFlags, key: ControlKey, on: boolean): Promise<Reply> {
    const call = this.requireCall(flags);
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      setMediaControl(call, flags, key, on);
      return {};
    });
  }

  async playDtmf(flags: NgFlags): Promise<Reply> {
    const call = this.requireCall(flags);
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      playDtmf(call, flags);
      return {};
    });
  }

  /** start/stop forwarding: kept per call or participant; nothing to forward to without a recording daemon. */
  async forwarding(flags: NgFlags, on: boolean): Promise<Reply> {
    const call = this.requireCall(flags);
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      setForwarding(call, flags, on);
      return {};
    });
  }

  /** play media: the source is read and decoded first, outside the call's lock (media-play.ts). */
  async playMedia(flags: NgFlags): Promise<Reply> {
    const call = this.requireCall(flags);
    const media = await loadMedia(flags);
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      return playMedia(call, flags, media);
    });
  }

  async stopMedia(flags: NgFlags): Promise<Reply> {
    const call = this.requireCall(flags);
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      return stopMedia(call, flags);
    });
  }

  private requireCall(flags: NgFlags): Call {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    return call;
  }

  list(flags: NgFlags): Reply {
    const limit = flags.limit ?? 32;
    if (limit < 0) throw new NgCommandError('INVALID_LIMIT');
    return { calls: this.calls.ids().slice(0, limit) };
  }
}
