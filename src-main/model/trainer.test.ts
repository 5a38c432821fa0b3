import { describe, expect, it } from 'vitest';
import { Prng } from './gbdt/prng.ts';
import { DEFAULT_PARAMS } from './gbdt/train.ts';
import { earlyStopSplit, runTraining, TrainCancelled, type TrainJob, type TrainProgress } from './trainer.ts';
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
