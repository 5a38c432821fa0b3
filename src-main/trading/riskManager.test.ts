import { describe, expect, it } from 'vitest';
import { RiskManager, type RiskOptions } from './riskManager.ts';
import { EwmaVolatility } from './volatility.ts';

const base: RiskOptions = {
  sizing: 'fixed_notional',
  notional: 1000,
  equityFraction: 0.1,
  volTargetBps: 50,
  maxPositionNotional: 25_000, // 0.5 BTC at 50000
  stopLossBps: 50,
  takeProfitBps: 100,
  maxDailyLoss: 500,
  cooldownMs: 60_000,
  qtyStep: 0.001,
};
const DAY = 86_400_000;
const flat = { position: 0, entryPrice: NaN, equity: 10_000 };

describe('RiskManager sizing', () => {
  it.each([
    // sizing, price, equity, volBps, signal, target
    ['fixed_notional', 50_000, 10_000, undefined, 1, 0.02],
    ['fixed_notional', 50_000, 10_000, undefined, -1, -0.02],
    ['fixed_notional', 1000, 10_000, undefined, 1, 1], // 1000 USDT of a 1000 coin: well under the 25000 cap
    ['fixed_notional', 1000, 1e6, undefined, 1, 1], // sizing ignores equity
    ['equity_fraction', 1000, 1e6, undefined, -1, -25], // 100000 USDT clamped to 25000 USDT = 25 coins
    ['fixed_notional', 30_000, 10_000, undefined, 1, 0.033], // 0.0333.. rounded down to the 0.001 step
    ['equity_fraction', 50_000, 20_000, undefined, 1, 0.04],
    ['equity_fraction', 50_000, -5, undefined, 1, 0],
    ['vol_target', 50_000, 10_000, 250, 1, 0.04], // 10000*50/(50000*250)
    ['vol_target', 50_000, 10_000, 500, -1, -0.02],
    ['vol_target', 50_000, 10_000, 1, 1, 0.5], // 500000 USDT clamped to 25000 USDT = 0.5 BTC
  ] as const)(
    '%s at %s, equity %s, vol %s, signal %s → %s',
    (sizing, price, equity, volBps, signal, want) => {
      const r = new RiskManager({ ...base, sizing, stopLossBps: 0, takeProfitBps: 0, maxDailyLoss: 0 });
      const d = r.decide({ ts: 0, price, position: 0, entryPrice: NaN, equity, signal, volBps });
      expect(d.target).toBeCloseTo(want, 12);
      expect(d.reason).toBe(want === 0 ? 'min_notional' : 'signal');
    },
  );

  it('vol_target without a volatility estimate stays flat', () => {
    const r = new RiskManager({ ...base, sizing: 'vol_target' });
    expect(r.decide({ ts: 0, price: 50_000, ...flat, signal: 1 })).toEqual({
      target: 0,
      reason: 'no_volatility',
      urgent: false,
    });
  });

  it('long-only (spot): a sell signal closes a long and never opens a short; a buy still opens a long', () => {
    const r = new RiskManager({ ...base, longOnly: true });
    const at = { ts: 0, price: 50_000, equity: 10_000 };
    expect(r.decide({ ...at, position: 0.02, entryPrice: 50_000, signal: -1 })).toEqual({
      target: 0,
      reason: 'signal',
      urgent: false,
    });
    expect(r.decide({ ...at, ...flat, signal: -1 }).target).toBe(0);
    expect(r.decide({ ...at, ...flat, signal: 1 }).target).toBeCloseTo(0.02, 12);
    // Without it the same sell signal goes short.
    expect(new RiskManager(base).decide({ ...at, ...flat, signal: -1 }).target).toBeCloseTo(-0.02, 12);
  });

  it('signal 0 means flat', () => {
    const r = new RiskManager(base);
    expect(
      r.decide({ ts: 0, price: 50_000, position: 0.02, entryPrice: 50_000, equity: 10_000, signal: 0 })
        .target,
    ).toBe(0);
  });
});

