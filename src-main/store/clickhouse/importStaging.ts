// `import --db clickhouse://…`: the importer (Bybit and Tardis formats, trade merging, the duplicate-content check,
// plausibility) writes an SQLite database; for a ClickHouse store it writes a temporary one, and the sessions it made
// are then copied into ClickHouse (mirror.ts). The staging file starts with one stand-in session per earlier import
// of the ClickHouse store (its content hash only), so the importer's duplicate check sees them and names their
// ClickHouse ids.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../db.ts';
import { createSession as createSqliteSession } from '../sessions.ts';
import { sessionRecords } from './catalogue.ts';
import type { ClickHouseStore } from './connection.ts';
import { copySessionToClickHouse, type CopyProgress } from './mirror.ts';

export interface ImportStaging {
  /** The temporary database to import into. */
  db: Db;
  /** The ClickHouse id of a staging session (stand-ins and copied sessions alike). */
  clickhouseId(stagingId: number): number;
  /** Copies a session imported into the staging database into ClickHouse; returns its ClickHouse id. */
  copy(stagingId: number, onProgress?: (p: CopyProgress) => void): Promise<number>;
  /** Closes and deletes the staging database. */
  dispose(): void;
}

/** A staging database in a new temporary directory, holding stand-ins for the store's earlier imports. */
export async function openImportStaging(ch: ClickHouseStore, tmpRoot = os.tmpdir()): Promise<ImportStaging> {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'l2desk-import-'));
  const db = openDb(path.join(dir, 'staging.db'));
  const ids = new Map<number, number>();
  try {
    for (const r of await sessionRecords(ch)) {
      if (typeof r.meta.contentSha256 !== 'string') continue;
      const sid = createSqliteSession(db, {
        source: r.source,
        symbol: r.symbol,
        category: r.category,
        depth: r.depth,
        tickSize: r.tickSize,
        startedAt: r.startedAt,
        meta: { contentSha256: r.meta.contentSha256, standIn: true },
      });
      ids.set(sid, r.id);
    }
  } catch (e) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    db,
    clickhouseId: (sid) => {
      const id = ids.get(sid);
      if (id === undefined) throw new Error(`staging session ${sid} has no ClickHouse copy`);
      return id;
    },
    copy: async (sid, onProgress) => {
      // The content hash goes in last: a copy cut short does not make the same file look imported.
      const id = await copySessionToClickHouse(db, sid, ch, onProgress, {
        metaOnceComplete: ['contentSha256'],
      });
      ids.set(sid, id);
      return id;
    },
    dispose: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
