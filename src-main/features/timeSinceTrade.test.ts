import { describe, expect, it } from 'vitest';
import { timeSinceTradeS } from './timeSinceTrade.ts';

describe('timeSinceTradeS', () => {
  it.each([
    { now: 10_000, last: 7_500, want: 2.5 },
    { now: 10_000, last: 10_000, want: 0 },
    { now: 100_000, last: 0, want: 60 }, // capped
    { now: 10_000, last: NaN, want: 60 }, // no trade yet
    { now: 10_000, last: 10_500, want: 0 }, // clock skew never gives a negative age
  ])('now $now last $last -> $want', ({ now, last, want }) => {
    expect(timeSinceTradeS(now, last, 60)).toBe(want);
  });
});
