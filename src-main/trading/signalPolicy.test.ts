import { describe, expect, it } from 'vitest';
import { rawSignal, SignalPolicy } from './signalPolicy.ts';

describe('rawSignal', () => {
  it.each([
    [2, 1, 1],
    [1, 1, 0], // strictly greater
    [0.5, 1, 0],
    [-1, 1, 0],
    [-1.01, 1, -1],
    [0.1, 0, 1],
    [0, 0, 0],
    [NaN, 1, 0],
    [Infinity, 1, 0],
  ])('prediction %s threshold %s → %s', (p, t, want) => {
    expect(rawSignal(p, t)).toBe(want);
  });
});

type Step = [ts: number, prediction: number, want: number];

describe('SignalPolicy', () => {
  const cases: { name: string; opts: ConstructorParameters<typeof SignalPolicy>[0]; steps: Step[] }[] = [
    {
      name: 'no hysteresis: exits as soon as inside the band, flips directly',
      opts: { threshold: 1 },
      steps: [
        [0, 1.5, 1],
        [1, 0.9, 0],
        [2, -2, -1],
        [3, 3, 1],
      ],
    },
    {
      name: 'hysteresis keeps a long until the exit band',
      opts: { threshold: 1, hysteresis: 0.5 },
      steps: [
        [0, 0.8, 0], // not entered: entry needs > 1
        [1, 1.2, 1],
        [2, 0.6, 1], // still > 0.5
        [3, 0.5, 0], // exit band reached
        [4, -1.2, -1],
        [5, -0.7, -1],
        [6, -0.4, 0],
      ],
    },
    {
      name: 'hysteresis larger than threshold: long kept until the opposite entry',
      opts: { threshold: 1, hysteresis: 5 },
      steps: [
        [0, 2, 1],
        [1, -0.9, 1],
        [2, -1.1, -1],
      ],
    },
    {
      name: 'minimum hold delays an exit and a flip, not an entry',
      opts: { threshold: 1, minHoldMs: 1000 },
      steps: [
        [0, 2, 1],
        [500, 0, 1],
        [999, -5, 1],
        [1000, -5, -1],
        [1500, 0, -1],
        [2000, 0, 0],
        [2001, 2, 1], // entry from flat is immediate
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = new SignalPolicy(c.opts);
      for (const [ts, pred, want] of c.steps) expect({ ts, s: p.decide(pred, ts) }).toEqual({ ts, s: want });
    });
  }

  it('setThreshold applies at the next decision', () => {
    const p = new SignalPolicy({ threshold: 1 });
    expect(p.decide(1.5, 0)).toBe(1);
    p.setThreshold(2);
    expect(p.decide(1.5, 1)).toBe(0);
    expect(p.getThreshold()).toBe(2);
  });

  it('rejects a negative or non-finite threshold', () => {
    expect(() => new SignalPolicy({ threshold: -1 })).toThrow(/threshold/);
    expect(() => new SignalPolicy({ threshold: 1 }).setThreshold(NaN)).toThrow(/threshold/);
  });
});
