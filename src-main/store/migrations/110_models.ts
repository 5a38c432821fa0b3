// Schema v110 (model engineer): trained models (X.onnx + X.json on disk) and the champion/challenger
// decisions of retraining, each with both models' out-of-sample metrics.
export const version = 110;
export const name = 'models';
export const up = `
CREATE TABLE models (
  id                  INTEGER PRIMARY KEY,
  path                TEXT    NOT NULL,            -- the .onnx file (its .json sits beside it)
  name                TEXT    NOT NULL,
  created_at          INTEGER NOT NULL,            -- ms epoch
  feature_set_version TEXT    NOT NULL,
  horizon_ms          INTEGER NOT NULL,
  metrics             TEXT    NOT NULL DEFAULT '{}', -- JSON: validation r2, ic, hit_rate, ...
  params              TEXT    NOT NULL DEFAULT '{}', -- JSON: trainer parameters
  status              TEXT    NOT NULL DEFAULT 'challenger'
                      CHECK (status IN ('champion', 'challenger', 'rejected', 'retired'))
);
CREATE INDEX models_status ON models(status);
-- At most one champion per (feature set, horizon): enforced here, not only in code.
CREATE UNIQUE INDEX models_one_champion ON models(feature_set_version, horizon_ms) WHERE status = 'champion';

CREATE TABLE model_decisions (
  id                INTEGER PRIMARY KEY,
  decided_at        INTEGER NOT NULL,              -- ms epoch (engine clock)
  champion_id       INTEGER REFERENCES models(id) ON DELETE SET NULL,
  challenger_id     INTEGER REFERENCES models(id) ON DELETE SET NULL,
  promoted          INTEGER NOT NULL,              -- 1: the challenger became champion
  reason            TEXT    NOT NULL,
  champion_metrics  TEXT,                          -- JSON, on the evaluation window
  challenger_metrics TEXT,                         -- JSON, on the evaluation window
  eval_from         INTEGER,                       -- evaluation window (ms)
  eval_to           INTEGER
);
`;
