// Schema v210 (trading engineer): the model swaps of a run (live retraining promotes a challenger mid-run), so each
// prediction can be attributed to the model that made it: runs.model is the model the run started with, and a
// prediction at ts was made by the model of the newest run_models row with from_ts <= ts (runs.model if none).
export const version = 210;
export const name = 'run_models';
export const up = `
CREATE TABLE run_models (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  from_ts     INTEGER NOT NULL,              -- engine time (ms) of the swap: decisions at or after it are model's
  model       TEXT    NOT NULL,              -- the model file swapped in
  previous    TEXT,                          -- the model file it replaced
  swapped_at  INTEGER NOT NULL               -- ms epoch (wall clock)
);
CREATE INDEX run_models_run_ts ON run_models(run_id, from_ts);
`;
