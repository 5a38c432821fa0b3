// Reads back the feature rows a run recorded (table `features`, migration 100) as one row-major float32 matrix,
// in decision order, with the names of its feature set: the same shape the dataset builder produces.
import type { Db } from '../store/db.ts';

export interface RunFeatures {
  /** Feature set version of the rows (null when the run stored none). */
  featureSet: string | null;
  names: string[];
  /** Decision time of each row (ms). */
  ts: Float64Array;
  /** Row-major ts.length x names.length. */
  X: Float32Array;
}

export function readRunFeatures(db: Db, runId: number): RunFeatures {
  const sets = db
    .prepare('SELECT DISTINCT feature_set FROM features WHERE run_id = ?')
    .pluck()
    .all(runId) as string[];
  if (sets.length === 0)
    return { featureSet: null, names: [], ts: new Float64Array(0), X: new Float32Array(0) };
  if (sets.length > 1) throw new Error(`run ${runId} mixes feature sets ${sets.join(', ')}`);
  const version = sets[0];
  const namesJson = db
    .prepare('SELECT names FROM feature_sets WHERE version = ?')
    .pluck()
    .get(version) as string;
  const names = JSON.parse(namesJson) as string[];
  const nf = names.length;
  const n = Number(db.prepare('SELECT count(*) FROM features WHERE run_id = ?').pluck().get(runId));
  const ts = new Float64Array(n);
  const X = new Float32Array(n * nf);
  const bytes = new Uint8Array(X.buffer);
  let i = 0;
  const rows = db
    .prepare('SELECT ts, vals FROM features WHERE run_id = ? ORDER BY ts, rowid')
    .raw()
    .iterate(runId) as IterableIterator<[number, Buffer]>;
  for (const [t, vals] of rows) {
    if (vals.length !== nf * 4)
      throw new Error(`run ${runId}: feature row at ${t} has ${vals.length} bytes, expected ${nf * 4}`);
    ts[i] = t;
    // Byte copy: a Buffer from SQLite may sit at an offset not aligned for a Float32Array view.
    bytes.set(vals, i * nf * 4);
    i++;
  }
  return { featureSet: version, names, ts, X };
}
