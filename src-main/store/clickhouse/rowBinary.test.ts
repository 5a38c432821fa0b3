// RowBinary decoding of the values the store reads: 64-bit integers (read as two 32-bit halves) across their whole
// safe range, refused beyond it, and a book side's price and size arrays as levels.
import { describe, expect, it } from 'vitest';
import { RowBinaryReader, RowBinaryWriter } from './rowBinary.ts';

function raw(write: (b: Buffer) => void): RowBinaryReader {
  const b = Buffer.alloc(8);
  write(b);
  return new RowBinaryReader(b);
}

describe('RowBinaryReader', () => {
  const signed = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32), 2 ** 32 + 5, -(2 ** 32) - 5];
  const edges = [1_786_000_000_123, -1_786_000_000_123, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

  it('reads Int64 and UInt64 values across the safe range exactly', () => {
    const w = new RowBinaryWriter();
    const ints = [...signed, ...edges];
    const uints = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    for (const v of ints) w.int64(v);
    for (const v of uints) w.uint64(v);
    const r = new RowBinaryReader(w.toBuffer());
    expect(ints.map(() => r.int64())).toEqual(ints);
    expect(uints.map(() => r.uint64())).toEqual(uints);
    expect(r.done).toBe(true);
  });

  it('refuses 64-bit integers beyond 2^53 instead of rounding them', () => {
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 62n, -(2n ** 63n)])
      expect(() => raw((b) => b.writeBigInt64LE(v)).int64(), String(v)).toThrow('beyond 2^53');
    for (const v of [2n ** 53n, 2n ** 64n - 1n])
      expect(() => raw((b) => b.writeBigUInt64LE(v)).uint64(), String(v)).toThrow('beyond 2^53');
  });

  it('reads a book side as [price, size] levels, and refuses arrays of different lengths', () => {
    const side = (prices: number[], sizes: number[]) => {
      const w = new RowBinaryWriter();
      for (const a of [prices, sizes]) {
        w.uint8(a.length); // varint of a short array
        for (const x of a) w.float64(x);
      }
      return new RowBinaryReader(w.toBuffer());
    };
    expect(side([100.5, 100.4], [1.25, 0.001]).levels()).toEqual([
      [100.5, 1.25],
      [100.4, 0.001],
    ]);
    expect(side([], []).levels()).toEqual([]);
    expect(() => side([1, 2], [3]).levels()).toThrow('2 prices and 1 sizes');
  });
});
