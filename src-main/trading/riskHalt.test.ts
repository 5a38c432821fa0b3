// The daily-loss halt as an event: the risk manager reports when it halted (the check's time), why (the limit and
// the loss, as shares of the day's opening equity and in quote), once, and when a new UTC day resumed trading.
import { describe, expect, it } from 'vitest';
import { formatHalt, hhmmss, signedPct } from '../../src-shared/riskHalt.ts';
import { dailyLossReason, maxDrawdownReason, RiskManager, type RiskOptions } from './riskManager.ts';

const opts: RiskOptions = {
  sizing: 'fixed_notional',
  notional: 1000,
  equityFraction: 0.1,
  volTargetBps: 50,
  maxPositionNotional: 25_000,
  stopLossBps: 0,
  takeProfitBps: 0,
  maxDailyLoss: 200,
  cooldownMs: 0,
  qtyStep: 0.001,
};
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const at = (h: number, m: number, s: number) => T0 + ((h * 60 + m) * 60 + s) * 1000;

describe('risk halt events', () => {
  it('halts once with its time and reason, and resumes on the next UTC day', () => {
    const r = new RiskManager(opts);
    const long = { price: 50_000, position: 0.02, entryPrice: 50_000 };
    expect(r.decide({ ts: at(9, 0, 0), signal: 1, ...long, equity: 10_000 }).reason).toBe('signal');
    expect(r.takeHalts()).toEqual([]);
    // 199 lost: under the limit, nothing.
    expect(r.checkExit({ ts: at(13, 0, 0), ...long, equity: 9_801 })).toBeNull();
    expect(r.takeHalts()).toEqual([]);
    // 213 lost at 14:03:12: halted, with the loss that passed the limit.
    expect(r.checkExit({ ts: at(14, 3, 12), ...long, equity: 9_787 })?.reason).toBe('daily_loss');
    const [h, ...more] = r.takeHalts();
    expect(more).toEqual([]);
    expect(h).toEqual({
      ts: at(14, 3, 12),
      rule: 'daily_loss',
      reason: 'daily loss limit 2.00% reached (−2.13%, −213.00)',
      resumedTs: null,
      resumeReason: null,
    });
    expect(r.halted).toEqual(h);
    expect(formatHalt(h)).toBe(
      'halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, −213.00); still halted at the end',
    );
    // Still halted later that day: no second halt event.
    expect(
      r.decide({ ts: at(20, 0, 0), signal: 1, price: 50_000, position: 0, entryPrice: NaN, equity: 9_700 })
        .target,
    ).toBe(0);
    expect(r.takeHalts()).toEqual([]);
    // The first decision of the next day resumes trading: the same halt, with when and why it ended.
    const next = at(0, 0, 1) + DAY;
    expect(
      r.decide({ ts: next, signal: 1, price: 50_000, position: 0, entryPrice: NaN, equity: 9_700 }).reason,
    ).toBe('signal');
    const [resumed] = r.takeHalts();
    expect(resumed).toEqual({ ...h, resumedTs: next, resumeReason: 'a new UTC day' });
    expect(r.halted).toBeNull();
    expect(formatHalt(resumed)).toBe(
      'halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, −213.00); resumed at 00:00:01 (a new UTC day)',
    );
  });

  it('the max drawdown halts for the rest of the run: measured from the equity peak, never resumed by a new day', () => {
    const r = new RiskManager({ ...opts, maxDailyLoss: 0, maxDrawdown: 0.05 });
    const long = { price: 50_000, position: 0.02, entryPrice: 50_000 };
    r.decide({ ts: at(9, 0, 0), signal: 1, ...long, equity: 10_000 });
    expect(r.checkExit({ ts: at(10, 0, 0), ...long, equity: 10_500 })).toBeNull(); // the peak
    expect(r.checkExit({ ts: at(11, 0, 0), ...long, equity: 9_980 })).toBeNull(); // −4.95 %
    expect(r.takeHalts()).toEqual([]);
    expect(r.checkExit({ ts: at(11, 30, 5), ...long, equity: 9_960 })).toEqual({
      target: 0,
      reason: 'max_drawdown',
      urgent: true,
    });
    expect(r.takeHalts()).toEqual([
      {
        ts: at(11, 30, 5),
        rule: 'max_drawdown',
        reason: 'max drawdown 5.00% reached (−5.14% from the peak 10500.00)',
        resumedTs: null,
        resumeReason: null,
      },
    ]);
    const flat = { price: 50_000, position: 0, entryPrice: NaN, equity: 9_960 };
    expect(r.decide({ ts: at(12, 0, 0), signal: 1, ...flat })).toMatchObject({
      target: 0,
      reason: 'max_drawdown',
    });
    expect(r.decide({ ts: at(12, 0, 0) + DAY, signal: 1, ...flat })).toMatchObject({
      target: 0,
      reason: 'max_drawdown',
    });
    expect(r.takeHalts()).toEqual([]);
    expect(maxDrawdownReason(0.1, 200, 170)).toBe(
      'max drawdown 10.00% reached (−15.00% from the peak 200.00)',
    );
    expect(() => new RiskManager({ ...opts, maxDrawdown: 1 })).toThrow(/maxDrawdown must be in \[0, 1\)/);
  });

  it('no limit, no halt; reset forgets a halt in force', () => {
    const r = new RiskManager({ ...opts, maxDailyLoss: 0 });
    r.decide({ ts: T0, signal: 1, price: 100, position: 0, entryPrice: NaN, equity: 10_000 });
    r.checkExit({ ts: T0 + 1, price: 100, position: 1, entryPrice: 100, equity: 1 });
    expect(r.takeHalts()).toEqual([]);
    const q = new RiskManager(opts);
    q.checkExit({ ts: T0, price: 100, position: 1, entryPrice: 100, equity: 10_000 });
    q.checkExit({ ts: T0 + 1, price: 100, position: 1, entryPrice: 100, equity: 9_000 });
    expect(q.halted?.rule).toBe('daily_loss');
    q.reset();
    expect(q.halted).toBeNull();
    expect(q.takeHalts()).toEqual([]);
  });

  it.each([
    [200, 10_000, 9_787, 'daily loss limit 2.00% reached (−2.13%, −213.00)'],
    [500, 10_000, 9_500, 'daily loss limit 5.00% reached (−5.00%, −500.00)'],
    [10, 0, -10, 'daily loss limit 10.00 reached (−10.00)'], // no opening equity to take a share of
  ])('reason for limit %s, opening equity %s, equity %s', (limit, start, eq, want) => {
    expect(dailyLossReason(limit, start, eq)).toBe(want);
  });

  it('formats times and signed shares', () => {
    expect(hhmmss(at(14, 3, 12))).toBe('14:03:12');
    expect(hhmmss(NaN)).toBe('–');
    expect(signedPct(-0.0213)).toBe('−2.13%');
    expect(signedPct(0.0213)).toBe('2.13%');
    expect(signedPct(-0.00001)).toBe('0.00%');
  });
});
