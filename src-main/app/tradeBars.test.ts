import { describe, expect, it } from 'vitest';
import type { Trade } from '../../src-shared/market.ts';
import { TradeBars } from './tradeBars.ts';

const tr = (ts: number, side: 'Buy' | 'Sell', price: number, size: number): Trade => ({
  ts,
  side,
  price,
  size,
  id: String(ts),
  blockTrade: false,
  seq: 0,
});

describe('TradeBars', () => {
  it('folds trades into the bar of their second, buys and sells apart, with the last price', () => {
    const b = new TradeBars();
    b.add([tr(1_000, 'Buy', 10, 1), tr(1_999, 'Sell', 11, 2), tr(2_000, 'Buy', 12, 0.5)]);
    expect(b.items).toEqual([
      { t: 1_000, buy: 1, sell: 2, last: 11, n: 2 },
      { t: 2_000, buy: 0.5, sell: 0, last: 12, n: 1 },
    ]);
  });

  it('re-sends the bar that grew and nothing when nothing changed', () => {
    const b = new TradeBars();
    b.add([tr(1_000, 'Buy', 10, 1)]);
    expect(b.drain()).toEqual([{ t: 1_000, buy: 1, sell: 0, last: 10, n: 1 }]);
    expect(b.drain()).toEqual([]);
    b.add([tr(1_500, 'Buy', 10, 1)]);
    expect(b.drain()).toEqual([{ t: 1_000, buy: 2, sell: 0, last: 10, n: 2 }]);
  });

  it('skips non-positive or non-finite values and trades older than the bars kept', () => {
    const b = new TradeBars();
    b.add([tr(5_000, 'Buy', 10, 1)]);
    b.add([tr(5_100, 'Sell', Number.NaN, 1), tr(5_200, 'Sell', 10, 0), tr(5_300, 'Sell', 10, -1)]);
    b.add([tr(1_000, 'Buy', 10, 1)]);
    expect(b.items).toEqual([{ t: 5_000, buy: 1, sell: 0, last: 10, n: 1 }]);
  });

  it('keeps a bounded number of bars', () => {
    const b = new TradeBars(10);
    for (let s = 0; s < 100; s++) b.add([tr(s * 1000, 'Buy', 10, 1)]);
    expect(b.items.length).toBeLessThanOrEqual(13);
    expect(b.items[b.items.length - 1].t).toBe(99_000);
  });
});
