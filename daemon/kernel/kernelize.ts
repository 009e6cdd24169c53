/**
 * kernelize / unkernelize (rtpengine's kernel.c + kernelize_one): hands a packet stream to the
 * fast path once both ends are known, by building a ForwardingEntry from the stream's sink
 * list, and takes it back when signalling changes anything. Only a stream whose whole handler
 * chain the addon can do (plain input and output, pass-through and payload-type renumbering)
 * goes native; any other, and any not ready, stays on the JS path, and `stream.fastPath`
 * says why (shown by `query`).
 *
 * Lock rule: called by signalling under the call's write lock and by the packet path when an
 * endpoint is learned; the engine's setEntry/removeEntry take its table's write lock, so no
 * thread forwards to a stale destination once these return.
 */
import type { FastPathEngine, ForwardDestination, ForwardingEntry, EntryStats } from './fast-path.js';
import type { PacketStream, SinkHandler } from '../media/packet-stream.js';
import type { LeakRegistry, LeakHandle } from '../leak/registry.js';

export class Kernelizer {
  private readonly entries = new Map<PacketStream, LeakHandle>();

  constructor(
    readonly engine: FastPathEngine,
    private readonly leaks: LeakRegistry,
  ) {}

  /** Re-evaluates one stream: installs, replaces or removes its entry, and says why in `stream.fastPath`. */
  update(stream: PacketStream): void {
    const entry = this.buildEntry(stream);
    const fd = stream.selectedFd;
    if (typeof entry !== 'string' && fd) {
      this.engine.setEntry(fd.socket, entry);
      if (!this.entries.has(stream)) this.entries.set(stream, this.leaks.register('NativeEntry', stream.gate.callId));
      stream.kernelized = true;
      stream.fastPath = { native: true, reason: '' };
    } else {
      this.remove(stream);
      stream.fastPath = { native: false, reason: typeof entry === 'string' ? entry : 'no socket' };
    }
  }

  remove(stream: PacketStream): void {
    const handle = this.entries.get(stream);
    if (!handle) return;
    if (stream.selectedFd) this.engine.removeEntry(stream.selectedFd.socket);
    this.entries.delete(stream);
    this.leaks.release(handle);
    stream.kernelized = false;
  }

  stats(stream: PacketStream): EntryStats | null {
    const fd = stream.selectedFd;
    if (!fd || !this.ownsSocket(stream)) return null;
    return this.engine.entryStats(fd.socket);
  }

  /** For the leak audit's holder probe: does the entry map still hold this stream? */
  holds(obj: object): boolean {
    return this.entries.has(obj as PacketStream);
  }

  get entryCount(): number {
    return this.entries.size;
  }

  private ownsSocket(stream: PacketStream): boolean {
    return stream.selectedFd !== null && this.engine.sockets.kind === 'native';
  }

  /** The entry, or why the stream stays on the JS path. */
  private buildEntry(stream: PacketStream): ForwardingEntry | string {
    const fd = stream.selectedFd;
    if (!fd) return 'no local port';
    if (stream.plainUdp) return 'not RTP (relayed as plain UDP on the JS path)';
    if (!this.ownsSocket(stream)) return 'socket not owned by the fast path';
    const blocker = handlerChainBlocker(stream);
    if (blocker) return blocker;
    if (!stream.confirmed || !stream.endpoint || stream.endpoint.port === 0) return 'endpoint not learned yet';
    const rtp = this.destinations(stream.rtpSinks, true);
    if (typeof rtp === 'string') return rtp;
    const rtcp = this.destinations(stream.rtcpSinks, false);
    if (typeof rtcp === 'string') return rtcp;
    if (rtp.length === 0 && rtcp.length === 0) return 'no sinks';
    return {
      source: { address: stream.endpoint.address, port: stream.endpoint.port },
      rtp: stream.isRtcp ? [] : rtp,
      rtcp,
      isRtcpSocket: stream.isRtcp,
      rtcpMux: stream.rtcpMux,
      payloadTypes: [],
    };
  }

  /** The native destinations of a sink list, or why not (a sink not ready to receive). */
  private destinations(sinks: readonly SinkHandler[], rtp: boolean): ForwardDestination[] | string {
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
  if (!stream.input.native) return `input handler '${stream.input.kind}' needs the JS path`;
  const control = stream.control?.needsJs ?? null;
  if (control !== null) return control;
  if (stream.consumeRtcp) return 'generate RTCP: RTCP is consumed and reports are built from per-SSRC counters on the JS path';
  for (const list of [stream.rtpSinks, stream.rtcpSinks]) {
    for (const sink of list) {
      if (!sink.output.native) return `output handler '${sink.output.kind}' needs the JS path`;
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
