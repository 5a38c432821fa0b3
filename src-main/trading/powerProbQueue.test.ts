import { describe, expect, it } from 'vitest';
import { seededUniform } from './jitterLatency.ts';
import { PowerProbQueue } from './powerProbQueue.ts';
import { ProRataCancelQueue } from './queueModel.ts';

type Op = ['trade', number, number] | ['level', number, number]; // [op, size, expected ahead]

describe('PowerProbQueue', () => {
  it.each<{ name: string; n: number; join: number; ops: Op[]; reach?: number[] }>([
    {
      name: 'trades eat the queue, then reach us',
      n: 2,
      join: 5,
      ops: [
        ['trade', 3, 2],
        ['trade', 4, 0],
      ],
      reach: [0, 2],
    },
    { name: 'growth behind us changes nothing', n: 2, join: 4, ops: [['level', 10, 4]] },
    // 1 ahead, 9 behind, 5 cancelled: share ahead 1/(1 + 9²) = 1/82.
    {
      name: 'near the front a cancel is most likely behind us',
      n: 2,
      join: 1,
      ops: [
        ['level', 10, 1],
        ['level', 5, 1 - 5 / 82],
      ],
    },
    // 9 ahead, 1 behind, 5 cancelled: share ahead 81/82.
    {
      name: 'near the back a cancel is most likely ahead of us',
      n: 2,
      join: 9,
      ops: [
        ['level', 10, 9],
        ['level', 5, 9 - (5 * 81) / 82],
      ],
    },
    // 1 ahead, 9 behind, 9.5 cancelled: behind's share 9.5 × 81/82 ≈ 9.38 is more than the 9 there: the rest came
    // from ahead, leaving exactly the level's 0.5.
    {
      name: 'what the queue behind cannot hold of its share came from ahead',
      n: 2,
      join: 1,
      ops: [
        ['level', 10, 1],
        ['level', 0.5, 0.5],
      ],
    },
    // Nothing behind us: any cancel is ahead.
    {
      name: 'with nobody behind, every cancel is ahead of us',
      n: 3,
      join: 4,
      ops: [['level', 3, 3]],
    },
    // 10 ahead, trade 4 → 6 ahead, nobody behind; the level shows 4: 2 of the 6-unit drop are cancels, all ahead.
    {
      name: 'cancels net of trades',
      n: 2,
      join: 10,
      ops: [
        ['trade', 4, 6],
        ['level', 4, 4],
      ],
    },
    { name: 'an emptied level leaves nothing ahead', n: 2, join: 4, ops: [['level', 0, 0]] },
    {
      name: 'n = 0.5 favours the shorter side: 2 ahead, 8 behind',
      n: 0.5,
      join: 2,
      ops: [
        ['level', 10, 2],
        ['level', 7, 2 - 3 / 3],
      ],
    },
  ])('$name', ({ n, join, ops, reach }) => {
    const q = new PowerProbQueue(n);
    const s = q.join(join);
    const got: number[] = [];
    for (const [op, size, ahead] of ops) {
      if (op === 'trade') got.push(q.onTrade(s, size));
      else q.onLevel(s, size);
      expect(s.ahead).toBeCloseTo(ahead, 12);
    }
    if (reach) expect(got).toEqual(reach);
  });

  it('tiny and huge queues: no 0/0, shares stay in [0, 1]', () => {
    const q = new PowerProbQueue(8);
    expect(q.shareAhead(1e-200, 1e-200)).toBe(0.5);
    expect(q.shareAhead(1e-300, 1)).toBe(0);
    expect(q.shareAhead(1, 0)).toBe(1);
    expect(q.shareAhead(1e200, 1e-200)).toBe(1);
  });

  it('with power 1 it is the pro rata model, on any sequence', () => {
    const p1 = new PowerProbQueue(1);
    const pr = new ProRataCancelQueue();
    const next = seededUniform(3);
    for (let run = 0; run < 200; run++) {
      const join = 1 + Math.floor(next() * 10);
      const a = p1.join(join);
      const b = pr.join(join);
      let level = join;
      for (let step = 0; step < 40; step++) {
        if (next() < 0.4) {
          const size = next() * 3;
          expect(p1.onTrade(a, size)).toBeCloseTo(pr.onTrade(b, size), 9);
          level = Math.max(0, level - size);
        } else {
          level = Math.max(0, level + (next() - 0.6) * 4);
          p1.onLevel(a, level);
          pr.onLevel(b, level);
        }
        expect(a.ahead).toBeCloseTo(b.ahead, 9);
      }
    }
  });

  it.each([0, -1, NaN, Infinity])('rejects power %s', (n) => {
    expect(() => new PowerProbQueue(n)).toThrow(RangeError);
  });
});
