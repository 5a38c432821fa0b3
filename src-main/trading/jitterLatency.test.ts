import { describe, expect, it } from 'vitest';
import { JitterLatency } from './jitterLatency.ts';

const draws = (l: JitterLatency, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i % 3 === 0 ? l.cancel(i) : l.order(i));
  return out;
};

describe('JitterLatency', () => {
  it('the same seed gives the same delays; another seed other ones', () => {
    const a = draws(new JitterLatency(20, 10, 7), 200);
    expect(draws(new JitterLatency(20, 10, 7), 200)).toEqual(a);
    expect(draws(new JitterLatency(20, 10, 8), 200)).not.toEqual(a);
  });

  // [base, mean jitter]: every delay is whole ms and ≥ base; the extra delay is exponential with that mean.
  it.each([
    [0, 5],
    [20, 10],
    [50, 100],
  ])('base %s ms + exponential jitter of mean %s ms', (base, jitter) => {
    const n = 20_000;
    const d = draws(new JitterLatency(base, jitter, 1), n);
    expect(d.every((x) => Number.isInteger(x) && x >= base)).toBe(true);
    const extra = d.map((x) => x - base);
    const mean = extra.reduce((a, x) => a + x, 0) / n;
    expect(mean).toBeGreaterThan(jitter * 0.95);
    expect(mean).toBeLessThan(jitter * 1.05);
    // A tail: P(extra > 3 × mean) = e^-3 ≈ 5 % for an exponential (a uniform or normal jitter has none).
    const tail = extra.filter((x) => x > 3 * jitter).length / n;
    expect(tail).toBeGreaterThan(0.04);
    expect(tail).toBeLessThan(0.06);
  });

  it('no jitter is the constant base', () => {
    expect(draws(new JitterLatency(35, 0, 1), 10)).toEqual(new Array(10).fill(35));
  });

  it.each([
    [-1, 10, 1],
    [10, -1, 1],
    [10, 10, 1.5],
  ])('rejects base %s, jitter %s, seed %s', (base, jitter, seed) => {
    expect(() => new JitterLatency(base, jitter, seed)).toThrow(RangeError);
  });
});
