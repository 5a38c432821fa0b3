// Moves book messages from layout v1 (l2_updates_v1: two BLOBs of doubles) to layout v2 (l2_updates: one packed
// value of stamps, ticks and lots) in place. Each batch is one IMMEDIATE transaction that inserts the converted rows and deletes
// their originals, so a killed process resumes at the first row left (nothing lost, nothing twice), two processes
// opening the file at once take turns, and the space the old rows free is reused by the new ones.
import type Database from 'better-sqlite3';
import type { ConversionProgress, DataConversion } from './migrations/types.ts';
import { decodeLevels } from './levelCodec.ts';
import { TickLevelEncoder } from './tickLevelCodec.ts';

type Db = Database.Database;

const OLD = 'l2_updates_v1';
/** Rows per transaction: short enough that a writer in another process waits well under its busy timeout. */
const BATCH_ROWS = 2000;

function pending(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(OLD) !== undefined;
}

/** Converts every v1 row left; `batchRows` is for tests (many batches from a small file). */
export function convertToV2(
  db: Db,
  onProgress?: (p: ConversionProgress) => void,
  batchRows = BATCH_ROWS,
): void {
  if (!pending(db)) return;
  const select = db
    .prepare(
      `SELECT id, session_id, recv_ts, ts, cts, u, seq, is_snapshot, bids, asks FROM ${OLD} ORDER BY id LIMIT ?`,
    )
    .raw(true);
  const insert = db.prepare(
    'INSERT INTO l2_updates (id, session_id, recv_ts, ts, cts, u, seq, is_snapshot, levels) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  const remove = db.prepare(`DELETE FROM ${OLD} WHERE id <= ?`);
  const tickOf = db.prepare('SELECT tick_size FROM sessions WHERE id = ?').pluck();
  // One encoder per session: its tick is the first grid tried for that session's prices.
  const encoders = new Map<number, TickLevelEncoder>();
  const encoderFor = (sid: number): TickLevelEncoder => {
    let e = encoders.get(sid);
    if (!e) {
      const tick = tickOf.get(sid) as string | undefined;
      e = new TickLevelEncoder(tick ?? null);
      encoders.set(sid, e);
    }
    return e;
  };
  const step = db.transaction((): number => {
    // Another process may have finished the conversion between two of our batches.
    if (!pending(db)) return -1;
    const rows = select.all(batchRows) as unknown[][];
    for (const r of rows) {
      const sid = r[1] as number;
      const levels = encoderFor(sid).encode({
        type: r[7] ? 'snapshot' : 'delta',
        recvTs: r[2] as number,
        ts: r[3] as number,
        cts: r[4] as number,
        u: r[5] as number,
        seq: r[6] as number,
        bids: decodeLevels(r[8] as Buffer),
        asks: decodeLevels(r[9] as Buffer),
      });
      insert.run(r[0], sid, r[2], r[3], r[4], r[5], r[6], r[7], levels);
    }
    if (rows.length > 0) remove.run(rows[rows.length - 1][0]);
    return rows.length;
  }).immediate as () => number;
  const finish = db.transaction((): boolean => {
    if (!pending(db)) return true;
    if (db.prepare(`SELECT 1 FROM ${OLD} LIMIT 1`).get() !== undefined) return false;
    db.exec(`DROP TABLE ${OLD}`);
    return true;
  }).immediate as () => boolean;

  const what = 'book messages to store layout v2';
  // The session counters give the total without scanning the old table (which can be tens of GB).
  let done = Number(db.prepare('SELECT count(*) FROM l2_updates').pluck().get());
  const total = Math.max(
    done,
    Number(db.prepare('SELECT coalesce(sum(book_messages), 0) FROM sessions').pluck().get()),
  );
  let reported = false;
  for (;;) {
    const n = step();
    if (n < 0 || (n === 0 && finish())) break;
    done += n;
    if (n > 0) {
      reported = true;
      onProgress?.({ what, done, total: Math.max(total, done), finished: false });
    }
  }
  if (reported) onProgress?.({ what, done, total: Math.max(total, done), finished: true });
}

export const storeV2Conversion: DataConversion = {
  pending,
  run: (db, onProgress) => convertToV2(db, onProgress),
};
