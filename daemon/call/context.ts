/** What the call room needs from the daemon: built once in main.ts and shared by every call. */
import type { Config } from '../config/config.js';
import type { LeakRegistry } from '../leak/registry.js';
import type { InterfaceSet } from '../net/interfaces.js';
import type { MediaSocketFactory } from '../net/media-socket.js';
import type { Counters } from '../stats/counters.js';
import type { Kernelizer } from '../kernel/kernelize.js';
import type { CodecHandlerFactory } from '../codec/codec-handler.js';
import type { TransportHandlerFactory } from '../crypto/transport-handler.js';
import type { DtlsCertificates } from '../crypto/dtls-cert.js';
import type { DtmfLogger } from '../log/dtmf-log.js';
import type { AllocationsInFlight } from './allocations-in-flight.js';

export interface CallContext {
  config: Config;
  interfaces: InterfaceSet;
  leaks: LeakRegistry;
  counters: Counters;
  sockets: MediaSocketFactory;
  kernel: Kernelizer | null;
  /** The addon when it owns the media sockets (fast path or JS-path I/O): its live counts are audited per teardown. */
  native?: { nativeLive(): { sockets: number; entries: number } } | null;
  /** Port allocations opened but not yet registered: the addon's audit waits for them (allocations-in-flight.ts). */
  allocations: AllocationsInFlight;
  /** DTMF event logging (--dtmf-log-dest); absent: events are only logged. */
  dtmfLog?: DtmfLogger;
  /** The handler factories the chain decision asks; default: the codec and crypto rooms' registries. */
  handlerFactories?: HandlerFactories;
  /** DTLS-SRTP (call-dtls.ts): the certificates, or why there are none (absent: no DTLS). */
  dtls?: DtlsContext;
}

export interface DtlsContext {
  certs: DtlsCertificates | null;
  /** Why `certs` is null: the error reply of an offer that needs DTLS. */
  unavailable: string;
  /** `--dtls-passive`: prefer the passive role. */
  passive: boolean;
  /** `--dtls-mtu`. */
  mtu: number;
  /** How long a handshake may take (HANDSHAKE_LIMIT_MS; tests shorten it). */
  handshakeMs?: number;
}

export interface HandlerFactories {
  codec: readonly CodecHandlerFactory[];
  transport: readonly TransportHandlerFactory[];
}
