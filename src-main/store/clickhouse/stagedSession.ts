// A ClickHouse session as a temporary SQLite file, for a reader that replays a session synchronously: the exchange
// simulator serving a stored session pulls its next step on a timer and cannot wait for the server's pages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../db.ts';
import { getSession } from './catalogue.ts';
import { openClickHouse } from './connection.ts';
import { copyClickHouseSessionToSqlite } from './mirror.ts';

export interface StagedSession {
  /** The temporary file, holding the session under its ClickHouse id. */
  readonly db: Db;
  /** Closes and deletes the temporary file. */
  dispose(): void;
}

/** Copies session `sessionId` of the ClickHouse store `url` into a temporary SQLite file (deleted by dispose). */
export async function stageClickHouseSession(
  url: string,
  sessionId: number,
  log: (line: string) => void,
): Promise<StagedSession> {
  const ch = await openClickHouse(url, { mustExist: true });
  try {
    const info = await getSession(ch, sessionId);
    if (!info)
      throw new Error(
        `no session ${sessionId} in ${ch.name}: list them with \`l2desk db check --db ${ch.name}\``,
      );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-staged-'));
    const db = openDb(path.join(dir, `session-${sessionId}.db`), { mustExist: false });
    const dispose = () => {
      try {
        db.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    // A long copy stopped with Ctrl-C must not leave the half-written file in the temporary folder.
    const interrupted = (signal: NodeJS.Signals) => {
      dispose();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    try {
      log(
        `copying session ${sessionId} (${info.symbol}, ${info.messages} messages) from ${ch.name} into a temporary file to serve it`,
      );
      await copyClickHouseSessionToSqlite(ch, info, db);
    } catch (e) {
      dispose();
      throw e;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
    return { db, dispose };
  } finally {
    await ch.close();
  }
}
