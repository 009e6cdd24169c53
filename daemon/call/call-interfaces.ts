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
import { isOwnSdp } from './loop-protect.js';
import { warnUnsupported } from './unsupported-flags.js';

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

/** Two participants by tag, or by label (`label` for the first, `to-label` for the second), as rtpengine selects them. */
function byTagOrLabel(call: Call, tag: string | undefined, label: string | undefined): Monologue | undefined {
  if (tag !== undefined) return call.monologueByTag(tag);
  if (label !== undefined) return call.monologues.find((m) => !m.deleted && m.label === label);
  return undefined;
}

export class CallInterfaces {
  constructor(private readonly calls: CallHash) {}

  /** Every command on a call starts here, under its write lock: flags not implemented yet are reported. */
  private begin(call: Call, flags: NgFlags): void {
    call.lastSignal = Date.now();
    warnUnsupported(call, flags, this.calls.ctx.counters);
  }

  async offer(flags: NgFlags): Promise<Reply> {
    const { callId, fromTag, sdp } = requireKeys(flags, true, false);
    const session = parseSdp(sdp);
    // `loop protect`: an SDP we wrote ourselves comes back untouched and changes nothing
    if (flags.flags.has('loop-protect') && isOwnSdp(session)) return { sdp };
    const { call, created } = this.calls.getOrCreate(callId);
    const out = await this.createOrUpdate(call, created, flags, async () => {
      call.applyTos(flags.tos);
      const sender = call.monologueByTag(fromTag) ?? call.addMonologue(fromTag, undefined);
      const receiver = offerReceiver(call, sender, flags);
      sender.subscribe(receiver);
      receiver.subscribe(sender);
      return monologueOfferAnswer(call, sender, receiver, session, flags, 'offer');
    });
    return { sdp: out };
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
      sender.subscribe(offerer);
      offerer.subscribe(sender);
      const text = await monologueOfferAnswer(call, sender, offerer, session, flags, 'answer');
      call.answered = true;
      return text;
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
        return { ...stats };
      }
      this.calls.scheduleDestroy(call, delay);
      return { ...stats };
    });
  }

  /**
   * connect (rtpengine's call_connect_ng): the two named participants of one call now receive
   * each other's media instead of their previous peers'. With `directional` only the to-tag
   * participant receives the from-tag participant's media.
   */
  async connect(flags: NgFlags): Promise<Reply> {
    if (!flags.callId) throw new NgCommandError('NO_CALL_ID');
    if (!flags.fromTag && flags.label === undefined) throw new NgCommandError('NO_FROM_TAG');
    if (!flags.toTag && flags.toLabel === undefined) throw new NgCommandError('NO_TO_TAG');
    if (flags.toCallId !== undefined && flags.toCallId !== flags.callId) {
      throw new NgCommandError('NOT_IMPLEMENTED', 'connect across calls (to-call-id)');
    }
    const call = this.calls.get(flags.callId);
    if (!call) throw new NgCommandError('UNKNOWN_CALL');
    return call.write(() => {
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      const from = byTagOrLabel(call, flags.fromTag, flags.label);
      if (!from) throw new NgCommandError('TAG_NOT_FOUND');
      const to = byTagOrLabel(call, flags.toTag, flags.toLabel);
      if (!to || to === from) throw new NgCommandError('TO_TAG_NOT_FOUND');
      this.begin(call, flags);
      from.unsubscribeAll();
      to.unsubscribeAll();
      to.subscribe(from);
      if (!flags.flags.has('directional')) from.subscribe(to);
      call.rebuildSinks();
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

  list(flags: NgFlags): Reply {
    const limit = flags.limit ?? 32;
    if (limit < 0) throw new NgCommandError('INVALID_LIMIT');
    return { calls: this.calls.ids().slice(0, limit) };
  }
}
