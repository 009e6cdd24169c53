/** What the call room needs from the daemon: built once in main.ts and shared by every call. */
import type { Config } from '../config/config.js';
import type { LeakRegistry } from '../leak/registry.js';
import type { InterfaceSet } from '../net/interfaces.js';
import type { MediaSocketFactory } from '../net/media-socket.js';
import type { Counters } from '../stats/counters.js';
import type { Kernelizer } from '../kernel/kernelize.js';

export interface CallContext {
  config: Config;
  interfaces: InterfaceSet;
  leaks: LeakRegistry;
  counters: Counters;
  sockets: MediaSocketFactory;
  kernel: Kernelizer | null;
}
