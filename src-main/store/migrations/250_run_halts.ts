// Schema v250 (trading engineer): the risk halts of a run (daily loss limit, an invalid book), each with its time
// and reason and when trading resumed, so `runs show`, the reports and the app can say why a run stopped trading.
export const version = 250;
export const name = 'run_halts';
export const up = `
CREATE TABLE run_halts (
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts            INTEGER NOT NULL,              -- engine time (ms) trading halted
  rule          TEXT    NOT NULL,              -- daily_loss | book_invalid
  reason        TEXT    NOT NULL,              -- in words: "daily loss limit 2.00% reached (−2.13%, −21.30)"
  resumed_ts    INTEGER,                       -- engine time (ms) trading resumed; null: halted to the end
  resume_reason TEXT,
  PRIMARY KEY (run_id, ts, rule)
);
`;
