// The dataset rows of a session that is still being recorded into an SQLite file, kept up to date by reading only what
// the session gained since the last read. The feature cache keeps closed sessions only (an open one grows), so each
// retraining round used to replay such a session from its start: a collector that has run for a week costs a week
// of replay per round. Here one DatasetBuilder follows the stored session across rounds. Its rows are the rows a
// build of the whole stored session gives at that moment (featureCache.sessionRows), bit for bit, because they are
// built from the same stored events in the same order by the same builder; the reads only start where the last one
// stopped. Two things would break that, and are handled:
// - A gap still open: its stored record gets its end once the book resyncs, and the builder treats an open gap and
//   an ended one differently. Reading stops before it; until it has ended the session is read whole, as before.
// - Stored data changing under the reader: older data pruned, a new tick size (a build starts with the session's
//   current one). Either starts the session over.
import type { Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { DatasetBuilder, type DatasetOptions } from './dataset.ts';
import { rowsOf, type SessionRows } from './featureCache.ts';

export type TailRead =
  | { rows: SessionRows; events: number; restarted: string | null }
  | { rows: null; events: number; why: string };

export class StoredSessionTail {
  private builder: DatasetBuilder | null = null;
  /** Highest row id pushed into the builder (0: none yet). */
  private pos = 0;
  private tickSize = '';
  private head: Head = [undefined, undefined];

  constructor(
    readonly sessionId: number,
    private readonly opts: DatasetOptions,
  ) {}

  /**
   * Reads what the session gained since the last call and returns its rows as a build of the stored session gives
   * them now, or null (with why) when they would differ or the session is no longer open; `events` counts the
   * events read by this call.
   */
  advance(db: Db): TailRead {
    const s = getSession(db, this.sessionId);
    if (!s) return this.drop(`session ${this.sessionId} is not in ${db.name}`);
    // A closed session's rows are the feature cache's (stored once built): nothing left to follow.
    if (s.endedAt !== null) return this.drop('the session has ended: its rows come from the feature cache');
    const span = db.prepare('SELECT first_id, last_id FROM sessions WHERE id = ?').raw(true).get(s.id) as [
      number | null,
      number | null,
    ];
    const head = headOf(db, s.id, span[0], span[1]);
    let restarted: string | null = null;
    if (this.builder && s.tickSize !== this.tickSize)
      restarted = `its tick size changed from ${this.tickSize} to ${s.tickSize}`;
    else if (this.builder && headMoved(this.head, head)) restarted = 'its older data was deleted (pruned)';
    if (restarted || !this.builder) {
      this.builder = new DatasetBuilder(this.opts);
      this.builder.begin({ sessionId: s.id, tickSize: s.tickSize });
      this.pos = 0;
      this.tickSize = s.tickSize;
    }
    this.head = head;
    const last = span[1] ?? 0;
    const open = db
      .prepare('SELECT min(id) FROM gaps WHERE session_id = ? AND id > ? AND end_ts IS NULL')
      .pluck()
      .get(s.id, this.pos) as number | null;
    const stop = open === null ? last : Math.min(last, open - 1);
    let events = 0;
    if (stop > this.pos) {
      // reuseLevels: the builder copies a message's levels into its book before it takes the next.
      for (const ev of readSession(db, s.id, { fromId: this.pos + 1, toId: stop, reuseLevels: true })) {
        this.builder.push(ev);
        events++;
      }
      this.pos = stop;
    }
    if (open !== null && open <= last)
      return { rows: null, events, why: 'a gap in it is still open (the book has not resynced yet)' };
    return { rows: rowsOf(this.builder.rowsSoFar(), s.id), events, restarted };
  }

  private drop(why: string): TailRead {
    this.builder = null;
    this.pos = 0;
    return { rows: null, events: 0, why };
  }
}

/** The ids of the session's first stored book row and first stored trade (undefined: none yet). */
type Head = [number | undefined, number | undefined];

/** The session's first stored book and trade rows: retention deletes from the start, which changes them. */
function headOf(db: Db, sessionId: number, firstId: number | null, lastId: number | null): Head {
  if (firstId === null || lastId === null) return [undefined, undefined];
  // Walks the session's id span in rowid order (no index on session_id): stops at its first row.
  const first = (table: string) =>
    db
      .prepare(
        `SELECT id FROM ${table} NOT INDEXED WHERE id >= ? AND id <= ? AND session_id = ? ORDER BY id LIMIT 1`,
      )
      .pluck()
      .get(firstId, lastId, sessionId) as number | undefined;
  return [first('l2_updates'), first('trades')];
}

/** A first row that was there is gone or another one (a first trade arriving later is no change). */
const headMoved = (was: Head, now: Head): boolean =>
  (was[0] !== undefined && was[0] !== now[0]) || (was[1] !== undefined && was[1] !== now[1]);
