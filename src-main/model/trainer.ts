// The training procedure behind `l2desk train` and retraining: random-search tuning over walk-forward folds,
// then the final model on the newest fold, honestly scored. Every fit early-stops on the last (embargoed)
// part of its own training rows; validation rows are only ever scored, never trained or stopped on. The newest
// fold (the holdout) never chooses anything: with one fold, tuning selects on an inner split of its training rows,
// so the reported validation score is not the maximum of several tries on the same rows.
// Pure computation (no I/O, no clock): it runs inside the trainer worker.
import { computeBinEdges, binMatrix, type BinEdges } from './gbdt/binning.ts';
import { averageEnsembles, featureImportance, predict, type TreeEnsemble } from './gbdt/model.ts';
import { Prng } from './gbdt/prng.ts';
import { trainGbdt, validateParams, type GbdtParams, type Matrix } from './gbdt/train.ts';
import { blockLengthFor, metricIntervals } from './confidence.ts';
import { evaluate, quantiles, type EvalMetrics } from './metrics.ts';
import type { ModelMetrics } from './modelMeta.ts';
import { checkLabels, checkSpan, TrainingDataError } from './trainingData.ts';
import { walkForwardSplits, type Fold } from './walkForward.ts';

export interface TrainJob {
  /** Row-major nRows x nFeatures. */
  X: Float32Array;
  y: Float32Array;
  ts: Float64Array;
  nRows: number;
  nFeatures: number;
  names: readonly string[];
  horizonMs: number;
  params: GbdtParams;
  /** Walk-forward folds k (config train.folds): the newest is the holdout. */
  folds: number;
  /** Random-search trials (config tuning.trials); 0 uses `params` as given. */
  trials: number;
  /** Models averaged into one (config train.ensemble), each with its own seed. */
  ensemble: number;
  /** Share of each fit's training rows (the newest, after an embargo) used for early stopping. */
  earlyStopFraction?: number;
  /** Refuse rows covering fewer label horizons than this (config train.min_horizons); 0 or absent: no check. */
  minHorizons?: number;
  /** Sampling period of the rows (ms): sets the bootstrap block length; default: the median row spacing. */
  decisionIntervalMs?: number;
}

/** With one fold, the newest share of the holdout's training rows that tuning selects on (after an embargo). */
export const INNER_SELECTION_FRACTION = 0.25;

export interface TrainProgress {
  phase: 'tuning' | 'final';
  /** 1-based; 0 in the final phase. */
  trial: number;
  trials: number;
  /** 1-based fold (tuning) or ensemble member (final). */
  step: number;
  steps: number;
  round: number;
  rounds: number;
  trainLoss: number;
  validLoss: number;
}

export interface TrialResult {
  params: GbdtParams;
  cv: EvalMetrics;
  /** Mean early-stopped rounds over the folds. */
  rounds: number;
}

export interface TrainOutcome {
  model: TreeEnsemble;
  params: GbdtParams;
  metrics: ModelMetrics;
  trials: TrialResult[];
  /** Time span of the rows the final model was fitted on (ms). */
  trainFrom: number;
  trainTo: number;
  validFrom: number;
  validTo: number;
}

export class TrainCancelled extends Error {
  override name = 'TrainCancelled';
  constructor() {
    super('training cancelled');
  }
}

export interface TrainHooks {
  onProgress?: (p: TrainProgress) => void;
  shouldStop?: () => boolean;
}

/** Rows `idx` of the job as a matrix (copies). */
function subset(job: TrainJob, idx: Int32Array): Matrix {
  const nf = job.nFeatures;
  const X = new Float32Array(idx.length * nf);
  const y = new Float32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const r = idx[k];
    X.set(job.X.subarray(r * nf, r * nf + nf), k * nf);
    y[k] = job.y[r];
  }
  return { X, y, n: idx.length, nFeatures: nf };
}

/**
 * Splits time-ordered training rows into fit rows and a newest early-stopping tail, leaving out the rows within
 * one horizon before the tail (their labels would overlap it).
 */
export function earlyStopSplit(
  idx: Int32Array,
  ts: Float64Array,
  horizonMs: number,
  fraction: number,
): { fit: Int32Array; stop: Int32Array } {
  const order = Int32Array.from(idx).sort((a, b) => ts[a] - ts[b] || a - b);
  const nStop = Math.floor(order.length * fraction);
  if (nStop < 10 || order.length - nStop < 20) return { fit: order, stop: new Int32Array(0) };
  const stop = order.subarray(order.length - nStop);
  const from = ts[stop[0]];
  let end = order.length - nStop;
  while (end > 0 && ts[order[end - 1]] > from - horizonMs) end--;
  return { fit: order.slice(0, end), stop: Int32Array.from(stop) };
}

