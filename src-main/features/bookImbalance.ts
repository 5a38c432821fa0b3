// Order-book imbalance over the best n levels, plain and depth-weighted, in [-1, 1] (+1: all bids).
// imb_n = (Σ_{i<n} Vb_i - Σ_{i<n} Va_i) / (Σ_{i<n} Vb_i + Σ_{i<n} Va_i)
// weighted: the same with each level's size multiplied by w_i = exp(-i / 2) (i = 0 at the touch),
// so the touch counts most and level 10 about 1 % as much.

export const IMBALANCE_WEIGHTS: Float64Array = Float64Array.from({ length: 10 }, (_, i) => Math.exp(-i / 2));

/** sizes are best-first; levels beyond `bidCount`/`askCount` count as empty. */
export function bookImbalance(
  bidSizes: Float64Array,
  bidCount: number,
  askSizes: Float64Array,
  askCount: number,
  n: number,
): number {
  let b = 0;
  let a = 0;
  for (let i = 0; i < n && i < bidCount; i++) b += bidSizes[i];
  for (let i = 0; i < n && i < askCount; i++) a += askSizes[i];
  const d = b + a;
  return d > 0 ? (b - a) / d : 0;
}

export function weightedBookImbalance(
  bidSizes: Float64Array,
  bidCount: number,
  askSizes: Float64Array,
  askCount: number,
  weights: Float64Array = IMBALANCE_WEIGHTS,
): number {
  let b = 0;
  let a = 0;
  for (let i = 0; i < weights.length && i < bidCount; i++) b += weights[i] * bidSizes[i];
  for (let i = 0; i < weights.length && i < askCount; i++) a += weights[i] * askSizes[i];
  const d = b + a;
  return d > 0 ? (b - a) / d : 0;
}
