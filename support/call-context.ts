/**
 * A CallContext built in-process (no daemon, no ng transport) for object-level tests and the
 * packet-path benchmark: the real config parser, interface set, leak registry, counters and
 * dgram sockets. `args` are daemon command-line options (the interface and port range included).
 */
import { AllocationsInFlight } from '../daemon/call/allocations-in-flight.js';
import type { CallContext } from '../daemon/call/context.js';
import { loadConfig } from '../daemon/config/config.js';
import { LeakRegistry } from '../daemon/leak/registry.js';
import { dgramSocketFactory } from '../daemon/net/dgram-socket.js';
import { InterfaceSet } from '../daemon/net/interfaces.js';
import { Counters } from '../daemon/stats/counters.js';

export function inProcessCallContext(args: string[], overrides: Partial<CallContext> = {}): CallContext {
  const config = loadConfig(['--config-file=none', ...args]);
  return {
    config,
    interfaces: new InterfaceSet(config.interfaces, config.portMin, config.portMax),
    leaks: new LeakRegistry('summary'),
    counters: new Counters(),
    sockets: dgramSocketFactory,
    kernel: null,
    allocations: new AllocationsInFlight(),
    ...overrides,
  };
}
