// The events the engine emits (typed payloads), in the order data flows: book → trade → prediction → signal →
// order → fill → portfolio; plus health and gap. Payloads are plain data except `book`, which hands out the live
// OrderBook for listeners to read synchronously (the UI coalesces it to ~20 Hz and copies the top levels).
import type { FeedHealth, Gap, Trade } from '../../src-shared/market.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import type { OrderBook } from '../book/orderBook.ts';
import type { Metrics } from '../trading/metrics.ts';
import type { PortfolioSnapshot } from '../trading/portfolio.ts';
import type { RiskReason } from '../trading/riskManager.ts';
import type { Fill, Order, SignalValue } from '../trading/types.ts';

export interface BookEvent {
  /** Exchange time (ms) and local receive time of the message just applied. */
  ts: number;
  recvTs: number;
  book: OrderBook;
  valid: boolean;
}

export interface TradeEvent {
  ts: number;
  trades: readonly Trade[];
}

export interface PredictionEvent {
  /** Decision time (ms). */
  ts: number;
  /** Predicted future mid return in the label's units (bps). */
  value: number;
  threshold: number;
  mid: number;
}

export interface SignalEvent {
  ts: number;
  signal: SignalValue;
  prediction: number;
  threshold: number;
  price: number;
  /** Target position after the risk rules (base units). */
  target: number;
  reason: RiskReason;
}

export interface PortfolioEvent extends PortfolioSnapshot {
  /** Fall from the equity peak as a fraction of it. */
  drawdown: number;
}

export interface HealthEvent {
  feed: FeedHealth | null;
  bookValid: boolean;
  /** Messages the engine processed. */
  messages: number;
  decisions: number;
  predictions: number;
  /** Decisions skipped because a feature was not finite (the model never sees such a row). */
  nonFiniteSkips: number;
  /** Why the engine is not trading right now (null when it is). */
  paused: string | null;
}

export interface GapEvent {
  gap: Gap;
  /** Where it came from: the source (live detection, stored gap) or the engine's own sequence check. */
  origin: 'source' | 'book';
}

export interface EngineEvents {
  book: BookEvent;
  trade: TradeEvent;
  prediction: PredictionEvent;
  signal: SignalEvent;
  order: Order;
  fill: Fill;
  portfolio: PortfolioEvent;
  health: HealthEvent;
  gap: GapEvent;
  /** Trading halted by a risk rule (resumedTs null), or resumed (the same halt with resumedTs set). */
  halt: RiskHalt;
  warning: string;
  /** Informational, nothing went wrong (where the tick or lot size came from): not a warning. */
  notice: string;
  /** The run ended (stop() or the replay finished): final metrics. */
  done: Metrics;
}
