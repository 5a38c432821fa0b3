// Backtester adapter: replays a stored session through the engine (src-main/backtest) at one threshold or a
// sweep, with the active model, and turns the result into the IPC report's runs (equity with drawdown). The replay
// is CPU-bound for seconds, so it runs in a worker thread (its own connection and Predictor); only a database
// without a file (':memory:') falls back to running here. Either way each pass is stored as a run, like the CLI's.
// A walk-forward backtest (as `l2desk backtest --walk-forward`) always runs in the worker, which trains the window
// models with the trainer worker first; its models go to a folder beside the database and are never registered.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import type { BacktestRunReport, EquityPoint, WalkForwardView } from '../../src-shared/ipc.ts';
import { runBacktest } from '../backtest/backtest.ts';
import {
  backtestInWorker,
  BacktestModelError,
  summarizePasses,
  type BacktestOutcome,
  type PassSummary,
  type ReplayProgress,
  type TrainingProgress,
} from '../backtest/runInWorker.ts';
import { walkForwardSettingsError } from '../backtest/walkForward.ts';
import type { WalkForwardSection } from '../backtest/walkForwardReport.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS } from '../features/featureSet.ts';
import { whyNoTrades } from '../../src-shared/noTrades.ts';
import { storedPassFacts } from '../backtest/passFacts.ts';
import { Predictor } from '../model/predictor.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { toMetricsView } from './enginePipeline.ts';
import type { Backtester, BacktestProgressDetail, BacktestTrainingDetail } from './ports.ts';
import { describeProgress } from './trainer.ts';

const MAX_EQUITY_POINTS = 1500;

export function withDrawdown(points: readonly (readonly [number, number])[]): EquityPoint[] {
  let peak = -Infinity;
  return points.map(([t, equity]) => {
    peak = Math.max(peak, equity);
    return { t, equity, drawdown: peak > 0 ? (peak - equity) / peak : 0 };
  });
}

/**
 * Why a pass made no trade (the same sentence as `l2desk backtest` prints): the facts are the pass's own, plus the
 * largest |prediction| among its stored predictions and the span of the session's data.
 */
export function noTradesOf(db: Db, sessionId: number): (p: PassSummary) => string | null {
  const s = getSession(db, sessionId);
  const span = s && s.firstRecvTs !== null && s.lastRecvTs !== null ? s.lastRecvTs - s.firstRecvTs : null;
  const factsOf = storedPassFacts(db);
  return (p) => {
    if (p.fillCount > 0) return null;
    const stored = p.runId === null ? null : factsOf(p.runId);
    return whyNoTrades({
      fills: p.fillCount,
      predictions: p.predictions,
      threshold: p.threshold,
      maxAbsPrediction: stored?.maxAbsPrediction ?? null,
      ...(stored ? { tradeSignals: stored.tradeSignals, belowMinimum: stored.belowMinimum } : {}),
      halts: p.halts.map((h) => h.reason),
      dataSpanMs: span,
      warmupMs: MAX_LOOKBACK_MS,
    });
  };
}

export function toRunReports(
  { report, passes }: BacktestOutcome,
  noTrades: (p: PassSummary) => string | null = () => null,
): BacktestRunReport[] {
  return passes.map((p, i): BacktestRunReport => ({
    threshold: p.threshold,
    metrics: toMetricsView(p.metrics),
    finalEquity: p.metrics.finalEquity,
    equity: withDrawdown(report.equity[i]?.points ?? []),
    signals: p.signals,
    fills: p.fillCount,
    inSampleShare: report.in_sample.share,
    trainingSpan: report.in_sample.training
      ? { fromTs: report.in_sample.training.from_ts, toTs: report.in_sample.training.to_ts }
      : null,
    halts: p.halts,
    noTrades: noTrades(p),
  }));
}

export function describeReplay(p: ReplayProgress): {
  fraction: number;
  message: string;
  detail: BacktestProgressDetail;
} {
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    fraction: p.total > 0 ? Math.min(1, p.replayed / p.total) : 0,
    message:
      `threshold ${p.threshold}${p.passes > 1 ? ` (${p.pass + 1}/${p.passes})` : ''}: ` +
      `${n(p.replayed)} / ${n(p.total)} messages replayed`,
    detail: { threshold: p.threshold, replayed: p.replayed, total: p.total },
  };
}

