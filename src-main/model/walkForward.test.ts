import { describe, expect, it } from 'vitest';
import { holdoutSplit, walkForwardSplits } from './walkForward.ts';

const H = 10_000;
// 1 s samples over two sessions with a hole between them, given out of time order
const times = [
  ...Array.from({ length: 300 }, (_, i) => 5_000_000 + i * 1000),
  ...Array.from({ length: 200 }, (_, i) => 1_000_000 + i * 1000),
];
const ts = Float64Array.from(times);

function assertEmbargo(tsArr: Float64Array, train: Int32Array, valid: Int32Array, embargo: number) {
  // no training sample within the embargo before (or at/after) any validation sample's time:
  // checked over every pair at once through the extremes
  const minValid = Math.min(...[...valid].map((i) => tsArr[i]));
  const maxTrain = Math.max(...[...train].map((i) => tsArr[i]));
  expect(minValid - maxTrain).toBeGreaterThanOrEqual(embargo);
  expect(maxTrain + H).toBeLessThanOrEqual(minValid); // every training label window ends before validation
}

describe('walkForwardSplits', () => {
  it.each([
    { mode: 'expanding' as const, folds: 3, embargo: undefined },
    { mode: 'expanding' as const, folds: 4, embargo: 25_000 },
    { mode: 'sliding' as const, folds: 3, embargo: undefined },
  ])('$mode, $folds folds, embargo $embargo: time-ordered and embargoed', ({ mode, folds, embargo }) => {
    const fs = walkForwardSplits(ts, { folds, horizonMs: H, embargoMs: embargo, mode });
    expect(fs).toHaveLength(folds);
    const e = embargo ?? H;
    let prevValidEnd = -Infinity;
    for (const f of fs) {
      assertEmbargo(ts, f.train, f.valid, e);
      expect(f.validFrom).toBeGreaterThan(prevValidEnd); // validation blocks walk forward
      prevValidEnd = f.validTo;
      // exactly the rows that fall within the embargo were removed
      const trainSet = new Set(f.train);
      const dropped = [...Array(ts.length).keys()].filter((i) => ts[i] < f.validFrom && !trainSet.has(i));
      if (mode === 'expanding') expect(dropped.every((i) => ts[i] > f.validFrom - e)).toBe(true);
    }
    if (mode === 'expanding')
      for (let i = 1; i < fs.length; i++) expect(fs[i].train.length).toBeGreaterThan(fs[i - 1].train.length);
    // validation blocks are disjoint and ~equal
    const all = fs.flatMap((f) => [...f.valid]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('the embargo check can fail: contiguous data without an embargo would put training rows inside H', () => {
    const f = walkForwardSplits(ts, { folds: 2, horizonMs: H })[0];
    const lastTrain = Math.max(...[...f.train].map((i) => ts[i]));
    expect(f.validFrom - lastTrain).toBeGreaterThanOrEqual(H);
    expect(f.validFrom - lastTrain).toBeLessThan(H + 2000); // only the rows inside the embargo were dropped
  });

  it('refuses an embargo shorter than the horizon, and too little data', () => {
    expect(() => walkForwardSplits(ts, { folds: 3, horizonMs: H, embargoMs: 5000 })).toThrow(
      /at least the label horizon/,
    );
    expect(() => walkForwardSplits(Float64Array.from([1, 2, 3]), { folds: 3, horizonMs: H })).toThrow(
      /too few/,
    );
  });

  it('holdoutSplit validates on the newest block', () => {
    const f = holdoutSplit(ts, { folds: 4, horizonMs: H });
    expect(f.validTo).toBe(Math.max(...times));
    assertEmbargo(ts, f.train, f.valid, H);
  });
});
