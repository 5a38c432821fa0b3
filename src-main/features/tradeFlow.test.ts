import { describe, expect, it } from 'vitest';
import { perSecond, tradeFlowImbalance } from './tradeFlow.ts';

describe('tradeFlowImbalance', () => {
  it.each([
    [3, 1, 0.5],
    [1, 3, -0.5],
    [2, 0, 1],
    [0, 2, -1],
    [0, 0, 0],
  ])('buy %d sell %d -> %d', (b, s, want) => {
    expect(tradeFlowImbalance(b, s)).toBe(want);
  });
});

describe('perSecond', () => {
  it.each([
    [10, 5000, 2],
    [3, 30000, 0.1],
    [0, 1000, 0],
  ])('%d over %d ms -> %d/s', (x, w, want) => {
    expect(perSecond(x, w)).toBeCloseTo(want, 12);
  });
});
