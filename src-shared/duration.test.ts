// Durations are exact to what they print: a 2 h recording whose last message came a few ms before the end is "2h00m"
// (truncation printed "1h59m"), and a limit missed by 1 ms is not printed as met.
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [999.6, '1s'],
    [1000, '1s'],
    [1500, '1.5s'],
    [16_720, '16.72s'],
    [45_000, '45s'],
    [59_999, '59.999s'],
    [60_000, '1m00s'],
    [65_000, '1m05s'],
    [480_000, '8m00s'],
    [34 * 60_000 - 1, '33m59.999s'],
    [3_600_000, '1h00m'],
    [7_200_000, '2h00m'],
    [7_199_990, '2h00m'], // a 2 h collection's data span: not "1h59m"
    [7_170_000, '1h59m30s'],
    [5_400_000, '1h30m'],
    [3_723_000, '1h02m03s'],
    [7 * 86_400_000, '168h00m'],
    [-1500, '-1.5s'],
    [NaN, '–'],
  ])('%s ms → %s', (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });

  it('the flags users write print as themselves', () => {
    expect(['250ms', '10s', '60m', '2h'].map((t) => formatDuration(parseDuration(t)))).toEqual([
      '250ms',
      '10s',
      '1h00m',
      '2h00m',
    ]);
  });
});
