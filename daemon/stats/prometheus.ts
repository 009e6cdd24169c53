/**
 * GET /metrics (rtpengine's websocket_http_metrics()): the metric list as prom-client metrics
 * whose collect() reads the snapshot taken for this scrape, plus Node's default process
 * metrics. One registry per daemon; a scrape takes one snapshot, so every figure of one
 * response comes from the same moment.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FAMILY_METRICS, SCALAR_METRICS, type Labels, type PromType } from './metrics.js';
import type { StatsSnapshot } from './snapshot.js';

const PREFIX = 'rtpengine_';

interface Series {
  labels: Labels;
  value: (s: StatsSnapshot) => number;
}

interface PromFamily {
  type: PromType;
  help: string;
  labelNames: string[];
  series: (s: StatsSnapshot) => Array<{ labels: Labels; value: number }>;
}

/** Groups the scalar list by Prometheus name (rtpengine: the first entry's help text wins). */
function families(): Map<string, PromFamily> {
  const out = new Map<string, PromFamily>();
  const scalars = new Map<string, { type: PromType; help: string; labelNames: Set<string>; series: Series[] }>();
  for (const m of SCALAR_METRICS) {
    if (!m.prom) continue;
    let f = scalars.get(m.prom.name);
    if (!f) {
      f = { type: m.prom.type, help: m.help, labelNames: new Set(), series: [] };
      scalars.set(m.prom.name, f);
    }
    const labels = m.prom.labels ?? {};
    for (const k of Object.keys(labels)) f.labelNames.add(k);
    f.series.push({ labels, value: m.value });
  }
  for (const [name, f] of scalars) {
    out.set(name, {
      type: f.type,
      help: f.help,
      labelNames: [...f.labelNames],
      series: (s) => f.series.map((x) => ({ labels: x.labels, value: x.value(s) })),
    });
  }
  for (const m of FAMILY_METRICS) {
    out.set(m.prom.name, { type: m.prom.type, help: m.prom.help, labelNames: [...m.prom.labelNames], series: m.series });
  }
  return out;
}

export class PrometheusExporter {
  private readonly registry = new Registry();
  private current: StatsSnapshot | null = null;

  constructor(private readonly snapshot: () => StatsSnapshot) {
    const self = this;
    for (const [name, f] of families()) {
      const fill = (set: (labels: Labels, value: number) => void) => {
        const s = self.current;
        if (!s) return;
        for (const x of f.series(s)) set(x.labels, Math.max(0, x.value));
      };
      if (f.type === 'counter') {
        new Counter({
          name: PREFIX + name, help: f.help, labelNames: f.labelNames, registers: [this.registry],
          collect() {
            this.reset();
            fill((labels, value) => this.inc(labels, value));
          },
        });
      } else {
        new Gauge({
          name: PREFIX + name, help: f.help, labelNames: f.labelNames, registers: [this.registry],
          collect() {
            this.reset();
            fill((labels, value) => this.set(labels, value));
          },
        });
      }
    }
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric, all from one snapshot. */
  async render(): Promise<string> {
    this.current = this.snapshot();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = null;
    }
  }

  close(): void {
    this.registry.clear();
  }
}
