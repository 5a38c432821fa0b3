// The SessionStore of an SQLite file (sessionStore.ts): the synchronous catalogue, reader, check, retention and
// recorder of this folder; imports, backtests, runs and the model registry use the file itself. Behind the store
// interface the commands share with ClickHouse.
import { sessionIdentity } from '../model/dataIdentity.ts';
import { listDecisions, listModels } from '../model/modelRegistry.ts';
import { openDb, type Db } from './db.ts';
import { pruneRawDataGently } from './retention.ts';
import { SessionRecorder } from './sessionRecorder.ts';
import type { OpenSessionStoreOptions, SessionStore } from './sessionStore.ts';
import { readSession } from './sessionReader.ts';
import { getSession, latestSession, listSessions } from './sessions.ts';
import { checkSqliteStore, fileBytes } from './sqliteCheck.ts';

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;

export function openSqliteSessionStore(file: string, opts: OpenSessionStoreOptions = {}): SessionStore {
  return sqliteSessionStore(openDb(file, { mustExist: opts.mustExist ?? true, migrate: opts.migrate }), file);
}

/** The store interface over an open database; closing the store closes `db`. */
export function sqliteSessionStore(db: Db, file: string): SessionStore {
  // A file opened without migrating may be an empty one or another program's: it holds no sessions.
  const hasSessions = () =>
    Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").get());
  return {
    kind: 'sqlite',
    name: file,
    list: () => Promise.resolve().then(() => (hasSessions() ? listSessions(db) : [])),
    get: (id) => Promise.resolve().then(() => (hasSessions() ? getSession(db, id) : undefined)),
    latest: (symbol) => Promise.resolve().then(() => (hasSessions() ? latestSession(db, symbol) : undefined)),
    read: (id, opts) => readSession(db, id, opts),
    check: () => Promise.resolve().then(() => checkSqliteStore(db, file)),
    prune: async (opts) => {
      const before = fileBytes(file) + fileBytes(`${file}-wal`);
      const r = await pruneRawDataGently(db, { days: opts.days, now: opts.now });
      const after = fileBytes(file) + fileBytes(`${file}-wal`);
      // Freed pages are reused by later writes; only VACUUM gives them back to the disk.
      return {
        ...r,
        space: `file+WAL ${mb(before)} -> ${mb(after)} (freed pages are reused; VACUUM to shrink the file)`,
      };
    },
    record: (source, opts) => Promise.resolve().then(() => new SessionRecorder(db, source, opts)),
    identity: (id) => Promise.resolve().then(() => (hasSessions() ? sessionIdentity(db, id) : null)),
    registry: () => Promise.resolve().then(() => ({ models: listModels(db), decisions: listDecisions(db) })),
    runs: () => Promise.resolve(db),
    importTarget: () =>
      Promise.resolve({
        db,
        staged: false,
        store: (id: number) => Promise.resolve(id),
        storedId: (id: number) => id,
        dispose: () => {},
      }),
    backtestTarget: () =>
      Promise.resolve({
        db,
        file,
        save: () => Promise.resolve(new Map<number, number>()),
        dispose: () => {},
      }),
    close: () =>
      Promise.resolve().then(() => {
        db.close();
      }),
  };
}
