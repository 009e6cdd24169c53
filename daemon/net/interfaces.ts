/**
 * Local interfaces as rtpengine configures them (`-i [NAME/]ADDR[!ADVERTISED]`, `-i ALIAS=NAME`):
 * logical interfaces by name, each over one or more local addresses, every address with its own
 * port pool. `openPair()` reserves an even/odd pair and binds both sockets to the address itself
 * (never the wildcard); a port taken by someone else is skipped.
 *
 * Selection (rtpengine's get_logical_interface):
 * - no name: the first logical interface that has the wanted family; if its name is
 *   `BASE:SUFFIX`, round-robin over every interface of that BASE;
 * - a configured name or alias: that interface;
 * - a BASE of `BASE:SUFFIX` names (or the legacy keyword `round-robin-calls`, over all):
 *   round-robin, skipping interfaces whose pools of that family are exhausted;
 * - an unknown name: the no-name choice (`internal`/`external` pick IPv4/IPv6 when no interface
 *   of that name exists, rtpengine's legacy rule); the caller logs it.
 * Within one logical interface the first address of a family is its primary address; the
 * next one of that family is used when the primary's pool is exhausted.
 */
import type { InterfaceAlias, InterfaceSpec } from '../config/config.js';
import { PortsExhaustedError } from '../errors.js';
import { PortPool } from './port-pool.js';
import type { AllocationPause } from './test-pause.js';
import { PortInUseError, type AddressFamily, type MediaSocket, type MediaSocketFactory, type PacketHandler } from './media-socket.js';

/** Socket errors that mean the process or system is out of resources, not this port. */
const RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/** rtpengine's legacy direction keyword: round-robin over every interface. */
export const ROUND_ROBIN_ALL = 'round-robin-calls';

