// Retention: deletes raw L2 updates and trades received more than `days` before `now` (keeping the snapshot the
// newer data builds on, written there first when the session has none: pruneCheckpoint.ts), in small transactions so
// a concurrent collector is never blocked for long, then checkpoints the WAL. The work is a generator of small steps:
// `pruneRawData` runs them at once, `pruneRawDataGently` lets the event loop run between them (a collector pruning
// while it records in the same process).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db } from './db.ts';
import { CheckpointFold, type CheckpointPlan } from './pruneCheckpoint.ts';
import { readSession } from './sessionReader.ts';
import { TickLevelEncoder } from './tickLevelCodec.ts';

export interface PruneOptions {
  /** Keep this many days of raw data; 0 (or less) keeps everything. */
  days: number;
  /** Reference time (ms); injected so tests and replays are deterministic. */
  now: number;
  /** Rows deleted per transaction. */
  chunk?: number;
  /** Only these sessions (default: every session). */
  sessionIds?: readonly number[];
}

export interface PruneResult {
  cutoff: number;
  l2Deleted: number;
  tradesDeleted: number;
  sessionsTouched: number[];
  /** Cached feature rows of the touched sessions deleted with their data (built on data that is gone). */
  featureCacheDeleted: number;
  /** Sessions whose last book row before the cutoff became their new first snapshot (pruneCheckpoint.ts). */
  checkpoints: number;
}

const DAY_MS = 86_400_000;

/** Events folded between two steps while a checkpoint is built. */
const FOLD_STEP = 20_000;

/** A session's last snapshot received before a cutoff: what its kept rows start from without a checkpoint. */
const LAST_SNAPSHOT_SQL =
  'SELECT id, recv_ts AS recvTs FROM l2_updates WHERE session_id = ? AND is_snapshot = 1 AND recv_ts < ? ORDER BY recv_ts DESC, id DESC LIMIT 1';

/**
 * The checkpoint of session `sid` (tick `tick`) before `cutoff` (pruneCheckpoint.ts): folds from the last snapshot
 * before it to the last book row before it, in steps. Null when there is nothing between the two or the book is not
 * known there.
 */
function* checkpointSteps(
  db: Db,
  sid: number,
  tick: string,
  cutoff: number,
  snapshotId: number,
): Generator<void, CheckpointPlan | null> {
  const last = db
    .prepare(
      'SELECT id, recv_ts AS recvTs FROM l2_updates WHERE session_id = ? AND recv_ts < ? ORDER BY recv_ts DESC, id DESC LIMIT 1',
    )
    .get(sid, cutoff) as { id: number; recvTs: number } | undefined;
  if (!last || last.id <= snapshotId) return null;
  const fold = new CheckpointFold(tick);
  let n = 0;
  for (const ev of readSession(db, sid, { fromId: snapshotId, toId: last.id, reuseLevels: false })) {
    if (!fold.step(ev)) return null;
    if (++n % FOLD_STEP === 0) yield;
  }
  return fold.plan(last.id, last.recvTs);
}

/**
 * Rewrites session `sid`'s book row `cp.id` as the checkpoint's snapshot, in a transaction of its own. Encoded on the
 * tick the fold used (a recorder may refine the session's tick meanwhile: each value names its grid).
 */
export function writeCheckpoint(db: Db, sid: number, cp: CheckpointPlan): void {
  const levels = new TickLevelEncoder(cp.tickSize).encode(cp.snapshot);
  db.transaction(() =>
    db
      .prepare('UPDATE l2_updates SET is_snapshot = 1, levels = ? WHERE id = ? AND session_id = ?')
      .run(levels, cp.id, sid),
  ).immediate();
}

/** Runs a generator of steps to its end, at once. */
function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs the prune's steps at once. */
export function pruneRawData(db: Db, opts: PruneOptions): PruneResult {
  return runSteps(pruneSteps(db, opts));
}

/**
 * The checkpoint a prune at `cutoff` would write first for session `sid` (folded from its last snapshot before the
 * cutoff, as the prune folds it), or null when it writes none. With writeCheckpoint: a prune stopped after its rewrite.
 */
export function planCheckpoint(db: Db, sid: number, cutoff: number): CheckpointPlan | null {
  const snap = db.prepare(LAST_SNAPSHOT_SQL).get(sid, cutoff) as { id: number } | undefined;
  const tick = db.prepare('SELECT tick_size FROM sessions WHERE id = ?').pluck().get(sid) as
    string | undefined;
  if (!snap || tick === undefined) return null;
  return runSteps(checkpointSteps(db, sid, tick, cutoff, snap.id));
}

