import { describe, expect, it } from 'vitest';
import { NotionalFees } from './fees.ts';
import { ConstantLatency } from './latency.ts';
import { ProRataCancelQueue } from './queueModel.ts';

describe('ProRataCancelQueue', () => {
  const q = new ProRataCancelQueue();
  type Op = ['trade', number, number] | ['level', number, number]; // [op, size, expected ahead] (trade: also expected reach)
  it.each<{ name: string; join: number; ops: Op[]; reach?: number[] }>([
    {
      name: 'trades eat the queue, then reach us',
      join: 5,
      ops: [
        ['trade', 3, 2],
        ['trade', 4, 0],
      ],
      reach: [0, 2],
    },
    { name: 'a pure cancel of half the level halves the queue ahead', join: 4, ops: [['level', 2, 2]] },
    { name: 'growth behind us changes nothing', join: 4, ops: [['level', 10, 4]] },
    // Level 10, trade 4 (ahead 6), then the level shows 4: 4 of the 6-unit drop are trades, 2 are cancels,
    // spread over the 6 left: 2 × 6/6 = 2 ahead removed → ahead 4.
    {
      name: 'cancels net of trades, pro rata over what trades left',
      join: 10,
      ops: [
        ['trade', 4, 6],
        ['level', 4, 4],
      ],
    },
    { name: 'never more ahead than the level holds', join: 4, ops: [['level', 1, 1]] },
    { name: 'an emptied level leaves nothing ahead', join: 4, ops: [['level', 0, 0]] },
  ])('$name', ({ join, ops, reach }) => {
    const s = q.join(join);
    const got: number[] = [];
    for (const [op, size, ahead] of ops) {
      if (op === 'trade') got.push(q.onTrade(s, size));
      else q.onLevel(s, size);
      expect(s.ahead).toBeCloseTo(ahead, 12);
    }
    if (reach) expect(got).toEqual(reach);
  });
});

describe('fees and latency', () => {
  it('Bybit linear defaults: taker 0.055 %, maker 0.02 % of notional', () => {
    const f = new NotionalFees();
    expect(f.fee(50_000, 0.1, 'taker')).toBeCloseTo(2.75, 12);
    expect(f.fee(50_000, 0.1, 'maker')).toBeCloseTo(1.0, 12);
    expect(new NotionalFees(0.0006, -0.0001).fee(100, 1, 'maker')).toBeCloseTo(-0.01, 12); // rebate
  });
  it('constant latency, with a separate cancel latency', () => {
    const l = new ConstantLatency(30, 10);
    expect([l.order(0), l.cancel(0)]).toEqual([30, 10]);
    expect(() => new ConstantLatency(-1)).toThrow();
  });
});
