/**
 * One consistent reading of everything the daemon counts, taken once per `statistics`
 * command, CLI `list totals` or `/metrics` scrape (Daemon.statsSnapshot()). Plain data: the
 * stats room knows nothing about calls, sockets or the control transports that fill it.
 */
import type { GlobalCounter } from './counters.js';

export interface TrafficTotals {
  packets: number;
  bytes: number;
  errors: number;
}

/** One ng command of one proxy (rtpengine's control_ng_stats, per source address). */
export interface ProxyCommandStats {
  /** ng command name (`offer`, `start recording`, …). */
  name: string;
  /** rtpengine's short name (`Offer`, `StartRec`, …), lower-cased into `offercount`. */
  short: string;
  count: number;
  seconds: number;
}

export interface ProxyStats {
  /** Source address of the proxy (no port), as rtpengine keys it. */
  proxy: string;
  commands: ProxyCommandStats[];
  errors: number;
}

export interface InterfacePorts {
  name: string;
  address: string;
  min: number;
  max: number;
  used: number;
  free: number;
  total: number;
}

export interface StatsSnapshot {
  uptimeSeconds: number;
  /** Event counters; relayed* hold the calls already torn down. */
  counters: Readonly<Record<GlobalCounter, number>>;
  sessions: { own: number; foreign: number; transcoded: number };
  /** Traffic of the calls still running. */
  live: { RTP: TrafficTotals; RTCP: TrafficTotals };
  /** What the native fast path forwarded since start (part of the relayed totals). */
  kernel: { packets: number; bytes: number };
  fastPath: { enabled: boolean; entries: number; sockets: number };
  proxies: ProxyStats[];
  /** Every ng command in table order (names and short names), for totals of zero. */
  commands: ReadonlyArray<{ name: string; short: string }>;
  leaks: { live: Record<string, number>; leaked: number; reachableAfterRelease: number; transientReachable: number; doubleRelease: number };
  cookieCache: { entries: number; bytes: number };
  interfaces: InterfacePorts[];
  /** Calls that used each rtpengine flag this daemon does not implement yet (call/unsupported-flags.ts). */
  unsupportedFlags?: Record<string, number>;
}
