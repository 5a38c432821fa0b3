// What a stored pass (a backtest run) says about why it made no trade, beyond its summary: the largest |prediction|
// and how the risk rules answered its buy and sell signals. The CLI's `backtest` and the app's Backtest panel read
// the same facts, so they give the same sentence (src-shared/noTrades.ts).
import type { Db } from '../store/db.ts';

export interface StoredPassFacts {
  /** Largest |prediction| of the run; null when it stored none. */
  maxAbsPrediction: number | null;
  /** Buy or sell signals stored (on each change of signal, target or reason). */
  tradeSignals: number;
  /** Of those, refused as under the minimum order value or a lot (risk reason min_notional). */
  belowMinimum: number;
}

/** A reader of stored passes' facts in `db` (statements prepared once). */
export function storedPassFacts(db: Db): (runId: number) => StoredPassFacts {
  const maxAbs = db.prepare('SELECT max(abs(value)) FROM predictions WHERE run_id = ?').pluck();
  const signals = db.prepare(
    `SELECT coalesce(sum(signal != 0), 0) AS trade,
            coalesce(sum(signal != 0 AND reason = 'min_notional'), 0) AS below
       FROM signals WHERE run_id = ?`,
  );
  return (runId) => {
    const s = signals.get(runId) as { trade: number; below: number };
    return {
      maxAbsPrediction: (maxAbs.get(runId) as number | null) ?? null,
      tradeSignals: s.trade,
      belowMinimum: s.below,
    };
  };
}
