// One verdict per headline figure, so the CLI, the HTML report and the app show the same "—" for the same reason.
import { describe, expect, it } from 'vitest';
import {
  calmarReason,
  figureText,
  figureWithNote,
  hitRateReason,
  lossRatioReason,
  sharpeReason,
} from './reliability.ts';

const DAY = 86_400_000;

describe('figure reliability', () => {
  it.each([
    [
      { sharpe: -1021.5, returns: 120, spanMs: 120_000 },
      /run too short to annualise: 120 returns over 2\.0 min/,
    ],
    [{ sharpe: 1.2, returns: 20, spanMs: 2 * DAY }, /20 returns over 48\.0 h/],
    [{ sharpe: 1.2, returns: 2880, spanMs: DAY - 60_000 }, /over 23\.9 h/],
    [{ sharpe: 1.2, returns: 1440, spanMs: DAY }, null],
    [{ sharpe: 1.2, sharpeReliable: true }, null], // an old record: its own flag
    [
      { sharpe: 1.2, sharpeReliable: false },
      /run too short to annualise \(needs at least 30 returns and 24 h/,
    ],
    [{ sharpe: NaN, returns: 1440, spanMs: DAY }, /not computed/],
  ])('Sharpe %o', (b, want) => {
    const r = sharpeReason(b);
    if (want === null) expect(r).toBeNull();
    else expect(r).toMatch(want);
  });

  it('Calmar: short runs, no drawdown and a near-zero drawdown are not shown', () => {
    const long = { returns: 1440, spanMs: DAY };
    expect(calmarReason(-452192.2, { returns: 239, spanMs: 240_000 })).toMatch(/too short/);
    expect(calmarReason(null, long)).toBe('no drawdown to divide by');
    expect(calmarReason(5e6, long)).toMatch(/drawdown too small/);
    expect(calmarReason(3.2, long)).toBeNull();
  });

  it('hit rate needs a round trip; profit factor and payoff a losing one', () => {
    expect(hitRateReason(0)).toBe('no round trip');
    expect(hitRateReason(3)).toBeNull();
    expect(lossRatioReason(null, 0)).toBe('no round trip');
    expect(lossRatioReason(null, 4)).toBe('no losing round trip (∞)');
    expect(lossRatioReason(1.4, 4)).toBeNull();
  });

  it('prints "—", with the reason in the CLI form', () => {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    expect(figureText(0, hitRateReason(0), pct)).toBe('—');
    expect(figureWithNote(0, hitRateReason(0), pct)).toBe('— (no round trip)');
    expect(figureWithNote(0.5, hitRateReason(2), pct)).toBe('50.0%');
  });
});
