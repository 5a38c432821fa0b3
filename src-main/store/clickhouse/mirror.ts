// Copies whole sessions between the two store backends, event by event through each backend's own reader and
// writer, so a copy is exactly what the other store would have recorded: the session's fields (source, symbol,
// depth, tick size, meta, random seed, start and end), every book message, trade message and gap, in arrival order.
// `import` stages its files in a temporary SQLite file and copies the new sessions into ClickHouse; a run over the store
// gives its workers a temporary SQLite file of the sessions' records (copySessionRecord, keeping their ids, which a
// model's metadata names); the app adds its locally recorded feed to such a file (copySqliteSession).
import type { Db } from '../db.ts';
import { readSession as readSqlite } from '../sessionReader.ts';
import { SessionWriter } from '../sessionWriter.ts';
import {
  createSession as createSqliteSession,
  getSession as getSqliteSession,
  type SessionInfo,
} from '../sessions.ts';
import { createSession, updateSessionMeta } from './catalogue.ts';
import { ClickHouseStoreError, type ClickHouseStore } from './connection.ts';
import { readSessionPages } from './reader.ts';
import { ClickHouseSessionWriter, type ClickHouseWriterOptions } from './writer.ts';

/** Rows the ClickHouse writer may hold before the copy waits for the server (bounds memory on any session size). */
const MAX_PENDING_ROWS = 60_000;

export interface CopyProgress {
  /** Events copied so far in this session. */
  events: number;
}

/**
 * Copies an SQLite session into a new ClickHouse session; returns its id there. The copy is stored in committed
 * batches (the writer retries a failed insert with the same rows); a failure leaves the batches stored so far and
 * throws, naming the session.
 */
export async function copySessionToClickHouse(
  db: Db,
  sessionId: number,
  ch: ClickHouseStore,
  onProgress?: (p: CopyProgress) => void,
  opts: {
    metaOnceComplete?: readonly string[];
    /** The writer's settings (retries, give-up time); batches of 20k rows by default. */
    writer?: ClickHouseWriterOptions;
  } = {},
): Promise<number> {
  const info = getSqliteSession(db, sessionId);
  if (!info) throw new Error(`no session ${sessionId} in ${db.name}`);
  // Meta keys that must only be seen on a whole copy (an import's content hash: a copy cut short must not make a
  // second import look like a duplicate).
  const later = Object.fromEntries(
    Object.entries(info.meta).filter(([k]) => opts.metaOnceComplete?.includes(k)),
  );
  const meta = Object.fromEntries(
    Object.entries(info.meta).filter(([k]) => !opts.metaOnceComplete?.includes(k)),
  );
  const id = await createSession(ch, { ...sessionFields(info), meta });
  const w = ClickHouseSessionWriter.forNewSession(ch, id, info.symbol, { maxRows: 20_000, ...opts.writer });
  let events = 0;
  try {
    for (const ev of readSqlite(db, sessionId)) {
      if (ev.kind === 'gap') w.writeGap(ev.gap);
      else w.writeMessage(ev);
      if (++events % 4096 === 0) {
        if (w.stats().pending >= MAX_PENDING_ROWS) await w.drain();
        onProgress?.({ events });
      }
    }
    // A session that never ended (its collector died) stays open in the copy too.
    if (info.endedAt === null) await w.drain();
    else await w.close(info.endedAt);
    if (Object.keys(later).length > 0) await updateSessionMeta(ch, id, later);
  } catch (e) {
    throw new ClickHouseStoreError(
      `copying session ${sessionId} into ${ch.name} (as session ${id}) failed after ${events} events, leaving ` +
        `session ${id} incomplete: ${(e as Error).message}`,
      ch.name,
    );
  }
  return id;
}

/**
 * Creates a ClickHouse session's record (not its data) in an SQLite database under the same id, ended when it is:
 * for a training copy whose rows come from the store's feature cache (trainingCopy.ts).
 */
export function copySessionRecord(
  ch: ClickHouseStore,
  info: SessionInfo,
  db: Db,
  o: { ended?: boolean } = {},
): void {
  const sessionId = info.id;
  if (getSqliteSession(db, sessionId))
    throw new Error(
      `${db.name} already holds a session ${sessionId}: cannot copy ${ch.name}'s under that id`,
    );
  const created = createSqliteSession(db, sessionFields(info));
  // The same id as in ClickHouse: a model's metadata names the sessions it learnt from. No rows refer to it yet.
  if (created !== sessionId) db.prepare('UPDATE sessions SET id = ? WHERE id = ?').run(sessionId, created);
  if (o.ended && info.endedAt !== null)
    db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ?').run(info.endedAt, sessionId);
}

/**
 * Copies a ClickHouse session (record and events) into an SQLite database under the same id, for a reader that needs
 * a synchronous replay: the exchange simulator serving a stored session. A session still being recorded is copied as
 * far as it is committed, and stays open in the copy.
 */
export async function copyClickHouseSessionToSqlite(
  ch: ClickHouseStore,
  info: SessionInfo,
  db: Db,
  onProgress?: (p: CopyProgress) => void,
): Promise<void> {
  copySessionRecord(ch, info, db);
  const w = new SessionWriter(db, info.id, { maxRows: 20_000 });
  let events = 0;
  for await (const page of readSessionPages(ch, info.id)) {
    for (const ev of page) {
      if (ev.kind === 'gap') w.writeGap(ev.gap);
      else w.writeMessage(ev);
    }
    events += page.length;
    onProgress?.({ events });
  }
  if (info.endedAt === null) w.flush();
  else w.close(info.endedAt);
}

/**
 * Copies an SQLite session into another SQLite database under a new id (returned): the app over a ClickHouse store
 * adds its locally recorded feed to a training copy. A session still being recorded is copied as far as it is stored.
 * It yields to the event loop every few thousand events: the app's engine shares this thread.
 */
export async function copySqliteSession(
  from: Db,
  sessionId: number,
  to: Db,
  signal?: AbortSignal,
): Promise<number> {
  const info = getSqliteSession(from, sessionId);
  if (!info) throw new Error(`no session ${sessionId} in ${from.name}`);
  const id = createSqliteSession(to, sessionFields(info));
  const w = new SessionWriter(to, id, { maxRows: 20_000 });
  let n = 0;
  for (const ev of readSqlite(from, sessionId)) {
    if (ev.kind === 'gap') w.writeGap(ev.gap);
    else w.writeMessage(ev);
    if (++n % 4096 === 0) {
      await new Promise((r) => setImmediate(r));
      signal?.throwIfAborted();
    }
  }
  if (info.endedAt === null) w.flush();
  else w.close(info.endedAt);
  return id;
}

/** What a copy of a session keeps of it: everything but its id, end and counters (the copy's writer sets those). */
function sessionFields(info: SessionInfo): Parameters<typeof createSqliteSession>[1] {
  return {
    source: info.source,
    symbol: info.symbol,
    category: info.category,
    depth: info.depth,
    tickSize: info.tickSize,
    startedAt: info.startedAt,
    meta: info.meta,
    seed: info.seed,
  };
}
