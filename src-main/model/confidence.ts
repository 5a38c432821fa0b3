// Confidence intervals that respect serial dependence: a moving-block bootstrap (Künsch 1989), seeded so that a
// report is reproducible. Labels sampled every decision interval over a longer horizon overlap, so neighbouring rows
// share most of their future; an iid bootstrap would treat them as independent and give intervals far too narrow.
// Blocks at least one horizon long (in rows) keep that dependence inside each block. Pure: no I/O, no clock.
import { Prng } from './gbdt/prng.ts';
import { ranks } from './metrics.ts';

/** [low, high] at the requested level. */
export type Interval = [number, number];

export interface BootstrapOptions {
  /** Rows per block: at least the label horizon over the decision interval (blockLengthFor). */
  blockLength: number;
  /** Resamples; default 1000. */
  reps?: number;
  /** Two-sided coverage; default 0.95. */
  level?: number;
  /** Random seed of the resampling; default 1 (the same data always gets the same interval). */
  seed?: number;
}

/**
 * Block length (rows) for data sampled every `intervalMs` with labels over `horizonMs`: the larger of the rows one
 * label spans and n^(1/3) (the usual rate for a moving-block bootstrap), at most a quarter of the rows.
 */
export function blockLengthFor(horizonMs: number, intervalMs: number, n: number): number {
  const overlap = intervalMs > 0 && horizonMs > 0 ? Math.ceil(horizonMs / intervalMs) : 1;
  const b = Math.max(1, overlap, Math.round(Math.cbrt(Math.max(1, n))));
  return Math.max(1, Math.min(b, Math.floor(n / 4)));
}

/** Fewest rows worth an interval: below it the bootstrap distribution is a handful of distinct values. */
export const MIN_BOOTSTRAP_ROWS = 20;

/** Fills `out` with one moving-block resample of the indices 0..n-1 (blocks of `b` consecutive rows). */
function resample(n: number, b: number, rng: Prng, out: Int32Array): void {
  const starts = n - b + 1;
  for (let k = 0; k < n;) {
    const s = Math.floor(rng.next() * starts);
    for (let j = 0; j < b && k < n; j++) out[k++] = s + j;
  }
}

function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function validate(n: number, o: BootstrapOptions): { b: number; reps: number; level: number } {
  const b = Math.floor(o.blockLength);
  if (!(b >= 1)) throw new RangeError(`block length must be >= 1, got ${o.blockLength}`);
  const reps = o.reps ?? 1000;
  if (!Number.isInteger(reps) || reps < 50)
    throw new RangeError(`reps must be an integer >= 50, got ${reps}`);
  const level = o.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  return { b: Math.min(b, n), reps, level };
}

/**
 * Percentile intervals of several statistics of the same rows, from the same resamples. `stats[k](idx)` computes
 * statistic k on the rows `idx` (a resample, in block order). Null for a statistic that is not finite on most
 * resamples, and for all when there are fewer than MIN_BOOTSTRAP_ROWS rows.
 */
export function blockBootstrap(
  n: number,
  stats: readonly ((idx: Int32Array) => number)[],
  o: BootstrapOptions,
): (Interval | null)[] {
  if (n < MIN_BOOTSTRAP_ROWS) return stats.map(() => null);
  const { b, reps, level } = validate(n, o);
  const rng = new Prng(o.seed ?? 1);
  const idx = new Int32Array(n);
  const draws = stats.map(() => new Float64Array(reps));
  const finite = stats.map(() => 0);
  for (let r = 0; r < reps; r++) {
    resample(n, b, rng, idx);
    stats.forEach((f, k) => {
      const v = f(idx);
      if (Number.isFinite(v)) draws[k][finite[k]++] = v;
    });
  }
  const a = (1 - level) / 2;
  return draws.map((d, k) => {
    // A statistic undefined on most resamples (a constant prediction's IC) has no honest interval.
    if (finite[k] < reps * 0.9) return null;
    const s = d.subarray(0, finite[k]).sort();
    return [quantileSorted(s, a), quantileSorted(s, 1 - a)];
  });
}

/** Interval of the sum of a series (e.g. per-period P&L: the interval of the total). */
export function sumInterval(x: ArrayLike<number>, o: BootstrapOptions): Interval | null {
  const n = x.length;
  return blockBootstrap(
    n,
    [
      (idx) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += x[idx[k]];
        return s;
      },
    ],
    o,
  )[0];
}

/** Interval of the mean of a series. */
export function meanInterval(x: ArrayLike<number>, o: BootstrapOptions): Interval | null {
  const s = sumInterval(x, o);
  return s && [s[0] / x.length, s[1] / x.length];
}

export interface MetricIntervals {
  ic_ci: Interval | null;
  r2_ci: Interval | null;
  hit_rate_ci: Interval | null;
}

/**
 * Intervals of IC (Spearman), R² and hit rate of predictions against labels, rows in time order. The IC resamples
 * the full sample's ranks (the Pearson correlation of resampled rank pairs), which keeps each resample O(n) at the
 * cost of a small approximation next to re-ranking every resample.
 */
export function metricIntervals(
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  o: BootstrapOptions,
): MetricIntervals {
  const n = y.length;
  if (pred.length !== n) throw new RangeError(`${pred.length} predictions for ${n} labels`);
  const rp = ranks(pred);
  const ry = ranks(y);
  const ic = (idx: Int32Array) => {
    let ma = 0;
    let mb = 0;
    for (let k = 0; k < n; k++) {
      ma += rp[idx[k]];
      mb += ry[idx[k]];
    }
    ma /= n;
    mb /= n;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let k = 0; k < n; k++) {
      const da = rp[idx[k]] - ma;
      const db = ry[idx[k]] - mb;
      sab += da * db;
      saa += da * da;
      sbb += db * db;
    }
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
  };
  const r2 = (idx: Int32Array) => {
    let m = 0;
    for (let k = 0; k < n; k++) m += y[idx[k]];
    m /= n;
    let sse = 0;
    let sst = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      sse += (pred[i] - y[i]) ** 2;
      sst += (y[i] - m) ** 2;
    }
    return sst > 0 ? 1 - sse / sst : NaN;
  };
  const hit = (idx: Int32Array) => {
    let h = 0;
    let c = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      if (y[i] === 0 || pred[i] === 0) continue;
      c++;
      if (y[i] > 0 === pred[i] > 0) h++;
    }
    return c ? h / c : NaN;
  };
  const [ic_ci, r2_ci, hit_rate_ci] = blockBootstrap(n, [ic, r2, hit], o);
  return { ic_ci, r2_ci, hit_rate_ci };
}

/** True when the interval lies wholly on one side of zero. */
export function excludesZero(ci: Interval | null | undefined): boolean {
  return !!ci && (ci[0] > 0 || ci[1] < 0);
}

/** "[lo, hi]" with `digits` decimals, or "" when there is no interval. */
export function formatInterval(ci: Interval | null | undefined, digits: number, scale = 1): string {
  return ci ? `[${(ci[0] * scale).toFixed(digits)}, ${(ci[1] * scale).toFixed(digits)}]` : '';
}
