/**
 * The one list of what this daemon reports (rtpengine's statistics_gather_metrics()): every
 * entry names its place in the ng `statistics` reply, its help text (also the CLI `list
 * totals` line) and its Prometheus name, type and labels. statistics.ts, the CLI and
 * prometheus.ts all render this list; nothing else defines a reported number.
 *
 * Names, help texts and labels are rtpengine's where rtpengine has the figure; figures only
 * this daemon has (per-protocol traffic, drops by reason, fast path, leak audit, cookie cache)
 * follow the same `rtpengine_` scheme.
 */
import type { StatsSnapshot } from './snapshot.js';

export type PromType = 'gauge' | 'counter';
export type Labels = Record<string, string>;

export interface PromSpec {
  /** Without the `rtpengine_` prefix. */
  name: string;
  type: PromType;
  labels?: Labels;
}

/** One number at one place of the `statistics` reply. */
export interface ScalarMetric {
  section: 'currentstatistics' | 'totalstatistics' | 'leakstatistics';
  key: string;
  help: string;
  /** Printed after the value in the CLI (`seconds`). */
  unit?: string;
  /** Shown by the CLI's `list totals` (rtpengine's lines). */
  cli?: boolean;
  prom?: PromSpec;
  value(s: StatsSnapshot): number;
}

/** A labelled series set with no single place in the reply (per proxy, per interface, per type). */
export interface FamilyMetric {
  prom: { name: string; type: PromType; help: string; labelNames: readonly string[] };
  series(s: StatsSnapshot): Array<{ labels: Labels; value: number }>;
}

const c = (s: StatsSnapshot) => s.counters;
const totalPackets = (s: StatsSnapshot) => c(s).relayedPackets + s.live.RTP.packets + s.live.RTCP.packets;
const totalBytes = (s: StatsSnapshot) => c(s).relayedBytes + s.live.RTP.bytes + s.live.RTCP.bytes;
const totalErrors = (s: StatsSnapshot) => c(s).relayedErrors + s.live.RTP.errors + s.live.RTCP.errors;
const rtcpPackets = (s: StatsSnapshot) => c(s).relayedRtcpPackets + s.live.RTCP.packets;
const rtcpBytes = (s: StatsSnapshot) => c(s).relayedRtcpBytes + s.live.RTCP.bytes;
const rtcpErrors = (s: StatsSnapshot) => c(s).relayedRtcpErrors + s.live.RTCP.errors;
// the fast path's packets are inside the totals; what it did not forward went through JS
const userPackets = (s: StatsSnapshot) => Math.max(0, totalPackets(s) - s.kernel.packets);
const userBytes = (s: StatsSnapshot) => Math.max(0, totalBytes(s) - s.kernel.bytes);

const closed = (key: string, help: string, reason: string, value: (s: StatsSnapshot) => number): ScalarMetric =>
  ({ section: 'totalstatistics', key, help, cli: true, prom: { name: 'closed_sessions_total', type: 'counter', labels: { reason } }, value });
const dropped = (key: string, help: string, reason: string, value: (s: StatsSnapshot) => number): ScalarMetric =>
  ({ section: 'totalstatistics', key, help, prom: { name: 'dropped_packets_total', type: 'counter', labels: { reason } }, value });

