/**
 * kernelize / unkernelize (rtpengine's kernel.c + kernelize_one): hands a packet stream to the
 * fast path once both ends are known, by building a ForwardingEntry from the stream's sink
 * list, and takes it back when signalling changes anything. Only a stream whose whole handler
 * chain the addon can do (plain or SRTP input and output, pass-through and payload-type
 * renumbering) goes native; any other, and any not ready, stays on the JS path, and
 * `stream.fastPath` says why (shown by `query`).
 *
 * SRTP: the entry carries each direction's session keys and per-SSRC counters (rollover
 * counter, SRTCP index); when the entry is replaced or removed the addon hands the counters it
 * reached back and they go into the same JS state they came from, so neither path ever
 * repeats an index under the same key.
 *
 * Lock rule: called by signalling under the call's write lock and by the packet path when an
 * endpoint is learned; the engine's setEntry/removeEntry take its table's write lock, so no
 * thread forwards to a stale destination once these return.
 */
import type { FastPathEngine, ForwardDestination, ForwardingEntry, EntryStats } from './fast-path.js';
import type { PacketStream, SinkHandler } from '../media/packet-stream.js';
import type { LeakRegistry, LeakHandle } from '../leak/registry.js';
import type { SsrcTable } from '../codec/ssrc.js';
import { SrtpInputHandler, SrtpOutputHandler } from '../crypto/srtp-handler.js';
import type { EntrySrtpState, NativeSrtpState } from './fast-path.js';

/** Where an installed entry's SRTP counters go back to: the handler and SSRC table of each context. */
interface SrtpBinding {
  input: { handler: SrtpInputHandler; table: SsrcTable } | null;
  rtp: Array<{ handler: SrtpOutputHandler; table: SsrcTable } | null>;
  rtcp: Array<{ handler: SrtpOutputHandler; table: SsrcTable } | null>;
  /** SRTP contexts the addon holds for this entry (for the leak audit). */
  contexts: number;
}

type BuiltEntry = { entry: ForwardingEntry; srtp: SrtpBinding };

export class Kernelizer {
  private readonly entries = new Map<PacketStream, LeakHandle>();
  private readonly srtp = new Map<PacketStream, SrtpBinding>();
  /** Numbers the streams whose SRTP state an entry continues (NativeSrtpSpec.stateKey). */
  private readonly stateKeys = new WeakMap<PacketStream, number>();
  private nextStateKey = 1;

  constructor(
    readonly engine: FastPathEngine,
    private readonly leaks: LeakRegistry,
  ) {}

  /**
   * Re-evaluates one stream: installs, replaces or removes its entry, and says why in
   * `stream.fastPath`. With `ifIdle` (the hand-over after a learning packet) an entry is not
   * installed while packets of the stream's socket wait on their way up to JS, since the next
   * ones, forwarded natively at once, would overtake them: returns false then, nothing changed.
   */
  update(stream: PacketStream, opts: { ifIdle?: boolean } = {}): boolean {
    const built = this.buildEntry(stream);
    const fd = stream.selectedFd;
    if (typeof built !== 'string' && fd) {
      const old = opts.ifIdle ? this.engine.setEntryIfIdle(fd.socket, built.entry) : this.engine.setEntry(fd.socket, built.entry);
      if (old === false) return false;
      this.restoreSrtp(stream, old);
      if (built.srtp.contexts > 0) this.srtp.set(stream, built.srtp);
      if (!this.entries.has(stream)) this.entries.set(stream, this.leaks.register('NativeEntry', stream.gate.callId));
      stream.kernelized = true;
      stream.fastPath = { native: true, reason: '' };
    } else {
      this.remove(stream);
      stream.fastPath = { native: false, reason: typeof built === 'string' ? built : 'no socket' };
    }
    return true;
  }

  remove(stream: PacketStream): void {
    const handle = this.entries.get(stream);
    if (!handle) return;
    if (stream.selectedFd) this.restoreSrtp(stream, this.engine.removeEntry(stream.selectedFd.socket));
    this.srtp.delete(stream);
    this.entries.delete(stream);
    this.leaks.release(handle);
    stream.kernelized = false;
  }

  stats(stream: PacketStream): EntryStats | null {
    const fd = stream.selectedFd;
    if (!fd || !this.ownsSocket(stream)) return null;
    return this.engine.entryStats(fd.socket);
  }

  /** SRTP input failures the addon counted for the stream's current entry (null: none installed). */
  srtpFailures(stream: PacketStream): { auth: number; replay: number; invalid: number } | null {
    const fd = stream.selectedFd;
    if (!fd || !this.srtp.has(stream) || !this.ownsSocket(stream)) return null;
    return this.engine.srtpFailures(fd.socket);
  }

  /** SRTP contexts the installed entries hold (the addon's live count must not exceed it). */
  get srtpContextCount(): number {
    let n = 0;
    for (const b of this.srtp.values()) n += b.contexts;
    return n;
  }

  /** For the leak audit's holder probe: does the entry map still hold this stream? */
  holds(obj: object): boolean {
    return this.entries.has(obj as PacketStream) || this.srtp.has(obj as PacketStream);
  }

  /** The counters of a replaced or removed entry go back into the JS state they continued. */
  private restoreSrtp(stream: PacketStream, old: EntrySrtpState | null): void {
    const b = this.srtp.get(stream);
    if (!b || !old) return;
    const back = (to: { handler: SrtpInputHandler | SrtpOutputHandler; table: SsrcTable } | null | undefined, st: NativeSrtpState | null | undefined) => {
      if (to && st) to.handler.restoreNative(to.table, st);
    };
    back(b.input, old.input);
    old.rtp.forEach((st, i) => back(b.rtp[i], st));
    old.rtcp.forEach((st, i) => back(b.rtcp[i], st));
    this.srtp.delete(stream);
  }

