import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { describeExecution } from './describeExecution.ts';
import { engineOptionsFromConfig } from './engine.ts';
import type { Instrument } from '../../src-shared/market.ts';

const inst = { symbol: 'BTCUSDT', category: 'linear' as const, tickSize: '0.1' };
const line = (overrides: Record<string, unknown>) =>
  describeExecution(engineOptionsFromConfig(loadConfig({ ignoreUserFile: true, overrides }), inst));

describe('describeExecution', () => {
  it.each([
    [
      {},
      new RegExp(
        '^executor market, latency 50 ms, pro_rata queue, liquidity consumed, fees taker 0\\.055% / maker 0\\.02%; ' +
          'clocks: decisions on the receive clock \\(data without receive stamps: exchange time \\+ 0 ms\\), ' +
          'orders sent after compute 1 ms \\(live: measured when longer\\), matched on the exchange clock at arrival, ' +
          'fills seen 50 ms later; resting orders fill only from volume traded after the queue ahead$',
      ),
    ],
    [
      { 'trading.latency_model': 'feed', 'trading.latency_feed_factor': 3 },
      /latency 50 ms \+ 3× feed latency/,
    ],
    [
      { 'trading.latency_model': 'jitter', 'trading.latency_jitter': '5ms' },
      /latency 50 ms \+ jitter \(mean 5 ms, seed 1\)/,
    ],
    [{ 'trading.queue_model': 'power', 'trading.queue_power': 3 }, /power queue \(n 3\)/],
    [
      { 'trading.compute': '4ms', 'trading.response_latency': '20ms', 'trading.feed_latency': '30ms' },
      /exchange time \+ 30 ms\), orders sent after compute 4 ms .*fills seen 20 ms later/,
    ],
    [
      { 'trading.executor': 'passive', 'trading.liquidity': 'unlimited' },
      /^executor passive \(crosses after 5000 ms\).*liquidity unlimited/,
    ],
  ])('%j', (overrides, want) => {
    expect(line(overrides)).toMatch(want);
  });

  it('says a spot run is long-only (not when spot_shorts allows shorts, nor on linear), at spot fees', () => {
    const spot = { ...inst, category: 'spot' as const };
    const say = (overrides: Record<string, unknown>, i: Instrument = spot) =>
      describeExecution(engineOptionsFromConfig(loadConfig({ ignoreUserFile: true, overrides }), i));
    expect(say({})).toMatch(
      /; long-only \(spot: a sell signal closes a long, no short; risk\.spot_shorts allows them\)$/,
    );
    expect(say({ 'risk.spot_shorts': true })).not.toMatch(/long-only/);
    // Spot's own fees, not linear's.
    expect(say({})).toMatch(/fees taker 0\.1% \/ maker 0\.1%/);
    expect(say({}, inst)).toMatch(/fees taker 0\.055% \/ maker 0\.02%/);
    expect(say({}, inst)).not.toMatch(/long-only/);
  });
});
