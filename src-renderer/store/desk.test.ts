// Which job's progress a panel shows: the job the page started (claimed by the first event of a job heard after
// the button press), never another page's or a queued neighbour's; with nothing followed, or the followed job over,
// whatever runs.
import { describe, expect, it } from 'vitest';
import { follows } from './desk.ts';

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
