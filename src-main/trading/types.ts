// Plain data types shared by the trading stages (signal → risk → executor → broker → portfolio) and the engine.
// Quantities are in base units (BTC), prices in quote units (USDT), times in ms since epoch.
import type { Side } from '../../src-shared/market.ts';

export type { Side };
export type SignalValue = -1 | 0 | 1;
export type OrderType = 'market' | 'limit';
export type Liquidity = 'maker' | 'taker';

/** What the executor asks the broker to do; the broker assigns ids and applies latency. */
export interface OrderIntent {
  side: Side;
  type: OrderType;
  qty: number;
  /** Limit price (limit orders only). */
  price?: number;
  /** Why the order was sent: 'signal', 'stop_loss', 'take_profit', 'daily_loss', 'passive_timeout', ... */
  reason: string;
}

export type OrderStatus =
  | 'pending' // sent, not yet arrived at the (simulated) exchange
  | 'open' // resting on the book (limit)
  | 'filled'
  | 'cancelled' // cancelled by us, or the unfilled rest of a market order that ran out of visible book
  | 'rejected';

export interface Order {
  id: number;
  side: Side;
  type: OrderType;
  qty: number;
  price: number; // limit price; NaN for market orders
  reason: string;
  /** Time we sent it. */
  sentTs: number;
  /** Time it reached the exchange (sentTs + latency); NaN while pending. */
  arrivedTs: number;
  status: OrderStatus;
  filledQty: number;
  /** Volume-weighted average fill price; NaN before the first fill. */
  avgFillPrice: number;
  fees: number;
  /** A cancel (or cross) is in flight: the order may still fill until it arrives. */
  cancelPending: boolean;
  crossPending: boolean;
  /** Size ahead of us in the queue at our price (resting limit orders); NaN otherwise. */
  queueAhead: number;
  /** Set when the order ends: why it was cancelled or rejected. */
  note: string;
  doneTs: number;
  /** Mid of the book the decision saw when the order was sent (the engine passes it in); NaN if unknown. */
  decisionMid: number;
  /** Mid of the book when the order reached the exchange (after latency); NaN while pending or if one side was empty. */
  arrivalMid: number;
}

export interface Fill {
  orderId: number;
  ts: number;
  side: Side;
  price: number;
  qty: number;
  fee: number;
  liquidity: Liquidity;
  reason: string;
  /** The order's decision and arrival mids (see Order): the benchmarks of transaction-cost analysis. */
  decisionMid: number;
  arrivalMid: number;
}

/** Broker output, in the order things happened. */
export type BrokerEvent = { kind: 'order'; order: Order } | { kind: 'fill'; fill: Fill };

export function sideSign(side: Side): 1 | -1 {
  return side === 'Buy' ? 1 : -1;
}
