// `trade --paper --db clickhouse://HOST:PORT/DATABASE`: the engine records a run row by row into SQLite as it trades,
// so with a ClickHouse store the run (and, with live retraining, the traded feed the retrainer reads back) is recorded
// in a temporary working file, then saved into the store when the run ends: the run through the same save as
// `backtest --db clickhouse://…` (runs there list it), the feed as a session of its own. A replayed session is read
// from the store (copied into the working file first when live retraining needs to read it back). If the store
// cannot take them at the end, the working file is kept and its path printed: nothing recorded is lost. A run killed
// with `kill -9` is not in the store (its working file is left in the temporary folder).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { getSession, latestSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { copySessionToClickHouse, copySessionToSqlite } from '../store/clickhouse/mirror.ts';
import { readSessionPages } from '../store/clickhouse/reader.ts';
import { saveRuns, standInSessions } from '../store/clickhouse/runStore.ts';
import { openDb, type Db } from '../store/db.ts';
import type { SessionInfo } from '../store/sessions.ts';

export interface ClickHouseTrade {
  readonly store: ClickHouseStore;
  /** The working file the run (and the feed live retraining reads back) is recorded in while trading. */
  readonly db: Db;
  /** Its path: live retraining's worker opens it itself. */
  readonly file: string;
  /**
   * Saves the run and the stored feed session (either may be absent) into the store; resolves with the lines to
   * print. A failure keeps the working file and says where it is.
   */
  finish(runId: number | undefined, feedSession: number | null): Promise<string[]>;
  /** Closes both; deletes the working file unless finish() had to keep it. */
  close(): Promise<void>;
}

export async function openClickHouseTrade(url: string, mustExist: boolean): Promise<ClickHouseTrade> {
  const store = await openClickHouse(url, { mustExist });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-trade-'));
  const file = path.join(dir, 'run.db');
  let db: Db;
  try {
    db = openDb(file);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.close();
    throw e;
  }
  let keep = false;
  return {
    store,
    db,
    file,
    finish: async (runId, feedSession) => {
      const lines: string[] = [];
      try {
        if (runId !== undefined) {
          const ids = await saveRuns(store, db, [runId]);
          lines.push(`run ${ids.get(runId)} stored in ${store.name}`);
        }
        if (feedSession !== null) {
          const id = await copySessionToClickHouse(db, feedSession, store);
          lines.push(`the traded feed stored as session ${id} in ${store.name}`);
        }
      } catch (e) {
        keep = true;
        lines.push(
          `error: saving into ${store.name} failed (${(e as Error).message}); what was recorded is kept in ${file} ` +
            `(read it with \`l2desk runs --db ${file}\`)`,
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
 * such session. `readBack`: live retraining reads the session's data back, so it is copied into the working file and
 * replayed from there; otherwise it streams from the store and the working file only gets the session's row (the
 * run refers to it).
 */
export async function replayFromClickHouse(
  t: ClickHouseTrade,
  sessionId: number | undefined,
  speed: number | 'max',
  readBack: boolean,
): Promise<{ source: ReplaySource; session: SessionInfo } | null> {
  const id = sessionId ?? (await latestSession(t.store))?.id;
  const session = id === undefined ? undefined : await getSession(t.store, id);
  if (!session) return null;
  if (readBack) {
    await copySessionToSqlite(t.store, session.id, t.db);
    return { source: new ReplaySource({ db: t.db, sessionId: session.id, speed }), session };
  }
  await standInSessions(t.store, t.db, [session.id]);
  return {
    source: new ReplaySource({
      db: t.db,
      sessionId: session.id,
      speed,
      data: { session, pages: (r) => readSessionPages(t.store, session.id, r) },
    }),
    session,
  };
}
