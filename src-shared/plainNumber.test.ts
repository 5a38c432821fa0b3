import { describe, expect, it } from 'vitest';
import { plainDecimal, plainNumber } from './plainNumber.ts';

describe('plain numbers', () => {
  it.each([
    [0.0000001, '0.0000001'],
    [0.00000012, '0.00000012'],
    [-0.0000009, '-0.0000009'],
    [1.5e-10, '0.00000000015'],
    [65114.2, '65114.2'],
    [5, '5'],
  ])('plainDecimal(%s) = %s', (v, want) => expect(plainDecimal(v)).toBe(want));

  it('plainNumber drops the float noise of sums and keeps real digits', () => {
    expect(plainNumber(0.1 + 0.2)).toBe('0.3');
    expect(plainNumber(-80720)).toBe('-80720');
    expect(plainNumber(0.01239005)).toBe('0.01239005');
    expect(plainNumber(1e-7 + 2e-7)).toBe('0.0000003');
    expect(plainNumber(NaN)).toBe('NaN');
  });
});
