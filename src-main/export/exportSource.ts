// The store an export reads, behind one small interface: an SQLite file or a ClickHouse database
// (`clickhouse://HOST:PORT/DATABASE`), each with its own catalogue and arrival-order session reader.
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb } from '../store/db.ts';
import { readSession as readSqlite } from '../store/sessionReader.ts';
import { getSession, latestSession, listSessions, type SessionInfo } from '../store/sessions.ts';
import type { SessionEvents } from './sessionExport.ts';

export interface ExportSource {
  /** The store as the user named it (for messages). */
  readonly name: string;
  latest(): Promise<SessionInfo | undefined>;
  list(): Promise<SessionInfo[]>;
  get(id: number): Promise<SessionInfo | undefined>;
  readonly read: SessionEvents;
  close(): Promise<void>;
}

/** Opens an existing store for reading; a missing SQLite file or ClickHouse database is an error. */
export async function openExportSource(db: string): Promise<ExportSource> {
  if (isClickHouseUrl(db)) {
    // Loaded only here: an SQLite export never loads the ClickHouse client.
    const [ch, { openClickHouse }, { readSession }] = await Promise.all([
      import('../store/clickhouse/catalogue.ts'),
      import('../store/clickhouse/connection.ts'),
      import('../store/clickhouse/reader.ts'),
    ]);
    const store = await openClickHouse(db, { mustExist: true });
    return {
      name: store.name,
      latest: () => ch.latestSession(store),
      list: () => ch.listSessions(store),
      get: (id) => ch.getSession(store, id),
      read: (id) => readSession(store, id),
      close: () => store.close(),
    };
  }
  const sqlite = openDb(db, { mustExist: true });
  return {
    name: db,
    latest: () => Promise.resolve(latestSession(sqlite)),
    list: () => Promise.resolve(listSessions(sqlite)),
    get: (id) => Promise.resolve(getSession(sqlite, id)),
    read: (id) => readSqlite(sqlite, id),
    close: () => {
      sqlite.close();
      return Promise.resolve();
    },
  };
}
