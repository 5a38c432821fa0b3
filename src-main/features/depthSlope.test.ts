import { describe, expect, it } from 'vitest';
import { depthSlope } from './depthSlope.ts';

const f = (xs: number[]) => Float64Array.from(xs);

describe('depthSlope', () => {
  // mid 100: a level at 99.99 is 1 bp away, 99.98 is 2 bp, ...
  it.each([
    {
      name: 'one unit per level, one bp apart: slope 1 size/bp',
      px: [99.99, 99.98, 99.97, 99.96],
      sz: [1, 1, 1, 1],
      want: 1,
    },
    { name: 'two units per level', px: [99.99, 99.98, 99.97], sz: [2, 2, 2], want: 2 },
    { name: 'ask side uses distance above mid', px: [100.01, 100.02, 100.03], sz: [3, 3, 3], want: 3 },
    { name: 'levels 2 bp apart halve the slope', px: [99.99, 99.97, 99.95], sz: [1, 1, 1], want: 0.5 },
    { name: 'single level: no slope', px: [99.99], sz: [5], want: 0 },
  ])('$name', ({ px, sz, want }) => {
    expect(depthSlope(f(px), f(sz), px.length, 100)).toBeCloseTo(want, 6);
  });
  it('a thick far book is steeper than a thin one', () => {
    const px = f([99.99, 99.98, 99.97]);
    expect(depthSlope(px, f([1, 1, 9]), 3, 100)).toBeGreaterThan(depthSlope(px, f([1, 1, 1]), 3, 100));
  });
});
