import { describe, expect, it } from 'vitest';
import { spreadBps } from './spread.ts';

describe('spreadBps', () => {
  it.each([
    // bid, ask, expected bps
    [100, 100.02, (0.02 / 100.01) * 1e4],
    [65114.2, 65114.3, (0.1 / 65114.25) * 1e4],
    [0.5, 0.5001, (0.0001 / 0.50005) * 1e4],
    [99, 101, 200],
  ])('bid %d ask %d -> %d bps', (bid, ask, want) => {
    expect(spreadBps(bid, ask)).toBeCloseTo(want, 10);
  });
});
