// Axis labels that tell ticks apart: "17:15 17:15 17:15" on a 2-minute curve becomes seconds; a curve across
// midnight carries the date.
import { describe, expect, it } from 'vitest';
import { axisFormat, axisLabel, axisTicks } from './timeAxis.ts';

const T = Date.UTC(2026, 11, 2, 17, 15, 0);

describe('time axis', () => {
  it.each([
    [T, T + 120_000, 'time-s'], // 2 minutes
    [T, T + 2 * 3_600_000, 'time'], // 2 hours
    [T, T + 2_000, 'time-ms'], // 2 seconds
    [T, T + 12 * 3_600_000, 'date-time'], // crosses midnight
  ])('%s → %s: %s', (a, b, want) => {
    expect(axisFormat(a, b)).toBe(want);
  });

  it('labels of a 2-minute run are all different', () => {
    const labels = axisTicks(T, T + 120_000, 5).map((k) => k.label);
    expect(labels).toEqual(['17:15:00', '17:15:30', '17:16:00', '17:16:30', '17:17:00']);
    expect(new Set(labels).size).toBe(5);
  });

  it('formats each kind', () => {
    expect(axisLabel(T + 250, 'time-ms')).toBe('17:15:00.250');
    expect(axisLabel(T, 'time')).toBe('17:15');
    expect(axisLabel(T, 'date-time')).toBe('2026-12-02 17:15');
    expect(axisTicks(T, T)).toEqual([{ t: T, label: '17:15:00' }]);
  });
});