describe('RiskManager on any symbol: quote-currency cap, lot size, minimum order value', () => {
  it.each([
    // symbol-like case, price, lot, notional, cap (USDT), target, reason
    ['BTC', 50_000, 0.001, 1000, 25_000, 0.02, 'signal'],
    ['BTC, cap binds', 50_000, 0.001, 1e6, 25_000, 0.5, 'signal'],
    ['XRP whole coins', 0.52, 1, 1000, 25_000, 1923, 'signal'], // 1923.07 rounded down to the lot
    ['DOGE whole coins', 0.15, 1, 1000, 25_000, 6666, 'signal'],
    ['DOGE, cap binds', 0.15, 1, 1000, 500, 3333, 'signal'], // not 0.5 coins (the old BTC-sized cap)
    ['ETH', 3500, 0.01, 1000, 25_000, 0.28, 'signal'], // 0.2857
    ['lot larger than the size', 50_000, 0.001, 40, 25_000, 0, 'min_notional'], // 0.0008 BTC is no lot
    ['below the minimum order value', 0.15, 1, 4, 25_000, 0, 'min_notional'], // 26 coins = 3.9 USDT
    ['unknown lot: not rounded', 0.52, 0, 1000, 25_000, 1000 / 0.52, 'signal'],
  ] as const)(
    '%s at %s, lot %s, notional %s, cap %s → %s (%s)',
    (_c, price, lot, notional, cap, want, reason) => {
      const r = new RiskManager({ ...base, notional, maxPositionNotional: cap, qtyStep: lot });
      const d = r.decide({ ts: 0, price, ...flat, equity: 1e6, signal: 1 });
      expect(d.target).toBeCloseTo(want, 9);
      expect(d.reason).toBe(reason);
    },
  );

  it('the lot can be set once the engine learns it', () => {
    const r = new RiskManager({ ...base, qtyStep: 0 });
    r.setQtyStep(1);
    expect(r.qtyStep).toBe(1);
    expect(r.decide({ ts: 0, price: 0.15, ...flat, signal: -1 }).target).toBe(-6666);
    expect(() => r.setQtyStep(-1)).toThrow(RangeError);
    expect(() => new RiskManager({ ...base, maxPositionNotional: 0 })).toThrow(/maxPositionNotional/);
  });

  it("the exchange's minimum order value raises the configured one and never lowers it", () => {
    const r = new RiskManager({ ...base, qtyStep: 1, minOrderNotional: 5 });
    const at = (signal: 1 | -1) => r.decide({ ts: 0, price: 0.15, ...flat, equity: 1e6, signal });
    expect(at(1).target).toBe(6666); // 1000 USDT of a 0.15 coin
    r.setExchangeMinNotional(1);
    expect(r.minOrderNotional).toBe(5);
    r.setExchangeMinNotional(1500);
    expect(r.minOrderNotional).toBe(1500);
    expect(at(-1)).toMatchObject({ target: 0, reason: 'min_notional' });
    r.setExchangeMinNotional(2); // a later, lower figure from the exchange: back to the configured floor
    expect(r.minOrderNotional).toBe(5);
    expect(() => r.setExchangeMinNotional(-1)).toThrow(/minimum order value/);
    expect(() => r.setExchangeMinNotional(NaN)).toThrow(/minimum order value/);
  });

  // One signal held while the price drifts: the standing target stays, so no order is needed; it moves when the
  // size has changed by more than the band (10% of it, at least 5 USDT), or the signal changes.
  it.each([
    [
      'BTC hovering on a lot boundary (1000/50000 = 0.02 exactly)',
      0.001,
      [
        [1, 50_000, 0.02],
        [1, 50_000.1, 0.02], // 0.019999 rounds to 0.019: a one-lot order per tick without the band
        [1, 49_999.9, 0.02],
        [1, 50_000.1, 0.02],
        [1, 52_000, 0.02], // 0.019 is 5% less: inside the band
        [1, 56_000, 0.017], // 0.0178 → 0.017, 15% less: resized
        [1, 55_000, 0.017],
        [-1, 55_000, -0.018], // a new signal sizes afresh
        [0, 55_000, 0],
        [1, 50_000.1, 0.019],
      ],
    ],
    [
      'DOGE drifting by ticks',
      1,
      [
        [1, 0.15, 6666],
        [1, 0.15001, 6666], // 6665.6 → 6665
        [1, 0.14999, 6666], // 6667.1 → 6667
        [1, 0.1499, 6666],
        [1, 0.13, 7692], // 15% more coins: resized
      ],
    ],
  ] as const)('%s', (_name, lot, steps) => {
    const r = new RiskManager({ ...base, qtyStep: lot, stopLossBps: 0, takeProfitBps: 0 });
    const got = steps.map(
      ([signal, price], i) => r.decide({ ts: i * 1000, price, ...flat, equity: 1e6, signal }).target,
    );
    const want = steps.map((s) => s[2]);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 9);
  });
});

