import { describe, expect, it } from 'vitest';
import { realizedVolBps } from './realizedVolatility.ts';

describe('realizedVolBps', () => {
  it.each([
    { returns: [], want: 0 },
    { returns: [3, -4], want: 5 },
    { returns: [1, 1, 1, 1], want: 2 },
    { returns: [-2], want: 2 },
  ])('returns $returns -> $want', ({ returns, want }) => {
    const sumSq = returns.reduce((s, r) => s + r * r, 0);
    expect(realizedVolBps(sumSq)).toBeCloseTo(want, 12);
  });
});
