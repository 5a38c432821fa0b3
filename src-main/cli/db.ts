// `l2desk db check --db FILE [--json]` (integrity, counts, sizes, sessions and gaps) and
// `l2desk db prune --db FILE [--days N]` (retention of raw market data, store.retention_days by default).
import fs from 'node:fs';
import { formatDuration } from '../../src-shared/duration.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { appliedVersions, openDb, type Db } from '../store/db.ts';
import { pruneRawData } from '../store/retention.ts';
import { listSessions } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'database maintenance: `db check`, `db prune`';

const USAGE = `usage: l2desk db check [--db FILE] [--json]
       l2desk db prune [--db FILE] [--days N]     (default: store.retention_days)`;

export interface DbReport {
  file: string;
  integrity: string[];
  ok: boolean;
  fileBytes: number;
  walBytes: number;
  schemaVersions: number[];
  tables: Record<string, number>;
  sessions: Array<{
    id: number;
    source: string;
    symbol: string;
    depth: number;
    tickSize: string;
    startedAt: number;
    endedAt: number | null;
    firstRecvTs: number | null;
    lastRecvTs: number | null;
    bookMessages: number;
    tradeMessages: number;
    trades: number;
    gaps: number;
    openGaps: number;
  }>;
}

const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);

/** Runs every check it can; a damaged file yields a report with ok = false rather than an exception. */
export function checkDb(db: Db, file: string): DbReport {
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
  const allIntegrity = [...integrity, ...errors];
  return {
    file,
    integrity: allIntegrity,
    ok: errors.length === 0 && integrity.length === 1 && integrity[0] === 'ok',
    fileBytes: size(file),
    walBytes: size(`${file}-wal`),
    schemaVersions: attempt('schema_migrations', () => appliedVersions(db), []),
    tables,
    sessions: sessions.map((s) => ({
      id: s.id,
      source: s.source,
      symbol: s.symbol,
      depth: s.depth,
      tickSize: s.tickSize,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      firstRecvTs: s.firstRecvTs,
      lastRecvTs: s.lastRecvTs,
      bookMessages: s.bookMessages,
      tradeMessages: s.tradeMessages,
      trades: s.trades,
      gaps: gapCounts.get(s.id)?.gaps ?? 0,
      openGaps: gapCounts.get(s.id)?.open ?? 0,
    })),
  };
}

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;
const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z'));

function printReport(r: DbReport): void {
  console.log(
    `${r.file}: integrity ${r.ok ? 'ok' : 'FAILED'}; file ${mb(r.fileBytes)}, WAL ${mb(r.walBytes)}; schema ${r.schemaVersions.join(',') || 'none'}`,
  );
  if (!r.ok) for (const line of r.integrity.slice(0, 20)) console.log(`  ${line}`);
  console.log(
    `tables: ${Object.entries(r.tables)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (r.sessions.length === 0) console.log('no sessions');
  for (const s of r.sessions) {
    const span =
      s.firstRecvTs !== null && s.lastRecvTs !== null ? formatDuration(s.lastRecvTs - s.firstRecvTs) : '0s';
    console.log(
      `session ${s.id}: ${s.source} ${s.symbol} depth ${s.depth} tick ${s.tickSize}; ${iso(s.firstRecvTs)} .. ${iso(s.lastRecvTs)} (${span})` +
        `${s.endedAt === null ? ' [not closed]' : ''}; ${s.bookMessages} book, ${s.tradeMessages} trade msgs (${s.trades} trades), ` +
        `${s.gaps} gap${s.gaps === 1 ? '' : 's'}${s.openGaps ? ` (${s.openGaps} open)` : ''}`,
    );
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  const sub = args.positionals[0];
  if (args.bool('help') || !sub) {
    console.log(USAGE);
    return sub || args.bool('help') ? 0 : 2;
  }
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: args.str('db') ? { db: args.str('db') } : {},
  });
  const file = config.db;
  if (sub === 'check') {
    args.rejectUnknown(['db', 'json', 'config', 'help']);
    // No migration: check must work on a database from an older or newer L2 Desk, and must not write.
    const db = openDb(file, { mustExist: true, migrate: false });
    try {
      const r = checkDb(db, file);
      if (args.bool('json')) console.log(JSON.stringify(r));
      else printReport(r);
      return r.ok ? 0 : 1;
    } finally {
      db.close();
    }
  }
  if (sub === 'prune') {
    args.rejectUnknown(['db', 'days', 'config', 'help']);
    const days = args.num('days') ?? config.store.retention_days;
    if (!(days >= 0)) throw new UsageError('--days must be a non-negative number');
    if (days === 0) {
      console.log('retention is 0 days (keep everything): nothing to prune; pass --days N');
      return 0;
    }
    const db = openDb(file, { mustExist: true });
    try {
      const before = size(file) + size(`${file}-wal`);
      const r = pruneRawData(db, { days, now: Date.now() });
      console.log(
        `pruned raw data received before ${iso(r.cutoff)}: ${r.l2Deleted} L2 updates, ${r.tradesDeleted} trades ` +
          `from ${r.sessionsTouched.length} session(s); file+WAL ${mb(before)} -> ${mb(size(file) + size(`${file}-wal`))}` +
          ' (freed pages are reused; VACUUM to shrink the file)',
      );
      return 0;
    } finally {
      db.close();
    }
  }
  throw new UsageError(`unknown db subcommand "${sub}"\n${USAGE}`);
}
