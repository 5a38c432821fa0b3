// Walk-forward backtest (as FreqAI's sliding-window backtests): the session is cut into trading windows
// [t_k, t_k + every) from t_0 = start + train window; window k is traded by a model trained only on data received in
// [t_k - window, t_k - H], so its last label ends at least one horizon (the embargo) before its first decision.
// All models are trained first, one after the other (deterministic: nothing races the replay), then ONE engine
// run replays the whole session with a ScheduledModel, so the portfolio carries over from window to window.
import fs from 'node:fs';
import path from 'node:path';
import { formatDuration } from '../../src-shared/duration.ts';
import { PredictorModel, ScheduledModel, type ModelWindow } from '../engine/decisionModel.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS } from '../features/featureSet.ts';
import { blockLengthFor, metricIntervals, type Interval } from '../model/confidence.ts';
import { hitRate, spearman } from '../model/metrics.ts';
import { Predictor } from '../model/predictor.ts';
import { TrainingDataError } from '../model/trainingData.ts';
import {
  settingsFromConfig,
  trainModelFromDb,
  type PipelineProgress,
  type StoreFeatures,
  type TrainSettings,
} from '../model/trainPipeline.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { runBacktest, type BacktestOptions, type BacktestReport, type PassResult } from './backtest.ts';
import type { WalkForwardModelRow, WalkForwardSection } from './walkForwardReport.ts';

/** One window of the plan (epoch ms). */
export interface WalkForwardWindow {
  index: number;
  /** Decisions at times in [tradeFrom, tradeTo) are this window's. */
  tradeFrom: number;
  tradeTo: number;
  /** Its model learns from data received in [trainFrom, trainTo]; trainTo = tradeFrom - horizon. */
  trainFrom: number;
  trainTo: number;
}

export interface WalkForwardSettings {
  trainWindowMs: number;
  everyMs: number;
  horizonMs: number;
  decisionIntervalMs: number;
  /** config train.min_horizons: each window's training data must cover this many label horizons. */
  minHorizons?: number;
}

/** The shortest train window, in horizons: the embargo takes one, labels another, and rows need the rest. */
export const MIN_WINDOW_HORIZONS = 10;
/** Retraining period when neither --retrain-every nor config retrain.every says. */
export const DEFAULT_EVERY_MS = 30 * 60_000;

/** Why these settings cannot make a walk-forward plan, or null when they can. */
export function walkForwardSettingsError(s: WalkForwardSettings): string | null {
  if (!(s.everyMs > 0)) return `the retraining period must be > 0, got ${s.everyMs} ms`;
  if (s.everyMs < s.decisionIntervalMs)
    return `the retraining period (${formatDuration(s.everyMs)}) is shorter than the decision interval (${formatDuration(s.decisionIntervalMs)}): windows without a decision`;
  if (!(s.trainWindowMs >= MIN_WINDOW_HORIZONS * s.horizonMs))
    return (
      `the train window (${formatDuration(s.trainWindowMs)}) must be at least ${MIN_WINDOW_HORIZONS} horizons ` +
      `(${formatDuration(MIN_WINDOW_HORIZONS * s.horizonMs)} for a ${formatDuration(s.horizonMs)} horizon): one horizon is the embargo, the rest must hold training rows`
    );
  const need = minTrainWindowMs(s);
  if (s.trainWindowMs < need)
    return (
      `the train window (${formatDuration(s.trainWindowMs)}) is too short for training, which needs data covering ` +
      `${s.minHorizons} label horizons (train.min_horizons): with the embargo and the features' warm-up that is a ` +
      `window of at least ${formatDuration(need)}; lengthen the train window`
    );
  return null;
}

/** Shortest train window whose rows can cover minHorizons horizons: rows start after the features' warm-up and the
 * last label ends one horizon (the embargo) before trading. */
export function minTrainWindowMs(s: WalkForwardSettings): number {
  return s.minHorizons ? (s.minHorizons + 1) * s.horizonMs + MAX_LOOKBACK_MS : 0;
}

/**
 * Windows over a session spanning [start, end] (receive times, epoch ms): t_0 = start + trainWindow,
 * t_k = t_0 + k * every while t_k < end. They tile [t_0, end] (the last one may reach past end).
 */
export function planWalkForward(start: number, end: number, s: WalkForwardSettings): WalkForwardWindow[] {
  const err = walkForwardSettingsError(s);
  if (err) throw new RangeError(err);
  const out: WalkForwardWindow[] = [];
  for (let t = start + s.trainWindowMs, k = 0; t < end; t = start + s.trainWindowMs + ++k * s.everyMs) {
    out.push({
      index: k,
      tradeFrom: t,
      tradeTo: t + s.everyMs,
      trainFrom: t - s.trainWindowMs,
      trainTo: t - s.horizonMs,
    });
  }
  return out;
}