export const SCALAR_METRICS: readonly ScalarMetric[] = [
  // --- currently running sessions
  { section: 'currentstatistics', key: 'sessionsown', help: 'Owned sessions', prom: { name: 'sessions', type: 'gauge', labels: { type: 'own' } }, value: (s) => s.sessions.own },
  { section: 'currentstatistics', key: 'sessionsforeign', help: 'Foreign sessions', prom: { name: 'sessions', type: 'gauge', labels: { type: 'foreign' } }, value: (s) => s.sessions.foreign },
  { section: 'currentstatistics', key: 'sessionstotal', help: 'Total sessions', value: (s) => s.sessions.own + s.sessions.foreign },
  { section: 'currentstatistics', key: 'transcodedmedia', help: 'Transcoded media', prom: { name: 'transcoded_media', type: 'gauge' }, value: (s) => s.sessions.transcoded },
  { section: 'currentstatistics', key: 'fastpathentries', help: 'Packet streams forwarded by the fast path', prom: { name: 'fastpath_entries', type: 'gauge' }, value: (s) => s.fastPath.entries },
  { section: 'currentstatistics', key: 'fastpathsockets', help: 'Sockets owned by the fast path', prom: { name: 'fastpath_sockets', type: 'gauge' }, value: (s) => s.fastPath.sockets },
  { section: 'currentstatistics', key: 'cookiecacheentries', help: 'Replies held in the ng cookie cache', prom: { name: 'cookie_cache_entries', type: 'gauge' }, value: (s) => s.cookieCache.entries },
  { section: 'currentstatistics', key: 'cookiecachebytes', help: 'Bytes held in the ng cookie cache', prom: { name: 'cookie_cache_bytes', type: 'gauge' }, value: (s) => s.cookieCache.bytes },

  // --- totals (rtpengine's `list totals`)
  { section: 'totalstatistics', key: 'uptime', help: 'Uptime of rtpengine', unit: 'seconds', cli: true, prom: { name: 'uptime_seconds', type: 'gauge' }, value: (s) => s.uptimeSeconds },
  { section: 'totalstatistics', key: 'managedsessions', help: 'Total managed sessions', cli: true, prom: { name: 'sessions_total', type: 'counter' }, value: (s) => c(s).managedSessions },
  closed('rejectedsessions', 'Total rejected sessions', 'rejected', (s) => c(s).rejectedSessions),
  closed('timeoutsessions', 'Total timed-out sessions via TIMEOUT', 'timeout', (s) => c(s).timeoutSessions),
  closed('silenttimeoutsessions', 'Total timed-out sessions via SILENT_TIMEOUT', 'silent_timeout', (s) => c(s).silentTimeoutSessions),
  closed('finaltimeoutsessions', 'Total timed-out sessions via FINAL_TIMEOUT', 'final_timeout', (s) => c(s).finalTimeoutSessions),
  closed('offertimeoutsessions', 'Total timed-out sessions via OFFER_TIMEOUT', 'offer_timeout', (s) => c(s).offerTimeoutSessions),
  closed('regularterminatedsessions', 'Total regular terminated sessions', 'terminated', (s) => c(s).regularTerminatedSessions),
  closed('forcedterminatedsessions', 'Total forced terminated sessions', 'force_terminated', (s) => c(s).forcedTerminatedSessions),
  { section: 'totalstatistics', key: 'relayedpackets_user', help: 'Total relayed packets (userspace)', prom: { name: 'packets_total', type: 'counter', labels: { type: 'userspace' } }, value: userPackets },
  { section: 'totalstatistics', key: 'relayedbytes_user', help: 'Total relayed bytes (userspace)', prom: { name: 'bytes_total', type: 'counter', labels: { type: 'userspace' } }, value: userBytes },
  { section: 'totalstatistics', key: 'relayedpacketerrors_user', help: 'Total relayed packet errors (userspace)', prom: { name: 'packet_errors_total', type: 'counter', labels: { type: 'userspace' } }, value: totalErrors },
  { section: 'totalstatistics', key: 'relayedpackets_kernel', help: 'Total relayed packets (kernel)', prom: { name: 'packets_total', type: 'counter', labels: { type: 'kernel' } }, value: (s) => s.kernel.packets },
  { section: 'totalstatistics', key: 'relayedbytes_kernel', help: 'Total relayed bytes (kernel)', prom: { name: 'bytes_total', type: 'counter', labels: { type: 'kernel' } }, value: (s) => s.kernel.bytes },
  { section: 'totalstatistics', key: 'relayedpacketerrors_kernel', help: 'Total relayed packet errors (kernel)', prom: { name: 'packet_errors_total', type: 'counter', labels: { type: 'kernel' } }, value: () => 0 },
  { section: 'totalstatistics', key: 'relayedpackets', help: 'Total relayed packets', cli: true, value: totalPackets },
  { section: 'totalstatistics', key: 'relayedbytes', help: 'Total relayed bytes', cli: true, value: totalBytes },
  { section: 'totalstatistics', key: 'relayedpacketerrors', help: 'Total relayed packet errors', cli: true, value: totalErrors },
  { section: 'totalstatistics', key: 'relayedpackets_rtp', help: 'Total relayed RTP packets', prom: { name: 'protocol_packets_total', type: 'counter', labels: { protocol: 'RTP' } }, value: (s) => totalPackets(s) - rtcpPackets(s) },
  { section: 'totalstatistics', key: 'relayedpackets_rtcp', help: 'Total relayed RTCP packets', prom: { name: 'protocol_packets_total', type: 'counter', labels: { protocol: 'RTCP' } }, value: rtcpPackets },
  { section: 'totalstatistics', key: 'relayedbytes_rtp', help: 'Total relayed RTP bytes', prom: { name: 'protocol_bytes_total', type: 'counter', labels: { protocol: 'RTP' } }, value: (s) => totalBytes(s) - rtcpBytes(s) },
  { section: 'totalstatistics', key: 'relayedbytes_rtcp', help: 'Total relayed RTCP bytes', prom: { name: 'protocol_bytes_total', type: 'counter', labels: { protocol: 'RTCP' } }, value: rtcpBytes },
  { section: 'totalstatistics', key: 'relayedpacketerrors_rtp', help: 'Total RTP packet errors', prom: { name: 'protocol_packet_errors_total', type: 'counter', labels: { protocol: 'RTP' } }, value: (s) => totalErrors(s) - rtcpErrors(s) },
  { section: 'totalstatistics', key: 'relayedpacketerrors_rtcp', help: 'Total RTCP packet errors', prom: { name: 'protocol_packet_errors_total', type: 'counter', labels: { protocol: 'RTCP' } }, value: rtcpErrors },
  dropped('droppedinvalidpackets', 'Packets dropped as unparseable', 'invalid', (s) => c(s).droppedInvalidPackets),
  dropped('droppedstrictsource', 'Packets dropped by strict-source', 'strict_source', (s) => c(s).droppedStrictSource),
  dropped('droppednosink', 'Packets dropped for want of a destination', 'no_sink', (s) => c(s).droppedNoSink),
  dropped('droppeddeferredoverflow', 'Packets dropped while the endpoint was being learned', 'deferred_overflow', (s) => c(s).droppedDeferredOverflow),
  { section: 'totalstatistics', key: 'deferredpackets', help: 'Packets held while the endpoint was being learned', prom: { name: 'deferred_packets_total', type: 'counter' }, value: (s) => c(s).deferredPackets },
  { section: 'totalstatistics', key: 'senderrors', help: 'Packets the relay failed to send', prom: { name: 'send_errors_total', type: 'counter' }, value: (s) => c(s).sendErrors },
  { section: 'totalstatistics', key: 'nggarbage', help: 'ng messages without a cookie', prom: { name: 'ng_garbage_total', type: 'counter' }, value: (s) => c(s).ngGarbage },
  { section: 'totalstatistics', key: 'ngduplicates', help: 'ng retransmits answered from the cookie cache', prom: { name: 'ng_duplicates_total', type: 'counter' }, value: (s) => c(s).ngDuplicates },
  { section: 'totalstatistics', key: 'ngerrors', help: 'ng commands answered with an error', value: (s) => c(s).ngErrors },
  { section: 'totalstatistics', key: 'dtlsfailures', help: 'DTLS-SRTP handshakes that failed (fingerprint mismatch, timeout, alert)', prom: { name: 'dtls_failures_total', type: 'counter' }, value: (s) => c(s).dtlsFailures },
  { section: 'totalstatistics', key: 'refuseddestroyedcalladds', help: 'Objects refused because their call was already torn down (internal errors)', prom: { name: 'refused_destroyed_call_adds_total', type: 'counter' }, value: (s) => c(s).refusedDestroyedCallAdds },

  // --- the leak audit
  { section: 'leakstatistics', key: 'leaked', help: 'Objects found leaked by the leak audit', prom: { name: 'leaked_objects_total', type: 'counter' }, value: (s) => s.leaks.leaked },
  { section: 'leakstatistics', key: 'doublereleases', help: 'Objects released twice', prom: { name: 'leak_double_releases_total', type: 'counter' }, value: (s) => s.leaks.doubleRelease },
  { section: 'leakstatistics', key: 'reachableafterrelease', help: 'Objects still reachable after their release', prom: { name: 'leak_reachable_after_release_total', type: 'counter' }, value: (s) => s.leaks.reachableAfterRelease },
];

