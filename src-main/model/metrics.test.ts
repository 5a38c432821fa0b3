import { describe, expect, it } from 'vitest';
import { hitRate, quantiles, r2, ranks, spearman } from './metrics.ts';

describe('metrics', () => {
  it.each([
    { pred: [1, 2, 3], y: [1, 2, 3], want: 1 },
    { pred: [2, 2, 2], y: [1, 2, 3], want: 0 },
    { pred: [3, 2, 1], y: [1, 2, 3], want: -3 },
  ])('r2 of $pred against $y is $want', ({ pred, y, want }) => {
    expect(r2(pred, y)).toBeCloseTo(want, 12);
  });

  it('ranks share ties', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([1, 2.5, 2.5, 0]);
  });

  it.each([
    { pred: [1, 2, 3, 4], y: [10, 100, 1000, 1e4], want: 1 },
    { pred: [1, 2, 3, 4], y: [4, 3, 2, 1], want: -1 },
    { pred: [1, 2, 3, 4, 5], y: [2, 1, 4, 3, 5], want: 0.8 },
  ])('spearman($pred, $y) = $want', ({ pred, y, want }) => {
    expect(spearman(pred, y)).toBeCloseTo(want, 12);
  });

  it('hit rate counts sign agreement, skipping zero labels and predictions', () => {
    expect(hitRate([1, -1, 1, 0, 2], [2, -3, -1, 5, 0])).toBeCloseTo(2 / 3, 12);
  });

  it('quantiles interpolate', () => {
    const q = quantiles([0, 10, 20, 30, 40]);
    expect(q.p50).toBe(20);
    expect(q.p25).toBe(10);
    expect(q.p01).toBeCloseTo(0.4, 12);
    expect(q.min).toBe(0);
    expect(q.max).toBe(40);
  });
});
