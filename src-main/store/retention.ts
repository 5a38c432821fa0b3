// Retention: deletes raw L2 updates and trades received more than `days` before `now` (keeping the snapshot the
// newer data builds on), in small transactions so a concurrent collector is never blocked for long, then
// checkpoints the WAL.
import type { Db } from './db.ts';

export interface PruneOptions {
  /** Keep this many days of raw data; 0 (or less) keeps everything. */
  days: number;
  /** Reference time (ms); injected so tests and replays are deterministic. */
  now: number;
  /** Rows deleted per transaction. */
  chunk?: number;
}

export interface PruneResult {
  cutoff: number;
  l2Deleted: number;
  tradesDeleted: number;
  sessionsTouched: number[];
  /** Cached feature rows of the touched sessions deleted with their data (built on data that is gone). */
  featureCacheDeleted: number;
}

const DAY_MS = 86_400_000;

export function pruneRawData(db: Db, opts: PruneOptions): PruneResult {
  const cutoff = opts.now - opts.days * DAY_MS;
  const result: PruneResult = {
    cutoff,
    l2Deleted: 0,
    tradesDeleted: 0,
    sessionsTouched: [],
    featureCacheDeleted: 0,
  };
  if (!(opts.days > 0)) return result;
  const chunk = Math.max(1, opts.chunk ?? 5000);
  // Only sessions that hold something old: first_recv_ts is kept by the writer.
  const sessions = db
    .prepare('SELECT id FROM sessions WHERE first_recv_ts IS NOT NULL AND first_recv_ts < ? ORDER BY id')
    .pluck()
    .all(cutoff) as number[];
  // Deltas after the cutoff build on the last snapshot before it (a live feed sends one only on (re)subscribe):
  // that snapshot and what follows it are kept, or the rest of a session spanning the cutoff would be unreadable.
  // A session wholly older than the cutoff has nothing newer to serve: all of it goes.
  const lastSnapshot = db
    .prepare('SELECT max(recv_ts) FROM l2_updates WHERE session_id = ? AND is_snapshot = 1 AND recv_ts < ?')
    .pluck();
  const hasNewer = db
    .prepare('SELECT 1 FROM l2_updates WHERE session_id = ? AND recv_ts >= ? LIMIT 1')
    .pluck();
  const delL2 = db.prepare(
    'DELETE FROM l2_updates WHERE id IN (SELECT id FROM l2_updates WHERE session_id = ? AND recv_ts < ? LIMIT ?)',
  );
  const delTrades = db.prepare(
    'DELETE FROM trades WHERE id IN (SELECT id FROM trades WHERE session_id = ? AND recv_ts < ? LIMIT ?)',
  );
  // A cache entry's data key no longer matches a pruned session: nothing would read it again, it would only
  // hold its space until the next training rebuilt it. (A file opened without migrations has no cache.)
  const dropCache =
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feature_cache'").get() ===
    undefined
      ? null
      : db.prepare('DELETE FROM feature_cache WHERE session_id = ?');
  const recount = db.prepare(
    `UPDATE sessions SET
       book_messages = (SELECT count(*) FROM l2_updates WHERE session_id = @sid),
       trade_messages = (SELECT count(DISTINCT msg_id) FROM trades WHERE session_id = @sid),
       trades = (SELECT count(*) FROM trades WHERE session_id = @sid),
       first_recv_ts = (SELECT min(m) FROM (SELECT min(recv_ts) m FROM l2_updates WHERE session_id = @sid
                                            UNION ALL SELECT min(recv_ts) FROM trades WHERE session_id = @sid))
     WHERE id = @sid`,
  );
  for (const sid of sessions) {
    const keepFrom =
      hasNewer.get(sid, cutoff) === undefined
        ? cutoff
        : ((lastSnapshot.get(sid, cutoff) as number | null) ?? cutoff);
    let deleted = 0;
    for (const [stmt, key] of [
      [delL2, 'l2Deleted'],
      [delTrades, 'tradesDeleted'],
    ] as const) {
      while (true) {
        const n = db.transaction(() => stmt.run(sid, keepFrom, chunk).changes).immediate();
        result[key] += n;
        deleted += n;
        if (n < chunk) break;
      }
    }
    db.transaction(() => {
      recount.run({ sid });
      if (dropCache && deleted > 0) result.featureCacheDeleted += dropCache.run(sid).changes;
    }).immediate();
    result.sessionsTouched.push(sid);
  }
  if (result.l2Deleted + result.tradesDeleted > 0) db.pragma('wal_checkpoint(TRUNCATE)');
  return result;
}
