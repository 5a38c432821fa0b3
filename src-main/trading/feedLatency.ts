// Order latency that follows the feed latency we observe: when market data reaches us late, our orders reach the
// exchange late too. On the exchange's clock a decision made on data stamped ≤ D is taken when that data arrives
// (D + feed latency) and its order travels back to the exchange (about the same again): `factor` 2 is that round
// trip. Delay = base + factor × (receive − exchange time of the latest book message), so on data with one clock
// (imports, the simulator: receive == exchange time) it is just the base. A negative difference (our clock behind
// the exchange's) counts as 0. Deterministic on a replay: the receive times are stored with the messages.
import type { LatencyModel } from './latency.ts';

export class FeedLatency implements LatencyModel {
  private feedMs = 0;

  constructor(
    readonly baseMs: number,
    readonly factor = 2,
    readonly cancelBaseMs: number = baseMs,
  ) {
    if (!(baseMs >= 0) || !(cancelBaseMs >= 0)) throw new RangeError('latency must be >= 0 ms');
    if (!(factor >= 0) || !Number.isFinite(factor)) throw new RangeError('feed latency factor must be >= 0');
  }

  observeFeed(exchangeTs: number, recvTs: number): void {
    const d = recvTs - exchangeTs;
    this.feedMs = d > 0 ? d : 0; // also NaN (no receive time) → 0
  }

  /** The feed latency last observed (ms, ≥ 0). */
  get feedLatencyMs(): number {
    return this.feedMs;
  }

  order(_ts?: number): number {
    // Whole milliseconds, like the exchange's stamps.
    return this.baseMs + Math.round(this.factor * this.feedMs);
  }

  cancel(_ts?: number): number {
    return this.cancelBaseMs + Math.round(this.factor * this.feedMs);
  }
}
