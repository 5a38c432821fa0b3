import { describe, expect, it } from 'vitest';
import { logReturnBps } from './midReturn.ts';

describe('logReturnBps', () => {
  it.each([
    [100, 100, 0],
    [100, 101, Math.log(1.01) * 1e4],
    [100, 99, Math.log(0.99) * 1e4],
    [65000, 65006.5, Math.log(65006.5 / 65000) * 1e4], // ~1 bp
  ])('%d -> %d', (a, b, want) => {
    expect(logReturnBps(a, b)).toBeCloseTo(want, 10);
  });
  it('is additive over consecutive moves', () => {
    expect(logReturnBps(100, 103)).toBeCloseTo(logReturnBps(100, 101) + logReturnBps(101, 103), 10);
  });
});
