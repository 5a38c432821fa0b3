import { describe, expect, it } from 'vitest';
import { computeWhatIf, midIndexAt } from './whatIf.ts';

const mids = [
  { t: 0, mid: 100 },
  { t: 1000, mid: 101 },
  { t: 2000, mid: 102 },
  { t: 3000, mid: 101 },
  { t: 4000, mid: 100 },
  { t: 5000, mid: 100 },
];
const base = { mids, horizonMs: 1000, notional: 1000, feeRate: 0 };

describe('midIndexAt', () => {
  it.each([
    [-1, -1],
    [0, 0],
    [999, 0],
    [1000, 1],
    [99999, 5],
  ])('t=%d → %d', (t, i) => expect(midIndexAt(mids, t)).toBe(i));
});

describe('computeWhatIf', () => {
  const predictions = [
    { t: 0, value: 3 }, // buy at 100; 1 s later 101: hit
    { t: 1000, value: 0.5 }, // below 1: flat at 101 (+10 USDT on 10 units)
    { t: 2000, value: -2 }, // sell at 102; later 101: hit
    { t: 3000, value: -2 }, // still short; later 100: hit
    { t: 4000, value: 0 }, // flat at 100
  ];

  it('counts signals, hits and P&L at threshold 1', () => {
    const r = computeWhatIf({ ...base, predictions, threshold: 1 });
    expect(r.signals).toBe(3);
    expect(r.judged).toBe(3);
    expect(r.hits).toBe(3);
    expect(r.hitRate).toBe(1);
    expect(r.trades).toBe(4); // long, flat, short, flat
    // long 10 @100 → 101: +10; short 1000/102 @102 → 100: +19.6078...
    expect(r.netPnl).toBeCloseTo(10 + (1000 / 102) * 2, 6);
    expect(r.samples).toBe(5);
  });

  it('long-only (spot): the sell signals still count and score, but only the long is traded', () => {
    const r = computeWhatIf({ ...base, predictions, threshold: 1, longOnly: true });
    expect(r.signals).toBe(3);
    expect(r.hits).toBe(3);
    expect(r.trades).toBe(2); // long, flat: no short
    expect(r.netPnl).toBeCloseTo(10, 6);
  });

  it('a higher threshold gives fewer signals; above every prediction gives none and zero P&L', () => {
    const hi = computeWhatIf({ ...base, predictions, threshold: 2.5 });
    expect(hi.signals).toBe(1);
    expect(hi.trades).toBe(2);
    const none = computeWhatIf({ ...base, predictions, threshold: 10 });
    expect(none).toMatchObject({ signals: 0, trades: 0, netPnl: 0, hitRate: 0 });
  });

  it('charges fees on every position change', () => {
    const r = computeWhatIf({ ...base, predictions, threshold: 1, feeRate: 0.001 });
    // notional traded: 1000 (open) + 1010 (close at 101) + 1000 (open short) + 1000/102*100 (close at 100)
    const traded = 1000 + 1010 + 1000 + (1000 / 102) * 100;
    expect(r.fees).toBeCloseTo(traded * 0.001, 6);
    expect(r.netPnl).toBeCloseTo(10 + (1000 / 102) * 2 - traded * 0.001, 6);
  });

  it('does not judge signals whose horizon is beyond the data, and marks the open position at the last mid', () => {
    const r = computeWhatIf({
      ...base,
      predictions: [{ t: 4500, value: 5 }],
      threshold: 1,
      horizonMs: 10_000,
    });
    expect(r).toMatchObject({ signals: 1, judged: 0, hitRate: 0, trades: 1 });
    expect(r.netPnl).toBeCloseTo(0, 9);
  });
});
