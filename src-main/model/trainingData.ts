// What training refuses before it starts, in words a user of the app understands: too little time of data (counted
// in independent label horizons, since rows a decision interval apart share most of their label), too few rows,
// and labels that are not numbers or never change. Pure checks on the dataset's arrays.

export type TrainingDataProblem = 'too_short' | 'too_few_rows' | 'bad_labels';

/** The data cannot be trained on; the message says why and what to do. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
  constructor(
    message: string,
    readonly problem: TrainingDataProblem,
  ) {
    super(message);
  }
}

/** "58 seconds", "4 minutes", "2.5 hours": durations as a person says them (rounded up when `up`). */
export function spokenDuration(ms: number, up = false): string {
  const round = up ? Math.ceil : Math.round;
  if (ms < 90_000) {
    const s = Math.max(up ? 1 : 0, round(ms / 1000));
    return `${s} second${s === 1 ? '' : 's'}`;
  }
  if (ms < 2 * 3_600_000) return `${round(ms / 60_000)} minutes`;
  return `${(round(ms / 360_000) / 10).toFixed(1)} hours`;
}

function horizonText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Time the rows' labels cover (ms): each row adds the time to the next row, at most one horizon (a gap between
 * sessions or after a data break adds no more than the label it ends), and the last row its own horizon.
 */
export function coveredMs(ts: ArrayLike<number>, horizonMs: number): number {
  const s = Float64Array.from(ts).sort();
  if (s.length === 0) return 0;
  let total = horizonMs;
  for (let i = 1; i < s.length; i++) total += Math.min(s[i] - s[i - 1], horizonMs);
  return total;
}

/**
 * Refuses rows whose labels cover fewer than `minHorizons` horizons. `what` names the data ("session 3").
 * A shorter decision interval does not help: it adds rows, not independent horizons.
 */
export function checkSpan(
  ts: ArrayLike<number>,
  horizonMs: number,
  minHorizons: number,
  what = 'this data',
): void {
  if (!(minHorizons > 0)) return;
  const have = coveredMs(ts, horizonMs);
  const need = minHorizons * horizonMs;
  if (have >= need) return;
  const k = Math.floor(have / horizonMs);
  throw new TrainingDataError(
    `training needs at least ${spokenDuration(need, true)} of data (${minHorizons} independent ${horizonText(horizonMs)} ` +
      `horizons); ${what} ${/sessions$|^sessions /.test(what) ? 'cover' : 'covers'} ${spokenDuration(have)} (${k} horizon${k === 1 ? '' : 's'}): collect about ` +
      `${spokenDuration(need - have, true)} more, then train again`,
    'too_short',
  );
}

/** Refuses labels that are not finite numbers, or that are all the same value (nothing to learn). */
export function checkLabels(y: ArrayLike<number>, ts: ArrayLike<number>): void {
  let bad = 0;
  let firstBad = -1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) {
      if (bad++ === 0) firstBad = i;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (bad > 0) {
    const at = Number.isFinite(ts[firstBad]) ? ` (the first at ${new Date(ts[firstBad]).toISOString()})` : '';
    throw new TrainingDataError(
      `${bad} of ${y.length} labels are not numbers${at}: the mid price was missing or zero there; ` +
        'check the session with the data quality report before training on it',
      'bad_labels',
    );
  }
  if (y.length > 0 && lo === hi)
    throw new TrainingDataError(
      `every label is the same (${lo} bps): the mid price never moved over a horizon, so there is nothing to ` +
        'learn; the book was probably frozen: record a session with live price moves',
      'bad_labels',
    );
}
