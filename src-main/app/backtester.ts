// Backtester adapter: replays a stored session through the engine (src-main/backtest) at one threshold or a
// sweep, with the active model, and turns the result into the IPC report's runs (equity with drawdown).
import type { Config } from '../../src-shared/config.ts';
import type { BacktestRunReport, EquityPoint } from '../../src-shared/ipc.ts';
import { runBacktest } from '../backtest/backtest.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import type { Db } from '../store/db.ts';
import { toMetricsView } from './enginePipeline.ts';
import type { Backtester } from './ports.ts';

export function withDrawdown(points: readonly (readonly [number, number])[]): EquityPoint[] {
  let peak = -Infinity;
  return points.map(([t, equity]) => {
    peak = Math.max(peak, equity);
    return { t, equity, drawdown: peak > 0 ? (peak - equity) / peak : 0 };
  });
}

export function makeBacktester(o: { config: Config; db: Db; modelPath: () => string }): Backtester {
  return async ({ sessionId, thresholds, onProgress }) => {
    const modelPath = o.modelPath();
    let predictor: Predictor;
    try {
      predictor = await Predictor.load(modelPath, FEATURE_SET);
    } catch (e) {
      throw new Error(`cannot backtest without a model: ${(e as Error).message}. Retrain one first.`);
    }
    try {
      onProgress(0, 'replaying the session');
      const { report, passes } = await runBacktest({
        db: o.db,
        sessionId,
        config: o.config,
        model: new PredictorModel(predictor),
        modelPath,
        thresholds,
        maxEquityPoints: 1500,
        onProgress: (done, total, row) =>
          onProgress(done / total, `threshold ${row.threshold}: ${row.trades} trades`),
      });
      return passes.map((p, i): BacktestRunReport => ({
        threshold: p.threshold,
        metrics: toMetricsView(p.metrics),
        finalEquity: p.metrics.finalEquity,
        equity: withDrawdown(report.equity[i]?.points ?? []),
        signals: p.signals,
        fills: p.fills.length,
      }));
    } finally {
      await predictor.close();
    }
  };
}
