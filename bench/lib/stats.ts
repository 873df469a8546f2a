/**
 * Small statistics for the benchmark: percentiles and summaries of latency samples. Pure.
 */

export interface LatencySummary {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
}

/** The q-quantile (0..1) of sorted values, nearest rank; NaN for none. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

export function summarize(values: number[]): LatencySummary {
  const sorted = [...values].sort((x, y) => x - y)
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN
  }
}

export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length
}

export function median(values: number[]): number {
  return quantile(
    [...values].sort((x, y) => x - y),
    0.5
  )
}
