/**
 * The Call: the parent of everything of one SIP call (rtpengine's struct call).
 *
 * Owner and lifetime: the callhash holds the call by call-id (the signalling entry point);
 * sockets hold their StreamFd (the packet entry point). The call owns every child through its
 * primary containers below; children are added exactly once and teardown releases them by
 * walking these lists. Lock rule: containers and
 * children change only inside `lock.write()`, and so does teardown (`destroy()` refuses to run
 * otherwise): a command suspended at an await can never resume on a call torn down under it.
 * Adding to a destroyed call is refused loudly (CallDestroyedError, logged and counted); the
 * packet path reads the containers (CallGate).
 *
 * The call's parts with a job of their own live beside it and work on these containers:
 * sockets and ports in call-ports.ts, sinks and handler accounting in call-sinks.ts (the
 * methods below that delegate there are the call's stable API for commands); ICE, SDES, DTLS
 * and players in call-ice.ts, call-crypto.ts, call-dtls.ts, call-players.ts.
 */
import { CallDestroyedError, LockRuleError } from '../errors.js';
import { callLogger } from '../log/logger.js';
import type { DtmfLogDest } from '../log/dtmf-log.js';
import type { LeakHandle } from '../leak/registry.js';
import type { LeakType } from '../leak/types.js';
import { SsrcContext, type SsrcDirection } from '../codec/ssrc.js';
import { streamPacket } from '../media/media-socket.js';
import { PacketStream, type CallGate, type Endpoint, type SinkHandler, type StreamFd } from '../media/packet-stream.js';
import type { LocalAddress } from '../net/interfaces.js';
import type { AddressFamily, MediaSocket } from '../net/media-socket.js';
import type { IceAgent } from '../ice/agent.js';
import type { DtlsHook } from '../crypto/dtls-hook.js';
import { kickDtls } from './call-dtls.js';
import { CallMedia } from './call-media.js';
import type { CallContext } from './context.js';
import { streamStats } from './stream-stats.js';
import { MasterLock } from './master-lock.js';
import { Monologue } from './monologue.js';
import { emptyControl, type MediaControlState } from './media-control.js';
import { SrTimes } from '../media/rtcp.js';
import type { DtmfInjector } from '../media/dtmf-inject.js';
import type { CodecHandlerSet } from '../codec/chain.js';
import { CallPlayers, type PlayerHost } from './call-players.js';
import type { AudioPlayerMode } from './flags.js';
import type { RtcpGenerator } from './rtcp-generate.js';
import * as ports from './call-ports.js';
import * as sinks from './call-sinks.js';
import { KernelPending } from './kernel-pending.js';
import { leaveBundle } from './bundle.js';

/** Packets held while a writer has the call; beyond this they are dropped and counted. */
export const DEFERRED_QUEUE_LIMIT = 256;

interface DeferredPacket {
  fd: StreamFd;
  data: Buffer;
  from: Endpoint;
}

class DeferredQueue {
  readonly items: DeferredPacket[] = [];
  constructor(readonly leak: LeakHandle) {}
}

export interface Closable {
  readonly stateless: boolean;
  close(): void;
}

export type StreamTotals = {
  packets: number;
  bytes: number;
  errors: number;
};

const NO_HANDLERS: ReadonlyMap<Closable, LeakHandle> = new Map<Closable, LeakHandle>();

/** What the call's players need of it: one small object, not five closures per call. */
class PlayerHostOf implements PlayerHost {
  constructor(private readonly call: Call) {}

  get ctx(): CallContext {
    return this.call.ctx;
  }

  refuse(what: string): void {
    this.call.refuseIfDestroyed(what);
  }

  newSink(media: CallMedia): SinkHandler {
    return sinks.newSink(this.call, media.rtp);
  }

  releaseSink(sink: SinkHandler): void {
    sinks.releaseSink(this.call, sink);
  }

  adopt(h: Closable, type: 'TransportHandler' | 'Timer'): void {
    sinks.adopt(this.call, h, type);
  }

  drop(h: Closable): void {
    sinks.drop(this.call, h);
  }
}

