// One rule per input, for the app's fields and the CLI's flags alike: what each refuses and how it says so.
import { describe, expect, it } from 'vitest';
import { inputProblem, parseDurationInput, parseSweep, parseSymbol, parseThreshold } from './inputRules.ts';

describe('input rules shared by the app and the CLI', () => {
  it.each([
    ['0.5,1,2', [0.5, 1, 2]],
    ['0.25 0.5 1', [0.25, 0.5, 1]],
    [' 0 , 3 ', [0, 3]],
  ])('a sweep %j', (text, want) => expect(parseSweep(text)).toEqual(want));

  it('refuses a sweep with entries that are not non-negative numbers, naming them (nothing is dropped)', () => {
    expect(() => parseSweep('abc, -1')).toThrow(
      '--sweep takes non-negative numbers (at most 1000) separated by commas, got "abc, -1": "abc", "-1" are not',
    );
    expect(inputProblem(() => parseSweep('0.5, x', 'Sweep'))).toBe(
      'Sweep takes non-negative numbers (at most 1000) separated by commas, got "0.5, x": "x" is not',
    );
    expect(inputProblem(() => parseSweep(',', 'Sweep'))).toMatch(/^Sweep takes non-negative numbers/);
    expect(inputProblem(() => parseSweep('1e9'))).toMatch(/"1e9" is not$/);
  });

  it.each([
    ['2h', 'm', 7_200_000],
    ['30', 'm', 1_800_000],
    ['90', 's', 90_000],
  ] as const)('a duration %s (bare unit %s)', (text, unit, ms) =>
    expect(parseDurationInput(text, '--train-window', unit)).toBe(ms),
  );

  it('refuses durations that are not, or not positive, or beyond the limits', () => {
    expect(inputProblem(() => parseDurationInput('abc', 'Seconds', 's'))).toBe(
      'Seconds: "abc" is not a duration: use a number with ms, s, m, h or d (e.g. 10s, 60m)',
    );
    expect(inputProblem(() => parseDurationInput('0', '--retrain-every', 'm'))).toBe(
      '--retrain-every must be positive',
    );
    expect(inputProblem(() => parseDurationInput('500ms', 'Seconds', 's', { minMs: 1000 }))).toBe(
      'Seconds must be at least 1 s',
    );
    expect(inputProblem(() => parseDurationInput('8d', 'Seconds', 's', { maxMs: 7 * 86_400_000 }))).toBe(
      'Seconds must be at most 7 days',
    );
  });

  it('symbols and thresholds', () => {
    expect(parseSymbol(' ETHUSDT ')).toBe('ETHUSDT');
    expect(inputProblem(() => parseSymbol('eth-usdt', 'Symbol'))).toBe(
      'Symbol takes an upper-case symbol such as BTCUSDT, got "eth-usdt"',
    );
    expect(parseThreshold('0.5')).toBe(0.5);
    expect(inputProblem(() => parseThreshold('-1', 'Threshold'))).toMatch(
      /^Threshold takes a non-negative number/,
    );
    expect(inputProblem(() => parseThreshold('', 'Threshold'))).toMatch(/got ""$/);
  });
});