export interface WalkForwardOptions extends Omit<
  BacktestOptions,
  'model' | 'modelPath' | 'training' | 'trainingAt' | 'modelSwaps'
> {
  /** The database file (the trainer worker opens its own connection). */
  dbFile: string;
  /**
   * The session's rows when dbFile holds only its record (a ClickHouse store's session, trainingCopy.ts; the replay
   * then reads the store through `data`): each window's model learns from them, cut to its window.
   */
  storeFeatures?: StoreFeatures;
  trainWindowMs: number;
  everyMs: number;
  /** Where the models go (X.onnx + X.json per window, and walkforward.json); created if missing. */
  outDir: string;
  /** Creation time stamped into the models' metadata (the caller's clock). */
  createdAt: number;
  /** Default: settingsFromConfig(config). */
  settings?: TrainSettings;
  /** After each window's training (or its failure for lack of data). */
  onWindow?: (w: WalkForwardWindow, row: WalkForwardModelRow, total: number) => void;
  /** While a window's model is being trained (dataset events, boosting rounds: the trainer worker's progress). */
  onTrainProgress?: (w: WalkForwardWindow, p: PipelineProgress, total: number) => void;
}

interface TrainedWindow {
  window: WalkForwardWindow;
  row: WalkForwardModelRow;
  predictor: Predictor | null;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);
const finiteInterval = (ci: Interval | null): Interval | null =>
  ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null;

