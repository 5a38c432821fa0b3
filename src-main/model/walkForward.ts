// Time-ordered walk-forward splits with an embargo: every validation block lies after its training rows,
// and training rows within `embargoMs` before the block's first time are dropped, so no training label
// window [t, t+H] overlaps the validation period (embargo >= H is enforced).

export interface Fold {
  /** Row indices, in time order. */
  train: Int32Array;
  valid: Int32Array;
  /** Time range of the validation rows (ms). */
  validFrom: number;
  validTo: number;
}

export interface WalkForwardOptions {
  /** Number of validation folds k (the timeline is cut into k + 1 blocks of about equal row count). */
  folds: number;
  /** Label horizon H (ms). */
  horizonMs: number;
  /** Gap between the last training time and the first validation time; default and minimum H. */
  embargoMs?: number;
  /** expanding: train on every earlier block; sliding: on the `trainBlocks` blocks just before. */
  mode?: 'expanding' | 'sliding';
  trainBlocks?: number;
}

/** Row indices sorted by time (stable for equal times). */
export function timeOrder(ts: Float64Array): Int32Array {
  const idx = Int32Array.from({ length: ts.length }, (_, i) => i);
  return idx.sort((a, b) => ts[a] - ts[b] || a - b);
}

export function walkForwardSplits(ts: Float64Array, opts: WalkForwardOptions): Fold[] {
  const k = opts.folds;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`folds must be a positive integer, got ${k}`);
  const embargo = opts.embargoMs ?? opts.horizonMs;
  if (!(embargo >= opts.horizonMs)) {
    throw new RangeError(
      `embargo (${embargo} ms) must be at least the label horizon (${opts.horizonMs} ms), or training labels overlap validation`,
    );
  }
  const mode = opts.mode ?? 'expanding';
  const trainBlocks = opts.trainBlocks ?? 1;
  const order = timeOrder(ts);
  const n = order.length;
  if (n < (k + 1) * 2) throw new RangeError(`${n} rows are too few for ${k} walk-forward folds`);
  const bound = (b: number) => Math.round((b * n) / (k + 1)); // block b spans order[bound(b) .. bound(b+1))
  const folds: Fold[] = [];
  for (let f = 1; f <= k; f++) {
    let vs = bound(f);
    const ve = bound(f + 1);
    // Rows sharing the block's first timestamp go to validation, never split across the boundary.
    while (vs > 0 && ts[order[vs - 1]] === ts[order[vs]]) vs--;
    const validFrom = ts[order[vs]];
    const firstTrainBlock = mode === 'expanding' ? 0 : Math.max(0, f - trainBlocks);
    const train: number[] = [];
    for (let i = bound(firstTrainBlock); i < vs; i++) {
      const r = order[i];
      if (ts[r] <= validFrom - embargo) train.push(r);
    }
    const valid = order.slice(vs, ve);
    if (train.length === 0 || valid.length === 0) continue;
    folds.push({ train: Int32Array.from(train), valid, validFrom, validTo: ts[order[ve - 1]] });
  }
  if (folds.length === 0)
    throw new RangeError(
      'no walk-forward fold has both training and validation rows; collect more data or shorten the horizon',
    );
  return folds;
}

/** The last fold alone: train on everything before the newest 1/(k+1) of the data, validate on it. */
export function holdoutSplit(ts: Float64Array, opts: WalkForwardOptions): Fold {
  const folds = walkForwardSplits(ts, opts);
  return folds[folds.length - 1];
}
