import { describe, expect, it } from 'vitest';
import { Prng } from './gbdt/prng.ts';
import { DEFAULT_PARAMS } from './gbdt/train.ts';
import { predict } from './gbdt/model.ts';
import { evaluate } from './metrics.ts';
import { earlyStopSplit, runTraining, TrainCancelled, type TrainJob, type TrainProgress } from './trainer.ts';
import { checkSpan, TrainingDataError } from './trainingData.ts';
import { trainInWorker } from './trainInWorker.ts';

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const H = 10_000;

/** 1 s samples whose label depends on two features plus noise. */
function job(n: number, over: Partial<TrainJob> = {}): TrainJob {
  const rng = new Prng(3);
  const nf = NAMES.length;
  const X = new Float32Array(n * nf);
  const y = new Float32Array(n);
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nf; f++) X[i * nf + f] = rng.next() * 2 - 1;
    y[i] = 2 * X[i * nf + 1] + (X[i * nf + 3] > 0 ? 1 : -1) + (rng.next() - 0.5) * 2;
    ts[i] = 1_700_000_000_000 + i * 1000;
  }
  return {
    X,
    y,
    ts,
    nRows: n,
    nFeatures: nf,
    names: NAMES,
    horizonMs: H,
    params: { ...DEFAULT_PARAMS, rounds: 60, minSamplesLeaf: 20 },
    folds: 3,
    trials: 0,
    ensemble: 1,
    ...over,
  };
}

describe('runTraining', () => {
  it('tunes over walk-forward folds, trains an ensemble and reports honest holdout metrics', () => {
    const j = job(6000, { trials: 3, ensemble: 2 });
    const out = runTraining(j);
    expect(out.trials).toHaveLength(3);
    expect(out.trials[0].params).toEqual(j.params);
    // the other trials really searched: each tried parameters other than the base ones
    for (const t of out.trials.slice(1)) expect(t.params).not.toEqual(j.params);
    expect(out.metrics.r2).toBeGreaterThan(0.5);
    expect(out.metrics.ic).toBeGreaterThan(0.6);
    expect(out.metrics.hit_rate).toBeGreaterThan(0.7);
    expect(out.metrics.n_valid).toBe(1500);
    expect(out.metrics.cv?.folds).toBe(2);
    expect(Object.keys(out.metrics.feature_importance)).toEqual(NAMES);
    const imp = out.metrics.feature_importance;
    expect(imp.b + imp.d).toBeGreaterThan(0.8);
    expect(out.metrics.pred_quantiles.p50).toBeGreaterThan(-1.5);
    // the final model never saw a label overlapping the holdout
    expect(out.trainTo + H).toBeLessThanOrEqual(out.validFrom);
    // two members of the ensemble
    expect(out.model.treeStart.length - 1).toBeGreaterThan(out.params.rounds / 4);
  });

  it('earlyStopSplit keeps an embargo of one horizon before the stopping tail', () => {
    const ts = Float64Array.from({ length: 1000 }, (_, i) => i * 1000);
    const idx = Int32Array.from({ length: 1000 }, (_, i) => 999 - i);
    const { fit, stop } = earlyStopSplit(idx, ts, H, 0.2);
    expect(stop.length).toBe(200);
    expect(ts[stop[0]]).toBe(800_000);
    expect(Math.max(...Array.from(fit, (r) => ts[r])) + H).toBeLessThanOrEqual(800_000);
    expect(fit.length).toBe(791);
  });
});

/** A pure random walk: features are noise, labels are overlapping sums of future noise (10 rows per horizon). */
function randomWalk(n: number, seed: number): TrainJob {
  const rng = new Prng(seed);
  const nf = NAMES.length;
  const X = Float32Array.from({ length: n * nf }, () => rng.next() * 2 - 1);
  const steps = Float64Array.from({ length: n + 10 }, () => rng.next() - 0.5);
  const y = Float32Array.from({ length: n }, (_, i) => steps.slice(i, i + 10).reduce((a, b) => a + b, 0));
  return {
    ...job(n),
    X,
    y,
    params: { ...DEFAULT_PARAMS, rounds: 40, minSamplesLeaf: 20 },
    decisionIntervalMs: 1000,
  };
}

