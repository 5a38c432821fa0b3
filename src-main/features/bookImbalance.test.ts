import { describe, expect, it } from 'vitest';
import { IMBALANCE_WEIGHTS, bookImbalance, weightedBookImbalance } from './bookImbalance.ts';

const f = (xs: number[]) => Float64Array.from(xs);

describe('bookImbalance', () => {
  const bids = f([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const asks = f([3, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
  it.each([
    { n: 1, want: (1 - 3) / 4 },
    { n: 5, want: (15 - 8) / 23 },
    { n: 10, want: (55 - 13) / 68 },
  ])('depth $n', ({ n, want }) => {
    expect(bookImbalance(bids, 10, asks, 10, n)).toBeCloseTo(want, 12);
  });
  it.each([
    { name: 'fewer levels than asked count as empty', nb: 2, na: 1, n: 5, want: (3 - 3) / 6 },
    { name: 'one side empty', nb: 3, na: 0, n: 5, want: 1 },
    { name: 'both empty', nb: 0, na: 0, n: 5, want: 0 },
  ])('$name', ({ nb, na, n, want }) => {
    expect(bookImbalance(bids, nb, asks, na, n)).toBeCloseTo(want, 12);
  });
});

describe('weightedBookImbalance', () => {
  it.each([
    { name: 'symmetric book', bids: [1, 1, 1], asks: [1, 1, 1], want: 0 },
    { name: 'only the touch', bids: [2], asks: [1], want: 1 / 3 },
    // same totals, but the bid's size is near the touch and the ask's far away: weighted favours bids
    {
      name: 'near vs far',
      bids: [5, 0, 0, 0, 0],
      asks: [0, 0, 0, 0, 5],
      want: (5 - 5 * Math.exp(-2)) / (5 + 5 * Math.exp(-2)),
    },
  ])('$name', ({ bids, asks, want }) => {
    expect(weightedBookImbalance(f(bids), bids.length, f(asks), asks.length)).toBeCloseTo(want, 12);
  });
  it('weights decay from the touch', () => {
    expect(IMBALANCE_WEIGHTS[0]).toBe(1);
    for (let i = 1; i < IMBALANCE_WEIGHTS.length; i++)
      expect(IMBALANCE_WEIGHTS[i]).toBeLessThan(IMBALANCE_WEIGHTS[i - 1]);
  });
});
