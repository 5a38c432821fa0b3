import { describe, expect, it } from 'vitest';
import { SeriesBuffer } from './series.ts';

describe('SeriesBuffer', () => {
  it('stays within 1.5 × its cap and resets subscribers to the capped series when it trims', () => {
    const buf = new SeriesBuffer<{ t: number }>(100);
    // What a chart holds: its own copy, rebuilt on reset and extended on append.
    let chart: { t: number }[] = [];
    let resets = 0;
    buf.subscribe(
      (all) => {
        resets++;
        chart = all.slice();
      },
      (added) => chart.push(...added),
    );
    for (let t = 0; t < 10_000; t += 7) buf.append(Array.from({ length: 7 }, (_, i) => ({ t: t + i })));
    expect(buf.all().length).toBeLessThanOrEqual(150);
    expect(buf.all().at(-1)).toEqual({ t: 10_002 });
    expect(chart.length).toBeLessThanOrEqual(150);
    expect(chart).toEqual(buf.all());
    expect(resets).toBeGreaterThan(1);
  });

  it('reset keeps only the newest cap points', () => {
    const buf = new SeriesBuffer<number>(3);
    buf.reset([1, 2, 3, 4, 5]);
    expect(buf.all()).toEqual([3, 4, 5]);
  });
});
