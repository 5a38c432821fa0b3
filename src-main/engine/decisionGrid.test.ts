// The local clock and decision grid shared by the Engine and the dataset builder: tables of cases.
import { describe, expect, it } from 'vitest';
import { DecisionGrid, receiveTime } from './decisionGrid.ts';

describe('receiveTime', () => {
  it.each([
    { m: { ts: 1000, recvTs: 1040 }, lat: 0, want: 1040 }, // a receive stamp is the local time
    { m: { ts: 1000, recvTs: 1040 }, lat: 300, want: 1040 }, // ... whatever the configured latency
    { m: { ts: 1000, recvTs: 1000 }, lat: 0, want: 1000 }, // one clock: exchange time
    { m: { ts: 1000, recvTs: 1000 }, lat: 250, want: 1250 }, // one clock + the feed latency
    { m: { ts: 1000, recvTs: NaN }, lat: 25, want: 1025 }, // no receive stamp at all
  ])('$m with feed latency $lat → $want', ({ m, lat, want }) => {
    expect(receiveTime(m, lat)).toBe(want);
  });
});

/** Feeds messages (local times) and returns, for each, the grid times decided before it was received. */
function run(grid: DecisionGrid, locals: number[]): { decided: number[][]; silences: number[] } {
  const decided: number[][] = [];
  const silences: number[] = [];
  for (const t of locals) {
    const local = grid.localTime({ ts: t, recvTs: t + 1 }, -Infinity);
    const ds: number[] = [];
    for (let d = grid.takeDue(local); d === d; d = grid.takeDue(local)) ds.push(d);
    decided.push(ds);
    if (grid.receive(local)) silences.push(local);
  }
  return { decided, silences };
}

describe('DecisionGrid', () => {
  it('decides each grid time once, before the first message received after it, and never one at its own time', () => {
    const g = new DecisionGrid({ decisionIntervalMs: 1000 });
    // receive stamps are t + 1: 999 → local 1000 (a message received exactly at a grid time is seen by it)
    const { decided } = run(g, [500, 999, 1500, 3200, 3300]);
    expect(decided).toEqual([[], [], [1000], [2000, 3000], []]);
  });

  it('a silence: grid times up to maxSilence after the last message are decided, none after; the grid restarts', () => {
    const g = new DecisionGrid({ decisionIntervalMs: 1000, maxSilenceMs: 2500 });
    const { decided, silences } = run(g, [99, 10_099, 10_599, 11_099]);
    // last message at local 100: 1000, 2000 are within 2.5 s of it; 3000 is not; received at 10100 → silence
    expect(decided).toEqual([[], [1000, 2000], [], [11_000]]);
    expect(silences).toEqual([10_100]);
  });

  it('local times never go back (arrival order wins), nor before a floor (a live timer tick)', () => {
    const g = new DecisionGrid({ decisionIntervalMs: 1000 });
    g.receive(g.localTime({ ts: 5000, recvTs: 5100 }));
    expect(g.localTime({ ts: 4000, recvTs: 4050 })).toBe(5100);
    expect(g.localTime({ ts: 6000, recvTs: 6050 }, 7000)).toBe(7000);
    g.reset(8000); // a session resumed mid-way: the clock starts at the earlier events' latest local time
    expect(g.localTime({ ts: 7000, recvTs: 7500 })).toBe(8000);
  });

  it('refuses a grid without a period and a negative feed latency', () => {
    expect(() => new DecisionGrid({ decisionIntervalMs: 0 })).toThrow(/decision interval/);
    expect(() => new DecisionGrid({ decisionIntervalMs: 1000, feedLatencyMs: -5 })).toThrow(/feed latency/);
  });
});