export class Call implements CallGate {
  // grown by concat, not push: a list grown by push keeps room for 17 entries (most calls have 2-8)
  monologues: Monologue[] = [];
  medias: CallMedia[] = [];
  streams: PacketStream[] = [];
  fds: StreamFd[] = [];
  /** Per-SSRC state of every stream, both directions (indexed per stream by its SsrcTables). */
  readonly ssrcContexts: SsrcContext[] = [];
  /** Stateful handlers (codec, transport) and their leak handles; stateless ones are not listed (made by the first). */
  private handlerMap: Map<Closable, LeakHandle> | null = null;
  /** Accounting of the streams' DTLS sessions (adoptDtls/closeDtls); made by the first. */
  private dtlsLeaks: Map<DtlsHook, LeakHandle> | null = null;
  readonly lock = new MasterLock();
  readonly created = Date.now();
  lastSignal = Date.now();
  /** An answer was seen: the regular timeouts apply (before it, --offer-timeout). */
  answered = false;
  destroyed = false;
  /** Call-ids of calls merged into this one (connect across calls, mesh): they resolve to it. */
  readonly aliases: string[] = [];
  /** A teardown is waiting for the write lock (the sweep must not queue another). */
  teardownQueued = false;
  /** Set by `delete` with a delay: the teardown timer and its leak handle. */
  deleteTimer: { timer: NodeJS.Timeout; leak: LeakHandle } | null = null;
  private deferred: DeferredQueue | null = null;
  private readonly kernelPending = new KernelPending(this);
  /** TOS of this call's outgoing media (rtpengine's call->tos): --tos, or the ng `TOS` key. */
  tos: number | null;
  /** rtpengine-documented flags this daemon does not implement yet, already warned about for this call (made by the first). */
  warnedFlags: Set<string> | null = null;
  readonly leak: LeakHandle;
  /** block DTMF / block media / silence media for the whole call. */
  readonly control: MediaControlState = emptyControl();
  /** When sender reports passed (for round-trip times from the report blocks naming them). */
  readonly srTimes = new SrTimes();
  /** `play media` players and audio players toward this call's medias (call-players.ts). */
  readonly players: CallPlayers;
  /** The last ng `audio-player` value given for this call. */
  audioPlayerMode: AudioPlayerMode = 'default';
  /** `early-media`: the audio player starts before the answer. */
  earlyMedia = false;
  /** `generate RTCP`: the relay's own reports (null: RTCP is relayed as it comes). */
  rtcpGenerator: RtcpGenerator | null = null;
  /** The ng `DTMF-log-dest` of this call (overrides --dtmf-log-dest). */
  dtmfLogDest: DtmfLogDest | null = null;
  /** RTP/RTCP totals of streams already released (kept for query/delete after partial teardown). */
  readonly releasedTotals = { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } };

  constructor(
    readonly callId: string,
    readonly ctx: CallContext,
  ) {
    this.leak = ctx.leaks.register('Call', callId);
    this.tos = ctx.config.tos;
    this.players = new CallPlayers(new PlayerHostOf(this));
  }

  /**
   * The ng `TOS` key, rtpengine's rule: only in an offer, for the whole call; negative leaves it
   * unchanged, absent or above 255 reverts to --tos. Applied to every socket of the call (the
   * native fast path's sockets set IP_TOS/IPV6_TCLASS; Node's dgram sockets cannot, see README).
   */
  applyTos(requested: number | undefined): void {
    if (requested !== undefined && requested < 0) return;
    const tos = requested === undefined || requested > 255 ? this.ctx.config.tos : requested;
    if (tos === this.tos) return;
    this.tos = tos;
    // no --tos and the key reverts to it: the kernel default (0) is what "untouched" means
    for (const fd of this.fds) fd.socket.setTos(tos ?? 0);
  }

  get handlers(): ReadonlyMap<Closable, LeakHandle> {
    return this.handlerMap ?? NO_HANDLERS;
  }

  addHandler(h: Closable, leak: LeakHandle): void {
    (this.handlerMap ??= new Map()).set(h, leak);
  }

  removeHandler(h: Closable): void {
    this.handlerMap?.delete(h);
  }

  get writeLocked(): boolean {
    return this.lock.writeLocked;
  }

  log(tag?: string) {
    return callLogger(this.callId, tag);
  }

  /** Runs a signalling command under the write lock; deferred packets are handled afterwards. */
  write<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.lock.write(fn, () => this.drainDeferred());
  }

  // ---- CallGate (packet path side) ----

  defer(fd: StreamFd, data: Buffer, from: Endpoint): boolean {
    if (this.destroyed) return false;
    if (!this.deferred) this.deferred = new DeferredQueue(this.ctx.leaks.register('DeferredQueue', this.callId));
    if (this.deferred.items.length >= DEFERRED_QUEUE_LIMIT) return false;
    this.deferred.items.push({ fd, data, from });
    this.ctx.counters.add('deferredPackets');
    return true;
  }

  private drainDeferred(): void {
    this.kernelPending.flush();
    const queue = this.deferred;
    if (!queue || this.lock.writeLocked) return;
    // handled in arrival order, against the sinks the writer just finished building
    const items = queue.items.splice(0);
    for (const p of items) streamPacket(p.fd, p.data, p.from, this.ctx.counters);
  }

  /** Holder probe: does a packet waiting in this call's deferred queue hold `obj` (its StreamFd)? */
  deferredHolds(obj: object): boolean {
    return this.deferred?.items.some((p) => p.fd === obj) ?? false;
  }

  /** Holder probe: is `obj` still linked from this call's containers, sinks or selected fds? */
  containersHold(obj: object): boolean {
    if (this.monologues.includes(obj as Monologue) || this.medias.includes(obj as CallMedia)) return true;
    if (this.streams.includes(obj as PacketStream) || this.fds.includes(obj as StreamFd)) return true;
    return this.streams.some((s) => s.selectedFd === obj || s.rtpSinks.includes(obj as SinkHandler) || s.rtcpSinks.includes(obj as SinkHandler)
      || s.rtpSinks.some((k) => k.dst === obj) || s.rtcpSinks.some((k) => k.dst === obj));
  }

  endpointChanged(stream: PacketStream): void {
    if (!this.ctx.kernel || this.destroyed) return;
    this.kernelPending.add(stream); // once the packet that taught it is relayed (kernel-pending.ts)
  }


  /** SsrcOwner: a new SSRC on the packet path (read side; the container is the call's). */
  createSsrc(ssrc: number, direction: SsrcDirection): SsrcContext {
    const ctx = new SsrcContext(ssrc, direction, this.ctx.leaks.register('SsrcContext', this.callId));
    this.ssrcContexts.push(ctx);
    return ctx;
  }

  releaseSsrc(ctx: SsrcContext): void {
    const i = this.ssrcContexts.indexOf(ctx);
    if (i >= 0) this.ssrcContexts.splice(i, 1);
    this.release('SsrcContext', ctx.leak, ctx);
  }

  // ---- building (signalling, under the write lock) ----

  /**
   * Nothing may be added to a torn-down call: it would be registered and never released. Every
   * command checks `destroyed` after its awaits, so reaching this is a bug: logged, counted,
   * and the command fails with rtpengine's "Unknown call-id". Public for call-ports/call-sinks.
   */
  refuseIfDestroyed(what: string): void {
    if (!this.destroyed) return;
    const err = new CallDestroyedError(this.callId, what);
    this.ctx.counters.add('refusedDestroyedCallAdds');
    this.log().error({ what, stack: err.stack }, 'internal error: add to a torn-down call refused');
    throw err;
  }

  addMonologue(tag: string, viaBranch: string | undefined): Monologue {
    this.refuseIfDestroyed('monologue');
    const m = new Monologue(this, tag, viaBranch, this.ctx.leaks.register('Monologue', this.callId));
    this.monologues = this.monologues.concat(m);
    return m;
  }

  monologueByTag(tag: string): Monologue | undefined {
    return this.monologues.find((m) => m.tag === tag && !m.deleted);
  }

  addMedia(monologue: Monologue, index: number, type: string): CallMedia {
    this.refuseIfDestroyed('media');
    const rtp = this.addStream(1);
    const rtcp = this.addStream(2);
    const media = new CallMedia(monologue, index, type, rtp, rtcp, this.ctx.leaks.register('Media', this.callId));
    monologue.medias = monologue.medias.concat(media);
    this.medias = this.medias.concat(media);
    return media;
  }

  private addStream(component: 1 | 2): PacketStream {
    this.refuseIfDestroyed('packet stream');
    const stream = new PacketStream(this, component, this.ctx.leaks.register('PacketStream', this.callId));
    stream.learning = this.ctx.config.endpointLearning;
    this.streams = this.streams.concat(stream);
    return stream;
  }

  // ---- ports and sockets (call-ports.ts) ----

  /** See call-ports.ts: awaits; a call torn down meanwhile gets nothing ("Unknown call-id"). */
  allocatePorts(media: CallMedia, where: LocalAddress | string | undefined, family?: AddressFamily, prefer?: string): Promise<void> {
    return ports.allocatePorts(this, media, where, family, prefer);
  }

  allocateIceHosts(media: CallMedia): Promise<void> {
    return ports.allocateIceHosts(this, media);
  }

  hostSockets(media: CallMedia, component: number): MediaSocket[] {
    return ports.hostSockets(this, media, component);
  }

  releaseIceHosts(media: CallMedia): void {
    ports.releaseIceHosts(this, media);
  }

  shareTransport(member: CallMedia, head: CallMedia): void {
    ports.shareTransport(this, member, head);
  }

  releasePorts(media: CallMedia): void {
    ports.releasePorts(this, media);
  }

  // ---- sinks (call-sinks.ts) ----

  rebuildSinks(): void {
    sinks.rebuildSinks(this);
  }

  startRtcpGenerator(): void {
    sinks.startRtcpGenerator(this);
  }

  attachInjector(sink: SinkHandler, inj: DtmfInjector): void {
    sinks.attachInjector(this, sink, inj);
  }

  replaceSinkCodec(sink: SinkHandler, set: CodecHandlerSet): void {
    sinks.replaceSinkCodec(this, sink, set);
  }

  // ---- teardown ----

  /**
   * Releases one child; `type` documents at the call site what is released. Every release of a
   * call-owned object goes through here (also from call-ports/call-sinks), in teardown order.
   */
  release(_type: LeakType, handle: LeakHandle, obj: object): void {
    this.ctx.leaks.release(handle, obj);
  }

  /** Removes one monologue and everything it owns (delete of one branch/side). */
  removeMonologue(m: Monologue): void {
    for (const media of [...m.medias]) this.removeMedia(media);
    m.unsubscribeAll();
    m.deleted = true;
    const i = this.monologues.indexOf(m);
    if (i >= 0) this.monologues.splice(i, 1);
    this.release('Monologue', m.leak, m);
  }

  /** Makes `agent` the ICE agent of `media` (accounted; its hooks take the streams' STUN). */
  adoptIce(media: CallMedia, agent: IceAgent): void {
    this.closeIce(media);
    media.ice = agent;
    media.iceLeak = this.ctx.leaks.register('IceAgent', this.callId);
    media.rtp.stun = agent.hooks[0];
    media.rtcp.stun = agent.hooks[1];
  }

  /** Stops and releases `media`'s ICE agent, if any (STUN on its ports is then dropped). */
  closeIce(media: CallMedia): void {
    const agent = media.ice;
    if (!agent) return;
    agent.close();
    media.ice = null;
    media.rtp.stun = null;
    media.rtcp.stun = null;
    this.releaseIceHosts(media);
    if (media.iceLeak) this.release('IceAgent', media.iceLeak, agent);
    media.iceLeak = null;
  }

  /** Makes `session` the DTLS hook of `stream` (accounted; replaces and closes an earlier one). */
  adoptDtls(stream: PacketStream, session: DtlsHook): void {
    this.refuseIfDestroyed('DTLS connection');
    this.closeDtls(stream);
    stream.dtls = session;
    (this.dtlsLeaks ??= new Map()).set(session, this.ctx.leaks.register('DtlsConnection', this.callId));
  }

  /** Closes and releases `stream`'s DTLS session, if any (DTLS on its port is then dropped). */
  closeDtls(stream: PacketStream): void {
    const session = stream.dtls;
    if (!session) return;
    stream.dtls = null;
    session.close();
    const leak = this.dtlsLeaks?.get(session);
    this.dtlsLeaks?.delete(session);
    if (leak) this.release('DtlsConnection', leak, session);
  }

  /** A selected ICE pair: media for that component goes there from now on. */
  iceSelected(media: CallMedia, component: number, remote: Endpoint, local?: MediaSocket): void {
    if (this.destroyed) return;
    const stream = component === 1 ? media.rtp : media.rtcp;
    // media leaves from the selected pair's local candidate (an ICE host extra, or the primary)
    const fd = local ? this.fds.find((f) => f.stream === stream && f.socket === local) ?? null : ports.primaryFd(this, media, stream);
    if (fd && fd !== stream.selectedFd) {
      this.ctx.kernel?.remove(stream);
      stream.selectedFd = fd;
    }
    stream.endpoint = { ...remote };
    stream.confirmed = true;
    this.endpointChanged(stream);
    // the active end of a DTLS association starts once it knows where the peer is
    kickDtls(this, media);
    // BUNDLE: the m= lines sharing this transport send to the same place (RTP and muxed RTCP)
    if (component !== 1) return;
    for (const m of this.medias) {
      if (m.bundleHead !== media) continue;
      m.rtp.selectedFd = stream.selectedFd;
      m.rtcp.selectedFd = stream.selectedFd;
      m.rtp.endpoint = { ...remote };
      m.rtp.confirmed = true;
      this.endpointChanged(m.rtp);
    }
  }

  removeMedia(media: CallMedia): void {
    this.players.releaseMedia(media);
    this.releasePorts(media);
    this.closeIce(media);
    leaveBundle(media);
    // negotiated routes toward this media go with it
    media.sendRoutes.clear();
    for (const other of this.medias) other.sendRoutes.delete(media);
    for (const stream of [media.rtp, media.rtcp]) {
      sinks.clearSinks(this, stream);
      // sinks elsewhere that point at this stream go too
      for (const s of this.streams) {
        if (s.rtpSinks.some((k) => k.dst === stream) || s.rtcpSinks.some((k) => k.dst === stream)) {
          for (const k of s.rtpSinks.filter((k) => k.dst === stream)) sinks.releaseSink(this, k);
          for (const k of s.rtcpSinks.filter((k) => k.dst === stream)) sinks.releaseSink(this, k);
          s.rtpSinks = s.rtpSinks.filter((k) => k.dst !== stream);
          s.rtcpSinks = s.rtcpSinks.filter((k) => k.dst !== stream);
        }
      }
      const totals = stream.isRtcp ? this.releasedTotals.RTCP : this.releasedTotals.RTP;
      totals.packets += stream.stats.packets;
      totals.bytes += stream.stats.bytes;
      totals.errors += stream.stats.errors;
      const i = this.streams.indexOf(stream);
      if (i >= 0) this.streams.splice(i, 1);
      sinks.releaseStream(this, stream);
    }
    const mi = media.monologue.medias.indexOf(media);
    if (mi >= 0) media.monologue.medias.splice(mi, 1);
    const ci = this.medias.indexOf(media);
    if (ci >= 0) this.medias.splice(ci, 1);
    this.release('Media', media.leak, media);
  }

  /**
   * Calls merged (rtpengine's call_merge): every child of `other` moves under this call's
   * primary containers, its back-references re-pointed and its leak ownership transferred, so
   * the merged call tears down and is audited as one. `other` ends empty and destroyed (its own
   * Call record released, its audit must find nothing). The caller holds both write locks and
   * has checked everything that could fail: nothing here throws half-way.
   */
  absorb(other: Call): void {
    if (!this.lock.writeLocked || !other.lock.writeLocked) throw new LockRuleError(`${this.callId}+${other.callId}`);
    this.refuseIfDestroyed('merge');
    other.refuseIfDestroyed('merge');
    other.destroyed = true;
    other.cancelDeleteTimer();
    for (const m of other.monologues) m.call = this;
    for (const stream of other.streams) stream.rehome(this);
    this.monologues.push(...other.monologues.splice(0));
    this.medias.push(...other.medias.splice(0));
    this.streams.push(...other.streams.splice(0));
    this.fds.push(...other.fds.splice(0));
    this.ssrcContexts.push(...other.ssrcContexts.splice(0));
    for (const [h, leak] of other.handlers) this.addHandler(h, leak);
    other.handlerMap = null;
    if (other.dtlsLeaks) for (const [h, leak] of other.dtlsLeaks) (this.dtlsLeaks ??= new Map()).set(h, leak);
    other.dtlsLeaks = null;
    this.players.absorb(other.players);
    for (const k of ['RTP', 'RTCP'] as const) {
      this.releasedTotals[k].packets += other.releasedTotals[k].packets;
      this.releasedTotals[k].bytes += other.releasedTotals[k].bytes;
      this.releasedTotals[k].errors += other.releasedTotals[k].errors;
    }
    this.answered ||= other.answered;
    // packets the other call held for its writer are handled when this call's writer releases
    if (other.deferred) {
      for (const p of other.deferred.items.splice(0)) {
        if (!this.deferred) this.deferred = new DeferredQueue(this.ctx.leaks.register('DeferredQueue', this.callId));
        if (this.deferred.items.length < DEFERRED_QUEUE_LIMIT) this.deferred.items.push(p);
        else this.ctx.counters.add('droppedDeferredOverflow');
      }
      this.release('DeferredQueue', other.deferred.leak, other.deferred);
      other.deferred = null;
    }
    this.release('Call', other.leak, other);
    this.ctx.leaks.transferCall(other.callId, this.callId);
    this.aliases.push(other.callId, ...other.aliases.splice(0));
    const left = this.ctx.leaks.auditCall(other.callId);
    if (Object.keys(left).length) this.log().error({ merged: other.callId, left }, 'internal error: merged call left objects behind');
  }

  cancelDeleteTimer(): void {
    if (!this.deleteTimer) return;
    clearTimeout(this.deleteTimer.timer);
    this.release('Timer', this.deleteTimer.leak, this.deleteTimer);
    this.deleteTimer = null;
  }

  /**
   * Teardown: walks the primary containers and releases every child exactly once, then asks the
   * leak registry to audit the call. The caller has already removed the call from the callhash
   * and holds the call's write lock (CallHash.teardown): a command in progress has finished.
   */
  destroy(): Record<string, number> {
    if (this.destroyed) return {};
    if (!this.lock.writeLocked) throw new LockRuleError(this.callId);
    this.destroyed = true;
    this.cancelDeleteTimer();
    if (this.deferred) {
      this.deferred.items.length = 0;
      this.release('DeferredQueue', this.deferred.leak, this.deferred);
      this.deferred = null;
    }
    for (const m of [...this.monologues]) this.removeMonologue(m);
    // anything not reachable through a monologue (should be nothing) is swept by container
    for (const media of [...this.medias]) this.removeMedia(media);
    this.players.releaseAll();
    for (const fd of [...this.fds]) ports.closeFd(this, fd);
    this.fds.length = 0;
    for (const stream of [...this.streams]) sinks.releaseStream(this, stream);
    this.streams.length = 0;
    // anything left in the containers (should be nothing) is swept too
    for (const ctx of [...this.ssrcContexts]) this.releaseSsrc(ctx);
    for (const h of [...this.handlers.keys()]) sinks.drop(this, h);
    this.rtcpGenerator = null;
    this.release('Call', this.leak, this);
    return this.ctx.leaks.auditCall(this.callId);
  }

  /** RTP/RTCP totals over live and released streams, with fast-path counters merged. */
  totals(): { RTP: StreamTotals; RTCP: StreamTotals } {
    const RTP = { ...this.releasedTotals.RTP };
    const RTCP = { ...this.releasedTotals.RTCP };
    for (const stream of this.streams) {
      const t = stream.isRtcp ? RTCP : RTP;
      const s = streamStats(stream, this.ctx);
      t.packets += s.packets;
      t.bytes += s.bytes;
      t.errors += s.errors;
    }
    return { RTP, RTCP };
  }
}
