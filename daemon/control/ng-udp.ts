/**
 * The ng transport over UDP (rtpengine's control_ng.c listener): one datagram is one
 * `<cookie> <body>` message; the reply goes from the listening socket back to the sender.
 * The sockets are the addon's when it is loaded (commands read in recvmmsg batches, replies
 * sent with sendmmsg: kernel/native-ng.ts), else Node's dgram (net/datagram-listener.ts).
 */
import type { ListenSpec } from '../config/config.js';
import { log } from '../log/logger.js';
import type { Endpoint } from '../net/endpoint.js';
import { dgramListeners, type DatagramListener, type DatagramListenerFactory } from '../net/datagram-listener.js';
import type { NgDispatcher } from './ng-dispatcher.js';

export class NgUdpTransport {
  private readonly listeners: DatagramListener[] = [];

  constructor(
    private readonly dispatcher: NgDispatcher,
    private readonly sockets: DatagramListenerFactory = dgramListeners,
  ) {}

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const spec of specs) {
      const listener = await this.sockets.listen(spec.address, spec.port, (msg, from, via) => void this.onDatagram(via, msg, from));
      this.listeners.push(listener);
      log().info({ address: spec.address, port: spec.port, io: this.sockets.kind }, 'Listening for ng commands (UDP)');
    }
  }

  private async onDatagram(listener: DatagramListener, msg: Buffer, from: Endpoint): Promise<void> {
    const reply = await this.dispatcher.handleMessage(msg, `${from.address}:${from.port}`);
    if (!reply) return;
    // false: a command that finished after shutdown closed the listener (it waited for its call)
    if (!listener.send(reply, from)) log().debug({ to: `${from.address}:${from.port}` }, 'ng reply not sent: listener closed or send failed');
  }

  close(): void {
    for (const l of this.listeners) l.close();
    this.listeners.length = 0;
  }
}
