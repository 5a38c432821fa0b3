// Schema v100 (features engineer): the versioned feature sets and, per run, the feature row behind every stored
// prediction, so a run can be audited or re-scored exactly as the model saw it.
// `features.run_id` references `runs` (migration 200): SQLite resolves a foreign key's parent table when a row is
// written, not when the table is created, so this applies both before 200 (fresh file) and after it (a file
// from before v100 existed).
export const version = 100;
export const name = 'features';
export const up = `
CREATE TABLE feature_sets (
  version    TEXT    PRIMARY KEY,          -- FEATURE_SET.version, e.g. 'l2f-1'
  names      TEXT    NOT NULL,             -- JSON array of feature names, in row order
  created_at INTEGER                       -- ms epoch, when first registered
);

-- One row per decision that produced a prediction from computed features (recorded-prediction replays store none).
CREATE TABLE features (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts          INTEGER NOT NULL,            -- decision time (ms), as in predictions.ts
  feature_set TEXT    NOT NULL REFERENCES feature_sets(version),
  vals        BLOB    NOT NULL             -- float32 little-endian, in the feature set's order
);
CREATE INDEX features_run_ts ON features(run_id, ts);
`;
