// Why a backtest pass made no trade, in one sentence, for the CLI's `backtest` output and the app's Backtest panel
// alike: all zeros with no reason reads like a bug. The facts come from the pass (predictions, risk halts) and its
// stored predictions (the largest |prediction|); the checks go from the first thing that can stop trading to the last.
import { formatDuration } from './duration.ts';

export interface NoTradesFacts {
  /** Fills of the pass. */
  fills: number;
  /** Predictions the model made (decisions after the features' warm-up). */
  predictions: number;
  threshold: number;
  /** Largest |prediction| of the pass (label units, bps); null: unknown. */
  maxAbsPrediction: number | null;
  /** The pass's risk halts, as formatHalt (riskHalt.ts) writes them: "halted at 14:03:12: daily loss …". */
  halts?: readonly string[];
  /** Span of the session's data (ms); null: unknown. */
  dataSpanMs: number | null;
  /** The features' warm-up (ms): no prediction before it. */
  warmupMs: number;
  /** Buy or sell signals of the pass (stored when the signal or its target changes); absent: unknown. */
  tradeSignals?: number;
  /** Of those, the ones the risk rules placed no order for because it would be under the minimum order value or a lot. */
  belowMinimum?: number;
}

const bps = (x: number) => `${Number(x.toPrecision(3))} bps`;

/** The reason, starting "no trades: ", or null when the pass traded. */
export function whyNoTrades(f: NoTradesFacts): string | null {
  if (f.fills > 0) return null;
  if (f.predictions === 0) {
    if (f.dataSpanMs !== null && f.dataSpanMs <= f.warmupMs)
      return (
        `no trades: the session holds ${formatDuration(f.dataSpanMs)} of data, shorter than the features' ` +
        `warm-up (${formatDuration(f.warmupMs)}), so the model never predicted`
      );
    return (
      'no trades: the model made no prediction (the features never finished warming up: the book was never ' +
      'valid long enough, or the data keeps breaking)'
    );
  }
  if (f.maxAbsPrediction !== null && f.maxAbsPrediction <= f.threshold)
    return (
      `no trades: the threshold ${bps(f.threshold)} is above every prediction (the largest |prediction| of ` +
      `${f.predictions.toLocaleString('en-US')} was ${bps(f.maxAbsPrediction)}): lower the threshold`
    );
  const halt = f.halts?.[0];
  if (halt) return `no trades: the risk rules halted trading (${halt})`;
  if (f.tradeSignals !== undefined && f.tradeSignals > 0 && f.belowMinimum === f.tradeSignals)
    return (
      `no trades: every buy or sell signal (${f.tradeSignals.toLocaleString('en-US')}) asked for an order worth ` +
      "less than the minimum order value (risk.min_order_notional, or the exchange's when higher) or less than one " +
      'lot: raise risk.notional'
    );
  if (f.maxAbsPrediction === null)
    return (
      `no trades: no prediction of ${f.predictions.toLocaleString('en-US')} led to a filled order (the threshold ` +
      `${bps(f.threshold)} may be above every prediction, or the risk rules placed no order)`
    );
  return (
    'no trades: predictions crossed the threshold, but the risk rules placed no order that filled (position ' +
    'limit, minimum order size, cooldown, or orders that never filled)'
  );
}
