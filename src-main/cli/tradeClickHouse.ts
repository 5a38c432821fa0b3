// `trade --paper --db clickhouse://HOST:PORT/DATABASE`: the engine records a run row by row into SQLite as it trades,
// so with a ClickHouse store the run (and, with live retraining, the traded feed the retrainer reads back) is recorded
// in a temporary working file, then saved into the store when the run ends: the run through the same save as
// `backtest --db clickhouse://…` (runs there list it), the feed as a session of its own. A replayed session is read
// from the store (copied into the working file first when live retraining needs to read it back). If the store
// cannot take them at the end, the working file is kept and its path printed: nothing recorded is lost. A run killed
// with `kill -9` leaves its working file in the folder of unsaved runs, and the next `trade` or `runs` on the same
// store saves it (unsavedRuns.ts).
import fs from 'node:fs';
import path from 'node:path';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { getSession, latestSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { copySessionToClickHouse } from '../store/clickhouse/mirror.ts';
import { sessionRowsFromStore, type StoreRowsParams } from '../store/clickhouse/trainingCopy.ts';
import { featureKey } from '../model/featureCache.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import { readSessionPages } from '../store/clickhouse/reader.ts';
import { saveRegistry } from '../store/clickhouse/modelStore.ts';
import { saveRuns, standInSessions } from '../store/clickhouse/runStore.ts';
import { openDb, type Db } from '../store/db.ts';
import type { SessionInfo } from '../store/sessions.ts';
import type { TradeStore } from './tradeStore.ts';
import { markFeed, markSaved, newWorkingFile, saveUnsavedRuns } from '../store/clickhouse/unsavedRuns.ts';

export interface ClickHouseTrade {
  readonly store: ClickHouseStore;
  /** The working file the run (and the feed live retraining reads back) is recorded in while trading. */
  readonly db: Db;
  /** Its path: live retraining's worker opens it itself. */
  readonly file: string;
  /** Notes that session `id` of the working file is the traded feed (a killed run's feed is saved later too). */
  noteFeed(id: number): void;
  /**
   * Saves the run and the stored feed session (either may be absent) into the store; resolves with the lines to
   * print. A failure keeps the working file and says where it is.
   */
  finish(runId: number | undefined, feedSession: number | null): Promise<string[]>;
  /** Closes both; deletes the working file unless finish() had to keep it. */
  close(): Promise<void>;
}

export async function openClickHouseTrade(
  url: string,
  mustExist: boolean,
  log: (line: string) => void = () => undefined,
): Promise<ClickHouseTrade> {
  const store = await openClickHouse(url, { mustExist });
  let dir = '';
  let file = '';
  let db: Db;
  try {
    // What earlier runs on this store could not save (killed, or the store was away) goes in first.
    await saveUnsavedRuns(store, log);
    ({ dir, file } = newWorkingFile(store.name, Date.now()));
    db = openDb(file);
  } catch (e) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await store.close();
    throw e;
  }
  let keep = false;
  return {
    store,
    db,
    file,
    noteFeed: (id) => markFeed(dir, id),
    finish: async (runId, feedSession) => {
      const lines: string[] = [];
      try {
        if (runId !== undefined) {
          const ids = await saveRuns(store, db, [runId]);
          markSaved(dir, 'runs', runId, ids.get(runId) as number);
          lines.push(`run ${ids.get(runId)} stored in ${store.name}`);
        }
        if (feedSession !== null) {
          const id = await copySessionToClickHouse(db, feedSession, store);
          markSaved(dir, 'sessions', feedSession, id);
          lines.push(`the traded feed stored as session ${id} in ${store.name}`);
        }
        // Live retraining's models and decisions (idempotent: a retry stores nothing twice).
        const models = await saveRegistry(store, db);
        if (models.size > 0)
          lines.push(
            `live retraining's ${models.size} model(s) and their decisions registered in ${store.name} ` +
              `(\`l2desk models --db ${store.name}\`)`,
          );
      } catch (e) {
        keep = true;
        lines.push(
          `error: saving into ${store.name} failed (${(e as Error).message}); what was recorded is kept in ${file} ` +
            `(read it with \`l2desk runs --db ${file}\`); the next \`l2desk trade\` or \`l2desk runs\` on ` +
            `${store.name} saves it there`,
        );
      }
      return lines;
    },
    close: async () => {
      db.close();
      await store.close();
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The replay source of a session of the store (the newest when `sessionId` is undefined), or null when there is no
 * such session. It streams from the store; the working file only gets the session's record (the run refers to it).
 * `features`: live retraining learns from the session, so its dataset rows come along, from the store's feature cache
 * or built straight from the store (and stored there; trainingCopy.ts): no raw data is copied to this machine.
 */
export async function replayFromClickHouse(
  t: ClickHouseTrade,
  sessionId: number | undefined,
  speed: number | 'max',
  features?: StoreRowsParams,
): Promise<{ source: ReplaySource; session: SessionInfo; rows: StoreFeatures | null } | null> {
  const id = sessionId ?? (await latestSession(t.store))?.id;
  const session = id === undefined ? undefined : await getSession(t.store, id);
  if (!session) return null;
  const built = features ? await sessionRowsFromStore(t.store, session.id, features) : null;
  await standInSessions(t.store, t.db, [session.id]);
  return {
    rows: built
      ? {
          featureKey: featureKey(features as StoreRowsParams),
          rows: [built.rows],
          identities: [built.identity],
        }
      : null,
    source: new ReplaySource({
      db: t.db,
      sessionId: session.id,
      speed,
      data: { session, pages: (r) => readSessionPages(t.store, session.id, r) },
    }),
    session,
  };
}

/** The TradeStore of a ClickHouse store (tradeStore.ts): a working file, saved into the store when the run ends. */
export async function clickHouseTradeStore(
  url: string,
  mustExist: boolean,
  log: (line: string) => void,
): Promise<TradeStore> {
  const t = await openClickHouseTrade(url, mustExist, log);
  return {
    name: t.store.name,
    db: t.db,
    file: t.file,
    // The store is not a folder: models go to the working directory.
    modelsDir: path.resolve('retrained'),
    runIdsFinal: false,
    describeRun: () => `run recorded in ${t.file} until it ends, then saved into ${t.store.name}`,
    replay: (sessionId, speed, features) => replayFromClickHouse(t, sessionId, speed, features),
    noteFeed: (id) => t.noteFeed(id),
    finish: (runId, feedSession) => t.finish(runId, feedSession),
    close: () => t.close(),
  };
}
