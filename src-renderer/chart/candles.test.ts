import { describe, expect, it } from 'vitest';
import { foldBook, rebucket, sizeQuantile, toCandles, toVolume, type HeatColumn } from './candles.ts';

describe('candles', () => {
  it('builds OHLC per interval from mid points, skipping late and non-finite points', () => {
    const pts = [
      { t: 1_000, mid: 10 },
      { t: 1_400, mid: 12 },
      { t: 1_800, mid: 9 },
      { t: 2_100, mid: 11 },
      { t: 1_900, mid: 100 }, // older than the last point: late, ignored (even within its candle)
      { t: 2_200, mid: Number.NaN },
      { t: 6_000, mid: 13 },
    ];
    expect(toCandles(pts, 1_000)).toEqual([
      { time: 1, open: 10, high: 12, low: 9, close: 9, closeT: 1_800 },
      { time: 2, open: 11, high: 11, low: 11, close: 11, closeT: 2_100 },
      { time: 6, open: 13, high: 13, low: 13, close: 13, closeT: 6_000 },
    ]);
    expect(toCandles(pts, 5_000)).toEqual([
      { time: 0, open: 10, high: 12, low: 9, close: 11, closeT: 2_100 },
      { time: 5, open: 13, high: 13, low: 13, close: 13, closeT: 6_000 },
    ]);
  });

  it('sums per-second trade bars into the interval', () => {
    const bars = [
      { t: 0, buy: 1, sell: 0, last: 1, n: 1 },
      { t: 4_000, buy: 0, sell: 2, last: 1, n: 1 },
      { t: 5_000, buy: 3, sell: 1, last: 1, n: 2 },
    ];
    expect(toVolume(bars, 5_000)).toEqual([
      { time: 0, buy: 1, sell: 2 },
      { time: 5, buy: 3, sell: 1 },
    ]);
  });
});

describe('heatmap columns', () => {
  it('keeps the largest resting size per price within a bucket, both sides', () => {
    const cols: HeatColumn[] = [];
    foldBook(cols, 1_000, [[10, 1]], [[11, 2]], 1_000, 100);
    foldBook(cols, 1_500, [[10, 3]], [[11, 1]], 1_000, 100);
    foldBook(cols, 2_000, [[10, 1]], [], 1_000, 100);
    expect(cols).toEqual([
      { time: 1, prices: [10, 11], sizes: [3, 2] },
      { time: 2, prices: [10], sizes: [1] },
    ]);
    expect(rebucket(cols, 5_000, 100)).toEqual([{ time: 0, prices: [10, 11], sizes: [3, 2] }]);
  });

  it('is bounded and robust to one huge order', () => {
    const cols: HeatColumn[] = [];
    for (let s = 0; s < 500; s++) foldBook(cols, s * 1000, [[10, s === 7 ? 1e9 : 1]], [], 1_000, 100);
    expect(cols.length).toBeLessThanOrEqual(125);
    expect(sizeQuantile(cols, 0.95)).toBe(1);
  });
});
