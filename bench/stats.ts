/** Percentile maths for the benchmark: plain sorted arrays, exact, no binning. Pure. */

export interface Summary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * The `p`-th percentile (0-100) of `values` by the nearest-rank method: the smallest value such that at least
 * p % of the values are less than or equal to it. `null` for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The median as the mean of the two middle values for an even count (for ratios of paired rounds). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** p50, p95, p99 and max of `values` (milliseconds, usually), rounded to `digits` decimals. */
export function summarize(values: readonly number[], digits = 1): Summary {
  const round = (v: number | null) => (v === null ? null : Number(v.toFixed(digits)));
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b))),
  };
}