interface Prepared {
  fit: Matrix;
  stop: Matrix;
  valid: Matrix;
  edges: BinEdges;
  binned: Uint8Array;
}

function prepare(job: TrainJob, fold: Fold, bins: number): Prepared {
  const { fit, stop } = earlyStopSplit(fold.train, job.ts, job.horizonMs, job.earlyStopFraction ?? 0.15);
  const fm = subset(job, fit);
  const edges = computeBinEdges(fm.X, fm.n, fm.nFeatures, bins);
  return {
    fit: fm,
    stop: subset(job, stop),
    valid: subset(job, fold.valid),
    edges,
    binned: binMatrix(fm.X, fm.n, fm.nFeatures, edges),
  };
}

/** One random-search draw around the configured parameters (rounds, bins and early stopping stay as configured). */
export function sampleParams(base: GbdtParams, rng: Prng, nRows: number): GbdtParams {
  const maxLeaf = Math.max(5, Math.floor(nRows / 20));
  return {
    ...base,
    maxDepth: rng.int(2, 8),
    learningRate: rng.logUniform(0.01, 0.2),
    minSamplesLeaf: Math.min(maxLeaf, Math.round(rng.logUniform(5, 400))),
    l2: rng.logUniform(0.01, 30),
    rowSubsample: rng.uniform(0.5, 1),
    featureSubsample: rng.uniform(0.4, 1),
  };
}

function mean(xs: number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/**
 * The folds tuning selects on: every walk-forward fold but the newest (the holdout); with a single fold, an inner
 * split of the holdout's training rows (the newest INNER_SELECTION_FRACTION, after an embargo of one horizon).
 */
export function selectionFolds(job: TrainJob, folds: readonly Fold[]): Fold[] {
  if (folds.length > 1) return folds.slice(0, -1);
  const holdout = folds[0];
  const { fit, stop } = earlyStopSplit(holdout.train, job.ts, job.horizonMs, INNER_SELECTION_FRACTION);
  if (stop.length === 0)
    throw new TrainingDataError(
      `tuning with one fold needs enough training rows for an inner selection split; there are ${holdout.train.length}: ` +
        'collect more data, or train without tuning (0 trials)',
      'too_few_rows',
    );
  return [{ train: fit, valid: stop, validFrom: job.ts[stop[0]], validTo: job.ts[stop[stop.length - 1]] }];
}

const orZero = (x: number) => (Number.isFinite(x) ? x : 0);

function medianSpacing(ts: ArrayLike<number>): number {
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) if (ts[i] > ts[i - 1]) d.push(ts[i] - ts[i - 1]);
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  return d[d.length >> 1];
}