  private stateKey(stream: PacketStream): number {
    let k = this.stateKeys.get(stream);
    if (k === undefined) {
      k = this.nextStateKey++;
      this.stateKeys.set(stream, k);
    }
    return k;
  }

  get entryCount(): number {
    return this.entries.size;
  }

  private ownsSocket(stream: PacketStream): boolean {
    return stream.selectedFd !== null && this.engine.sockets.kind === 'native';
  }

  /** The entry, or why the stream stays on the JS path. */
  private buildEntry(stream: PacketStream): BuiltEntry | string {
    const fd = stream.selectedFd;
    if (!fd) return 'no local port';
    if (stream.plainUdp) return 'not RTP (relayed as plain UDP on the JS path)';
    if (!this.ownsSocket(stream)) return 'socket not owned by the fast path';
    const blocker = handlerChainBlocker(stream);
    if (blocker) return blocker;
    if (!stream.confirmed || !stream.endpoint || stream.endpoint.port === 0) return 'endpoint not learned yet';
    const srtp: SrtpBinding = { input: null, rtp: [], rtcp: [], contexts: 0 };
    const rtpAll = this.destinations(stream.rtpSinks, true, srtp.rtp);
    if (typeof rtpAll === 'string') return rtpAll;
    // an RTCP socket forwards RTCP only
    const rtp = stream.isRtcp ? [] : rtpAll;
    if (stream.isRtcp) srtp.rtp = [];
    const rtcp = this.destinations(stream.rtcpSinks, false, srtp.rtcp);
    if (typeof rtcp === 'string') return rtcp;
    if (rtp.length === 0 && rtcp.length === 0) return 'no sinks';
    const entry: ForwardingEntry = {
      source: { address: stream.endpoint.address, port: stream.endpoint.port },
      rtp,
      rtcp,
      isRtcpSocket: stream.isRtcp,
      rtcpMux: stream.rtcpMux,
      payloadTypes: [],
    };
    if (stream.input instanceof SrtpInputHandler) {
      entry.srtpIn = stream.input.nativeSpec(stream.ssrcIn, this.stateKey(stream));
      srtp.input = { handler: stream.input, table: stream.ssrcIn };
    }
    srtp.contexts = (srtp.input ? 1 : 0) + srtp.rtp.filter(Boolean).length + srtp.rtcp.filter(Boolean).length;
    return { entry, srtp };
  }

  /** The native destinations of a sink list, or why not (a sink not ready to receive). */
  private destinations(sinks: readonly SinkHandler[], rtp: boolean, srtp: SrtpBinding['rtp']): ForwardDestination[] | string {
    const out: ForwardDestination[] = [];
    for (const sink of sinks) {
      const ep = sink.dst.sendable();
      const via = sink.dst.selectedFd;
      if (!ep || !via) return 'a sink has no endpoint yet';
      const dest: ForwardDestination = { via: via.socket, address: ep.address, port: ep.port };
      if (rtp && sink.codec) {
        const map: Array<[number, number]> = [];
        for (const h of sink.codec.handlers) {
          if (h.native && h.native.from !== h.native.to) map.push([h.native.from, h.native.to]);
        }
        if (map.length > 0) dest.payloadTypeMap = map;
      }
      if (sink.output instanceof SrtpOutputHandler) {
        // the per-SSRC output counters live with the destination stream's output table
        dest.srtp = sink.output.nativeSpec(sink.dst.ssrcOut, this.stateKey(sink.dst));
        srtp.push({ handler: sink.output, table: sink.dst.ssrcOut });
      } else {
        srtp.push(null);
      }
      out.push(dest);
    }
    return out;
  }
}

/**
 * Whether the addon can do a stream's whole handler chain: its input handler, and every sink's
 * output and codec handlers. Returns why not (the first handler that needs JS), or null.
 */
export function handlerChainBlocker(stream: PacketStream): string | null {
  // connectivity checks and consent (STUN) on the same port are answered by the JS ICE agent
  if (stream.stun) return 'ICE agent needs the JS path';
  if (stream.bundle) return 'BUNDLE: packets are demultiplexed to their m= line on the JS path';
  if (stream.stunPassthrough) return 'ICE=force-relay: the peers\' STUN is relayed on the JS path';
  if (!stream.input.native) return `input handler '${stream.input.kind}' needs the JS path${stream.input.notNative ? ` (${stream.input.notNative})` : ''}`;
  const control = stream.control?.needsJs ?? null;
  if (control !== null) return control;
  if (stream.consumeRtcp) return 'generate RTCP: RTCP is consumed and reports are built from per-SSRC counters on the JS path';
  for (const list of [stream.rtpSinks, stream.rtcpSinks]) {
    for (const sink of list) {
      if (!sink.output.native) return `output handler '${sink.output.kind}' needs the JS path${sink.output.notNative ? ` (${sink.output.notNative})` : ''}`;
      if (list === stream.rtpSinks && sink.dst.blockEgress) return 'play media with block-egress: media toward that participant is dropped on the JS path';
      if (sink.inject !== null) return 'DTMF injected (play DTMF): generated packets and the renumbering after them need the JS path';
      if (sink.rtcpTranslate !== null) return 'RTCP translated (the media toward this side is changed): SR/RR fields are rewritten on the JS path';
      if (list === stream.rtpSinks && sink.codec) {
        for (const h of sink.codec.handlers) {
          if (!h.native) return `codec handler '${h.kind}' needs the JS path`;
        }
      }
    }
  }
  return null;
}
