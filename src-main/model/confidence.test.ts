import { describe, expect, it } from 'vitest';
import {
  blockBootstrap,
  blockLengthFor,
  excludesZero,
  meanInterval,
  metricIntervals,
  sumInterval,
  type Interval,
} from './confidence.ts';
import { Prng } from './gbdt/prng.ts';
import { evaluate } from './metrics.ts';

function normals(n: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng.next(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

function ar1(n: number, phi: number, seed: number): Float64Array {
  const e = normals(n, seed);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (i ? phi * x[i - 1] : 0) + e[i];
  return x;
}

/** Sums of `h` consecutive innovations, one per step: the overlapping labels of a horizon h decisions long. */
function overlapping(n: number, h: number, seed: number): Float64Array {
  const e = normals(n + h, seed);
  return Float64Array.from({ length: n }, (_, i) => e.slice(i, i + h).reduce((a, b) => a + b, 0));
}

const width = (ci: Interval | null) => (ci ? ci[1] - ci[0] : NaN);

describe('blockLengthFor', () => {
  it.each([
    // horizon, interval, rows, block
    [10_000, 1000, 1000, 10], // one label spans 10 rows
    [10_000, 1000, 100_000, 46], // n^(1/3) when it is longer
    [10_000, 250, 1000, 40],
    [1000, 1000, 27, 3],
    [60_000, 1000, 100, 25], // never more than a quarter of the rows
    [0, 1000, 8, 2],
  ])('H %i ms every %i ms over %i rows: %i', (h, dt, n, b) => {
    expect(blockLengthFor(h, dt, n)).toBe(b);
  });
});

describe('block bootstrap intervals', () => {
  it('cover the true mean of iid normal data in about 95% of seeded trials', () => {
    const trials = 300;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const x = normals(200, 1000 + t);
      const ci = meanInterval(x, { blockLength: blockLengthFor(0, 1, 200), reps: 400, seed: t + 1 });
      if (ci && ci[0] <= 0 && 0 <= ci[1]) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.9);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('are wider for AR(1) and overlapping sums than an iid bootstrap says, and cover where it does not', () => {
    for (const [name, x, b] of [
      ['AR(1) phi 0.8', ar1(2000, 0.8, 7), 40],
      ['overlapping sums of 10', overlapping(2000, 10, 8), 20],
    ] as const) {
      const iid = meanInterval(x, { blockLength: 1, seed: 3 });
      const blocks = meanInterval(x, { blockLength: b, seed: 3 });
      // The variance of the mean is (1 + phi) / (1 - phi) = 9 and h = 10 times the iid one: about 3x the width.
      expect(width(blocks) / width(iid), name).toBeGreaterThan(2);
    }
    // Coverage of the mean (0) of overlapping labels: the iid bootstrap is badly overconfident, blocks are not.
    let iidCovered = 0;
    let blockCovered = 0;
    const trials = 100;
    for (let t = 0; t < trials; t++) {
      const x = overlapping(600, 10, 500 + t);
      const o = { reps: 300, seed: t + 1 };
      const iid = meanInterval(x, { ...o, blockLength: 1 });
      const blk = meanInterval(x, { ...o, blockLength: blockLengthFor(10_000, 1000, 600) });
      if (iid && iid[0] <= 0 && 0 <= iid[1]) iidCovered++;
      if (blk && blk[0] <= 0 && 0 <= blk[1]) blockCovered++;
    }
    expect(iidCovered / trials).toBeLessThan(0.7);
    expect(blockCovered / trials).toBeGreaterThan(0.85);
  });

  it('is deterministic for a seed, and changes with it', () => {
    const x = ar1(500, 0.5, 2);
    const o = { blockLength: 8, seed: 42 };
    expect(sumInterval(x, o)).toEqual(sumInterval(x, o));
    expect(sumInterval(x, o)).not.toEqual(sumInterval(x, { ...o, seed: 43 }));
  });

  it('gives no interval on too few rows or for a statistic undefined on most resamples', () => {
    expect(sumInterval([1, 2, 3], { blockLength: 1 })).toBeNull();
    const [c] = blockBootstrap(100, [() => NaN], { blockLength: 5 });
    expect(c).toBeNull();
    expect(() => sumInterval(normals(100, 1), { blockLength: 0 })).toThrow(/block length/);
    expect(() => sumInterval(normals(100, 1), { blockLength: 2, level: 1 })).toThrow(/level/);
  });
});

describe('metricIntervals', () => {
  it('brackets IC, R² and hit rate of a real signal; overlapping labels widen them', () => {
    const n = 3000;
    const h = 10;
    // pred: a noisy view of the label, its noise as persistent as the label (both span h decisions)
    const y = overlapping(n, h, 11);
    const noise = overlapping(n, h, 12);
    const pred = Float64Array.from({ length: n }, (_, i) => 0.1 * y[i] + 0.3 * noise[i]);
    const point = evaluate(pred, y);
    const blocks = metricIntervals(pred, y, { blockLength: blockLengthFor(10_000, 1000, n), seed: 5 });
    const iid = metricIntervals(pred, y, { blockLength: 1, seed: 5 });
    for (const [k, v] of [
      ['ic_ci', point.ic],
      ['r2_ci', point.r2],
      ['hit_rate_ci', point.hit_rate],
    ] as const) {
      const ci = blocks[k];
      expect(ci, k).not.toBeNull();
      expect(ci?.[0], k).toBeLessThan(v);
      expect(ci?.[1], k).toBeGreaterThan(v);
      expect(width(ci) / width(iid[k]), k).toBeGreaterThan(1.5);
    }
    expect(excludesZero(blocks.ic_ci)).toBe(true);
  });

  it('a random prediction of overlapping labels: IC not distinguishable from zero', () => {
    const n = 900;
    const y = overlapping(n, 10, 21);
    const pred = overlapping(n, 10, 22); // persistent but unrelated
    const ci = metricIntervals(pred, y, { blockLength: blockLengthFor(10_000, 1000, n), seed: 1 }).ic_ci;
    expect(ci).not.toBeNull();
    expect(excludesZero(ci)).toBe(false);
    // the same data treated as iid claims more precision than it has
    const iid = metricIntervals(pred, y, { blockLength: 1, seed: 1 }).ic_ci;
    expect(width(ci)).toBeGreaterThan(2 * width(iid));
  });

  it('a constant prediction has no IC interval', () => {
    const y = normals(100, 3);
    const r = metricIntervals(new Float64Array(100), y, { blockLength: 5 });
    expect(r.ic_ci).toBeNull();
    expect(r.hit_rate_ci).toBeNull();
    expect(r.r2_ci).not.toBeNull();
  });
});
