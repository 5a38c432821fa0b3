// Which job's progress a panel shows: the job the page started (claimed by the first event of a job heard after
// the button press), never another page's or a queued neighbour's; with nothing followed, or the followed job over,
// whatever runs.
import { describe, expect, it } from 'vitest';
import { addError, clearErrors, ERROR_FADE_MS, fadeErrors, follows } from './desk.ts';

describe('follows (job progress a panel shows)', () => {
  it.each([
    // mine, ended, event job, first event of its job, shown?
    [null, false, 'bt1', false, true],
    [{ jobId: '' }, false, 'bt2', true, true],
    // Just pressed: a job already running elsewhere (not its first event) is not ours.
    [{ jobId: '' }, false, 'bt1', false, false],
    [{ jobId: 'bt2' }, false, 'bt2', false, true],
    // Ours is queued behind bt1: bt1's progress must not replace "queued, 1 ahead".
    [{ jobId: 'bt2' }, false, 'bt1', false, false],
    [{ jobId: 'bt2' }, false, 'bt3', true, false],
    // Ours ended: a later job (a live retraining round) shows again.
    [{ jobId: 'rt1' }, true, 'auto2', true, true],
  ] as const)('mine %j, ended %s, event %s, first %s → %s', (mine, ended, jobId, first, shown) => {
    expect(follows(mine, ended, jobId, first)).toBe(shown);
  });
});

describe('errors on screen: tied to a condition, or one-off', () => {
  const feed = {
    t: 1,
    where: 'feed',
    message: 'getaddrinfo ENOTFOUND x; reconnecting in 25124 ms',
    key: 'feed',
  };
  it('a newer error of a condition replaces the older, and clearing the condition removes it', () => {
    let errors = addError([], feed, 0);
    errors = addError(errors, { t: 2, where: 'backtest', message: 'bad session' }, 0);
    errors = addError(errors, { ...feed, t: 3, message: 'reconnecting in 30000 ms' }, 0);
    expect(errors.map((e) => e.message)).toEqual(['bad session', 'reconnecting in 30000 ms']);
    errors = clearErrors(errors, 'feed');
    expect(errors.map((e) => e.message)).toEqual(['bad session']);
  });

  it('one-off errors fade after ERROR_FADE_MS; errors of a condition stay until it ends', () => {
    const errors = addError(
      addError([], feed, 0),
      { t: 2, where: 'model', message: 'no model named x' },
      1000,
    );
    expect(fadeErrors(errors, 1000 + ERROR_FADE_MS - 1)).toBe(errors);
    expect(fadeErrors(errors, 1000 + ERROR_FADE_MS).map((e) => e.where)).toEqual(['feed']);
  });
});
