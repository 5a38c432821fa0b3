import { describe, expect, it } from 'vitest';
import { addFillCost, emptyCostTotals } from './executionCosts.ts';
import { computeMetrics, MetricsAccumulator } from './metrics.ts';
import { addTrip, emptyTripSummary, Portfolio } from './portfolio.ts';
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
      { openTs: 0, closeTs: 1000, direction: 1 as const, netPnl: 5, fees: 1, notional: 100 },
      { openTs: 2000, closeTs: 5000, direction: -1 as const, netPnl: -2, fees: 1, notional: 100 },
      { openTs: 6000, closeTs: 6000, direction: 1 as const, netPnl: 0, fees: 1, notional: 100 },
      { openTs: 7000, closeTs: 11000, direction: 1 as const, netPnl: 1, fees: 1, notional: 100 },
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

  // Round trips as [net P&L after fees, notional]; fees 0.5 each (they only matter to the gross hit rate).
  const tripsOf = (xs: readonly (readonly [number, number])[]) =>
    xs.map(([netPnl, notional], i) => ({
      openTs: i * 10,
      closeTs: i * 10 + 5,
      direction: 1 as const,
      netPnl,
      fees: 0.5,
      notional,
    }));
  it.each([
    {
      name: 'wins and losses',
      trips: [
        [6, 1000],
        [-2, 1000],
        [-1, 1000],
        [3, 1000],
        [-3, 1000],
        [-1, 1000],
        [-2, 1000],
        [4, 1000],
      ],
      // wins 6+3+4 = 13 over 3, losses −2−1−3−1−2 = −9 over 5, net 4 over 8 trips and 8000 notional
      want: {
        profitFactor: 13 / 9,
        avgWin: 13 / 3,
        avgLoss: -9 / 5,
        payoffRatio: 13 / 3 / (9 / 5),
        expectancy: 0.5,
        expectancyBps: 5,
        maxConsecutiveLosses: 3,
      },
    },
    {
      name: 'no losing trip: profit factor and payoff undefined (null), not infinite',
      trips: [
        [2, 100],
        [1, 300],
      ],
      want: {
        profitFactor: null,
        avgWin: 1.5,
        avgLoss: 0,
        payoffRatio: null,
        expectancy: 1.5,
        expectancyBps: 75,
        maxConsecutiveLosses: 0,
      },
    },
    {
      name: 'only losses; a scratch trip (0) breaks the streak without counting as a loss',
      trips: [
        [-1, 100],
        [-1, 100],
        [0, 100],
        [-2, 100],
      ],
      want: {
        profitFactor: 0,
        avgWin: 0,
        avgLoss: -4 / 3,
        payoffRatio: 0,
        expectancy: -1,
        expectancyBps: -100,
        maxConsecutiveLosses: 2,
      },
    },
    {
      name: 'no trips',
      trips: [],
      want: {
        profitFactor: null,
        avgWin: 0,
        avgLoss: 0,
        payoffRatio: null,
        expectancy: 0,
        expectancyBps: 0,
        maxConsecutiveLosses: 0,
      },
    },
  ] as const)('trade statistics: $name', ({ trips, want }) => {
    const list = tripsOf(trips);
    const m = computeMetrics([{ ts: 0, equity: 1000 }], { ...none, roundTrips: list }, 1000);
    for (const [k, v] of Object.entries(want)) {
      const got = m[k as keyof typeof want];
      if (v === null) expect(got, k).toBeNull();
      else expect(got, k).toBeCloseTo(v, 12);
    }
    // Running totals (a live run keeps no full list) give the same numbers as the list.
    const sum = emptyTripSummary();
    for (const r of list) addTrip(sum, r);
    expect(computeMetrics([{ ts: 0, equity: 1000 }], { ...none, roundTrips: sum }, 1000)).toEqual(m);
  });

  it.each([
    {
      name: 'half a day: +1 % with a 2 % drawdown',
      // 1000 → 1020 → 999.6 (2 % off the peak) → 1010 at 12 h
      eq: [
        [0, 1000],
        [3 * 3600_000, 1020],
        [6 * 3600_000, 999.6],
        [12 * 3600_000, 1010],
      ],
      annualised: 0.01 * 730,
      calmar: (0.01 * 730) / 0.02,
    },
    {
      name: 'no drawdown: null',
      eq: [
        [0, 1000],
        [86_400_000, 1010],
      ],
      annualised: 0.01 * 365,
      calmar: null,
    },
    { name: 'one sample: no span, null', eq: [[0, 1000]], annualised: 0, calmar: null },
  ] as const)('Calmar: $name', ({ eq, annualised, calmar }) => {
    const m = computeMetrics(
      eq.map(([ts, equity]) => ({ ts, equity })),
      none,
      1000,
    );
    expect(m.annualisedReturn).toBeCloseTo(annualised, 9);
    if (calmar === null) expect(m.calmar).toBeNull();
    else expect(m.calmar).toBeCloseTo(calmar, 9);
  });

  it.each([
    {
      name: '29 returns over more than a day are too few',
      samplingMs: 3_000_000,
      spanMs: 29 * 3_000_000,
      ok: false,
    },
    { name: '30 hourly returns (30 h)', samplingMs: 3_600_000, spanMs: 30 * 3_600_000, ok: true },
    { name: '600 one-second returns (10 min) is under a day', samplingMs: 1000, spanMs: 600_000, ok: false },
    { name: 'a day of one-minute returns', samplingMs: MIN, spanMs: 86_400_000, ok: true },
  ])('Sharpe reliability: $name', ({ samplingMs, spanMs, ok }) => {
    const eq: { ts: number; equity: number }[] = [];
    for (let t = 0, i = 0; t <= spanMs; t += samplingMs, i++) eq.push({ ts: t, equity: 1000 + (i % 3) });
    const m = computeMetrics(eq, none, 1000, samplingMs);
    expect(m.returns).toBe(spanMs / samplingMs);
    expect(m.sharpeReliable).toBe(ok);
    // the flag only annotates: the Sharpe is the same figure either way
    expect(m.sharpe).not.toBe(0);
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

describe('net P&L interval', () => {
  /** Equity every second for `seconds`: drift per second plus seeded noise of the given scale. */
  function curve(seconds: number, drift: number, noise: number, seed: number) {
    let s = seed >>> 0;
    const rnd = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
    let e = 10_000;
    return Array.from({ length: seconds + 1 }, (_, i) => {
      if (i > 0) e += drift + noise * rnd();
      return { ts: i * 1000, equity: e };
    });
  }

  it.each([
    // seconds, drift/s, noise, distinguishable from zero
    [3600, 0.05, 1, true], // a steady earner: 180 against noise of about ±35
    [3600, -0.05, 1, true], // a steady loser
    [3600, 0, 1, false], // a random walk ends somewhere, by chance
    [3600, 0.002, 1, false], // an edge too small for an hour to show
  ])('%i s, drift %f, noise %f: excludes zero = %s', (seconds, drift, noise, distinct) => {
    const m = computeMetrics(curve(seconds, drift, noise, 7), none, 10_000);
    const ci = m.netPnlCi;
    expect(ci).not.toBeNull();
    expect(ci?.[0]).toBeLessThanOrEqual(m.netPnl);
    expect(ci?.[1]).toBeGreaterThanOrEqual(m.netPnl);
    expect((ci?.[0] ?? 0) > 0 || (ci?.[1] ?? 0) < 0).toBe(distinct);
  });

  it('is null when the run is too short (fewer than 20 periods of 10 s)', () => {
    expect(computeMetrics(curve(150, 1, 0.1, 3), none, 10_000).netPnlCi).toBeNull();
    expect(computeMetrics(curve(250, 1, 0.1, 3), none, 10_000).netPnlCi).not.toBeNull();
  });

  it('the live accumulator gives the batch interval, however often it is asked', () => {
    const eq = curve(1800, 0.01, 1, 9);
    const acc = new MetricsAccumulator(10_000);
    for (const [i, e] of eq.entries()) {
      acc.add(e.ts, e.equity);
      if (i % 7 === 0) acc.result(none);
    }
    expect(acc.result(none).netPnlCi).toEqual(computeMetrics(eq, none, 10_000).netPnlCi);
  });
});
