/**
 * kernelize / unkernelize (rtpengine's kernel.c + kernelize_one): hands a packet stream to the
 * fast path once both ends are known, by building a ForwardingEntry from the stream's sink
 * list, and takes it back when signalling changes anything. Streams whose sockets are not
 * owned by the engine, or that are not ready, stay on the JS path.
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

  /** Re-evaluates one stream: installs, replaces or removes its entry. */
  update(stream: PacketStream): void {
    const entry = this.buildEntry(stream);
    const fd = stream.selectedFd;
    if (entry && fd) {
      this.engine.setEntry(fd.socket, entry);
      if (!this.entries.has(stream)) this.entries.set(stream, this.leaks.register('NativeEntry', stream.gate.callId));
      stream.kernelized = true;
    } else {
      this.remove(stream);
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

  private buildEntry(stream: PacketStream): ForwardingEntry | null {
    const fd = stream.selectedFd;
    if (!fd || stream.plainUdp || !this.ownsSocket(stream) || !stream.confirmed || !stream.endpoint || stream.endpoint.port === 0) return null;
    // SRTP is done on the JS path only (the addon does not encrypt yet)
    if (stream.srtpIn) return null;
    const rtp = this.destinations(stream.rtpSinks);
    const rtcp = this.destinations(stream.rtcpSinks);
    if (!rtp || !rtcp) return null;
    if (rtp.length === 0 && rtcp.length === 0) return null;
    return {
      source: { address: stream.endpoint.address, port: stream.endpoint.port },
      rtp: stream.isRtcp ? [] : rtp,
      rtcp,
      isRtcpSocket: stream.isRtcp,
      rtcpMux: stream.rtcpMux,
      payloadTypes: [],
    };
  }

  /** null if any sink is not ready: the whole stream then stays on the JS path. */
  private destinations(sinks: readonly SinkHandler[]): ForwardDestination[] | null {
    const out: ForwardDestination[] = [];
    for (const sink of sinks) {
      const ep = sink.dst.sendable();
      const via = sink.dst.selectedFd;
      if (!ep || !via || sink.dst.srtpOut) return null;
      out.push({ via: via.socket, address: ep.address, port: ep.port });
    }
    return out;
  }
}
