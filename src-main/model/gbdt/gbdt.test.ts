import { describe, expect, it } from 'vitest';
import { binMatrix, binOf, computeBinEdges } from './binning.ts';
import { averageEnsembles, featureImportance, predict, treeCount, type TreeEnsemble } from './model.ts';
import { Prng } from './prng.ts';
import { DEFAULT_PARAMS, trainGbdt, type GbdtParams, type Matrix } from './train.ts';

/** Random features in [-1, 1] (on a 0.01 grid with `grid`, so that 256 bins hold every distinct value). */
function synth(
  n: number,
  nf: number,
  seed: number,
  fn: (r: Float32Array, rng: Prng) => number,
  grid = false,
): Matrix {
  const rng = new Prng(seed);
  const X = new Float32Array(n * nf);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nf; f++)
      X[i * nf + f] = grid ? Math.round((rng.next() * 2 - 1) * 100) / 100 : rng.next() * 2 - 1;
    y[i] = fn(X.subarray(i * nf, i * nf + nf), rng);
  }
  return { X, y, n, nFeatures: nf };
}

const P = (o: Partial<GbdtParams>): GbdtParams => ({
  ...DEFAULT_PARAMS,
  earlyStoppingRounds: 0,
  rowSubsample: 1,
  featureSubsample: 1,
  ...o,
});

function depthOf(m: TreeEnsemble, k: number): number {
  return m.feature[k] < 0 ? 0 : 1 + Math.max(depthOf(m, m.left[k]), depthOf(m, m.right[k]));
}
function leavesOf(m: TreeEnsemble, t: number): number[] {
  const out: number[] = [];
  for (let k = m.treeStart[t]; k < m.treeStart[t + 1]; k++) if (m.feature[k] < 0) out.push(k);
  return out;
}

describe('binning', () => {
  it('uses one bin per distinct value when they fit, quantiles otherwise', () => {
    const n = 1000;
    const X = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      X[i * 2] = i % 3; // 3 distinct values
      X[i * 2 + 1] = i; // 1000 distinct values
    }
    const be = computeBinEdges(X, n, 2, 16);
    expect(Array.from(be.edges[0])).toEqual([0, 1]);
    expect(be.nBins[0]).toBe(3);
    expect(be.nBins[1]).toBeLessThanOrEqual(16);
    expect(be.nBins[1]).toBeGreaterThanOrEqual(15);
    // roughly equal counts per bin
    const B = binMatrix(X, n, 2, be);
    const counts = new Array<number>(be.nBins[1]).fill(0);
    for (let i = 0; i < n; i++) counts[B[n + i]]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  });

  it.each([
    { x: -5, bin: 0 },
    { x: 1, bin: 0 },
    { x: 1.5, bin: 1 },
    { x: 2, bin: 1 },
    { x: 3, bin: 2 },
    { x: 99, bin: 3 },
    { x: NaN, bin: 3 },
  ])('value $x falls in bin $bin of edges [1, 2, 3] (x <= edge)', ({ x, bin }) => {
    const edges = Float32Array.from([1, 2, 3]);
    expect(binOf(edges, x)).toBe(bin);
    const be = { edges: [edges], nBins: Uint16Array.from([4]) };
    expect(binMatrix(Float32Array.from([x]), 1, 1, be)[0]).toBe(bin);
  });
});

