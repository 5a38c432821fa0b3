import { describe, expect, it } from 'vitest';
import { normalisedOfi, ofiEvent } from './orderFlowImbalance.ts';

describe('ofiEvent (Cont-Kukanov-Stoikov e_n)', () => {
  // previous quote: bid 100 x 5, ask 101 x 4
  it.each([
    { name: 'nothing changed', b: 100, qb: 5, a: 101, qa: 4, want: 5 - 5 - 4 + 4 },
    { name: 'bid size up 2', b: 100, qb: 7, a: 101, qa: 4, want: 2 },
    { name: 'bid size down 3', b: 100, qb: 2, a: 101, qa: 4, want: -3 },
    { name: 'ask size up 1 (selling pressure)', b: 100, qb: 5, a: 101, qa: 5, want: -1 },
    { name: 'ask size down 4', b: 100, qb: 5, a: 101, qa: 0, want: 4 },
    { name: 'bid price improves: whole new bid counts', b: 100.5, qb: 1, a: 101, qa: 4, want: 1 },
    { name: 'bid price drops: whole old bid leaves', b: 99.5, qb: 9, a: 101, qa: 4, want: -5 },
    { name: 'ask price improves (down): new ask counts against', b: 100, qb: 5, a: 100.5, qa: 2, want: -2 },
    { name: 'ask price lifted (up): old ask counts for', b: 100, qb: 5, a: 101.5, qa: 8, want: 4 },
    { name: 'both move up', b: 101, qb: 3, a: 102, qa: 6, want: 3 + 4 },
  ])('$name', ({ b, qb, a, qa, want }) => {
    expect(ofiEvent(100, 5, 101, 4, b, qb, a, qa)).toBe(want);
  });
});

describe('normalisedOfi', () => {
  it.each([
    { sumE: 10, sumDepth: 20, count: 4, want: 2 }, // mean depth 5
    { sumE: -3, sumDepth: 6, count: 2, want: -1 },
    { sumE: 0, sumDepth: 0, count: 0, want: 0 },
    { sumE: 5, sumDepth: 0, count: 1, want: 0 },
  ])('$sumE / ($sumDepth/$count) = $want', ({ sumE, sumDepth, count, want }) => {
    expect(normalisedOfi(sumE, sumDepth, count)).toBe(want);
  });
});
