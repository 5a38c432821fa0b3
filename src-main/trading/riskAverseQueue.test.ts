import { describe, expect, it } from 'vitest';
import { seededUniform } from './jitterLatency.ts';
import { PowerProbQueue } from './powerProbQueue.ts';
import { ProRataCancelQueue, type QueueModel } from './queueModel.ts';
import { RiskAverseQueue } from './riskAverseQueue.ts';

type Op = ['trade', number, number] | ['level', number, number]; // [op, size, expected ahead]

describe('RiskAverseQueue', () => {
  const q = new RiskAverseQueue();
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
    // Pro rata would count 2 × 4/8 = 1 of this cancel ahead of us; risk-averse puts all of it behind.
    {
      name: 'a cancel never advances us',
      join: 4,
      ops: [
        ['level', 8, 4],
        ['level', 6, 4],
      ],
    },
    { name: 'growth behind us changes nothing', join: 4, ops: [['level', 10, 4]] },
    { name: 'a level shrinking below our queue-ahead caps it', join: 4, ops: [['level', 1, 1]] },
    { name: 'an emptied level leaves nothing ahead', join: 4, ops: [['level', 0, 0]] },
    {
      name: 'a decrease explained by trades is not counted twice',
      join: 10,
      ops: [
        ['trade', 4, 6],
        ['level', 6, 6],
        ['level', 5, 5],
      ],
    },
    {
      name: 'after the cap, trades still advance us and reach us',
      join: 4,
      ops: [
        ['level', 1, 1],
        ['trade', 1.5, 0],
      ],
      reach: [0.5],
    },
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

describe('queue models side by side', () => {
  const models: [string, QueueModel][] = [
    ['risk_averse', new RiskAverseQueue()],
    ['pro_rata', new ProRataCancelQueue()],
    ['power 2', new PowerProbQueue(2)],
    ['power 3', new PowerProbQueue(3)],
  ];
  // [name, join level, ops, expected ahead after the last op for risk_averse, pro_rata, power 2, power 3]
  it.each<[string, number, ['trade' | 'level', number][], number[]]>([
    // 2 ahead, 6 behind, 4 cancelled. Pro rata: 2 − 4 × 2/8 = 1; power 2: share 1/(1 + 3²) → 2 − 0.4;
    // power 3: 1/(1 + 3³) → 2 − 4/28. Near the front, the power models expect cancels mostly behind us.
    [
      'near the front',
      2,
      [
        ['level', 8],
        ['level', 4],
      ],
      [2, 1, 1.6, 2 - 4 / 28],
    ],
    // 6 ahead, 2 behind, 4 cancelled. Pro rata: 6 − 3 = 3; power 2: share 1/(1 + (1/3)²) = 0.9 → 2.4;
    // risk-averse: only the cap (level 4).
    [
      'near the back',
      6,
      [
        ['level', 8],
        ['level', 4],
      ],
      [4, 3, 2.4, 6 - 4 / (1 + 1 / 27)],
    ],
    [
      'ahead and behind equal: every model but risk-averse halves the cancel',
      4,
      [
        ['level', 8],
        ['level', 6],
      ],
      [4, 3, 3, 3],
    ],
    // 4 ahead of a level of 10, a trade of 2 (ahead 2, 6 behind), the level shows 5: 3 cancelled.
    // Pro rata over the 8 left: 2 − 3 × 2/8; power 2: 2 − 3 × 1/(1 + 9). (hftbacktest would count the 2 traded
    // as behind us: 2 − 3/(1 + 16).)
    [
      'cancels after a trade',
      4,
      [
        ['level', 10],
        ['trade', 2],
        ['level', 5],
      ],
      [2, 1.25, 1.7, 2 - 3 / 28],
    ],
    [
      'a cancel of the whole level',
      4,
      [
        ['level', 10],
        ['level', 0],
      ],
      [0, 0, 0, 0],
    ],
  ])('%s', (_name, join, ops, want) => {
    const got = models.map(([, m]) => {
      const s = m.join(join);
      for (const [op, size] of ops) {
        if (op === 'trade') m.onTrade(s, size);
        else m.onLevel(s, size);
      }
      return s.ahead;
    });
    got.forEach((g, i) => expect(g, models[i][0]).toBeCloseTo(want[i], 12));
  });

  it('on any sequence, risk-averse never has less ahead of us than pro rata or power (so never fills sooner)', () => {
    const next = seededUniform(5);
    for (let run = 0; run < 200; run++) {
      let level = 1 + Math.floor(next() * 10);
      const states = models.map(([, m]) => m.join(level));
      for (let step = 0; step < 40; step++) {
        if (next() < 0.4) {
          const size = next() * 3;
          models.forEach(([, m], i) => m.onTrade(states[i], size));
          level = Math.max(0, level - size);
        } else {
          level = Math.max(0, level + (next() - 0.6) * 4);
          models.forEach(([, m], i) => m.onLevel(states[i], level));
        }
        for (let i = 1; i < models.length; i++)
          expect(states[0].ahead).toBeGreaterThanOrEqual(states[i].ahead - 1e-12);
      }
    }
  });
});
