// Test and benchmark fixture: a database file exactly as store layout v1 wrote it (schema up to migration 250,
// book levels as two BLOBs of doubles), filled through the real SessionWriter in its v1 mode.
import type { Db } from '../db.ts';
import { openDb } from '../db.ts';
import { MIGRATIONS } from '../migrations/index.ts';
import type { StoredEvent } from '../sessionReader.ts';
import { SessionWriter } from '../sessionWriter.ts';
import { createSession, type NewSession } from '../sessions.ts';

/** The migrations a v1 file had: everything before store layout v2 (260). */
export const V1_MIGRATIONS = MIGRATIONS.filter((m) => m.version < 260);

/** Opens (creating) a file with the v1 schema; it is not migrated further. */
export function openV1Db(file: string): Db {
  return openDb(file, { migrations: V1_MIGRATIONS });
}

/** Stores events as one closed v1 session; returns its id. */
export function writeV1Session(db: Db, session: NewSession, events: Iterable<StoredEvent>): number {
  const sid = createSession(db, session);
  const w = new SessionWriter(db, sid, { layout: 'v1', now: () => session.startedAt });
  for (const ev of events) {
    if (ev.kind === 'gap') w.writeGap(ev.gap);
    else w.writeMessage(ev);
  }
  w.close(session.startedAt + 1);
  return sid;
}
