/**
 * Local interfaces (`-i NAME/ADDR!ADVERTISED`): logical names over one or more addresses, each
 * address with its own port pool. `openPair()` reserves an even/odd pair and binds both sockets
 * to the address itself (never the wildcard); a port taken by someone else is skipped.
 */
import type { InterfaceSpec } from '../config/config.js';
import { PortsExhaustedError } from '../errors.js';
import { PortPool } from './port-pool.js';
import type { AllocationPause } from './test-pause.js';
import { PortInUseError, type AddressFamily, type MediaSocket, type MediaSocketFactory, type PacketHandler } from './media-socket.js';

/** Socket errors that mean the process or system is out of resources, not this port. */
const RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

export class LocalAddress {
  readonly pool: PortPool;
  constructor(
    readonly name: string,
    readonly address: string,
    readonly advertised: string,
    readonly family: AddressFamily,
    portMin: number,
    portMax: number,
  ) {
    this.pool = new PortPool(portMin, portMax);
  }
}

export interface OpenedPair {
  local: LocalAddress;
  port: number;
  rtp: MediaSocket;
  rtcp: MediaSocket;
}

export class InterfaceSet {
  readonly addresses: LocalAddress[];
  /** Test-only (RTPENGINE_TS_TEST_PAUSE): holds an allocation at its await; null in production. */
  allocationPause: AllocationPause | null = null;

  constructor(specs: readonly InterfaceSpec[], portMin: number, portMax: number) {
    this.addresses = specs.map((s) => new LocalAddress(s.name, s.address, s.advertised, s.family, portMin, portMax));
  }

  names(): string[] {
    return [...new Set(this.addresses.map((a) => a.name))];
  }

  /**
   * The address to use for a logical interface name and family. Unknown names fall back the
   * way rtpengine's legacy `internal`/`external` direction keywords do: to the default set.
   */
  select(name: string | undefined, family: AddressFamily | undefined): LocalAddress | undefined {
    let candidates = name ? this.addresses.filter((a) => a.name === name) : [];
    if (candidates.length === 0) candidates = this.addresses.filter((a) => a.name === 'default');
    if (candidates.length === 0) candidates = this.addresses;
    return (family ? candidates.find((a) => a.family === family) : undefined) ?? candidates[0];
  }

  hasName(name: string): boolean {
    return this.addresses.some((a) => a.name === name);
  }

  async openPair(local: LocalAddress, factory: MediaSocketFactory, onRtp: PacketHandler, onRtcp: PacketHandler): Promise<OpenedPair> {
    for (const port of local.pool.candidates()) {
      local.pool.reserve(port);
      let rtp: MediaSocket | undefined;
      try {
        rtp = await factory.open(local.address, port, local.family, onRtp);
        const rtcp = await factory.open(local.address, port + 1, local.family, onRtcp);
        if (this.allocationPause) await this.allocationPause(`${local.address}:${port}`);
        return { local, port, rtp, rtcp };
      } catch (err) {
        rtp?.close();
        local.pool.release(port);
        if (err instanceof PortInUseError) continue;
        // out of file descriptors or socket buffers: the same for every port, a clear refusal
        const code = (err as NodeJS.ErrnoException).code;
        if (code && RESOURCE_ERRORS.has(code)) throw new PortsExhaustedError(`cannot open sockets on ${local.address}: ${code}`);
        throw err;
      }
    }
    throw new PortsExhaustedError(`no free port pair on ${local.name}/${local.address}`);
  }
}
