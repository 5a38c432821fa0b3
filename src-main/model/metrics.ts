// Out-of-sample quality of a return predictor: R², information coefficient (Spearman rank correlation),
// directional hit rate and the prediction distribution, the figures a threshold is tuned against.

export function mse(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
  return y.length ? s / y.length : NaN;
}

/** 1 - SSE / SST around the label mean; NaN when the label is constant or empty. */
export function r2(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (pred[i] - y[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return sst > 0 ? 1 - sse / sst : NaN;
}

/** Average ranks (ties share the mean rank), 0-based. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const avg = (i + j) / 2;
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Information coefficient: Spearman correlation of predictions with labels. */
export function spearman(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(pred), ranks(y));
}

/** Share of rows with a non-zero label and non-zero prediction where the signs agree. */
export function hitRate(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let hit = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0 || pred[i] === 0) continue;
    n++;
    if (y[i] > 0 === pred[i] > 0) hit++;
  }
  return n ? hit / n : NaN;
}

export const QUANTILE_LEVELS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;

/** Linear-interpolated quantiles keyed "p01" ... "p99", plus "min" and "max". */
export function quantiles(
  x: ArrayLike<number>,
  levels: readonly number[] = QUANTILE_LEVELS,
): Record<string, number> {
  const s = Float64Array.from(x).sort();
  const out: Record<string, number> = {};
  if (s.length === 0) return out;
  out.min = s[0];
  for (const q of levels) {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    out[`p${String(Math.round(q * 100)).padStart(2, '0')}`] = s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }
  out.max = s[s.length - 1];
  return out;
}

export interface EvalMetrics {
  r2: number;
  ic: number;
  hit_rate: number;
  mse: number;
}

export function evaluate(pred: ArrayLike<number>, y: ArrayLike<number>): EvalMetrics {
  return { r2: r2(pred, y), ic: spearman(pred, y), hit_rate: hitRate(pred, y), mse: mse(pred, y) };
}