/** Share of a walk-forward run's progress bar given to training its models (the replay gets the rest). */
const TRAINING_SHARE = 0.5;
const fixed = (x: number | null, d = 3) => (x === null ? '–' : x.toFixed(d));

export function describeTraining(t: TrainingProgress): {
  fraction: number;
  message: string;
  detail: BacktestTrainingDetail;
} {
  const inWindow = t.train ? Math.min(1, describeProgress(t.train).fraction) : 1;
  const head = `training window ${t.window + 1}/${t.windows}`;
  const r = t.row;
  return {
    fraction: t.windows > 0 ? (TRAINING_SHARE * (t.window + inWindow)) / t.windows : 0,
    message: r
      ? r.trained
        ? `${head}: ${r.rows.toLocaleString('en-US')} rows, r2 ${fixed(r.r2)}, ic ${fixed(r.ic)}`
        : `${head}: ${r.note}`
      : `${head}: ${t.train ? describeProgress(t.train).message : 'starting'}`,
    detail: { window: t.window, windows: t.windows },
  };
}

/** The report's walk-forward section as the panel shows it (model file names; their folder is outDir). */
export function toWalkForwardView(s: WalkForwardSection): WalkForwardView {
  return {
    trainWindowMs: s.train_window_ms,
    everyMs: s.every_ms,
    embargoMs: s.embargo_ms,
    firstTradeTs: s.first_trade_ts,
    outDir: s.out_dir,
    windows: s.models.map((m) => ({
      window: m.window,
      tradeFrom: m.trade_from,
      tradeTo: m.trade_to,
      trainFrom: m.train_from,
      trainTo: m.train_to,
      trained: m.trained,
      note: m.note,
      model: m.model === null ? null : path.basename(m.model),
      rows: m.rows,
      r2: m.r2,
      ic: m.ic,
      decisions: m.decisions,
      inSample: m.in_sample,
      oosIc: m.oos_ic,
      oosHitRate: m.oos_hit_rate,
      oosN: m.oos_n,
      icCi: m.ic_ci ?? null,
      r2Ci: m.r2_ci ?? null,
      oosIcCi: m.oos_ic_ci ?? null,
      oosHitRateCi: m.oos_hit_rate_ci ?? null,
    })),
  };
}

/**
 * A new folder for a walk-forward run's models beside the database, named like the CLI's default
 * (walkforward-<session>-<UTC time>), with a suffix when a run of the same second already took the name.
 */
export function makeWalkForwardDir(dbFile: string, sessionId: number, now: number, inDir?: string): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const base = path.join(inDir ?? path.dirname(path.resolve(dbFile)), `walkforward-${sessionId}-${stamp}`);
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

const noModel = (e: Error) => new Error(`cannot backtest without a model: ${e.message}. Retrain one first.`);

