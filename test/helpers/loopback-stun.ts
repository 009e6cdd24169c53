/**
 * werift always gathers a server-reflexive candidate, and with no STUN server configured it
 * asks a public one (stun.l.google.com): a DNS query and STUN requests off this machine, which
 * the tests must never send. This is a STUN binding server on 127.0.0.1 for werift to ask
 * instead, so gathering ends at once and nothing leaves loopback.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { PeerConfig } from 'werift';
import { Attr, decodeStun, encodeStun, METHOD_BINDING, StunClass, xorAddressValue } from '../../daemon/ice/stun.js';

export class LoopbackStunServer {
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<LoopbackStunServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.on('message', (data, rinfo) => {
      const msg = decodeStun(data);
      if (!msg || msg.method !== METHOD_BINDING || msg.cls !== StunClass.Request) return;
      const mapped = xorAddressValue({ address: rinfo.address, port: rinfo.port, family: 4 }, msg.transactionId);
      socket.send(encodeStun(METHOD_BINDING, StunClass.Success, msg.transactionId, [{ type: Attr.XorMappedAddress, value: mapped }], { fingerprint: true }), rinfo.port, rinfo.address);
    });
    return new LoopbackStunServer(socket, socket.address().port);
  }

  /** werift's ICE settings for a peer that gathers and checks on 127.0.0.1 only. */
  weriftIce(): Partial<PeerConfig> {
    return {
      iceServers: [{ urls: `stun:127.0.0.1:${this.port}` }],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceUseIpv6: false,
      // werift also gathers the machine's other addresses: loopback only, on its side and ours
      iceFilterCandidatePair: (pair) => pair.toJSON().localCandidate.includes('127.0.0.1'),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