describe('RiskManager exits', () => {
  it.each([
    // position, entry, price, reason | null
    [0.02, 50_000, 49_750, 'stop_loss'], // -50 bps
    [0.02, 50_000, 49_760, null], // -48 bps
    [0.02, 50_000, 50_500, 'take_profit'], // +100 bps
    [-0.02, 50_000, 50_250, 'stop_loss'], // short loses when price rises
    [-0.02, 50_000, 49_500, 'take_profit'],
    [-0.02, 50_000, 49_600, null],
  ] as const)('position %s from %s at %s → %s', (position, entryPrice, price, want) => {
    const r = new RiskManager(base);
    const d = r.checkExit({ ts: 0, price, position, entryPrice, equity: 10_000 });
    expect(d?.reason ?? null).toBe(want);
    if (d) expect(d).toMatchObject({ target: 0, urgent: true });
  });

  it('a stop starts a cooldown; afterwards the same direction needs the signal to re-arm', () => {
    const r = new RiskManager(base);
    expect(
      r.checkExit({ ts: 1000, price: 49_700, position: 0.02, entryPrice: 50_000, equity: 9_990 })?.reason,
    ).toBe('stop_loss');
    const at = (ts: number, signal: -1 | 0 | 1) => r.decide({ ts, price: 49_700, ...flat, signal });
    expect(at(30_000, 1)).toMatchObject({ target: 0, reason: 'cooldown' });
    expect(at(60_999, 1)).toMatchObject({ target: 0, reason: 'cooldown' });
    expect(at(61_000, 1)).toMatchObject({ target: 0, reason: 'rearm' });
    expect(at(62_000, 0)).toMatchObject({ target: 0, reason: 'signal' });
    expect(at(63_000, 1).target).toBeGreaterThan(0);
  });

  it('a take-profit has no cooldown but does not re-enter the same way at once', () => {
    const r = new RiskManager(base);
    expect(
      r.checkExit({ ts: 0, price: 50_500, position: 0.02, entryPrice: 50_000, equity: 10_010 })?.reason,
    ).toBe('take_profit');
    expect(r.decide({ ts: 1, price: 50_500, ...flat, signal: 1 }).reason).toBe('rearm');
    expect(r.decide({ ts: 2, price: 50_500, ...flat, signal: -1 }).target).toBeLessThan(0);
  });

  it('max daily loss halts until the next UTC day of the injected time', () => {
    const r = new RiskManager(base);
    const t0 = 20_000 * DAY + 3_600_000; // 01:00 UTC
    expect(r.decide({ ts: t0, price: 50_000, ...flat, signal: 1 }).target).toBeGreaterThan(0);
    const pos = { position: 0.02, entryPrice: 50_000 };
    expect(r.checkExit({ ts: t0 + 1000, price: 50_000, ...pos, equity: 9_600 })).toBeNull(); // -400
    expect(r.checkExit({ ts: t0 + 2000, price: 50_000, ...pos, equity: 9_500 })?.reason).toBe('daily_loss');
    // Halted for the rest of the day even after the equity recovers.
    expect(r.decide({ ts: t0 + 3000, price: 50_000, ...flat, equity: 9_800, signal: 1 })).toMatchObject({
      target: 0,
      reason: 'daily_loss',
    });
    expect(r.decide({ ts: 20_001 * DAY - 1, price: 50_000, ...flat, equity: 9_800, signal: 1 }).target).toBe(
      0,
    );
    // A new UTC day re-arms, measured from that day's starting equity.
    expect(
      r.decide({ ts: 20_001 * DAY, price: 50_000, ...flat, equity: 9_500, signal: 1 }).target,
    ).toBeGreaterThan(0);
  });

  it('disabled rules never trigger', () => {
    const r = new RiskManager({ ...base, stopLossBps: 0, takeProfitBps: 0, maxDailyLoss: 0 });
    expect(r.checkExit({ ts: 0, price: 1, position: 0.02, entryPrice: 50_000, equity: -1e9 })).toBeNull();
  });
});

describe('EwmaVolatility', () => {
  it('recovers the daily volatility of alternating ±r returns sampled every second', () => {
    const v = new EwmaVolatility(30, 5);
    const r = 1e-4; // 1 bp per second
    let p = 100;
    for (let i = 0; i <= 200; i++) {
      v.update(i * 1000, p);
      p *= Math.exp(i % 2 ? r : -r);
    }
    expect(v.dailyBps()).toBeCloseTo(Math.sqrt(86_400), 6); // 1 bp * sqrt(86400 s)
  });
  it('is NaN until warm', () => {
    const v = new EwmaVolatility(30, 5);
    v.update(0, 100);
    v.update(1000, 101);
    expect(v.dailyBps()).toBeNaN();
  });
});
