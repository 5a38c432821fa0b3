import { describe, expect, it } from 'vitest';
import type { Level } from '../../src-shared/market.ts';
import { floorToLot, formatQty, knownQtyStep, qtyStepFromLevels, sizeDecimals } from './lotSize.ts';

describe('lot size', () => {
  it.each([
    // symbol, category, lot
    ['BTCUSDT', 'linear', 0.001],
    ['btcusdt', 'linear', 0.001],
    ['XRPUSDT', 'linear', 1],
    ['DOGEUSDT', 'linear', 1],
    ['BTCUSDT', 'spot', 0.000001],
    ['ADAUSDT', 'linear', undefined],
  ] as const)('known: %s %s → %s', (symbol, category, want) => {
    expect(knownQtyStep(symbol, category)).toBe(want);
  });

  it.each([
    // size (as parsed from Bybit's string), significant decimals
    [5.974, 3],
    [9.06, 2],
    [1200, 0],
    [0.5, 1],
    [1e-7, 7],
    [1.5e-7, 8],
    [0, 0],
    [0.30000000000000004, 17], // float noise, not a size the exchange sent
    [-1, NaN],
    [Infinity, NaN],
  ])('decimals of %s → %s', (size, want) => {
    expect(sizeDecimals(size)).toBe(want);
  });

  const lv = (...sizes: number[]): Level[] => sizes.map((s, i) => [100 + i, s]);
  it.each([
    // bids' sizes, asks' sizes, inferred lot
    ['BTC (the recording best bid size 5.974)', lv(5.974, 0.5, 12), lv(9.06, 0.001), 0.001],
    ['XRP in whole coins', lv(1200, 35), lv(7, 100_000), 1],
    ['DOGE in hundreds: a coarser lot cannot be told, 1 is safe', lv(100, 2300), lv(500), 1],
    ['one side only', [], lv(0.25, 0.1), 0.01],
    ['noise ignored', lv(0.30000000000000004, 0.5), lv(0.7), 0.1],
    ['empty snapshot', [], [], null],
  ] as const)('inferred from a snapshot: %s → %s', (_name, bids, asks, want) => {
    expect(qtyStepFromLevels(bids, asks)).toBe(want);
  });

  it.each([
    // qty, lot, whole lots as a quantity
    [0.3, 0.001, 0.3], // 299.99999999999994 lots without the epsilon
    [0.0199999, 0.001, 0.019],
    [-0.0412, 0.001, 0.041],
    [6666.67, 1, 6666],
    [0.7, 0.1, 0.7],
    [3 * 0.1, 0.1, 0.3],
    [1923.07, 0, 1923.07], // no lot known: unrounded
    [0.0008, 0.001, 0],
  ])('floorToLot(%s, %s) → %s', (qty, lot, want) => {
    expect(floorToLot(qty, lot)).toBe(want);
  });

  it.each([
    // qty, lot, text
    [0.000042, 0.000001, '0.000042'], // BTCUSDT spot: not 0.0000
    [-0.001, 0.001, '-0.0010'],
    [1000, 1000, '1000.0000'],
    [0.5, 0, '0.5000'], // lot not known yet
    [0.5, NaN, '0.5000'],
  ])('formatQty(%s, %s) → %s', (qty, lot, want) => {
    expect(formatQty(qty, lot)).toBe(want);
  });
});