describe('trainGbdt', () => {
  it('learns a step function exactly with one split per tree', () => {
    const d = synth(2000, 3, 1, (r) => (r[1] > 0.25 ? 5 : -1), true);
    const res = trainGbdt(
      d,
      P({ rounds: 50, maxDepth: 1, learningRate: 0.5, l2: 0, minSamplesLeaf: 1, bins: 256 }),
    );
    const pred = predict(res.model, d.X, d.n);
    for (let i = 0; i < d.n; i++) expect(pred[i]).toBeCloseTo(d.y[i], 3);
    expect(res.model.feature[0]).toBe(1);
    expect(res.model.threshold[0]).toBe(Math.fround(0.25));
  });

  it('respects max depth, max leaves and min samples per leaf', () => {
    const d = synth(3000, 5, 2, (r, rng) => Math.sin(4 * r[0]) + r[1] * r[2] + 0.1 * rng.next());
    const deep = trainGbdt(d, P({ rounds: 5, maxDepth: 4, minSamplesLeaf: 40 })).model;
    for (let t = 0; t < treeCount(deep); t++) {
      expect(depthOf(deep, deep.treeStart[t])).toBeLessThanOrEqual(4);
      for (const k of leavesOf(deep, t)) expect(deep.cover[k]).toBeGreaterThanOrEqual(40);
    }
    expect(depthOf(deep, 0)).toBe(4);
    const few = trainGbdt(d, P({ rounds: 5, maxDepth: 10, maxLeaves: 7, minSamplesLeaf: 5 })).model;
    for (let t = 0; t < treeCount(few); t++) expect(leavesOf(few, t)).toHaveLength(7);
  });

  it('predict() reproduces the training loss it reports (binned and raw paths agree)', () => {
    const d = synth(3000, 4, 3, (r, rng) => r[0] * 2 + (r[3] > 0 ? 1 : 0) + 0.3 * rng.next());
    const res = trainGbdt(d, P({ rounds: 30, rowSubsample: 0.7, featureSubsample: 0.5 }));
    const pred = predict(res.model, d.X, d.n);
    let se = 0;
    for (let i = 0; i < d.n; i++) se += (pred[i] - d.y[i]) ** 2;
    expect(se / d.n).toBeCloseTo(res.trainLoss[res.trainLoss.length - 1], 5);
  });

  it('L2 regularisation shrinks leaf values', () => {
    const d = synth(500, 2, 4, (r) => (r[0] > 0 ? 10 : -10), true);
    const predMax = (l2: number) => {
      const m = trainGbdt(
        d,
        P({ rounds: 1, maxDepth: 1, learningRate: 1, l2, minSamplesLeaf: 1, bins: 256 }),
      ).model;
      return Math.max(...Array.from(predict(m, d.X, d.n)));
    };
    expect(predMax(0)).toBeCloseTo(10, 4);
    expect(predMax(500)).toBeLessThan(7);
  });

  it('subsampling is reproducible from the seed and differs between seeds', () => {
    const d = synth(2000, 6, 5, (r, rng) => r[0] - r[4] + 0.5 * rng.next());
    const p = P({ rounds: 10, rowSubsample: 0.6, featureSubsample: 0.5, seed: 11 });
    const a = trainGbdt(d, p).model;
    const b = trainGbdt(d, p).model;
    const c = trainGbdt(d, { ...p, seed: 12 }).model;
    expect(Array.from(a.value)).toEqual(Array.from(b.value));
    expect(Array.from(a.threshold)).not.toEqual(Array.from(c.threshold));
    // feature subsampling: a tree with half the features never splits on more than 3 distinct features
    for (let t = 0; t < treeCount(a); t++) {
      const used = new Set<number>();
      for (let k = a.treeStart[t]; k < a.treeStart[t + 1]; k++) if (a.feature[k] >= 0) used.add(a.feature[k]);
      expect(used.size).toBeLessThanOrEqual(3);
    }
  });

  it('stops early on the validation set and keeps the best round', () => {
    // Pure noise: validation loss stops improving almost at once.
    const d = synth(2000, 4, 6, (_r, rng) => rng.next());
    const v = synth(1000, 4, 7, (_r, rng) => rng.next());
    const res = trainGbdt(
      d,
      P({ rounds: 500, earlyStoppingRounds: 10, learningRate: 0.3, minSamplesLeaf: 2 }),
      { valid: v },
    );
    expect(res.stopped).toBe('early');
    expect(res.roundsRun).toBeLessThan(500);
    const best = res.validLoss.indexOf(Math.min(...res.validLoss));
    expect(res.bestRounds).toBe(best + 1);
    expect(treeCount(res.model)).toBe(best + 1);
    expect(res.roundsRun - res.bestRounds).toBe(10);
  });

  it('stops when asked', () => {
    const d = synth(500, 2, 8, (r) => r[0]);
    let rounds = 0;
    const res = trainGbdt(d, P({ rounds: 100 }), { onRound: () => rounds++, shouldStop: () => rounds >= 3 });
    expect(res.stopped).toBe('cancelled');
    expect(res.roundsRun).toBe(3);
  });

  it('feature importance goes to the informative feature', () => {
    const d = synth(3000, 4, 9, (r, rng) => 3 * r[2] + 0.1 * rng.next());
    const imp = featureImportance(trainGbdt(d, P({ rounds: 20 })).model);
    expect(imp[2]).toBeGreaterThan(0.9);
  });

  it('an averaged ensemble predicts the mean of its members', () => {
    const d = synth(1000, 3, 10, (r, rng) => r[0] + rng.next());
    const ms = [1, 2, 3].map((seed) => trainGbdt(d, P({ rounds: 8, rowSubsample: 0.5, seed })).model);
    const avg = averageEnsembles(ms);
    const pa = predict(avg, d.X, 50);
    const ps = ms.map((m) => predict(m, d.X, 50));
    for (let i = 0; i < 50; i++) expect(pa[i]).toBeCloseTo((ps[0][i] + ps[1][i] + ps[2][i]) / 3, 5);
    expect(treeCount(avg)).toBe(24);
  });

  it('rejects bad parameters and shapes', () => {
    const d = synth(100, 2, 11, (r) => r[0]);
    expect(() => trainGbdt(d, P({ learningRate: 0 }))).toThrow(/learningRate/);
    expect(() => trainGbdt({ ...d, n: 99 }, P({}))).toThrow(/expected 99 x 2/);
  });
});
