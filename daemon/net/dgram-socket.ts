/** MediaSocket on Node's dgram: the JS path (and the fallback when the fast path is off). */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import {
  PortInUseError,
  type AddressFamily,
  type MediaSocket,
  type MediaSocketFactory,
  type PacketHandler,
} from './media-socket.js';

/** Send errors (ICMP unreachable surfacing as ECONNREFUSED etc.) must never crash the daemon. */
function ignoreError(): void {}

/**
 * Ownership: the packet handler (and through it the StreamFd) is reachable only through this
 * object while it is open. Node keeps a closed dgram socket alive until its handle's close
 * callback has run (a later phase of the event loop); at close the handler is dropped and no
 * listener that could reach it stays on the socket, so a socket whose close is in flight
 * never holds a released StreamFd.
 */
class DgramMediaSocket implements MediaSocket {
  private closed = false;
  private handler: PacketHandler | null;
  constructor(
    private readonly socket: Socket,
    readonly family: AddressFamily,
    readonly localAddress: string,
    readonly localPort: number,
    handler: PacketHandler,
  ) {
    this.handler = handler;
    socket.on('message', (data, rinfo) => this.handler?.(data, { address: rinfo.address, port: rinfo.port, family }));
  }

  send(data: Buffer, port: number, address: string): boolean {
    if (this.closed) return false;
    try {
      this.socket.send(data, port, address);
      return true;
    } catch {
      return false;
    }
  }

  /** Node's dgram has no IP_TOS setter: the JS path leaves TOS untouched (the fast path sets it). */
  setTos(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = null;
    this.socket.removeAllListeners('message');
    this.socket.close();
  }
}

/**
 * Media sockets bind to interface addresses and ng replies go to the sender's address, always IP
 * literals: answered on the spot, so bind() completes (or fails) synchronously and send() writes
 * the datagram at once, instead of after a dns.lookup round through the event loop. Anything
 * else still goes through dns.lookup.
 */
export const literalLookup: NonNullable<SocketOptions['lookup']> = (address, options, callback) => {
  const family = isIP(address);
  if (family === 0) {
    dnsLookup(address, options, callback);
    return;
  }
  callback(null, address, family);
};

export const dgramSocketFactory: MediaSocketFactory = {
  kind: 'dgram',
  open(address: string, port: number, family: AddressFamily, onPacket: PacketHandler): Promise<MediaSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(address, port, { cause: err }) : err);
      };
      socket.once('error', onError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onError);
        // a module-level function: a closure here would keep this scope (and onPacket) alive
        // for as long as the socket object lives, which outlasts close()
        socket.on('error', ignoreError);
        resolve(new DgramMediaSocket(socket, family, address, port, onPacket));
      });
    });
  },
};
