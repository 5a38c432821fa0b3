// Test probes for a running `collect`: what it has committed so far, read through a second read-only connection
// (WAL) while it writes, and the check that the session it stored rebuilds the exchange-sim's true book.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { ExchangeSimServer } from '../../market/exchangeSim/exchangeSimServer.ts';
import type { Db } from '../../store/db.ts';
import type { SessionInfo } from '../../store/sessions.ts';
import { sqliteSessionStore } from '../../store/sqliteSessionStore.ts';
import { bookAt } from '../book.ts';

export interface StoredGap {
  reason: string;
  end_ts: number | null;
}

/** Runs `read` on a read-only connection; `fallback` while the file or its tables do not exist yet. */
function readCommitted<T>(file: string, fallback: T, read: (db: Database.Database) => T): T {
  if (!fs.existsSync(file)) return fallback;
  const r = new Database(file, { readonly: true });
  try {
    return read(r);
  } catch {
    return fallback;
  } finally {
    r.close();
  }
}

/** The gaps committed so far, in id order. */
export function storedGaps(file: string): StoredGap[] {
  return readCommitted(
    file,
    [],
    (r) => r.prepare('SELECT reason, end_ts FROM gaps ORDER BY id').all() as StoredGap[],
  );
}

/** The number of book messages committed so far. */
export function storedBookCount(file: string): number {
  return readCommitted(
    file,
    0,
    (r) => (r.prepare('SELECT count(*) AS n FROM l2_updates').get() as { n: number }).n,
  );
}

/** The update id of the last book message committed so far (undefined before the first). */
export function lastStoredU(file: string): number | undefined {
  return readCommitted(
    file,
    undefined,
    (r) => r.prepare('SELECT u FROM l2_updates ORDER BY id DESC LIMIT 1').pluck().get() as number | undefined,
  );
}

/** The stored session's book at its end is valid and equal to the exchange's true book (paused at that point). */
export async function expectStoredBookIsExchangeBook(
  db: Db,
  session: SessionInfo,
  server: ExchangeSimServer,
  depth = 50,
): Promise<void> {
  const b = (await bookAt(sqliteSessionStore(db, 'test.db'), session, undefined, depth))!;
  expect(b.valid).toBe(true);
  const truth = server.trueBook(depth);
  expect(b.bids).toEqual(truth.bids);
  expect(b.asks).toEqual(truth.asks);
}
