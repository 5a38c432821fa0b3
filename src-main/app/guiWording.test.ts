// The app's words for CLI-worded refusals: training's span refusal (the real checkSpan text) becomes "Needs about
// N more minutes of data: keep the feed running or press Collect", and no text the app shows names an `l2desk`
// command.
import { SubscriptionRefusedError } from '../market/bybit/subscriptionRefused.ts';
import { describe, expect, it } from 'vitest';
import { checkSpan } from '../model/trainingData.ts';
import { guiWording, needsMoreData, spokenToMs } from './guiWording.ts';

function refusal(coveredRows: number, what: string): string {
  const ts = Array.from({ length: coveredRows }, (_, i) => i * 10_000);
  try {
    checkSpan(ts, 10_000, 200, what);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('checkSpan accepted the data');
}

describe('guiWording', () => {
  it.each([
    [30, 'session 3', 29, /; session 3 covers 5 minutes\.$/],
    [0, 'the stored data', 34, /; the stored data covers \d+ seconds\.$/],
    [199, 'sessions 1, 2', 1, /; sessions 1, 2 cover 33 minutes\.$/],
  ])('says a too-short refusal as how many more minutes (%i horizons of %s)', (rows, what, n, tail) => {
    const m = guiWording(refusal(rows, what));
    expect(
      m.startsWith(
        `Needs about ${n} more minute${n === 1 ? '' : 's'} of data: keep the feed running or press Collect. Training needs at least 34 minutes of data (200 independent 10 s horizons); `,
      ),
    ).toBe(true);
    expect(m).toMatch(tail);
  });

  it.each([
    [
      'the dataset has 20 samples; collect more data (l2desk collect)',
      'the dataset has 20 samples; keep the feed running or press Collect',
    ],
    [
      'db.sqlite holds no sessions; record one with `l2desk collect` or `l2desk import`',
      'db.sqlite holds no sessions; keep the feed running or press Collect',
    ],
    [
      'session 3 gives 12 training samples (…); at least 200 are needed: collect more data, then train again',
      'session 3 gives 12 training samples (…); at least 200 are needed: keep the feed running or press Collect',
    ],
    ['the book is crossed; see `l2desk db quality --session 3`', 'the book is crossed'],
    ['feed stalled: reconnecting in 2000 ms', 'feed stalled: reconnecting in 2000 ms'],
  ])('maps CLI advice to what the app can do: %s', (from, to) => {
    expect(guiWording(from)).toBe(to);
  });

  it.each([
    [
      'session 5 is not in the database; list sessions with `l2desk db check --db the database`',
      'session 5 is not in the database',
    ],
    ['no session 3 in the database; list them with `l2desk db`', 'no session 3 in the database'],
    [
      'database l2desk.db is corrupt: file is not a database; run `l2desk db check --db l2desk.db`',
      'database l2desk.db is corrupt: file is not a database',
    ],
    [
      'the model expects 40 features, the running set has 41: missing x. Retrain it with `l2desk train` (or `npm run train:default` for the bundled model).',
      'the model expects 40 features, the running set has 41: missing x. Press Retrain to train one.',
    ],
  ])('drops CLI advice the app cannot follow: %s', (from, to) => {
    expect(guiWording(from)).toBe(to);
  });

  it('drops any other clause that names an l2desk command', () => {
    expect(guiWording('cannot read the model: run l2desk diagnose; the model was not loaded')).not.toMatch(
      /l2desk/,
    );
  });

  it('reads spoken durations and rounds what it needs up to whole minutes', () => {
    expect(spokenToMs('58 seconds')).toBe(58_000);
    expect(spokenToMs('2.5 hours')).toBe(9_000_000);
    expect(spokenToMs('soon')).toBeNull();
    expect(needsMoreData(1)).toBe(
      'Needs about 1 more minute of data: keep the feed running or press Collect',
    );
    expect(needsMoreData(60_001)).toMatch(/^Needs about 2 more minutes/);
  });

  it("a refused subscription's advice names the Symbol field and the config key, not a command-line flag", () => {
    const cli = new SubscriptionRefusedError(
      ['ETHUSDX'],
      'linear',
      'error:handler not found,topic:orderbook.50.ETHUSDX',
    ).message;
    expect(cli).toMatch(/--category/);
    const gui = guiWording(cli);
    expect(gui).not.toMatch(/--/);
    expect(gui).toMatch(
      /^the exchange refused the subscription to ETHUSDX on linear \(error:handler not found/,
    );
    expect(gui).toMatch(
      /check the symbol in the Symbol field .*category key: linear or spot\); Bybit lists symbols at https:/,
    );
  });
});
