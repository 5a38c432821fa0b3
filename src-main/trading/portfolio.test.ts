import { describe, expect, it } from 'vitest';
import { emptyCostTotals } from './executionCosts.ts';
import { MetricsAccumulator } from './metrics.ts';
import { Portfolio } from './portfolio.ts';
import type { Fill, Side } from './types.ts';

const fill = (ts: number, side: Side, qty: number, price: number, fee = 0): Fill => ({
  orderId: ts,
  ts,
  side,
  qty,
  price,
  fee,
  liquidity: 'taker',
  reason: 'test',
  decisionMid: price,
  arrivalMid: price,
});

describe('Portfolio', () => {
  it.each([
    {
      name: 'long round trip with fees',
      fills: [fill(0, 'Buy', 0.1, 100, 1), fill(10, 'Sell', 0.1, 110, 1)],
      mark: 110,
      want: { position: 0, realizedPnl: 1, fees: 2, balance: 999, unrealizedPnl: 0, equity: 999 },
      trips: [{ openTs: 0, closeTs: 10, direction: 1, netPnl: -1, fees: 2, notional: 10 }],
    },
    {
      name: 'short round trip',
      fills: [fill(0, 'Sell', 2, 100), fill(5, 'Buy', 2, 90)],
      mark: 90,
      want: { position: 0, realizedPnl: 20, balance: 1020, equity: 1020 },
      trips: [{ openTs: 0, closeTs: 5, direction: -1, netPnl: 20, fees: 0, notional: 200 }],
    },
    {
      name: 'average entry on increase, unrealized on mark',
      fills: [fill(0, 'Buy', 1, 100), fill(1, 'Buy', 3, 104)],
      mark: 105,
      want: { position: 4, entryPrice: 103, realizedPnl: 0, unrealizedPnl: 8, equity: 1008 },
      trips: [],
    },
    {
      name: 'partial reduce keeps the entry',
      fills: [fill(0, 'Buy', 4, 100), fill(1, 'Sell', 1, 110)],
      mark: 110,
      want: { position: 3, entryPrice: 100, realizedPnl: 10, unrealizedPnl: 30, equity: 1040 },
      trips: [],
    },
    {
      name: 'flip closes the trip and opens the other way at the fill price, splitting the fee',
      fills: [fill(0, 'Buy', 1, 100, 0.5), fill(7, 'Sell', 3, 90, 3)],
      mark: 80,
      want: { position: -2, entryPrice: 90, realizedPnl: -10, fees: 3.5, unrealizedPnl: 20, equity: 1006.5 },
      trips: [{ openTs: 0, closeTs: 7, direction: 1, netPnl: -11.5, fees: 1.5, notional: 100 }],
    },
  ])('$name', ({ fills, mark, want, trips }) => {
    const p = new Portfolio(1000);
    for (const f of fills) p.applyFill(f);
    p.mark(100, mark);
    const s = p.snapshot();
    for (const [k, v] of Object.entries(want))
      expect([k, s[k as keyof typeof s]]).toEqual([k, expect.closeTo(v, 9)]);
    expect(
      p.roundTrips.map((r) => ({
        ...r,
        netPnl: +r.netPnl.toFixed(9),
        fees: +r.fees.toFixed(9),
        notional: +r.notional.toFixed(9),
      })),
    ).toEqual(trips);
  });

  it('flat after dust-sized remainder', () => {
    const p = new Portfolio(1000);
    p.applyFill(fill(0, 'Buy', 0.1, 100));
    p.applyFill(fill(1, 'Buy', 0.2, 100));
    p.applyFill(fill(2, 'Sell', 0.3, 100));
    expect(p.position).toBe(0);
    expect(p.entryPrice).toBeNaN();
    expect(p.roundTrips).toHaveLength(1);
  });

  it("a trip's notional is what opened or added to it; a flip's remainder opens the next trip", () => {
    const p = new Portfolio(1000);
    p.applyFill(fill(0, 'Buy', 1, 100));
    p.applyFill(fill(1, 'Buy', 2, 110)); // adds 220
    p.applyFill(fill(2, 'Sell', 1, 120)); // reduces: no notional
    p.applyFill(fill(3, 'Sell', 4, 90)); // closes 2, opens a short of 2 at 90 (180)
    p.applyFill(fill(4, 'Buy', 2, 95));
    expect(p.roundTrips.map((r) => r.notional)).toEqual([320, 180]);
    expect(p.tripSummary.notional).toBe(500);
  });

  it('counts fills and traded notional', () => {
    const p = new Portfolio(1000);
    p.applyFill(fill(0, 'Buy', 1, 100));
    p.applyFill(fill(1, 'Sell', 2, 50));
    expect(p.fills).toBe(2);
    expect(p.turnoverNotional).toBe(200);
  });
  it('keeps only the recent round trips in memory, and totals over all of them for metrics', () => {
    const p = new Portfolio(1000, 10);
    const all = new Portfolio(1000, Infinity);
    for (let i = 0; i < 100; i++) {
      // Alternate winners and losers, with fees turning every third winner into a net loss.
      const exit = i % 2 === 0 ? 101 : 99;
      const fee = i % 6 === 0 ? 2 : 0;
      for (const q of [p, all]) {
        q.applyFill(fill(i * 10, 'Buy', 1, 100, fee / 2));
        q.applyFill(fill(i * 10 + 3 + (i % 4), 'Sell', 1, exit, fee / 2));
      }
    }
    expect(all.roundTrips).toHaveLength(100);
    expect(p.roundTrips.length).toBeGreaterThanOrEqual(10);
    expect(p.roundTrips.length).toBeLessThanOrEqual(15);
    expect(p.roundTrips.at(-1)).toEqual(all.roundTrips.at(-1));
    expect(p.tripSummary.count).toBe(100);
    const stats = (roundTrips: Portfolio['roundTrips'] | Portfolio['tripSummary']) => ({
      roundTrips,
      fills: 200,
      turnoverNotional: 0,
      fees: 0,
      costs: { totals: emptyCostTotals(), position: 0, mark: NaN },
    });
    const acc = new MetricsAccumulator(1000);
    const fromSummary = acc.result(stats(p.tripSummary));
    const fromList = acc.result(stats(all.roundTrips));
    expect(fromSummary).toEqual(fromList);
    expect(fromSummary.roundTrips).toBe(100);
    expect(fromSummary.hitRate).toBeCloseTo(33 / 100, 12); // winners i even, minus those with i % 6 === 0
    expect(fromSummary.avgHoldingMs).toBeCloseTo(4.5, 12);
  });
});
