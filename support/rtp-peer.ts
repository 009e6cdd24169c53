/**
 * A call participant's media end: a real UDP socket that sends RTP/RTCP and collects what
 * arrives, with bounded waits. Tests use it on 127.0.0.1 / ::1 only.
 */
import dgram from 'node:dgram';

export { rtcpPacket, rtpPacket } from './rtp.js';

export interface Received {
  data: Buffer;
  address: string;
  port: number;
}

export class RtpPeer {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (data, rinfo) => {
      this.received.push({ data, address: rinfo.address, port: rinfo.port });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(address = '127.0.0.1', port = 0): Promise<RtpPeer> {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
    return new RtpPeer(socket, address, socket.address().port);
  }

  send(data: Buffer, port: number, address = this.address): void {
    this.socket.send(data, port, address);
  }

  /** Waits until `count` datagrams (in total) have arrived, or the timeout passes. */
  async waitFor(count: number, timeoutMs = 2000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Waits a quiet period and returns what arrived (for "nothing must arrive" checks). */
  async settle(ms = 300): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.received;
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): void {
    this.socket.close();
  }
}
