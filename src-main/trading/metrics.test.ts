import { describe, expect, it } from 'vitest';
import { computeMetrics, MetricsAccumulator } from './metrics.ts';

const none = { roundTrips: [], fills: 0, turnoverNotional: 0, fees: 0 };
const MIN = 60_000;

describe('metrics', () => {
  it('samples equity on the grid (last value at or before each point)', () => {
    // Equity 100 → 110 at 1.5 min → 99 at 2 min: grid values 100, 100, 99 (the 110 never reaches the grid).
    const m = computeMetrics(
      [
        { ts: 0, equity: 100 },
        { ts: 90_000, equity: 110 },
        { ts: 120_000, equity: 99 },
      ],
      none,
      100,
    );
    expect(m.returns).toBe(2);
    const rs = [0, 99 / 100 - 1];
    const mean = (rs[0] + rs[1]) / 2;
    const sd = Math.sqrt(((rs[0] - mean) ** 2 + (rs[1] - mean) ** 2) / 1);
    expect(m.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(525_600), 9);
    expect(m.sortino).toBeCloseTo((mean / Math.sqrt(rs[1] ** 2 / 2)) * Math.sqrt(525_600), 9);
    // Drawdown sees every sample: 110 → 99.
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownAbs).toBeCloseTo(11, 12);
    expect(m.netPnl).toBe(-1);
    expect(m.totalReturn).toBeCloseTo(-0.01, 12);
  });

  it('a steadily rising curve has positive Sharpe, zero drawdown and Sortino 0 (no downside)', () => {
    const eq = Array.from({ length: 61 }, (_, i) => ({ ts: i * MIN, equity: 1000 + i + (i % 2) * 0.5 }));
    const m = computeMetrics(eq, none, 1000);
    expect(m.sharpe).toBeGreaterThan(0);
    expect(m.maxDrawdown).toBe(0);
    expect(m.sortino).toBe(0);
  });

  it('hit rate per round trip, holding time, turnover, trades', () => {
    const trips = [
      { openTs: 0, closeTs: 1000, direction: 1 as const, netPnl: 5, fees: 1 },
      { openTs: 2000, closeTs: 5000, direction: -1 as const, netPnl: -2, fees: 1 },
      { openTs: 6000, closeTs: 6000, direction: 1 as const, netPnl: 0, fees: 1 },
      { openTs: 7000, closeTs: 11000, direction: 1 as const, netPnl: 1, fees: 1 },
    ];
    const m = computeMetrics(
      [{ ts: 0, equity: 1000 }],
      { roundTrips: trips, fills: 8, turnoverNotional: 5000, fees: 4 },
      1000,
    );
    expect(m.hitRate).toBe(0.5);
    // before fees the flat trip (0 + 1) also won; the −2 trip lost even before its fee (−2 + 1 = −1)
    expect(m.grossHitRate).toBe(0.75);
    expect(m.roundTrips).toBe(4);
    expect(m.avgHoldingMs).toBe((1000 + 3000 + 0 + 4000) / 4);
    expect(m.turnover).toBe(5);
    expect(m.trades).toBe(8);
    expect(m.fees).toBe(4);
  });

  it('exposure is the share of time with a position', () => {
    const acc = new MetricsAccumulator(1000, 1000);
    acc.add(0, 1000, 0);
    acc.add(1000, 1000, 1);
    acc.add(4000, 1000, 0);
    acc.add(5000, 1000, 0);
    expect(acc.result(none).exposure).toBeCloseTo(3 / 5, 12);
  });

  it('current drawdown follows the peak', () => {
    const acc = new MetricsAccumulator(100);
    acc.add(0, 120);
    acc.add(1, 90);
    expect(acc.drawdown()).toBeCloseTo(0.25, 12);
    acc.add(2, 130);
    expect(acc.drawdown()).toBe(0);
  });
});
