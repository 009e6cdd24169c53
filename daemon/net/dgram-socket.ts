/** MediaSocket on Node's dgram: the JS path (and the fallback when the fast path is off). */
import { createSocket, type Socket } from 'node:dgram';
import {
  PortInUseError,
  type AddressFamily,
  type MediaSocket,
  type MediaSocketFactory,
  type PacketHandler,
} from './media-socket.js';

class DgramMediaSocket implements MediaSocket {
  private closed = false;
  constructor(
    private readonly socket: Socket,
    readonly family: AddressFamily,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

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
    this.socket.removeAllListeners('message');
    this.socket.close();
  }
}

export const dgramSocketFactory: MediaSocketFactory = {
  kind: 'dgram',
  open(address: string, port: number, family: AddressFamily, onPacket: PacketHandler): Promise<MediaSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
      const fam: AddressFamily = family;
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(address, port, { cause: err }) : err);
      };
      socket.once('error', onError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onError);
        // Send errors (ICMP unreachable surfacing as ECONNREFUSED etc.) must never crash the daemon.
        socket.on('error', () => undefined);
        socket.on('message', (data, rinfo) => onPacket(data, { address: rinfo.address, port: rinfo.port, family: fam }));
        resolve(new DgramMediaSocket(socket, family, address, port));
      });
    });
  },
};
