import { describe, expect, it } from 'vitest';
import { FeatureStats } from './featureStats.ts';

/** The textbook two-pass figures to check the streaming ones against. */
function twoPass(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

describe('FeatureStats', () => {
  it('matches the two-pass mean and sample standard deviation per column', () => {
    const s = new FeatureStats(2);
    const a = [1, 2, 4, 7, 11, -3];
    const b = [0.5, 0.25, 0.125, 1, -2, 8];
    for (let i = 0; i < a.length; i++) s.add([a[i], b[i]]);
    expect(s.rows).toBe(6);
    expect(s.mean(0)).toBeCloseTo(twoPass(a).mean, 12);
    expect(s.std(0)).toBeCloseTo(twoPass(a).std, 12);
    expect(s.mean(1)).toBeCloseTo(twoPass(b).mean, 12);
    expect(s.std(1)).toBeCloseTo(twoPass(b).std, 12);
  });

  it('stays accurate around a large offset (no catastrophic cancellation)', () => {
    const s = new FeatureStats(1);
    const xs = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 7) * 0.001);
    for (const x of xs) s.add([x]);
    expect(s.std(0)).toBeCloseTo(twoPass(xs.map((x) => x - 1e9)).std, 6);
  });

  it('skips values that are not finite for their own column only; NaN until enough values', () => {
    const s = new FeatureStats(2);
    expect(s.mean(0)).toBeNaN();
    s.add([1, NaN]);
    expect(s.mean(0)).toBe(1);
    expect(s.std(0)).toBeNaN(); // one value: no spread yet
    s.add([3, Infinity]);
    s.add(new Float32Array([5, 2]));
    expect(s.rows).toBe(3);
    expect(s.n(0)).toBe(3);
    expect(s.n(1)).toBe(1);
    expect(s.mean(0)).toBe(3);
    expect(s.std(0)).toBe(2);
    expect(s.mean(1)).toBe(2);
    expect(s.std(1)).toBeNaN();
  });

  it('reset forgets everything', () => {
    const s = new FeatureStats(1);
    s.add([1]);
    s.add([2]);
    s.reset();
    expect(s.rows).toBe(0);
    expect(s.mean(0)).toBeNaN();
    s.add([10]);
    s.add([12]);
    expect(s.mean(0)).toBe(11);
  });
});
