// Order-entry latency as a small interface: how long after we send it an order or cancel reaches the exchange.
// One file per model (hftbacktest style): ConstantLatency here, FeedLatency (feedLatency.ts), JitterLatency
// (jitterLatency.ts). Delays are on the exchange's clock, the engine's clock; time is always an argument.
export interface LatencyModel {
  /** Delay (ms) for a new order sent at `ts`. */
  order(ts: number): number;
  /** Delay (ms) for a cancel or amend sent at `ts`. */
  cancel(ts: number): number;
  /**
   * A book message the exchange stamped `exchangeTs` reached us at `recvTs` (our clock). The engine calls this for
   * every book message, before the decisions that follow it; models that ignore the feed do nothing.
   */
  observeFeed(exchangeTs: number, recvTs: number): void;
}

/** The same delay for every request: deterministic, which replays need. */
export class ConstantLatency implements LatencyModel {
  constructor(
    readonly orderMs: number,
    readonly cancelMs: number = orderMs,
  ) {
    if (!(orderMs >= 0) || !(cancelMs >= 0)) throw new RangeError('latency must be >= 0 ms');
  }
  order(_ts?: number): number {
    return this.orderMs;
  }
  cancel(_ts?: number): number {
    return this.cancelMs;
  }
  observeFeed(): void {}
}
