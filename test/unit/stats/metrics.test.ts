/**
 * The one metric list: keys unique per section, one type and help per Prometheus name, label
 * sets unique within a name, every figure rendered by statistics, the CLI and /metrics.
 */
import { describe, expect, it } from 'vitest';
import { GLOBAL_COUNTERS, type GlobalCounter } from '../../../daemon/stats/counters.js';
import { FAMILY_METRICS, SCALAR_METRICS } from '../../../daemon/stats/metrics.js';
import { PrometheusExporter } from '../../../daemon/stats/prometheus.js';
import type { StatsSnapshot } from '../../../daemon/stats/snapshot.js';
import { cliTotals, statisticsTree } from '../../../daemon/stats/statistics.js';

function snapshot(): StatsSnapshot {
  const counters = Object.fromEntries(GLOBAL_COUNTERS.map((c, i) => [c, i + 1])) as Record<GlobalCounter, number>;
  return {
    uptimeSeconds: 42,
    counters: { ...counters, relayedPackets: 100, relayedBytes: 10_000, relayedErrors: 3, relayedRtcpPackets: 10, relayedRtcpBytes: 500, relayedRtcpErrors: 1 },
    sessions: { own: 2, foreign: 0, transcoded: 0 },
    live: { RTP: { packets: 5, bytes: 500, errors: 0 }, RTCP: { packets: 1, bytes: 50, errors: 0 } },
    kernel: { packets: 40, bytes: 4000 },
    fastPath: { enabled: true, entries: 4, sockets: 8 },
    proxies: [{ proxy: '192.0.2.1', errors: 1, commands: [{ name: 'offer', short: 'Offer', count: 3, seconds: 0.25 }] }],
    commands: [{ name: 'offer', short: 'Offer' }, { name: 'ping', short: 'Ping' }],
    leaks: { live: { Call: 2 }, leaked: 0, reachableAfterRelease: 0, transientReachable: 0, doubleRelease: 0 },
    cookieCache: { entries: 7, bytes: 700 },
    interfaces: [{ name: 'default', address: '192.0.2.10', min: 30000, max: 30099, used: 8, free: 92, total: 100 }],
  };
}

describe('metric list', () => {
  it('has unique keys per section and consistent Prometheus families', () => {
    const keys = SCALAR_METRICS.map((m) => `${m.section}.${m.key}`);
    expect(new Set(keys).size).toBe(keys.length);
    const byName = new Map<string, { type: string; labels: Set<string> }>();
    for (const m of SCALAR_METRICS) {
      if (!m.prom) continue;
      const f = byName.get(m.prom.name) ?? { type: m.prom.type, labels: new Set<string>() };
      expect(f.type, m.prom.name).toBe(m.prom.type);
      const labelKey = JSON.stringify(m.prom.labels ?? {});
      expect(f.labels.has(labelKey), `${m.prom.name}${labelKey} twice`).toBe(false);
      f.labels.add(labelKey);
      byName.set(m.prom.name, f);
      if (m.prom.type === 'counter') expect(m.prom.name, 'counters end in _total').toMatch(/_total$/);
    }
    for (const f of FAMILY_METRICS) expect(byName.has(f.prom.name), f.prom.name).toBe(false);
  });

  it('reports every daemon counter somewhere in statistics', () => {
    for (const counter of GLOBAL_COUNTERS) {
      const s = snapshot();
      const marker = 987_654_321;
      const before = JSON.stringify(statisticsTree(s));
      (s.counters as Record<GlobalCounter, number>)[counter] += marker;
      expect(JSON.stringify(statisticsTree(s)), `counter ${counter} is not in the metric list`).not.toBe(before);
    }
  });

  it('statistics, CLI totals and /metrics render the same snapshot', async () => {
    const s = snapshot();
    const tree = statisticsTree(s) as Record<string, Record<string, unknown>>;
    expect(tree.totalstatistics!.relayedpackets).toBe(106);
    expect(tree.totalstatistics!.relayedpackets_rtcp).toBe(11);
    expect(tree.totalstatistics!.relayedpackets_user).toBe(66);
    expect(tree.currentstatistics!.sessionsown).toBe(2);
    expect(tree.controlstatistics!.totaloffercount).toBe(3);
    expect(tree.controlstatistics!.totalpingcount).toBe(0);
    expect((tree.controlstatistics!.proxies as Array<Record<string, unknown>>)[0]).toEqual({ proxy: '192.0.2.1', offercount: 3, offerduration: '0.250000', errorcount: 1 });
    expect(cliTotals(s)).toMatch(/^ Uptime of rtpengine {29}:42 seconds$/m);
    expect(cliTotals(s)).toMatch(/^ Total relayed packets\s+:106$/m);

    const exporter = new PrometheusExporter(() => s);
    const text = await exporter.render();
    exporter.close();
    expect(text).toContain('# HELP rtpengine_closed_sessions_total Total rejected sessions\n# TYPE rtpengine_closed_sessions_total counter\n');
    expect(text).toContain('rtpengine_packets_total{type="userspace"} 66\n');
    expect(text).toContain('rtpengine_packets_total{type="kernel"} 40\n');
    expect(text).toContain('rtpengine_requests_total{proxy="192.0.2.1",request="offer"} 3\n');
    expect(text).toContain('rtpengine_request_seconds_total{proxy="192.0.2.1",request="offer"} 0.25\n');
    expect(text).toContain('rtpengine_ports_used{name="default",address="192.0.2.10"} 8\n');
    expect(text).toContain('rtpengine_leak_live_objects{type="Call"} 2\n');
    expect(text).toContain('rtpengine_cookie_cache_entries 7\n');
    expect(text).toMatch(/^nodejs_version_info\{/m);
  });
});
