/**
 * A control protocol's UDP listener (ng, rtpengine's control_ng.c): datagrams in, each reply
 * back to its sender from the listening socket. Two implementations: Node's dgram here (the
 * fallback when the addon is absent), and the addon's batched socket (kernel/native-ng.ts).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressFamily, Endpoint } from './endpoint.js';
import { log } from '../log/logger.js';
import { literalLookup } from './dgram-socket.js';
import { whenListening } from './listen.js';

/** `via`: the listener it arrived on (the reply leaves through it). */
export type DatagramHandler = (msg: Buffer, from: Endpoint, via: DatagramListener) => void;

export interface DatagramListener {
  /**
   * Sends `data` to `to`, at once or with the batch the listener flushes before the event loop
   * waits again; false when it cannot (closed, or the send failed at once).
   */
  send(data: Buffer, to: Endpoint): boolean;
  /** Stops reading; replies already queued leave first. Idempotent. */
  close(): void;
}

export interface DatagramListenerFactory {
  /** `native` (the addon) or `dgram`: logged, so a test can tell which one serves. */
  readonly kind: 'native' | 'dgram';
  /** Binds; rejects with the bind error (its `code`, e.g. EADDRINUSE) when it cannot. */
  listen(address: string, port: number, onDatagram: DatagramHandler): Promise<DatagramListener>;
}

class DgramListener implements DatagramListener {
  private closed = false;
  constructor(private readonly socket: Socket) {}

  send(data: Buffer, to: Endpoint): boolean {
    if (this.closed) return false;
    try {
      this.socket.send(data, to.port, to.address);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}

export const dgramListeners: DatagramListenerFactory = {
  kind: 'dgram',
  async listen(address, port, onDatagram) {
    const family: AddressFamily = address.includes(':') ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
    await whenListening(socket, (done) => socket.bind(port, address, done));
    socket.on('error', (err) => log().warn({ err: err.message }, 'UDP control socket error'));
    const listener = new DgramListener(socket);
    socket.on('message', (msg, rinfo) => onDatagram(msg, { address: rinfo.address, port: rinfo.port, family }, listener));
    return listener;
  },
};
