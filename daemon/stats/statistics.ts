/**
 * Renders the metric list for the ng `statistics` command (rtpengine's statistics_ng()) and
 * the CLI's `list totals`. Both read one StatsSnapshot through stats/metrics.ts.
 */
import { SCALAR_METRICS } from './metrics.js';
import type { StatsSnapshot } from './snapshot.js';

export type StatsTree = { [key: string]: number | string | StatsTree | StatsTree[] };

/** The `statistics` dictionary: sections of the metric list, control statistics, interfaces. */
export function statisticsTree(s: StatsSnapshot): StatsTree {
  const tree: StatsTree = {};
  for (const m of SCALAR_METRICS) {
    const section = (tree[m.section] ??= {}) as StatsTree;
    section[m.key] = m.value(s);
  }
  const proxies: StatsTree[] = s.proxies.map((p) => {
    const entry: StatsTree = { proxy: p.proxy };
    for (const cmd of p.commands) {
      entry[`${cmd.short.toLowerCase()}count`] = cmd.count;
      // a string, as rtpengine sends it: bencode has no fractions
      entry[`${cmd.short.toLowerCase()}duration`] = cmd.seconds.toFixed(6);
    }
    entry.errorcount = p.errors;
    return entry;
  });
  const control: StatsTree = { proxies };
  for (const cmd of s.commands) {
    control[`total${cmd.short.toLowerCase()}count`] = s.proxies.reduce((n, p) => n + (p.commands.find((x) => x.name === cmd.name)?.count ?? 0), 0);
  }
  tree.controlstatistics = control;
  tree.interfaces = s.interfaces.map((i) => ({
    name: i.name,
    address: i.address,
    ports: { min: i.min, max: i.max, used: i.used, used_pct: (i.total ? (i.used * 100) / i.total : 0).toFixed(2), free: i.free, totals: i.total },
  }));
  return tree;
}

/** `list totals` as rtpengine-ctl prints it: the CLI lines of the totals section. */
export function cliTotals(s: StatsSnapshot): string {
  const lines = ['Total statistics (does not include current running sessions):', ''];
  for (const m of SCALAR_METRICS) {
    if (m.section !== 'totalstatistics' || !m.cli) continue;
    lines.push(`${` ${m.help}`.padEnd(49)}:${m.value(s)}${m.unit ? ` ${m.unit}` : ''}`);
  }
  lines.push('');
  return lines.join('\n');
}
