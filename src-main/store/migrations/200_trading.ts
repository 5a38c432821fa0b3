// Schema v200 (trading engineer): paper-trading and backtest runs and what they did: predictions, signals,
// orders (latest state), fills and the equity curve. Every row hangs off a run and goes with it on delete.
export const version = 200;
export const name = 'trading_runs';
export const up = `
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT    NOT NULL,              -- paper | backtest
  source      TEXT    NOT NULL,              -- bybit | sim | replay
  session_id  INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
  symbol      TEXT    NOT NULL,
  model       TEXT,                          -- model file the run used
  threshold   REAL    NOT NULL,              -- at the start (setThreshold may change it later)
  params      TEXT    NOT NULL DEFAULT '{}', -- JSON: engine options
  started_at  INTEGER NOT NULL,              -- ms epoch (wall clock)
  ended_at    INTEGER,
  metrics     TEXT,                          -- JSON: final metrics, null while running or after a crash
  final       TEXT                           -- JSON: final portfolio snapshot
);

CREATE TABLE predictions (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts      INTEGER NOT NULL,                  -- decision time (ms)
  value   REAL    NOT NULL,                  -- label units (bps)
  mid     REAL
);
CREATE INDEX predictions_run_ts ON predictions(run_id, ts);

CREATE TABLE signals (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts         INTEGER NOT NULL,
  signal     INTEGER NOT NULL,               -- -1 | 0 | 1
  prediction REAL    NOT NULL,
  threshold  REAL    NOT NULL,
  price      REAL,
  target     REAL    NOT NULL,               -- target position after risk rules (base units)
  reason     TEXT    NOT NULL
);
CREATE INDEX signals_run_ts ON signals(run_id, ts);

CREATE TABLE orders (
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  order_id       INTEGER NOT NULL,
  side           TEXT    NOT NULL,
  type           TEXT    NOT NULL,           -- market | limit
  qty            REAL    NOT NULL,
  price          REAL,                       -- limit price, null for market
  reason         TEXT    NOT NULL,
  sent_ts        INTEGER NOT NULL,
  arrived_ts     INTEGER,
  status         TEXT    NOT NULL,
  filled_qty     REAL    NOT NULL,
  avg_fill_price REAL,
  fees           REAL    NOT NULL,
  note           TEXT    NOT NULL DEFAULT '',
  done_ts        INTEGER,
  PRIMARY KEY (run_id, order_id)
);

CREATE TABLE fills (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  order_id   INTEGER NOT NULL,
  ts         INTEGER NOT NULL,
  side       TEXT    NOT NULL,
  price      REAL    NOT NULL,
  qty        REAL    NOT NULL,
  fee        REAL    NOT NULL,
  liquidity  TEXT    NOT NULL,               -- maker | taker
  reason     TEXT    NOT NULL
);
CREATE INDEX fills_run_ts ON fills(run_id, ts);

CREATE TABLE equity (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts          INTEGER NOT NULL,
  balance     REAL    NOT NULL,
  position    REAL    NOT NULL,
  entry_price REAL,
  realized    REAL    NOT NULL,
  unrealized  REAL    NOT NULL,
  fees        REAL    NOT NULL,
  equity      REAL    NOT NULL
);
CREATE INDEX equity_run_ts ON equity(run_id, ts);
`;