export async function runWalkForward(
  o: WalkForwardOptions,
): Promise<{ report: BacktestReport; passes: PassResult[] }> {
  const db: Db = o.db;
  const s = o.data?.session ?? getSession(db, o.sessionId);
  if (!s) throw new Error(`no session ${o.sessionId} in ${db.name}`);
  if (s.firstRecvTs === null || s.lastRecvTs === null) throw new Error(`session ${s.id} holds no data`);
  const horizonMs = o.config.model.horizon;
  const decisionIntervalMs = o.config.features.decision_interval;
  const settings = o.settings ?? settingsFromConfig(o.config);
  const ws: WalkForwardSettings = {
    trainWindowMs: o.trainWindowMs,
    everyMs: o.everyMs,
    horizonMs,
    decisionIntervalMs,
    minHorizons: settings.minHorizons,
  };
  const plan = planWalkForward(s.firstRecvTs, s.lastRecvTs, ws);
  if (plan.length === 0)
    throw new Error(
      `session ${s.id} spans ${formatDuration(s.lastRecvTs - s.firstRecvTs)}, no longer than the train window ` +
        `(${formatDuration(o.trainWindowMs)}): nothing is left to test; shorten the train window or record more`,
    );
  fs.mkdirSync(o.outDir, { recursive: true });
  const digits = String(plan.length - 1).length;
  const trained: TrainedWindow[] = [];
  try {
    // 1. Train every window's model, in order (each one's fallback is the previous window's).
    let last: TrainedWindow | null = null;
    for (const w of plan) {
      o.signal?.throwIfAborted();
      const name = `wf-${String(w.index).padStart(Math.max(2, digits), '0')}`;
      const outPath = path.join(o.outDir, `${name}.onnx`);
      const base = {
        window: w.index,
        trade_from: w.tradeFrom,
        trade_to: w.tradeTo,
        train_from: w.trainFrom,
        train_to: w.trainTo,
        decisions: 0,
        in_sample: 0,
        oos_ic: null,
        oos_hit_rate: null,
        oos_n: 0,
      };
      let t: TrainedWindow;
      try {
        const m = await trainModelFromDb({
          spec: {
            dbFile: o.dbFile,
            sessionIds: [s.id],
            decisionIntervalMs,
            horizonMs,
            feedLatencyMs: o.config.trading.feed_latency,
            fromTs: w.trainFrom,
            toTs: w.trainTo,
            storeFeatures: o.storeFeatures,
          },
          settings,
          outPath,
          name,
          createdAt: o.createdAt,
          signal: o.signal,
          onProgress: o.onTrainProgress && ((p) => o.onTrainProgress?.(w, p, plan.length)),
          // A walk-forward run's models are its own, not candidates for the app's model list.
          registerIn: null,
        });
        const predictor = await Predictor.load(m.onnxPath, FEATURE_SET);
        t = {
          window: w,
          predictor,
          row: {
            ...base,
            model: m.onnxPath,
            trained: true,
            note: '',
            training: { from_ts: m.meta.training.from_ts, to_ts: m.meta.training.to_ts },
            rows: m.dataset.nRows,
            n_train: m.meta.metrics.n_train,
            n_valid: m.meta.metrics.n_valid,
            r2: finite(m.meta.metrics.r2),
            ic: finite(m.meta.metrics.ic),
            r2_ci: m.meta.metrics.r2_ci ?? null,
            ic_ci: m.meta.metrics.ic_ci ?? null,
          },
        };
      } catch (e) {
        if (!(e instanceof TrainingDataError)) throw e;
        // Too little data to learn from: the previous window's model (if any) keeps trading.
        t = {
          window: w,
          predictor: last?.predictor ?? null,
          row: {
            ...base,
            model: last?.row.model ?? null,
            trained: false,
            note:
              `not trained: ${e.message}; ` +
              (last?.row.model
                ? `window ${last.row.window}'s model kept trading`
                : 'no model yet, no trading'),
            training: last?.row.training ?? null,
            rows: 0,
            n_train: 0,
            n_valid: 0,
            r2: null,
            ic: null,
          },
        };
      }
      trained.push(t);
      if (t.row.trained) last = t;
      o.onWindow?.(w, t.row, plan.length);
    }

    // 2. One continuous replay; each decision is made by the model of its window.
    const windows: ModelWindow[] = trained.map((t) => ({
      from: t.window.tradeFrom,
      to: t.window.tradeTo,
      model: t.predictor ? new PredictorModel(t.predictor) : null,
    }));
    const scheduled = new ScheduledModel(windows);
    const spanAt = (ts: number) => {
      const i = scheduled.indexAt(ts);
      return i < 0 ? null : trained[i].row.training;
    };
    const swaps: { fromTs: number; model: string; previous: string | null }[] = [];
    for (const t of trained) {
      const previous = swaps.length ? swaps[swaps.length - 1].model : null;
      if (t.row.model && t.row.model !== previous)
        swaps.push({ fromTs: t.window.tradeFrom, model: t.row.model, previous });
    }
    const predictions = new Map<number, { value: number; mid: number }>();
    const onPrediction = o.onPrediction;
    const result = await runBacktest({
      ...o,
      model: scheduled,
      modelPath: o.outDir,
      trainingAt: spanAt,
      modelSwaps: swaps,
      onPrediction: (ts, value, mid) => {
        predictions.set(ts, { value, mid });
        onPrediction?.(ts, value, mid);
      },
    });

    // 3. Per window: decisions, in-sample count (0 by construction, counted all the same) and out-of-sample IC.
    const rows = trained.map((t) => t.row);
    const perWindow = rows.map(() => ({ pred: [] as number[], y: [] as number[] }));
    for (const [ts, p] of predictions) {
      const i = scheduled.indexAt(ts);
      if (i < 0) continue;
      const r = rows[i];
      r.decisions++;
      if (r.training && ts >= r.training.from_ts && ts <= r.training.to_ts) r.in_sample++;
      const later = predictions.get(ts + horizonMs);
      if (later && p.mid > 0 && later.mid > 0) {
        perWindow[i].pred.push(p.value);
        perWindow[i].y.push(Math.log(later.mid / p.mid) * 1e4);
      }
    }
    rows.forEach((r, i) => {
      const { pred, y } = perWindow[i];
      r.oos_n = y.length;
      r.oos_ic = y.length >= 3 ? finite(spearman(pred, y)) : null;
      r.oos_hit_rate = y.length > 0 ? finite(hitRate(pred, y)) : null;
      // Decisions come every interval, labels span a horizon: neighbouring rows overlap, hence a block bootstrap.
      const ci = metricIntervals(pred, y, {
        blockLength: blockLengthFor(horizonMs, decisionIntervalMs, y.length),
        seed: 1,
      });
      r.oos_ic_ci = finiteInterval(ci.ic_ci);
      r.oos_hit_rate_ci = finiteInterval(ci.hit_rate_ci);
    });
    const section: WalkForwardSection = {
      train_window_ms: o.trainWindowMs,
      every_ms: o.everyMs,
      horizon_ms: horizonMs,
      embargo_ms: horizonMs,
      first_trade_ts: plan[0].tradeFrom,
      out_dir: o.outDir,
      models: rows,
    };
    result.report.walk_forward = section;
    fs.writeFileSync(
      path.join(o.outDir, 'walkforward.json'),
      JSON.stringify({ session: result.report.session, ...section }, null, 1) + '\n',
    );
    return result;
  } finally {
    for (const t of trained) if (t.row.trained) await t.predictor?.close();
  }
}