const ifaceLabels = (i: { name: string; address: string }): Labels => ({ name: i.name, address: i.address });

export const FAMILY_METRICS: readonly FamilyMetric[] = [
  {
    prom: { name: 'requests_total', type: 'counter', help: 'Total number of requests', labelNames: ['proxy', 'request'] },
    series: (s) => s.proxies.flatMap((p) => p.commands.map((cmd) => ({ labels: { proxy: p.proxy, request: cmd.name }, value: cmd.count }))),
  },
  {
    prom: { name: 'request_seconds_total', type: 'counter', help: 'Total time spent processing requests', labelNames: ['proxy', 'request'] },
    series: (s) => s.proxies.flatMap((p) => p.commands.map((cmd) => ({ labels: { proxy: p.proxy, request: cmd.name }, value: cmd.seconds }))),
  },
  {
    prom: { name: 'errors_total', type: 'counter', help: 'Number of errors', labelNames: ['proxy'] },
    series: (s) => s.proxies.map((p) => ({ labels: { proxy: p.proxy }, value: p.errors })),
  },
  {
    prom: { name: 'ports_used', type: 'gauge', help: 'Number of ports in use', labelNames: ['name', 'address'] },
    series: (s) => s.interfaces.map((i) => ({ labels: ifaceLabels(i), value: i.used })),
  },
  {
    prom: { name: 'ports_free', type: 'gauge', help: 'Number of free ports', labelNames: ['name', 'address'] },
    series: (s) => s.interfaces.map((i) => ({ labels: ifaceLabels(i), value: i.free })),
  },
  {
    prom: { name: 'ports', type: 'gauge', help: 'Total number of ports', labelNames: ['name', 'address'] },
    series: (s) => s.interfaces.map((i) => ({ labels: ifaceLabels(i), value: i.total })),
  },
  {
    prom: { name: 'leak_live_objects', type: 'gauge', help: 'Call-owned objects alive, by type', labelNames: ['type'] },
    series: (s) => Object.entries(s.leaks.live).map(([type, value]) => ({ labels: { type }, value })),
  },
  {
    prom: { name: 'unsupported_flag_calls_total', type: 'counter', help: 'Calls that used an rtpengine flag not implemented here yet', labelNames: ['flag'] },
    series: (s) => Object.entries(s.unsupportedFlags ?? {}).map(([flag, value]) => ({ labels: { flag }, value })),
  },
];
