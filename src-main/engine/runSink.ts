// Where the engine records a run (SQLite in practice, see runRecorder.ts); every method is optional-cost and
// must not throw into the engine.
import type { Gap } from '../../src-shared/market.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import type { Metrics } from '../trading/metrics.ts';
import type { PortfolioSnapshot } from '../trading/portfolio.ts';
import type { Fill, Order } from '../trading/types.ts';
import type { SignalEvent } from './events.ts';

export interface RunSink {
  /**
   * `features`: the row the model was given, when the engine computed one (not on a recorded-prediction replay);
   * the engine reuses the array, so a sink that keeps it must copy it before returning.
   */
  prediction(ts: number, value: number, mid: number, features?: Float32Array): void;
  signal(s: SignalEvent): void;
  order(o: Order): void;
  fill(f: Fill): void;
  equity(s: PortfolioSnapshot): void;
  gap?(g: Gap): void;
  /** A risk halt began (resumedTs null) or ended (the same halt with resumedTs set). */
  halt?(h: RiskHalt): void;
  /** The run ended: final metrics and portfolio. */
  close(m: Metrics, final: PortfolioSnapshot): void;
}
