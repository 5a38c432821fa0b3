import { describe, expect, it } from 'vitest';
import { micropriceOffsetBps } from './microprice.ts';

describe('micropriceOffsetBps', () => {
  it.each([
    // bid, bidSize, ask, askSize, expected
    { bid: 99, vb: 1, ask: 101, va: 1, want: 0 }, // balanced: microprice = mid
    { bid: 99, vb: 3, ask: 101, va: 1, want: (((101 * 3 + 99 * 1) / 4 - 100) / 100) * 1e4 }, // heavy bid leans up (+50 bps)
    { bid: 99, vb: 1, ask: 101, va: 3, want: -50 }, // heavy ask leans down
    { bid: 99, vb: 0, ask: 101, va: 2, want: -100 }, // empty bid: microprice = bid
    { bid: 99, vb: 0, ask: 101, va: 0, want: 0 }, // no size at all: no lean
  ])('$bid x $vb / $ask x $va -> $want', ({ bid, vb, ask, va, want }) => {
    expect(micropriceOffsetBps(bid, vb, ask, va)).toBeCloseTo(want, 9);
  });
});
