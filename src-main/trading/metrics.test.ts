import { describe, expect, it } from 'vitest';
import { addFillCost, emptyCostTotals } from './executionCosts.ts';
import { computeMetrics, MetricsAccumulator } from './metrics.ts';
import { Portfolio } from './portfolio.ts';
import type { Fill, Side } from './types.ts';

const noCosts = { totals: emptyCostTotals(), position: 0, mark: NaN };
const none = { roundTrips: [], fills: 0, turnoverNotional: 0, fees: 0, costs: noCosts };
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
      { roundTrips: trips, fills: 8, turnoverNotional: 5000, fees: 4, costs: noCosts },
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

  // A run in fills: [side, qty, price, fee, decision mid, arrival mid]; the mark values what is still open.
  const fill = (
    ts: number,
    [side, qty, price, fee, dm, am]: readonly [Side, number, number, number, number, number],
  ): Fill => ({
    orderId: ts,
    ts,
    side,
    qty,
    price,
    fee,
    liquidity: 'taker',
    reason: 't',
    decisionMid: dm,
    arrivalMid: am,
  });
  it.each([
    {
      name: 'flat after a long round trip',
      fills: [
        ['Buy', 1, 100.2, 0.05, 100, 100.1],
        ['Sell', 1, 100.4, 0.05, 100.6, 100.5],
      ],
      mark: 100.5,
      // at decision mids: −100 + 100.6 = 0.6; latency 0.1 + 0.1, spread+walk 0.1 + 0.1
      want: { grossAlpha: 0.6, latency: 0.2, spreadWalk: 0.2, fees: 0.1, netPnl: 0.1, notional: 200.6 },
    },
    {
      name: 'an open short marked at the last mid',
      fills: [['Sell', 2, 99.9, 0.1, 100, 100]],
      mark: 99,
      // at decision mid: +200 − 2 × 99 = 2; spread+walk 2 × 0.1 = 0.2
      want: { grossAlpha: 2, latency: 0, spreadWalk: 0.2, fees: 0.1, netPnl: 1.7, notional: 200 },
    },
    {
      name: 'a passive buy earns the half spread (negative spread+walk), the market ran away while it travelled',
      fills: [['Buy', 1, 99.95, -0.01, 100, 100.2]],
      mark: 100.5,
      want: { grossAlpha: 0.5, latency: 0.2, spreadWalk: -0.25, fees: -0.01, netPnl: 0.56, notional: 100 },
    },
  ] as const)('costs and attribution: $name', ({ fills, mark, want }) => {
    const pf = new Portfolio(1000);
    const totals = emptyCostTotals();
    fills.forEach((x, i) => {
      const f = fill(i, x);
      pf.applyFill(f);
      addFillCost(totals, f);
    });
    pf.mark(fills.length, mark);
    const acc = new MetricsAccumulator(1000);
    acc.add(0, 1000);
    acc.add(fills.length, pf.equity(), pf.position);
    const m = acc.result({
      roundTrips: pf.roundTrips,
      fills: pf.fills,
      turnoverNotional: pf.turnoverNotional,
      fees: pf.fees,
      costs: { totals, position: pf.position, mark: pf.lastMark },
    });
    const c = m.costs;
    for (const k of ['grossAlpha', 'latency', 'spreadWalk', 'fees', 'netPnl', 'notional'] as const)
      expect(c[k], k).toBeCloseTo(want[k], 9);
    expect(c.shortfall).toBeCloseTo(want.latency + want.spreadWalk, 9);
    expect(c.shortfallBps).toBeCloseTo(((want.latency + want.spreadWalk) / want.notional) * 1e4, 6);
    expect(c.latencyBps + c.spreadWalkBps).toBeCloseTo(c.shortfallBps, 9);
    expect(c.feesBps).toBeCloseTo((want.fees / want.notional) * 1e4, 6);
    // The attribution ends at the portfolio's own net P&L (cash after fees + the open position at the mark).
    expect(c.netPnl).toBeCloseTo(m.netPnl, 9);
  });

  it('no fills: zero costs, no bps (no division by zero), gross alpha 0', () => {
    const c = computeMetrics([{ ts: 0, equity: 1000 }], none, 1000).costs;
    expect(c).toMatchObject({ fills: 0, notional: 0, shortfallBps: 0, feesBps: 0, grossAlpha: 0, netPnl: 0 });
  });
});
