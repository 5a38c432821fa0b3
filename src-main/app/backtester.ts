// Backtester adapter: replays a stored session through the engine (src-main/backtest) at one threshold or a
// sweep, with the active model, and turns the result into the IPC report's runs (equity with drawdown). The replay
// is CPU-bound for seconds, so it runs in a worker thread (its own connection and Predictor); only a database
// without a file (':memory:') falls back to running here. Either way each pass is stored as a run, like the CLI's.
import type { Config } from '../../src-shared/config.ts';
import type { BacktestRunReport, EquityPoint } from '../../src-shared/ipc.ts';
import { runBacktest } from '../backtest/backtest.ts';
import {
  backtestInWorker,
  BacktestModelError,
  summarizePasses,
  type BacktestOutcome,
  type ReplayProgress,
} from '../backtest/runInWorker.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { toMetricsView } from './enginePipeline.ts';
import type { Backtester, BacktestProgressDetail } from './ports.ts';

const MAX_EQUITY_POINTS = 1500;

export function withDrawdown(points: readonly (readonly [number, number])[]): EquityPoint[] {
  let peak = -Infinity;
  return points.map(([t, equity]) => {
    peak = Math.max(peak, equity);
    return { t, equity, drawdown: peak > 0 ? (peak - equity) / peak : 0 };
  });
}

export function toRunReports({ report, passes }: BacktestOutcome): BacktestRunReport[] {
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

const noModel = (e: Error) => new Error(`cannot backtest without a model: ${e.message}. Retrain one first.`);

export function makeBacktester(o: {
  config: Config;
  db: Db;
  modelPath: () => string;
  /** better-sqlite3 binary built for Electron's ABI (the worker opens its own connection with it). */
  nativeBinding?: string;
  /** Default: in a worker whenever the database is a file. */
  inWorker?: boolean;
}): Backtester {
  return async ({ sessionId, thresholds, onProgress, signal }) => {
    const modelPath = o.modelPath();
    const onReplay = (p: ReplayProgress) => {
      const d = describeReplay(p);
      onProgress(d.fraction, d.message, d.detail);
    };
    onProgress(0, 'replaying the session');
    const file = o.db.memory ? '' : o.db.name;
    if (o.inWorker ?? file !== '') {
      if (!file) throw new Error('a backtest in a worker needs a database file, not an in-memory database');
      const outcome = await backtestInWorker(
        {
          dbFile: file,
          nativeBinding: o.nativeBinding,
          sessionId,
          modelPath,
          config: o.config,
          thresholds,
          maxEquityPoints: MAX_EQUITY_POINTS,
        },
        { onProgress: onReplay, signal },
      ).catch((e: Error) => {
        throw e instanceof BacktestModelError ? noModel(e) : e;
      });
      return toRunReports(outcome);
    }
    return toRunReports(await backtestHere(o, { sessionId, thresholds, modelPath, signal, onReplay }));
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
