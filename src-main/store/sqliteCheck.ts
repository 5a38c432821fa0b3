// `db check` of an SQLite file: integrity, tables and their counts, file sizes, schema versions, sessions with their
// gaps and off-grid messages. It runs every check it can, and does not write (the file may be from an older or newer
// L2 Desk, or damaged).
import fs from 'node:fs';
import { appliedVersions, type Db } from './db.ts';
import { checkedSession, listSessions, type StoreCheckReport } from './sessions.ts';

/** Bytes of a file, 0 when it does not exist (a WAL file comes and goes). */
export const fileBytes = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);

/** Runs every check it can; a damaged file yields a report with ok = false rather than an exception. */
export function checkSqliteStore(db: Db, file: string): StoreCheckReport {
  const errors: string[] = [];
  const attempt = <T>(what: string, f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
      return fallback;
    }
  };
  const integrity = attempt(
    'integrity_check',
    () => (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check),
    [] as string[],
  );
  const names = attempt(
    'schema',
    () =>
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all() as string[],
    [] as string[],
  );
  const tables: Record<string, number> = {};
  for (const n of names)
    tables[n] = attempt(
      `count ${n}`,
      () =>
        Number(
          db
            .prepare(`SELECT count(*) FROM "${n.replace(/"/g, '""')}"`)
            .pluck()
            .get(),
        ),
      -1,
    );
  const hasSessions = names.includes('sessions') && names.includes('gaps');
  const gapCounts = new Map<number, { gaps: number; open: number }>();
  if (hasSessions) {
    const rows = attempt(
      'gaps',
      () =>
        db
          .prepare(
            'SELECT session_id, count(*) AS n, sum(end_ts IS NULL) AS open FROM gaps GROUP BY session_id',
          )
          .all() as Array<{ session_id: number; n: number; open: number }>,
      [],
    );
    for (const r of rows) gapCounts.set(r.session_id, { gaps: r.n, open: r.open });
  }
  const sessions = hasSessions ? attempt('sessions', () => listSessions(db), []) : [];
  // Layout v2 marks a value stored as raw doubles in its first unit's format bits (tickLevelCodec.ts: 2 = raw).
  const offGrid = new Map<number, number>();
  if (hasSessions && names.includes('l2_updates') && hasColumn(db, 'l2_updates', 'levels'))
    for (const r of attempt(
      'off-grid messages',
      () =>
        db
          .prepare(
            "SELECT session_id, count(*) AS n FROM l2_updates WHERE typeof(levels) = 'text' AND (unicode(levels) & 3) = 2 GROUP BY session_id",
          )
          .all() as Array<{ session_id: number; n: number }>,
      [],
    ))
      offGrid.set(r.session_id, r.n);
  const allIntegrity = [...integrity, ...errors];
  return {
    file,
    integrity: allIntegrity,
    ok: errors.length === 0 && integrity.length === 1 && integrity[0] === 'ok',
    fileBytes: fileBytes(file),
    walBytes: fileBytes(`${file}-wal`),
    schemaVersions: attempt('schema_migrations', () => appliedVersions(db), []),
    tables,
    sessions: sessions.map((s) =>
      checkedSession(
        s,
        gapCounts.get(s.id)?.gaps ?? 0,
        gapCounts.get(s.id)?.open ?? 0,
        offGrid.get(s.id) ?? 0,
      ),
    ),
  };
}

function hasColumn(db: Db, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[]).includes(
    column,
  );
}
