/**
 * Growth watch: live counts per type (and RSS) sampled on an interval. A count that keeps
 * rising is classified like a leak factor: constant (no growth), logarithmic (a cache filling
 * up: each step adds less) or linear (a leak: steady increments).
 */
export type Trend = 'constant' | 'logarithmic' | 'linear';

export interface GrowthReport {
  type: string;
  trend: Trend;
  samples: number;
  first: number;
  last: number;
  /** Average increase per sample over the window. */
  perSample: number;
}

const WINDOW = 30;

export function classifyTrend(values: readonly number[]): Trend {
  if (values.length < 4) return 'constant';
  const first = values[0] as number;
  const last = values[values.length - 1] as number;
  if (last <= first) return 'constant';
  const half = Math.floor(values.length / 2);
  const firstHalfGain = (values[half] as number) - first;
  const secondHalfGain = last - (values[half] as number);
  // A cache fills quickly and then slows down; a leak keeps its pace.
  if (secondHalfGain <= 0 || secondHalfGain < firstHalfGain * 0.5) return 'logarithmic';
  return 'linear';
}

/**
 * The gauge of live calls, recorded with the counts. Growth of call-owned types that merely
 * follows more calls being up is load, not a leak: it is reported only while the number of
 * calls did not grow over the window (calls came and went, the objects stayed).
 */
export const CALLS_GAUGE = 'calls';

export class GrowthSampler {
  private readonly series = new Map<string, number[]>();

  record(counts: Record<string, number>): void {
    for (const [type, value] of Object.entries(counts)) {
      const list = this.series.get(type) ?? [];
      list.push(value);
      if (list.length > WINDOW) list.shift();
      this.series.set(type, list);
    }
  }

  /** Types whose count grew over the window, with their trend; stable types are left out. */
  report(callOwned: ReadonlySet<string> = new Set()): GrowthReport[] {
    const out: GrowthReport[] = [];
    const calls = this.series.get(CALLS_GAUGE);
    const callsGrew = calls !== undefined && calls.length > 1 && (calls[calls.length - 1] as number) > (calls[0] as number);
    for (const [type, values] of this.series) {
      if (type === CALLS_GAUGE || (callsGrew && callOwned.has(type))) continue;
      const trend = classifyTrend(values);
      if (trend === 'constant') continue;
      const first = values[0] as number;
      const last = values[values.length - 1] as number;
      out.push({ type, trend, samples: values.length, first, last, perSample: (last - first) / (values.length - 1) });
    }
    return out;
  }
}
