/**
 * The packet path's objects (rtpengine's packet_stream, stream_fd, sink_handler).
 *
 * Owner and lifetime: all three are owned by their Call through its primary containers and are
 * created/changed only by signalling under the call's write lock; the packet path reads them
 * under the read side (see CallGate). Teardown releases them by walking the call's lists.
 */
import type { LeakHandle } from '../leak/registry.js';
import type { AddressFamily, MediaSocket } from '../net/media-socket.js';
import type { LocalAddress } from '../net/interfaces.js';
import type { SrtpContext } from '../crypto/srtp.js';

export interface Endpoint {
  address: string;
  port: number;
  family: AddressFamily;
}

export type LearningMode = 'delayed' | 'immediate' | 'off' | 'heuristic';

/** What the packet path needs from the call (implemented by call/Call). */
export interface CallGate {
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

/** The SinkHandler: where a stream's packets go (rtpengine's sink_handler). */
export class SinkHandler {
  constructor(
    readonly dst: PacketStream,
    readonly leak: LeakHandle,
  ) {}
}

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

export const MAX_SSRCS = 16;

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
  readonly ssrcs = new Set<number>();
  /** True while the fast path forwards for this stream. */
  kernelized = false;
  /**
   * SRTP toward and from this participant (set by signalling; shared by the RTP and RTCP
   * streams of a media): packets it sends are decrypted with srtpIn, packets sent to it are
   * encrypted with srtpOut. Null: plain RTP that way.
   */
  srtpIn: SrtpContext | null = null;
  srtpOut: SrtpContext | null = null;

  constructor(
    readonly gate: CallGate,
    /** 1 = RTP, 2 = RTCP (the component of its m= line). */
    readonly component: 1 | 2,
    readonly leak: LeakHandle,
  ) {}

  get isRtcp(): boolean {
    return this.component === 2;
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
    if (!ep || ep.port === 0 || ep.address === '0.0.0.0' || ep.address === '::') return null;
    return ep;
  }
}
