/**
 * The socket abstraction under every StreamFd. Two implementations exist: Node's dgram
 * (`dgram-socket.ts`) and the native fast path's addon-owned sockets (`daemon/kernel/`).
 * Signalling opens and closes them; the packet path only calls `send`.
 */
import type { AddressFamily, Endpoint } from './endpoint.js';

export type { AddressFamily };

/** Called synchronously for every datagram that reaches JS, in arrival order per socket. */
export type PacketHandler = (data: Buffer, from: Endpoint) => void;

export interface MediaSocket {
  readonly family: AddressFamily;
  readonly localAddress: string;
  readonly localPort: number;
  /** Sends one datagram; never throws for a transient send failure (counted by the caller). */
  send(data: Buffer, port: number, address: string): boolean;
  /** Sets the IP TOS / traffic class of outgoing packets (rtpengine's -T/--tos). */
  setTos(tos: number): void;
  close(): void;
}

/** Opening fails with this when the port is taken by someone else: the pool tries the next pair. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(address: string, port: number, options?: { cause?: unknown }) {
    super(`port ${address}:${port} is in use`, options);
    this.name = 'PortInUseError';
  }
}

export interface MediaSocketFactory {
  readonly kind: 'dgram' | 'native';
  /** Binds exactly `address:port` (never the wildcard). Rejects with PortInUseError if taken. */
  open(address: string, port: number, family: AddressFamily, onPacket: PacketHandler): Promise<MediaSocket>;
  /**
   * Optional: binds `port` and `port + 1` at once (an RTP/RTCP pair), the same as two open()s
   * — rejects as open() does for whichever port fails, leaving neither open — in one step.
   */
  openPair?(address: string, port: number, family: AddressFamily, onRtp: PacketHandler, onRtcp: PacketHandler): Promise<[MediaSocket, MediaSocket]>;
}
