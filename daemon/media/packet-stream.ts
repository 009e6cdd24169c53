/**
 * The packet path's objects (rtpengine's packet_stream, stream_fd, sink_handler) and the
 * handler chain they carry: a stream's input handler and per-SSRC tables, a sink's codec
 * handlers and output handler (see docs/pipeline.md).
 *
 * Owner and lifetime: all three are owned by their Call through its primary containers and are
 * created/changed only by signalling under the call's write lock; the packet path reads them
 * under the read side (see CallGate). Teardown releases them by walking the call's lists.
 */
import type { CodecHandlerSet } from '../codec/chain.js';
import type { CodecOutput } from '../codec/codec-handler.js';
import { SsrcTable, type SsrcContext, type SsrcOwner } from '../codec/ssrc.js';
import type { DtlsHook } from '../crypto/dtls-hook.js';
import { PLAIN } from '../crypto/plain.js';
import type { InputHandler, OutputHandler, TransportSpec } from '../crypto/transport-handler.js';
import type { StunHook } from '../ice/stun-hook.js';
import type { BundleDemux } from './bundle-demux.js';
import type { DtmfInjector, InjectTarget } from './dtmf-inject.js';
import type { StreamControl } from './media-control.js';
import type { RtcpQuality } from './rtcp.js';
import type { RtcpTranslator } from './rtcp-translate.js';
import type { LeakHandle } from '../leak/registry.js';
import type { MediaSocket } from '../net/media-socket.js';
import type { LocalAddress } from '../net/interfaces.js';
import { isHoldAddress, type Endpoint, type LearningMode } from '../net/endpoint.js';
import type { Counters } from '../stats/counters.js';

export type { Endpoint, LearningMode };

/** What the packet path needs from the call (implemented by call/Call); it owns the SSRC contexts. */
export interface CallGate extends SsrcOwner {
  readonly callId: string;
  /** True while a signalling command holds the write lock: packets must be deferred. */
  readonly writeLocked: boolean;
  /** Queues a packet for handling when the writer releases; false if the queue is full. */
  defer(fd: StreamFd, data: Buffer, from: Endpoint): boolean;
  /** A stream learned or changed its endpoint: re-evaluate the fast path for the affected streams. */
  endpointChanged(stream: PacketStream): void;
}

export interface StreamStats {
  packets: number;
  bytes: number;
  errors: number;
  /** Unix ms of the last packet received on this stream (JS path). */
  lastPacketMs: number;
}

export function sameEndpoint(a: Endpoint | null, address: string, port: number): boolean {
  return a !== null && a.port === port && a.address === address;
}

/**
 * The SinkHandler: where a stream's packets go (rtpengine's sink_handler), and how: the codec
 * handlers by payload type (null: every payload type passes unchanged, the common case the
 * packet path keeps cheapest) and the output handler. Built by signalling (Call.rebuildSinks)
 * from both sides' SDP; read by the packet path.
 */
export class SinkHandler implements CodecOutput, InjectTarget {
  codec: CodecHandlerSet | null = null;
  output: OutputHandler = PLAIN;
  /** `play DTMF` into this sink: replaces and renumbers the stream's packets (JS path only). */
  inject: DtmfInjector | null = null;
  /** An RTCP sink toward a side whose media the relay changes: SR/RR are rewritten (JS path only). */
  rtcpTranslate: RtcpTranslator | null = null;

  constructor(
    readonly dst: PacketStream,
    readonly leak: LeakHandle,
    private readonly counters: Counters,
  ) {}

  /** An RTP packet for the sink: counted on the sink's output SSRC, then output handler and send. */
  sendRtp(packet: Buffer): void {
    // `play media` with `block-egress`: the participant hears only the playback meanwhile
    if (this.dst.blockEgress) {
      this.dst.egressBlocked++;
      return;
    }
    const inject = this.inject;
    if (inject !== null) {
      const p = inject.rewrite(packet);
      if (p === null) return;
      packet = p;
    }
    this.sendGenerated(packet);
  }

  /** A packet as it is (a generated one, or one already renumbered): count, output handler, send. */
  sendGenerated(packet: Buffer): void {
    const dst = this.dst;
    const ep = dst.sendable();
    const fd = dst.selectedFd;
    if (ep === null || fd === null) {
      this.counters.add('droppedNoSink');
      return;
    }
    const ctx = dst.ssrcOut.get(packet.readUInt32BE(8));
    ctx.count(packet);
    let wire: Buffer | null = packet;
    if (this.output !== PLAIN) {
      wire = this.output.rtp(packet, ctx);
      if (wire === null) {
        this.counters.add('sendErrors');
        return;
      }
    }
    if (!fd.socket.send(wire, ep.port, ep.address)) this.counters.add('sendErrors');
  }

  /** An RTCP packet for the sink. */
  sendRtcp(packet: Buffer): void {
    const wire = this.output === PLAIN ? packet : this.output.rtcp(packet);
    if (wire === null) {
      this.counters.add('sendErrors');
      return;
    }
    this.sendRaw(wire);
  }

  /** A datagram sent as it is (plain UDP media such as T.38 over udptl). */
  sendRaw(packet: Buffer): void {
    const ep = this.dst.sendable();
    const fd = this.dst.selectedFd;
    if (ep === null || fd === null) {
      this.counters.add('droppedNoSink');
      return;
    }
    if (!fd.socket.send(packet, ep.port, ep.address)) this.counters.add('sendErrors');
  }

