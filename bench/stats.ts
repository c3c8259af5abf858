/** What every scenario reports: counts, throughput and latency percentiles in milliseconds. */
export interface LoadSummary {
  requests: number;
  ok: number;
  /** Unexpected answers, connection errors and timeouts. */
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  statusCodes: Record<string, number>;
  errorSamples: string[];
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function latencySummary(values: number[]): Pick<LoadSummary, 'p50' | 'p99' | 'max' | 'mean'> {
  const sorted = Float64Array.from(values).sort();
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1] : Number.NaN),
    mean: round(values.length ? sum / values.length : Number.NaN),
  };
}

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
