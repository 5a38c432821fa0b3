// Store layout v2 (issue 9): a book message is one packed value of its stamps and integer ticks and lots
// (tickLevelCodec.ts) instead of two BLOBs of doubles, and the (session, ts) indexes, which no query needs (every
// (session, ...) lookup is served by the (session, recv_ts) index or the rowid), are gone. The SQL only swaps the tables; the
// rows move by `convert` (storeV2Conversion.ts) in short resumable batches with progress.
import { storeV2Conversion } from '../storeV2Conversion.ts';

export const version = 260;
export const name = 'store_v2';
export const up = `
ALTER TABLE l2_updates RENAME TO l2_updates_v1;
DROP INDEX l2_updates_session_recv;
DROP INDEX l2_updates_session_ts;
DROP INDEX trades_session_ts;
-- levels: the message (stamps and both sides) as ASCII text of varints, see src-main/store/tickLevelCodec.ts;
-- the stamps' columns stay for SQL (time ranges, snapshots, retention).
CREATE TABLE l2_updates (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  recv_ts     INTEGER NOT NULL,
  ts          INTEGER NOT NULL,
  cts         INTEGER NOT NULL,
  u           INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  is_snapshot INTEGER NOT NULL,
  levels      TEXT    NOT NULL
);
CREATE INDEX l2_updates_session_recv ON l2_updates(session_id, recv_ts);
`;
export const convert = storeV2Conversion;