/** Runs the prune's steps with a turn of the event loop between them: a recorder on the same file goes on writing. */
export async function pruneRawDataGently(db: Db, opts: PruneOptions): Promise<PruneResult> {
  const steps = pruneSteps(db, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await nextTurn();
  }
}

function* pruneSteps(db: Db, opts: PruneOptions): Generator<void, PruneResult> {
  const cutoff = opts.now - opts.days * DAY_MS;
  const result: PruneResult = {
    cutoff,
    l2Deleted: 0,
    tradesDeleted: 0,
    sessionsTouched: [],
    featureCacheDeleted: 0,
    checkpoints: 0,
  };
  if (!(opts.days > 0)) return result;
  const chunk = Math.max(1, opts.chunk ?? 5000);
  // Only sessions that hold something old: first_recv_ts is kept by the writer.
  const only = opts.sessionIds ? new Set(opts.sessionIds) : null;
  const sessions = (
    db
      .prepare('SELECT id FROM sessions WHERE first_recv_ts IS NOT NULL AND first_recv_ts < ? ORDER BY id')
      .pluck()
      .all(cutoff) as number[]
  ).filter((id) => !only || only.has(id));
  // Deltas after the cutoff build on the last snapshot before it (a live feed sends one only on (re)subscribe):
  // that snapshot and what follows it are kept, or the rest of a session spanning the cutoff would be unreadable.
  // A session wholly older than the cutoff has nothing newer to serve: all of it goes.
  // Newest first through the (session, recv_ts) index: after a first checkpoint the walk back to a snapshot is short.
  const lastSnapshot = db.prepare(LAST_SNAPSHOT_SQL);
  const hasNewer = db
    .prepare('SELECT 1 FROM l2_updates WHERE session_id = ? AND recv_ts >= ? LIMIT 1')
    .pluck();
  const delL2 = db.prepare(
    'DELETE FROM l2_updates WHERE id IN (SELECT id FROM l2_updates WHERE session_id = ? AND recv_ts < ? LIMIT ?)',
  );
  const delTrades = db.prepare(
    'DELETE FROM trades WHERE id IN (SELECT id FROM trades WHERE session_id = ? AND recv_ts < ? LIMIT ?)',
  );
  // Rows received in the checkpoint's own millisecond but before it (ids are the session's arrival order).
  const delSameMs = [
    db.prepare('DELETE FROM l2_updates WHERE session_id = ? AND recv_ts = ? AND id < ?'),
    db.prepare('DELETE FROM trades WHERE session_id = ? AND recv_ts = ? AND id < ?'),
  ];
  const tickOf = db.prepare('SELECT tick_size FROM sessions WHERE id = ?').pluck();
  // A file still in layout v1 is read, never rewritten: it keeps the older rule (no checkpoint).
  const v2 =
    db.prepare("SELECT 1 FROM pragma_table_info('l2_updates') WHERE name = 'levels'").get() !== undefined;
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
    let keepFrom = cutoff;
    let checkpoint: CheckpointPlan | null = null;
    if (hasNewer.get(sid, cutoff) !== undefined) {
      const snap = lastSnapshot.get(sid, cutoff) as { id: number; recvTs: number } | undefined;
      if (snap) keepFrom = snap.recvTs;
      if (snap && v2)
        checkpoint = yield* checkpointSteps(db, sid, tickOf.get(sid) as string, cutoff, snap.id);
    }
    let deleted = 0;
    if (checkpoint) {
      const cp = checkpoint;
      // Encoded on the tick the fold used (a recorder may refine the session's tick meanwhile: each value names its grid).
      // The rewrite first, alone: stopped after it, the session still replays as before (readers take a snapshot
      // that follows the book in sequence as its continuation, SequencedBook.continuesWith).
      writeCheckpoint(db, sid, cp);
      keepFrom = cp.recvTs;
      for (const [i, stmt] of delSameMs.entries()) {
        const n = db.transaction(() => stmt.run(sid, cp.recvTs, cp.id).changes).immediate();
        result[i === 0 ? 'l2Deleted' : 'tradesDeleted'] += n;
        deleted += n;
      }
      result.checkpoints++;
    }
    for (const [stmt, key] of [
      [delL2, 'l2Deleted'],
      [delTrades, 'tradesDeleted'],
    ] as const) {
      while (true) {
        const n = db.transaction(() => stmt.run(sid, keepFrom, chunk).changes).immediate();
        result[key] += n;
        deleted += n;
        if (n < chunk) break;
        yield;
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