  outputSsrc(ssrc: number): SsrcContext {
    return this.dst.ssrcOut.get(ssrc);
  }
}

/** Whether the native fast path forwards for a stream, and if not, why (for `query`). */
export interface FastPathState {
  native: boolean;
  reason: string;
}

/** Every stream's state until kernelize decides (replaced, never changed in place: shared). */
const NOT_EVALUATED: FastPathState = { native: false, reason: 'not evaluated yet' };

/** A bound local socket; the entry point of packets (rtpengine's stream_fd). */
export class StreamFd {
  stream: PacketStream | null;
  /** Set when the socket is owned by the native fast path (audited as a NativeSocket). */
  nativeLeak: LeakHandle | null = null;
  constructor(
    stream: PacketStream,
    readonly socket: MediaSocket,
    readonly local: LocalAddress,
    readonly leak: LeakHandle,
  ) {
    this.stream = stream;
  }

  get localPort(): number {
    return this.socket.localPort;
  }
}

export class PacketStream {
  /** Set by signalling: the bound socket this stream receives on and sends from. */
  selectedFd: StreamFd | null = null;
  /** Where the SDP says this participant receives (its advertised endpoint). */
  advertisedEndpoint: Endpoint | null = null;
  /** Where we send to: the advertised endpoint until a packet teaches us otherwise. */
  endpoint: Endpoint | null = null;
  /** Learned from a packet and confirmed (learning finished). */
  confirmed = false;
  firstPacketMs = 0;
  learnScore = 0;
  learning: LearningMode = 'delayed';
  strictSource = false;
  mediaHandover = false;
  /** RTCP shares the RTP port on the receiving side (rtcp-mux accepted for this participant). */
  rtcpMux = false;
  /** Not an RTP protocol (e.g. `udptl` for T.38): relayed as plain UDP without RTP checks. */
  plainUdp = false;
  rtpSinks: SinkHandler[] = [];
  rtcpSinks: SinkHandler[] = [];
  readonly stats: StreamStats = { packets: 0, bytes: 0, errors: 0, lastPacketMs: 0 };
  /** Per-SSRC state of what the participant sends us (input) and what we send it (output). */
  readonly ssrcIn: SsrcTable;
  readonly ssrcOut: SsrcTable;
  /** Runs once per received packet (plain, or SRTP decrypt); chosen by signalling. */
  input: InputHandler = PLAIN;
  /** What `input` was chosen from (signalling re-decides only when it changes). */
  inputSpec: TransportSpec | null = null;
  /** block/silence media, block DTMF, DTMF logging (null: nothing to do, the common case). */
  control: StreamControl | null = null;
  /** Clock rate of the participant's main codec (jitter of what it sends is in its units). */
  clockRate = 8000;
  /** Quality figures from the RTCP this participant sends (report blocks about what it receives). */
  rtcpQuality: RtcpQuality | null = null;
  /** `generate RTCP`: what the participant sends is read, not relayed (the relay sends its own). */
  consumeRtcp = false;
  /** Demux hooks for STUN (ICE) and DTLS; without one such packets are counted and dropped. */
  stun: StunHook | null = null;
  dtls: DtlsHook | null = null;
  /** `ICE=force-relay`: STUN is the peers' own end-to-end ICE, relayed like media rather than answered. */
  stunPassthrough = false;
  /**
   * BUNDLE: this stream shares its m= line's port with others of the participant (the head's
   * socket); packets arriving on the head are demultiplexed to their m= line's stream first.
   */
  bundle: BundleDemux | null = null;
  /** `play media` with `block-egress` is playing to this participant: forwarded RTP toward it is dropped. */
  blockEgress = false;
  egressBlocked = 0;
  /** True while the fast path forwards for this stream. */
  kernelized = false;
  /** Set by kernelize: why the stream is (not) on the fast path. */
  fastPath: FastPathState = NOT_EVALUATED;

  constructor(
    /** The owning call; re-pointed only when calls merge (rehome). */
    public gate: CallGate,
    /** 1 = RTP, 2 = RTCP (the component of its m= line). */
    readonly component: 1 | 2,
    readonly leak: LeakHandle,
  ) {
    this.ssrcIn = new SsrcTable(gate, 'in');
    this.ssrcOut = new SsrcTable(gate, 'out');
  }

  get isRtcp(): boolean {
    return this.component === 2;
  }

  /** Calls merged: this stream (and its SSRC tables) now belongs to `gate`. */
  rehome(gate: CallGate): void {
    this.gate = gate;
    this.ssrcIn.rehome(gate);
    this.ssrcOut.rehome(gate);
  }

  /** Resets learning when signalling gives a new SDP endpoint (re-INVITE with a new address/port). */
  setAdvertised(ep: Endpoint | null): void {
    const changed = !this.advertisedEndpoint || !ep || this.advertisedEndpoint.address !== ep.address || this.advertisedEndpoint.port !== ep.port;
    this.advertisedEndpoint = ep;
    if (changed) {
      this.endpoint = ep;
      this.confirmed = false;
      this.firstPacketMs = 0;
      this.learnScore = 0;
    }
  }

  /** Can we send to this stream? Not before an address is known, never to 0.0.0.0 (hold). */
  sendable(): Endpoint | null {
    const ep = this.endpoint;
    if (!ep || ep.port === 0 || isHoldAddress(ep.address)) return null;
    return ep;
  }
}
