// One line naming the execution assumptions a run's fills rest on (executor, latency, queue and liquidity models,
// fees, and the two clocks with their latencies), printed at the start of `trade` and `backtest` so that a P&L is
// never read without them.
import type { EngineOptions } from './engine.ts';

export function describeExecution(o: EngineOptions): string {
  const lat =
    o.latencyModel === 'feed'
      ? `latency ${o.latencyMs} ms + ${o.latencyFeedFactor ?? 2}× feed latency`
      : o.latencyModel === 'jitter'
        ? `latency ${o.latencyMs} ms + jitter (mean ${o.latencyJitterMs ?? 20} ms, seed ${o.latencySeed ?? 1})`
        : `latency ${o.latencyMs} ms`;
  const queue =
    o.queueModel === 'power' ? `power queue (n ${o.queuePower ?? 2})` : `${o.queueModel ?? 'pro_rata'} queue`;
  const compute =
    o.measureCompute === false
      ? `${o.computeMs ?? 0} ms`
      : `${o.computeMs ?? 0} ms (live: measured when longer)`;
  return (
    `executor ${o.executor}${o.executor === 'passive' ? ` (crosses after ${o.passiveTimeoutMs} ms)` : ''}, ${lat}, ` +
    `${queue}, liquidity ${o.liquidity ?? 'consumed'}, fees taker ${o.takerFee * 100}% / maker ${o.makerFee * 100}%; ` +
    `clocks: decisions on the receive clock (data without receive stamps: exchange time + ${o.feedLatencyMs ?? 0} ms), ` +
    `orders sent after compute ${compute}, matched on the exchange clock at arrival, ` +
    `fills seen ${o.responseLatencyMs ?? 0} ms later; resting orders fill only from volume traded after the queue ahead` +
    (o.risk.longOnly
      ? '; long-only (spot: a sell signal closes a long, no short; risk.spot_shorts allows them)'
      : '')
  );
}
