// Schema v1: sessions and the raw market data they hold (L2 updates, trades, gaps).
// `id` of l2_updates, trades and gaps comes from one counter (allocated by SessionWriter under the write lock),
// so ORDER BY id across the three tables is the original arrival order.
export const version = 1;
export const name = 'market_data';
export const up = `
CREATE TABLE sessions (
  id             INTEGER PRIMARY KEY,
  source         TEXT    NOT NULL,          -- bybit | sim | replay | import
  symbol         TEXT    NOT NULL,
  category       TEXT    NOT NULL,          -- linear | spot
  depth          INTEGER NOT NULL,
  tick_size      TEXT    NOT NULL,          -- decimal string, exact ("0.1", "0.0001")
  started_at     INTEGER NOT NULL,          -- ms epoch
  ended_at       INTEGER,                   -- null while collecting (or after a crash)
  meta           TEXT    NOT NULL DEFAULT '{}',  -- JSON
  -- counters and id span, maintained by SessionWriter in the same transaction as the rows
  book_messages  INTEGER NOT NULL DEFAULT 0,
  trade_messages INTEGER NOT NULL DEFAULT 0,
  trades         INTEGER NOT NULL DEFAULT 0,
  gaps           INTEGER NOT NULL DEFAULT 0,
  first_id       INTEGER,
  last_id        INTEGER,
  first_recv_ts  INTEGER,
  last_recv_ts   INTEGER
);

-- One row per order-book message. bids/asks: packed little-endian Float64 [price, size, price, size, ...]:
-- the parsed doubles are stored bit for bit (prices stay exact) and replay needs no text parsing.
CREATE TABLE l2_updates (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  recv_ts     INTEGER NOT NULL,             -- local receive time (ms)
  ts          INTEGER NOT NULL,             -- exchange time (ms)
  cts         INTEGER NOT NULL,
  u           INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  is_snapshot INTEGER NOT NULL,
  bids        BLOB    NOT NULL,
  asks        BLOB    NOT NULL
);
CREATE INDEX l2_updates_session_recv ON l2_updates(session_id, recv_ts);
CREATE INDEX l2_updates_session_ts ON l2_updates(session_id, ts);

-- One row per trade; msg_id (the id of the message's first trade) groups the trades of one message.
CREATE TABLE trades (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  msg_id      INTEGER NOT NULL,
  recv_ts     INTEGER NOT NULL,
  msg_ts      INTEGER NOT NULL,             -- exchange time of the message (ms)
  ts          INTEGER NOT NULL,             -- fill time, Bybit T (ms)
  side        TEXT    NOT NULL,             -- Buy | Sell (taker side)
  price       REAL    NOT NULL,
  size        REAL    NOT NULL,
  trade_id    TEXT    NOT NULL,
  block_trade INTEGER NOT NULL,
  seq         INTEGER NOT NULL
);
CREATE INDEX trades_session_recv ON trades(session_id, recv_ts);
CREATE INDEX trades_session_ts ON trades(session_id, ts);

-- Spans during which the book cannot be trusted; a gap sits in the stream at the point it was opened.
CREATE TABLE gaps (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  reason      TEXT    NOT NULL,
  start_ts    INTEGER NOT NULL,
  end_ts      INTEGER,                      -- null while open
  detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX gaps_session ON gaps(session_id, start_ts);
`;
