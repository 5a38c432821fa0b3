// The SessionStore of a ClickHouse database (../sessionStore.ts): its catalogue, arrival-order reader, check,
// retention and recorder, and the SQLite databases the engine, the importer and the runs reader work on (in memory
// or temporary, saved into the store), behind the store interface the commands share with SQLite files.
import type { OpenSessionStoreOptions, SessionStore } from '../sessionStore.ts';
import { getSession, latestSession, listSessions } from './catalogue.ts';
import { checkClickHouse } from './check.ts';
import { openClickHouse, type ClickHouseStore } from './connection.ts';
import { pruneClickHouse } from './prune.ts';
import { readSession, readSessionPages } from './reader.ts';
import { openDb, type Db } from '../db.ts';
import { storeIdentity } from './featureStore.ts';
import { openImportStaging } from './importStaging.ts';
import { listDecisionsIn, listModelsIn } from './modelStore.ts';
import { openRunsCopy, saveRuns, standInSessions } from './runStore.ts';
import { copyForTraining } from './trainingCopy.ts';
import { saveUnsavedRuns } from './unsavedRuns.ts';
import { SessionRecorder } from '../sessionRecorder.ts';

export async function openClickHouseSessionStore(
  address: string,
  opts: OpenSessionStoreOptions = {},
): Promise<SessionStore> {
  return clickHouseSessionStore(await openClickHouse(address, { mustExist: opts.mustExist ?? true }));
}

/** The store interface over an open connection; closing the store closes it. */
export function clickHouseSessionStore(store: ClickHouseStore): SessionStore {
  const copies: Db[] = [];
  return {
    kind: 'clickhouse',
    name: store.name,
    list: () => listSessions(store),
    get: (id) => getSession(store, id),
    latest: (symbol) => latestSession(store, symbol),
    read: (id, opts) => readSession(store, id, opts),
    check: () => checkClickHouse(store),
    prune: async (opts) => {
      const r = await pruneClickHouse(store, opts);
      const dropped = Object.values(r.droppedPartitions).reduce((n, p) => n + p.length, 0);
      // Whole days go as partitions, instantly; the rest through delete mutations, already waited for.
      return { ...r, space: dropped > 0 ? `${dropped} day partition(s) dropped whole` : '' };
    },
    record: (source, opts) => SessionRecorder.toClickHouse(store, source, opts),
    identity: async (id) => {
      const s = await getSession(store, id);
      return s ? storeIdentity(store, s) : null;
    },
    registry: async () => ({ models: await listModelsIn(store), decisions: await listDecisionsIn(store) }),
    runs: async (opts = {}) => {
      // Paper-trading runs killed before they were saved into the store are saved now, so they are read too.
      await saveUnsavedRuns(store, opts.log ?? (() => undefined));
      const db = await openRunsCopy(store, opts);
      copies.push(db);
      return db;
    },
    importTarget: async () => {
      const staging = await openImportStaging(store);
      return {
        db: staging.db,
        staged: true,
        store: (id) => staging.copy(id),
        storedId: (id) => staging.clickhouseId(id),
        dispose: () => staging.dispose(),
      };
    },
    backtestTarget: async (session, o) => {
      // The session is replayed from the store; the runs are recorded in memory (or, for walk-forward, in a temporary
      // file of the session's record that its trainers read beside the session's rows) and saved whole at the end.
      const copy = o.features
        ? await copyForTraining(store, [session.id], o.features, {
            onStep: o.onStep && ((st) => o.onStep?.(st, store.name)),
          })
        : null;
      const file = copy ? copy.file : ':memory:';
      let db: Db | null = null;
      try {
        db = openDb(file);
        if (o.record) await standInSessions(store, db, [session.id]);
      } catch (e) {
        db?.close();
        copy?.dispose();
        throw e;
      }
      const rec = db;
      return {
        db: rec,
        file,
        data: { session, pages: (r) => readSessionPages(store, session.id, r) },
        storeFeatures: copy?.storeFeatures,
        save: () => (o.record ? saveRuns(store, rec) : Promise.resolve(new Map<number, number>())),
        dispose: () => {
          rec.close();
          copy?.dispose();
        },
      };
    },
    close: async () => {
      for (const db of copies.splice(0)) db.close();
      await store.close();
    },
  };
}
