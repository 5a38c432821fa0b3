// Test helper: two sessions' dataset rows are the same bit for bit (features, labels, times, label stamps, stats).
import { expect } from 'vitest';
import type { SessionRows } from '../featureCache.ts';

const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function expectSameRows(want: SessionRows, got: SessionRows): void {
  expect(got.nRows).toBe(want.nRows);
  expect(bits(got.X).equals(bits(want.X))).toBe(true);
  expect(bits(got.y).equals(bits(want.y))).toBe(true);
  expect(bits(got.ts).equals(bits(want.ts))).toBe(true);
  expect(bits(got.labelRecvTs).equals(bits(want.labelRecvTs))).toBe(true);
  expect(got.stats).toEqual(want.stats);
}
