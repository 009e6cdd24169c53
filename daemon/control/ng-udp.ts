/**
 * The ng transport over UDP (rtpengine's control_ng.c listener): one datagram is one
 * `<cookie> <body>` message; the reply goes from the listening socket back to the sender.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { ListenSpec } from '../config/config.js';
import { log } from '../log/logger.js';
import { literalLookup } from '../net/dgram-socket.js';
import { whenListening } from '../net/listen.js';
import type { NgDispatcher } from './ng-dispatcher.js';

export class NgUdpTransport {
  private readonly sockets: Socket[] = [];

  constructor(private readonly dispatcher: NgDispatcher) {}

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const spec of specs) {
      const socket = createSocket({ type: spec.address.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup });
      await whenListening(socket, (done) => socket.bind(spec.port, spec.address, done));
      socket.on('error', (err) => log().warn({ err: err.message }, 'ng socket error'));
      socket.on('message', (msg, rinfo) => void this.onDatagram(socket, msg, rinfo));
      this.sockets.push(socket);
      log().info({ address: spec.address, port: spec.port }, 'Listening for ng commands (UDP)');
    }
  }

  private async onDatagram(socket: Socket, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const reply = await this.dispatcher.handleMessage(msg, `${rinfo.address}:${rinfo.port}`);
    if (!reply) return;
    try {
      socket.send(reply, rinfo.port, rinfo.address);
    } catch (err) {
      // a command that finished after shutdown closed the listener (it waited for its call)
      log().debug({ err: err instanceof Error ? err.message : String(err) }, 'ng reply not sent: listener closed');
    }
  }

  close(): void {
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }
}
