import { describe, expect, it } from 'vitest';
import { LabelQueue, labelBps, type PendingSample } from './labels.ts';

describe('labelBps', () => {
  it.each([
    [100, 100, 0],
    [100, 100.01, Math.log(1.0001) * 1e4], // ~1 bp
    [65000, 64993.5, Math.log(64993.5 / 65000) * 1e4], // ~-1 bp
  ])('%d -> %d', (a, b, want) => {
    expect(labelBps(a, b)).toBeCloseTo(want, 10);
  });
});

describe('LabelQueue', () => {
  const sample = (t: number, mid: number): PendingSample => ({ t, mid, row: new Float32Array(1) });

  it('labels a sample only once the stream has passed t + H, with the mid of that moment, in order', () => {
    const q = new LabelQueue(10_000);
    const got: [number, number][] = [];
    const emit = (s: PendingSample, y: number) => got.push([s.t, y]);
    q.push(sample(1000, 100));
    q.push(sample(2000, 101));
    q.resolve(11_000, 102, emit); // next event at exactly t + H: the mid at t + H may still change
    expect(got).toEqual([]);
    q.resolve(11_001, 102, emit);
    expect(got).toEqual([[1000, labelBps(100, 102)]]);
    q.resolve(50_000, 99, emit);
    expect(got.map((g) => g[0])).toEqual([1000, 2000]);
    expect(got[1][1]).toBeCloseTo(labelBps(101, 99), 12);
    expect(q.size).toBe(0);
  });

  it('clear() drops every waiting sample and says how many', () => {
    const q = new LabelQueue(5000);
    for (let i = 0; i < 200; i++) q.push(sample(i * 100, 100));
    const seen: number[] = [];
    q.resolve(10_000, 100, (s) => seen.push(s.t)); // the first 50 are due (t + 5000 < 10000)
    expect(seen).toHaveLength(50);
    expect(q.clear()).toBe(150);
    expect(q.size).toBe(0);
  });
});