export function makeBacktester(o: {
  config: Config;
  db: Db;
  modelPath: () => string;
  /** better-sqlite3 binary built for Electron's ABI (the worker opens its own connection with it). */
  nativeBinding?: string;
  /** Default: in a worker whenever the database is a file. */
  inWorker?: boolean;
  /** Where walk-forward model folders go (default: beside the database file). */
  walkForwardDir?: string;
  /**
   * A ClickHouse store the worker replays sessions from (BacktestJob.clickhouse); `db` then holds their stand-in
   * records and the runs. A walk-forward backtest there also needs the session's rows (storeFeatures).
   */
  clickhouse?: string;
  /** The rows a walk-forward backtest's models learn from when the session is a ClickHouse store's. */
  storeFeatures?: StoreFeatures;
}): Backtester {
  return async ({ sessionId, thresholds, walkForward, onProgress, signal }) => {
    const file = o.db.memory ? '' : o.db.name;
    if (walkForward) {
      const err = walkForwardSettingsError({
        ...walkForward,
        horizonMs: o.config.model.horizon,
        decisionIntervalMs: o.config.features.decision_interval,
        minHorizons: o.config.train.min_horizons,
      });
      if (err) throw new Error(`walk-forward: ${err}`);
      // The trainer worker reads the data through its own connection.
      if (!file) throw new Error('a walk-forward backtest needs a database file, not an in-memory database');
      const now = Date.now();
      const outDir = makeWalkForwardDir(file, sessionId, now, o.walkForwardDir);
      onProgress(0, 'training the walk-forward models');
      try {
        const outcome = await backtestInWorker(
          {
            dbFile: file,
            nativeBinding: o.nativeBinding,
            sessionId,
            modelPath: outDir,
            config: o.config,
            thresholds,
            maxEquityPoints: MAX_EQUITY_POINTS,
            walkForward: { ...walkForward, outDir, createdAt: now },
            clickhouse: o.clickhouse,
            storeFeatures: o.storeFeatures,
          },
          {
            signal,
            onTraining: (t) => {
              const d = describeTraining(t);
              onProgress(d.fraction, d.message, d.detail);
            },
            onProgress: (p) => {
              const d = describeReplay(p);
              onProgress(TRAINING_SHARE + (1 - TRAINING_SHARE) * d.fraction, d.message, d.detail);
            },
          },
        );
        const wf = outcome.report.walk_forward;
        return {
          runs: toRunReports(outcome, noTradesOf(o.db, sessionId)),
          walkForward: wf ? toWalkForwardView(wf) : null,
        };
      } catch (e) {
        // Nothing written (a session too short for the window, a cancel before the first model): no empty folder left.
        try {
          fs.rmdirSync(outDir);
        } catch {
          // It holds the models trained before the failure or cancel: kept, like the CLI's.
        }
        throw e;
      }
    }
    const modelPath = o.modelPath();
    const onReplay = (p: ReplayProgress) => {
      const d = describeReplay(p);
      onProgress(d.fraction, d.message, d.detail);
    };
    onProgress(0, 'replaying the session');
    if (o.inWorker ?? file !== '') {
      if (!file) throw new Error('a backtest in a worker needs a database file, not an in-memory database');
      const outcome = await backtestInWorker(
        {
          dbFile: file,
          nativeBinding: o.nativeBinding,
          sessionId,
          clickhouse: o.clickhouse,
          modelPath,
          config: o.config,
          thresholds,
          maxEquityPoints: MAX_EQUITY_POINTS,
        },
        { onProgress: onReplay, signal },
      ).catch((e: Error) => {
        throw e instanceof BacktestModelError ? noModel(e) : e;
      });
      return { runs: toRunReports(outcome, noTradesOf(o.db, sessionId)), walkForward: null };
    }
    const outcome = await backtestHere(o, { sessionId, thresholds, modelPath, signal, onReplay });
    return { runs: toRunReports(outcome, noTradesOf(o.db, sessionId)), walkForward: null };
  };
}

/** The same run on this thread (in-memory databases; and the reference the worker's result is tested against). */
async function backtestHere(
  o: { config: Config; db: Db },
  a: {
    sessionId: number;
    thresholds: number[];
    modelPath: string;
    signal?: AbortSignal;
    onReplay: (p: ReplayProgress) => void;
  },
): Promise<BacktestOutcome> {
  let predictor: Predictor;
  try {
    predictor = await Predictor.load(a.modelPath, FEATURE_SET);
  } catch (e) {
    throw noModel(e as Error);
  }
  try {
    const perPass = getSession(o.db, a.sessionId)?.messages ?? 0;
    const n = a.thresholds.length;
    const at = (pass: number, replayed: number): ReplayProgress => ({
      pass,
      passes: n,
      threshold: a.thresholds[pass],
      replayed: pass * perPass + Math.min(replayed, perPass),
      total: n * perPass,
    });
    const { report, passes } = await runBacktest({
      db: o.db,
      sessionId: a.sessionId,
      config: o.config,
      model: new PredictorModel(predictor),
      modelPath: a.modelPath,
      thresholds: a.thresholds,
      training: predictor.meta.training,
      // Stored like the worker's and the CLI's runs.
      record: true,
      maxEquityPoints: MAX_EQUITY_POINTS,
      signal: a.signal,
      onReplay: (replayed, pass) => a.onReplay(at(pass, replayed)),
    });
    return { report, passes: summarizePasses(passes) };
  } finally {
    await predictor.close();
  }
}