export class LocalAddress {
  readonly pool: PortPool;
  constructor(
    /** The logical interface's name (never an alias). */
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

/** One logical interface: a name over local addresses in configuration order. */
export class LogicalInterface {
  readonly addresses: LocalAddress[] = [];
  /** `pub` for `pub:1`; null for a name without a suffix. */
  readonly base: string | null;
  constructor(readonly name: string) {
    const colon = name.indexOf(':');
    this.base = colon > 0 ? name.slice(0, colon) : null;
  }

  ofFamily(family: AddressFamily | undefined): LocalAddress[] {
    return family === undefined ? this.addresses : this.addresses.filter((a) => a.family === family);
  }

  /** Some address of the family still has a free pair (rtpengine's "enough open ports"). */
  hasFreePorts(family: AddressFamily | undefined): boolean {
    return this.ofFamily(family).some((a) => a.pool.free > 0);
  }
}

/** How a name resolved: the candidate interfaces in the order they are to be tried. */
export interface InterfaceChoice {
  candidates: LogicalInterface[];
  /** The family to use when the name itself chose it (legacy `internal`/`external`). */
  family: AddressFamily | undefined;
  /** The name was neither an interface, an alias nor a round-robin base. */
  unknown: boolean;
}

export interface OpenedPair {
  local: LocalAddress;
  port: number;
  rtp: MediaSocket;
  rtcp: MediaSocket;
}

export class InterfaceSet {
  readonly addresses: LocalAddress[];
  readonly logicals: LogicalInterface[] = [];
  private readonly byName = new Map<string, LogicalInterface>();
  /** Round-robin position per BASE (and for ROUND_ROBIN_ALL). */
  private readonly rrCursor = new Map<string, number>();
  /** Test-only (RTPENGINE_TS_TEST_PAUSE): holds an allocation at its await; null in production. */
  allocationPause: AllocationPause | null = null;

  constructor(specs: readonly InterfaceSpec[], portMin: number, portMax: number, aliases: readonly InterfaceAlias[] = []) {
    this.addresses = specs.map((s) => new LocalAddress(s.name, s.address, s.advertised, s.family, portMin, portMax));
    for (const local of this.addresses) {
      let logical = this.byName.get(local.name);
      if (!logical) {
        logical = new LogicalInterface(local.name);
        this.byName.set(local.name, logical);
        this.logicals.push(logical);
      }
      logical.addresses.push(local);
    }
    for (const { alias, target } of aliases) {
      const logical = this.byName.get(target);
      if (logical && !this.byName.has(alias)) this.byName.set(alias, logical);
    }
  }

  /** Interface names and aliases, configuration order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  hasName(name: string): boolean {
    return this.byName.has(name) || this.logicals.some((l) => l.base === name) || name === ROUND_ROBIN_ALL;
  }

  /** A requested name that selects nothing (the default is used; `internal`/`external` are legacy keywords). */
  isUnknown(name: string | undefined): boolean {
    return name !== undefined && name !== '' && name !== 'internal' && name !== 'external' && !this.hasName(name);
  }

  /** The logical interface a name or alias stands for (not round-robin bases). */
  logical(name: string): LogicalInterface | undefined {
    return this.byName.get(name);
  }

  /** Resolves a requested interface name for a wanted family into the interfaces to try, in order. */
  resolve(name: string | undefined, family: AddressFamily | undefined): InterfaceChoice {
    if (name) {
      const exact = this.byName.get(name);
      if (exact) return { candidates: [exact], family, unknown: false };
      if (name === ROUND_ROBIN_ALL) return { candidates: this.roundRobin(name, this.logicals, family), family, unknown: false };
      const group = this.logicals.filter((l) => l.base === name);
      if (group.length > 0) return { candidates: this.roundRobin(name, group, family), family, unknown: false };
    }
    let fam = family;
    if (name === 'internal') fam = 4;
    else if (name === 'external') fam = 6;
    const withFamily = this.logicals.filter((l) => l.ofFamily(fam).length > 0);
    const first = withFamily[0] ?? this.logicals[0];
    const unknown = name !== undefined && name !== '' && name !== 'internal' && name !== 'external';
    if (!first) return { candidates: [], family: fam, unknown };
    if (first.base !== null) {
      const group = withFamily.filter((l) => l.base === first.base);
      return { candidates: this.roundRobin(first.base, group, fam), family: fam, unknown };
    }
    return { candidates: [first], family: fam, unknown };
  }

  /**
   * The rotation of a round-robin group starting after the last one chosen, interfaces with no
   * free ports of the family moved to the end (rtpengine skips them; we still try them last).
   */
  private roundRobin(key: string, group: LogicalInterface[], family: AddressFamily | undefined): LogicalInterface[] {
    const eligible = group.filter((l) => l.ofFamily(family).length > 0);
    const list = eligible.length > 0 ? eligible : group;
    if (list.length === 0) return [];
    const start = (this.rrCursor.get(key) ?? -1) + 1;
    const rotated = list.map((_, i) => list[(start + i) % list.length] as LogicalInterface);
    const withPorts = rotated.filter((l) => l.hasFreePorts(family));
    const ordered = [...withPorts, ...rotated.filter((l) => !withPorts.includes(l))];
    const chosen = ordered[0] as LogicalInterface;
    this.rrCursor.set(key, list.indexOf(chosen));
    return ordered;
  }

  /**
   * The primary address for a name and family (first candidate interface, first address of the
   * family, else its first address). For callers that need an address without allocating.
   */
  select(name: string | undefined, family: AddressFamily | undefined): LocalAddress | undefined {
    const choice = this.resolve(name, family);
    const logical = choice.candidates[0];
    if (!logical) return undefined;
    return logical.ofFamily(choice.family)[0] ?? logical.addresses[0];
  }

  /** Whether an address already in use still satisfies a request (a re-offer keeps its ports). */
  accepts(name: string | undefined, family: AddressFamily | undefined, local: LocalAddress): boolean {
    if (family !== undefined && local.family !== family) return false;
    if (name) {
      const exact = this.byName.get(name);
      if (exact) return exact.addresses.includes(local);
      if (name === ROUND_ROBIN_ALL) return true;
      if (this.logicals.some((l) => l.base === name)) return this.byName.get(local.name)?.base === name;
    }
    // no name or an unknown one: whatever the default choice is; the first pick stays
    const choice = this.resolveWithoutRotating(name, family);
    return choice.some((l) => l.addresses.includes(local));
  }

  private resolveWithoutRotating(name: string | undefined, family: AddressFamily | undefined): LogicalInterface[] {
    let fam = family;
    if (name === 'internal') fam = 4;
    else if (name === 'external') fam = 6;
    const withFamily = this.logicals.filter((l) => l.ofFamily(fam).length > 0);
    const first = withFamily[0] ?? this.logicals[0];
    if (!first) return [];
    return first.base !== null ? withFamily.filter((l) => l.base === first.base) : [first];
  }

  /**
   * Opens an RTP/RTCP pair for a request: candidate interfaces in order, within each the
   * addresses of the family in order; an exhausted pool moves on to the next address.
   */
  async openFor(
    name: string | undefined,
    family: AddressFamily | undefined,
    factory: MediaSocketFactory,
    onRtp: PacketHandler,
    onRtcp: PacketHandler,
    /** The logical interface the side's other medias use: taken again, no new round-robin pick. */
    prefer?: string,
  ): Promise<OpenedPair> {
    const preferred = prefer !== undefined ? this.byName.get(prefer) : undefined;
    const choice = preferred && preferred.addresses.some((a) => this.accepts(name, family, a))
      ? { candidates: [preferred], family, unknown: false }
      : this.resolve(name, family);
    const tried: string[] = [];
    for (const logical of choice.candidates) {
      const locals = logical.ofFamily(choice.family);
      for (const local of locals.length > 0 ? locals : logical.addresses) {
        try {
          return await this.openPair(local, factory, onRtp, onRtcp);
        } catch (err) {
          if (!(err instanceof PortsExhaustedError) || err.scope !== 'pool') throw err;
          tried.push(`${local.name}/${local.address}`);
        }
      }
    }
    throw new PortsExhaustedError(tried.length > 0 ? `no free port pair on ${tried.join(', ')}` : 'no local interface');
  }

  async openPair(local: LocalAddress, factory: MediaSocketFactory, onRtp: PacketHandler, onRtcp: PacketHandler): Promise<OpenedPair> {
    for (const port of local.pool.candidates()) {
      local.pool.reserve(port);
      let rtp: MediaSocket | undefined;
      try {
        let rtcp: MediaSocket;
        if (factory.openPair) [rtp, rtcp] = await factory.openPair(local.address, port, local.family, onRtp, onRtcp);
        else {
          rtp = await factory.open(local.address, port, local.family, onRtp);
          rtcp = await factory.open(local.address, port + 1, local.family, onRtcp);
        }
        if (this.allocationPause) await this.allocationPause(`${local.address}:${port}`);
        return { local, port, rtp, rtcp };
      } catch (err) {
        rtp?.close();
        local.pool.release(port);
        if (err instanceof PortInUseError) continue;
        // out of file descriptors or socket buffers: the same for every port, a clear refusal
        const code = (err as NodeJS.ErrnoException).code;
        if (code && RESOURCE_ERRORS.has(code)) throw new PortsExhaustedError(`cannot open sockets on ${local.address}: ${code}`, 'resources');
        throw err;
      }
    }
    throw new PortsExhaustedError(`no free port pair on ${local.name}/${local.address}`);
  }
}