export function runTraining(job: TrainJob, hooks: TrainHooks = {}): TrainOutcome {
  validateParams(job.params);
  if (job.X.length !== job.nRows * job.nFeatures)
    throw new RangeError(`X has ${job.X.length} values for ${job.nRows} x ${job.nFeatures}`);
  if (job.names.length !== job.nFeatures)
    throw new RangeError(`${job.names.length} feature names for ${job.nFeatures} features`);
  checkLabels(job.y, job.ts);
  if (job.minHorizons) checkSpan(job.ts, job.horizonMs, job.minHorizons);
  const folds = walkForwardSplits(job.ts, { folds: job.folds, horizonMs: job.horizonMs });
  const holdout = folds[folds.length - 1];
  // The holdout only reports: tuning selects on earlier folds, or on an inner split when there is one fold.
  const tuneFolds = job.trials > 0 ? selectionFolds(job, folds) : [];
  const stopCheck = () => {
    if (hooks.shouldStop?.()) throw new TrainCancelled();
  };

  const trials: TrialResult[] = [];
  let best: GbdtParams = job.params;
  if (job.trials > 0) {
    const prepared = tuneFolds.map((f) => prepare(job, f, job.params.bins));
    const rng = new Prng(job.params.seed ^ 0x5eed);
    let bestMse = Infinity;
    for (let t = 0; t < job.trials; t++) {
      // Trial 1 is the configured parameters, so tuning can only improve on them (in cross-validation).
      const params = t === 0 ? job.params : sampleParams(job.params, rng, prepared[0].fit.n);
      const scores: EvalMetrics[] = [];
      const rounds: number[] = [];
      prepared.forEach((p, i) => {
        stopCheck();
        const res = trainGbdt(p.fit, params, {
          valid: p.stop.n > 0 ? p.stop : undefined,
          binEdges: p.edges,
          binned: p.binned,
          shouldStop: hooks.shouldStop,
          onRound: (r) =>
            hooks.onProgress?.({
              phase: 'tuning',
              trial: t + 1,
              trials: job.trials,
              step: i + 1,
              steps: prepared.length,
              round: r.round + 1,
              rounds: params.rounds,
              trainLoss: r.trainLoss,
              validLoss: r.validLoss,
            }),
        });
        stopCheck();
        scores.push(evaluate(predict(res.model, p.valid.X, p.valid.n), p.valid.y));
        rounds.push(res.bestRounds);
      });
      const cv: EvalMetrics = {
        r2: mean(scores.map((s) => s.r2)),
        ic: mean(scores.map((s) => s.ic)),
        hit_rate: mean(scores.map((s) => s.hit_rate)),
        mse: mean(scores.map((s) => s.mse)),
      };
      trials.push({ params, cv, rounds: mean(rounds) });
      if (cv.mse < bestMse) {
        bestMse = cv.mse;
        best = params;
      }
    }
  }

  // Final: K seeds on the holdout fold's training rows, averaged; scored on the holdout.
  const p = prepare(job, holdout, best.bins);
  const K = Math.max(1, job.ensemble);
  const members: TreeEnsemble[] = [];
  for (let k = 0; k < K; k++) {
    stopCheck();
    const params = { ...best, seed: best.seed + k * 7919 };
    const res = trainGbdt(p.fit, params, {
      valid: p.stop.n > 0 ? p.stop : undefined,
      binEdges: p.edges,
      binned: p.binned,
      shouldStop: hooks.shouldStop,
      onRound: (r) =>
        hooks.onProgress?.({
          phase: 'final',
          trial: 0,
          trials: job.trials,
          step: k + 1,
          steps: K,
          round: r.round + 1,
          rounds: params.rounds,
          trainLoss: r.trainLoss,
          validLoss: r.validLoss,
        }),
    });
    stopCheck();
    members.push(res.model);
  }
  const model = averageEnsembles(members);
  const pred = predict(model, p.valid.X, p.valid.n);
  const ev = evaluate(pred, p.valid.y);
  const absY = Float64Array.from(p.valid.y, Math.abs);
  // Validation rows are in time order with overlapping labels: a block bootstrap, blocks of at least one horizon.
  const validTs = Float64Array.from(holdout.valid, (r) => job.ts[r]);
  const ci = metricIntervals(pred, p.valid.y, {
    blockLength: blockLengthFor(job.horizonMs, job.decisionIntervalMs ?? medianSpacing(validTs), p.valid.n),
    // fewer resamples on very large holdouts (months of data) keep this to about a second
    reps: Math.max(200, Math.min(1000, Math.floor(6e7 / Math.max(1, p.valid.n)))),
    seed: 1,
  });
  const imp = featureImportance(model);
  const bestTrial = trials.find((t) => t.params === best);
  const metrics: ModelMetrics = {
    r2: ev.r2,
    // A constant prediction (a model of single-leaf trees) ranks nothing: its IC is 0, not undefined.
    ic: orZero(ev.ic),
    hit_rate: ev.hit_rate,
    mse: ev.mse,
    ...(ci.ic_ci ? { ic_ci: ci.ic_ci } : {}),
    ...(ci.r2_ci ? { r2_ci: ci.r2_ci } : {}),
    ...(ci.hit_rate_ci ? { hit_rate_ci: ci.hit_rate_ci } : {}),
    n_train: p.fit.n + p.stop.n,
    n_valid: p.valid.n,
    pred_quantiles: quantiles(pred),
    label_abs_quantiles: quantiles(absY),
    feature_importance: Object.fromEntries(job.names.map((n, f) => [n, imp[f]])),
    ...(bestTrial
      ? {
          cv: {
            r2: bestTrial.cv.r2,
            ic: orZero(bestTrial.cv.ic),
            hit_rate: bestTrial.cv.hit_rate,
            folds: tuneFolds.length,
            selected_on: folds.length > 1 ? 'walk_forward_folds' : 'inner_split',
          },
        }
      : {}),
  };
  let trainFrom = Infinity;
  let trainTo = -Infinity;
  for (const r of holdout.train) {
    trainFrom = Math.min(trainFrom, job.ts[r]);
    trainTo = Math.max(trainTo, job.ts[r]);
  }
  return {
    model,
    params: best,
    metrics,
    trials,
    trainFrom,
    trainTo,
    validFrom: holdout.validFrom,
    validTo: holdout.validTo,
  };
}
