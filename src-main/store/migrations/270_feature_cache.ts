// Schema v270 (model engineer): the per-session feature cache (model/featureCache.ts). One entry per session and
// feature key (feature set, decision grid, clock and label parameters): the dataset rows of the whole session, so
// train, walk-forward and retraining stop replaying raw depth while neither the features nor the data changed.
// In the database file, not beside it: it goes with the file when copied, it is dropped with its session
// (ON DELETE CASCADE: prune, feed-recording rotation), and a write is atomic (a killed build leaves no entry).
export const version = 270;
export const name = 'feature_cache';
export const up = `
CREATE TABLE feature_cache (
  session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  feature_key   TEXT    NOT NULL,              -- JSON: feature set version + names, grid, clock, label horizon
  data_key      TEXT    NOT NULL,              -- the session's data fingerprint when the entry was built
  n_rows        INTEGER NOT NULL,
  n_features    INTEGER NOT NULL,
  x             BLOB    NOT NULL,              -- float32 row-major n_rows x n_features
  y             BLOB    NOT NULL,              -- float32 labels (bps)
  ts            BLOB    NOT NULL,              -- float64 decision times (ms, local clock)
  label_recv_ts BLOB    NOT NULL,              -- float64 receive stamp completing each label
  stats         TEXT    NOT NULL,              -- JSON DatasetStats of the build
  checksum      TEXT    NOT NULL,              -- sha256 over the keys and the blobs: a damaged entry is rebuilt
  built_at      INTEGER NOT NULL,
  PRIMARY KEY (session_id, feature_key)
);
`;
