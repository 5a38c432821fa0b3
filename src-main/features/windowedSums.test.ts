import { describe, expect, it } from 'vitest';
import { LaggedValue } from './laggedValue.ts';
import { WindowedSums } from './windowedSums.ts';

describe('WindowedSums', () => {
  it('matches a brute-force sum over (t - W, t] for every window, across ring growth', () => {
    const windows = [1000, 5000, 30000];
    const w = new WindowedSums(windows, 16);
    const events: { ts: number; a: number; b: number }[] = [];
    let ts = 0;
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 3000; i++) {
      ts += Math.floor(rnd() * 40);
      const a = rnd() * 10 - 5;
      const b = rnd();
      w.push(ts, a, b);
      events.push({ ts, a, b });
      if (i % 97 === 0) {
        const now = ts + Math.floor(rnd() * 2000);
        w.advance(now);
        windows.forEach((W, j) => {
          const inside = events.filter((e) => e.ts > now - W && e.ts <= now);
          expect(w.count(j)).toBe(inside.length);
          expect(w.sum(j, 0)).toBeCloseTo(
            inside.reduce((s, e) => s + e.a, 0),
            6,
          );
          expect(w.sum(j, 1)).toBeCloseTo(
            inside.reduce((s, e) => s + e.b, 0),
            6,
          );
        });
      }
    }
  });
  it.each([
    { name: 'entry exactly W old has left', pushes: [[0, 1]], now: 1000, want: 0 },
    { name: 'entry just inside', pushes: [[1, 1]], now: 1000, want: 1 },
    {
      name: 'empty window is exactly 0',
      pushes: [
        [0, 0.1],
        [1, 0.2],
      ],
      now: 5000,
      want: 0,
    },
  ])('$name', ({ pushes, now, want }) => {
    const w = new WindowedSums([1000]);
    for (const [t, v] of pushes) w.push(t, v);
    w.advance(now);
    expect(w.sum(0)).toBe(want);
  });
});

describe('LaggedValue', () => {
  it.each([
    // series pushed at (ts, v); value as of now - lag
    { name: 'as of exactly t - lag', now: 2000, lag: 1000, want: 11 },
    { name: 'step value holds until the next change', now: 2500, lag: 1000, want: 12 },
    { name: 'not far enough back', now: 500, lag: 1000, want: NaN },
    { name: 'long lag', now: 30_000, lag: 29_000, want: 11 },
  ])('$name', ({ now, lag, want }) => {
    const l = new LaggedValue([lag], 16);
    l.push(0, 10);
    l.push(1000, 11);
    l.push(1500, 12);
    l.push(2900, 13);
    l.advance(now);
    expect(l.value(0)).toEqual(want);
  });
  it('matches brute force across ring growth with several lags', () => {
    const lags = [1000, 5000, 30000];
    const l = new LaggedValue(lags, 16);
    const pts: [number, number][] = [];
    let ts = 0;
    for (let i = 0; i < 5000; i++) {
      ts += 1 + (i % 37);
      l.push(ts, i);
      pts.push([ts, i]);
      if (i % 53 === 0) {
        l.advance(ts);
        lags.forEach((lag, j) => {
          const older = pts.filter(([t]) => t <= ts - lag);
          expect(l.value(j)).toEqual(older.length ? older[older.length - 1][1] : NaN);
        });
      }
    }
  });
});