describe('tuning with one fold', () => {
  it('selects on an inner split: the holdout labels play no role, the reported score is the plain holdout score', () => {
    const a = randomWalk(3000, 17);
    const outA = runTraining({ ...a, folds: 1, trials: 8 });
    expect(outA.metrics.cv?.selected_on).toBe('inner_split');
    // Replace every holdout label: if the holdout chose anything, the choice would change with it.
    const hold: number[] = [];
    for (let i = 0; i < a.nRows; i++) if (a.ts[i] >= outA.validFrom) hold.push(i);
    expect(hold.length).toBe(outA.metrics.n_valid);
    const rng = new Prng(99);
    const yB = Float32Array.from(a.y);
    for (const i of hold) yB[i] = (rng.next() - 0.5) * 3;
    const outB = runTraining({ ...a, y: yB, folds: 1, trials: 8 });
    expect(outB.params).toEqual(outA.params);
    expect(Array.from(outB.model.value)).toEqual(Array.from(outA.model.value));
    // ... so the reported score equals the selected model's score on a holdout that played no role in selection.
    const nf = a.nFeatures;
    const Xh = new Float32Array(hold.length * nf);
    hold.forEach((r, k) => Xh.set(a.X.subarray(r * nf, r * nf + nf), k * nf));
    const yh = Float32Array.from(hold, (r) => a.y[r]);
    const fresh = evaluate(predict(outB.model, Xh, hold.length), yh);
    expect(outA.metrics.r2).toBeCloseTo(fresh.r2, 10);
    expect(outA.metrics.ic).toBeCloseTo(fresh.ic, 10);
    // A random walk has no edge: the interval of the holdout IC holds zero.
    const ci = outA.metrics.ic_ci;
    expect(ci).toBeDefined();
    expect(ci?.[0]).toBeLessThan(0);
    expect(ci?.[1]).toBeGreaterThan(0);
  });

  it('reports intervals around the point estimates on data with an edge', () => {
    const out = runTraining(job(3000, { decisionIntervalMs: 1000 }));
    const m = out.metrics;
    for (const [v, ci] of [
      [m.ic, m.ic_ci],
      [m.r2, m.r2_ci],
      [m.hit_rate, m.hit_rate_ci],
    ] as const) {
      expect(ci).toBeDefined();
      expect(ci?.[0]).toBeLessThan(v);
      expect(ci?.[1]).toBeGreaterThan(v);
    }
    expect(m.ic_ci?.[0]).toBeGreaterThan(0.4);
  });
});

describe('training refuses data it cannot learn from', () => {
  it('constant labels, with a message instead of a schema dump', () => {
    const j = job(3000);
    expect(() => runTraining({ ...j, y: new Float32Array(3000).fill(0.25) })).toThrow(
      /every label is the same \(0\.25 bps\): the mid price never moved/,
    );
  });

  it('labels that are not numbers', () => {
    const j = job(3000);
    const y = Float32Array.from(j.y);
    y[10] = NaN;
    y[20] = Infinity;
    expect(() => runTraining({ ...j, y })).toThrow(TrainingDataError);
    expect(() => runTraining({ ...j, y })).toThrow(
      /2 of 3000 labels are not numbers \(the first at 2023-11-14T22:13:30\.000Z\)/,
    );
  });

  it('a span of fewer independent horizons than configured, however many rows', () => {
    // 3000 rows 20 ms apart: a minute of data, 6 horizons of 10 s.
    const j = job(3000);
    const ts = Float64Array.from({ length: 3000 }, (_, i) => 1_700_000_000_000 + i * 20);
    expect(() => runTraining({ ...j, ts, minHorizons: 200 })).toThrow(
      /training needs at least 34 minutes of data \(200 independent 10 s horizons\); this data covers 70 seconds \(6 horizons\): collect about 33 minutes more, then train again/,
    );
    // the same rows 1 s apart cover 3000 s = 300 horizons
    expect(runTraining({ ...j, minHorizons: 200 }).metrics.n_valid).toBeGreaterThan(0);
  });
});

describe('trainInWorker', () => {
  it('trains off the main thread with progress events, giving the same model as in-thread', async () => {
    const j = job(3000);
    const progress: TrainProgress[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const { outcome: out } = await trainInWorker(j, {
      onProgress: (p) => progress.push(p as TrainProgress),
      progressEveryMs: 0,
    }).result;
    clearInterval(timer);
    const local = runTraining(job(3000));
    expect(Array.from(out.model.value)).toEqual(Array.from(local.model.value));
    expect(out.metrics.r2).toBeCloseTo(local.metrics.r2, 10);
    expect(progress.length).toBeGreaterThan(5);
    expect(progress[0]).toMatchObject({ phase: 'final', round: 1, rounds: 60 });
    expect(progress.every((p) => Number.isFinite(p.trainLoss))).toBe(true);
    // the event loop kept running while the worker trained
    expect(ticks).toBeGreaterThan(0);
  });

  it('cancel() stops training and rejects with TrainCancelled', async () => {
    const j = job(20_000, { params: { ...DEFAULT_PARAMS, rounds: 100_000, earlyStoppingRounds: 0 } });
    let seen = 0;
    const h = trainInWorker(j, {
      progressEveryMs: 0,
      onProgress: () => {
        if (++seen === 3) h.cancel();
      },
    });
    await expect(h.result).rejects.toBeInstanceOf(TrainCancelled);
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(seen).toBeLessThan(1000);
  });
});

describe('checkSpan wording', () => {
  it.each([
    ['session 3', 'session 3 covers'],
    ['sessions 3, 4', 'sessions 3, 4 cover'],
    ['the 9 sessions', 'the 9 sessions cover'],
  ])('%s', (what, says) => {
    const ts = Float64Array.from({ length: 61 }, (_, i) => i * 1000);
    expect(() => checkSpan(ts, 10_000, 200, what)).toThrow(
      `; ${says} 70 seconds (7 horizons): collect about 33 minutes more`,
    );
  });
});
