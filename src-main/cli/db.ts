// `l2desk db check --db FILE [--json]` (integrity, counts, sizes, sessions and gaps) and
// `l2desk db prune --db FILE [--days N]` (retention of raw market data, store.retention_days by default) and
// `l2desk db quality --db FILE [--session ID] [--json]` (data-quality report of stored sessions).
import fs from 'node:fs';
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { limitsFromConfig, type PlausibilityLimits } from '../book/plausibility.ts';
import { loadConfig } from '../config/loadConfig.ts';
import * as chCatalogue from '../store/clickhouse/catalogue.ts';
import { checkClickHouse } from '../store/clickhouse/check.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { pruneClickHouse } from '../store/clickhouse/prune.ts';
import { readSession as readClickHouse } from '../store/clickhouse/reader.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { appliedVersions, openDb, type Db } from '../store/db.ts';
import { qualityWallClock, SessionQuality, type QualityReport } from '../quality/sessionQuality.ts';
import { pruneRawData } from '../store/retention.ts';
import { readSession } from '../store/sessionReader.ts';
import {
  checkedSession,
  getSession,
  listSessions,
  type SessionInfo,
  type StoreCheckReport,
} from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'database maintenance: `db check`, `db prune`, `db quality`';

const USAGE = `usage: l2desk db check [--db FILE|clickhouse://HOST:PORT/DATABASE] [--json]
       l2desk db prune [--db FILE|clickhouse://HOST:PORT/DATABASE] [--days N]     (default: store.retention_days)
       l2desk db quality [--db FILE|clickhouse://HOST:PORT/DATABASE] [--session ID] [--silence 5s] [--json]
  quality: replays each session (or --session) and reports silences, feed latency, sequence breaks and the time the
  book was invalid, crossed books, spread, timestamps running backwards, duplicated trades and trades printing
  through the book, implausible values (plausibility.*) and refusals stored while recording; exit code 1 when a
  session has findings.`;

export type DbReport = StoreCheckReport;

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
    fileBytes: size(file),
    walBytes: size(`${file}-wal`),
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

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;
/** The pruned sessions' cached features, built on data now gone, are deleted with it. */
const cacheNote = (n: number) =>
  n > 0
    ? `; ${n} cached feature ${n === 1 ? 'entry' : 'entries'} of those sessions deleted (rebuilt when next used)`
    : '';
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
        `${s.gaps} gap${s.gaps === 1 ? '' : 's'}${s.openGaps ? ` (${s.openGaps} open)` : ''}` +
        (s.offGridMessages > 0
          ? `; ${s.offGridMessages} book msgs off any decimal grid (kept exact as doubles, larger on disk)`
          : ''),
    );
  }
}

/** Replays one stored session through the quality accumulator. */
export function sessionQuality(
  db: Db,
  s: SessionInfo,
  silenceMs?: number,
  plausibility?: PlausibilityLimits,
): QualityReport {
  const q = new SessionQuality(s.tickSize, { silenceMs, plausibility, nowMs: qualityWallClock(s.source) });
  for (const ev of readSession(db, s.id)) q.onEvent(ev);
  return q.report();
}

/** sessionQuality over a ClickHouse store's session (its reader is asynchronous). */
async function clickHouseSessionQuality(
  ch: ClickHouseStore,
  s: SessionInfo,
  silenceMs?: number,
  plausibility?: PlausibilityLimits,
): Promise<QualityReport> {
  const q = new SessionQuality(s.tickSize, { silenceMs, plausibility, nowMs: qualityWallClock(s.source) });
  for await (const ev of readClickHouse(ch, s.id)) q.onEvent(ev);
  return q.report();
}

const q3 = (x: { p50: number; p95: number; p99: number; max: number } | null, unit: string) =>
  x ? `p50 ${x.p50} p95 ${x.p95} p99 ${x.p99} max ${x.max} ${unit}` : 'n/a';

function printQuality(s: SessionInfo, r: QualityReport): void {
  console.log(
    `session ${s.id}: ${s.source} ${s.symbol} depth ${s.depth} tick ${r.tickSize}; ${iso(r.firstRecvTs)} .. ${iso(r.lastRecvTs)} ` +
      `(${formatDuration(r.spanMs)}); ${r.bookMessages} book + ${r.tradeMessages} trade msgs (${r.messagesPerSec.toFixed(1)}/s), ` +
      `${r.snapshots} snapshot(s), ${r.restarts} restart(s)`,
  );
  console.log(
    `  feed latency ${r.latencyMs ? q3(r.latencyMs, 'ms') : `n/a (no separate receive clock: ${s.source === 'import' ? 'imported data' : `${s.source} data on one clock`})`}; ` +
      `silences > ${r.silence.thresholdMs / 1000} s: ${r.silence.count} (longest ${(r.silence.maxMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  sequence breaks ${r.replayGaps} (stored gaps ${r.storedGaps}, ${formatDuration(r.storedGapMs)}), book invalid ${(r.invalidShare * 100).toFixed(2)}% ` +
      `(${formatDuration(r.invalidMs)}), crossed ${r.crossed}; spread ${q3(r.spreadTicks, 'ticks')}`,
  );
  console.log(
    `  timestamps backwards: book ${r.bookTsBackwards}, trades ${r.tradeTsBackwards}; duplicated trade ids ${r.duplicateTradeIds}; ` +
      `trades through the book ${r.tradesThroughBook}`,
  );
  const imp = r.implausible;
  console.log(
    `  implausible values: ${imp.bookMessages} book message(s), ${imp.trades} trade(s) ` +
      `(price ${imp.byKind.price}, size ${imp.byKind.size}, time ${imp.byKind.time}, tick ${imp.byKind.tick}); ` +
      `refused while recording: ${r.refused.oversize} oversize, ${r.refused.implausible} implausible`,
  );
  if (r.findings.length === 0) console.log('  no findings');
  for (const f of r.findings) console.log(`  finding: ${f}`);
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
    if (isClickHouseUrl(file)) {
      const ch = await openClickHouse(file, { mustExist: true });
      try {
        const r: DbReport = await checkClickHouse(ch);
        if (args.bool('json')) console.log(JSON.stringify(r));
        else printReport(r);
        return r.ok ? 0 : 1;
      } finally {
        await ch.close();
      }
    }
    // No migration: check must work on a database from an older or newer L2 Desk, and must not write.
    let db: Db;
    try {
      db = openDb(file, { mustExist: true, migrate: false });
    } catch (e) {
      // Too damaged to open: that is the check's answer (the open error's advice would be to run this check).
      if (!/ is corrupt: /.test((e as Error).message)) throw e;
      console.error(
        `${file}: integrity FAILED, the file cannot be opened (${(e as Error).message.replace(/; run .*$/, '')}); ` +
          `restore a backup, or salvage rows with \`sqlite3 ${file} .recover\``,
      );
      return 1;
    }
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
    if (isClickHouseUrl(file)) {
      const ch = await openClickHouse(file, { mustExist: true });
      try {
        const r = await pruneClickHouse(ch, { days, now: Date.now() });
        const dropped = Object.values(r.droppedPartitions).reduce((n, p) => n + p.length, 0);
        console.log(
          `pruned raw data received before ${iso(r.cutoff)}: ${r.l2Deleted} L2 updates, ${r.tradesDeleted} trades ` +
            `from ${r.sessionsTouched.length} session(s) in ${ch.name}` +
            (dropped > 0 ? ` (${dropped} day partition(s) dropped whole)` : '') +
            cacheNote(r.featureCacheDeleted),
        );
        return 0;
      } finally {
        await ch.close();
      }
    }
    const db = openDb(file, { mustExist: true });
    try {
      const before = size(file) + size(`${file}-wal`);
      const r = pruneRawData(db, { days, now: Date.now() });
      console.log(
        `pruned raw data received before ${iso(r.cutoff)}: ${r.l2Deleted} L2 updates, ${r.tradesDeleted} trades ` +
          `from ${r.sessionsTouched.length} session(s); file+WAL ${mb(before)} -> ${mb(size(file) + size(`${file}-wal`))}` +
          ' (freed pages are reused; VACUUM to shrink the file)' +
          cacheNote(r.featureCacheDeleted),
      );
      return 0;
    } finally {
      db.close();
    }
  }
  if (sub === 'quality') {
    args.rejectUnknown(['db', 'session', 'silence', 'json', 'config', 'help']);
    let silenceMs: number | undefined;
    if (args.str('silence') !== undefined) {
      try {
        silenceMs = parseDuration(args.req('silence'), 's');
      } catch (e) {
        throw new UsageError(`--silence: ${(e as Error).message}`);
      }
      if (!(silenceMs > 0)) throw new UsageError('--silence must be > 0');
    }
    if (isClickHouseUrl(file)) {
      const ch = await openClickHouse(file, { mustExist: true });
      try {
        const sid = args.num('session');
        const sessions =
          sid === undefined
            ? await chCatalogue.listSessions(ch)
            : [await chCatalogue.getSession(ch, sid)].filter((x) => x !== undefined);
        if (sessions.length === 0) {
          console.error(sid === undefined ? `no sessions in ${ch.name}` : `no session ${sid} in ${ch.name}`);
          return 1;
        }
        const limits = limitsFromConfig(config.plausibility);
        const reports: (QualityReport & { session: number; symbol: string })[] = [];
        for (const s of sessions)
          reports.push({
            session: s.id,
            symbol: s.symbol,
            ...(await clickHouseSessionQuality(ch, s, silenceMs, limits)),
          });
        if (args.bool('json')) console.log(JSON.stringify({ file: ch.name, sessions: reports }));
        else sessions.forEach((s, i) => printQuality(s, reports[i]));
        return reports.some((r) => r.findings.length > 0) ? 1 : 0;
      } finally {
        await ch.close();
      }
    }
    const db = openDb(file, { mustExist: true, migrate: false });
    try {
      // Not migrated (read-only use): an empty file or another program's SQLite file has no sessions table.
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").get()) {
        console.error(`no sessions in ${file}: it holds no L2 Desk data (no sessions table)`);
        return 1;
      }
      const sid = args.num('session');
      const sessions =
        sid === undefined ? listSessions(db) : [getSession(db, sid)].filter((x) => x !== undefined);
      if (sessions.length === 0) {
        console.error(sid === undefined ? `no sessions in ${file}` : `no session ${sid} in ${file}`);
        return 1;
      }
      const reports = sessions.map((s) => ({
        session: s.id,
        symbol: s.symbol,
        ...sessionQuality(db, s, silenceMs, limitsFromConfig(config.plausibility)),
      }));
      if (args.bool('json')) console.log(JSON.stringify({ file, sessions: reports }));
      else sessions.forEach((s, i) => printQuality(s, reports[i]));
      return reports.some((r) => r.findings.length > 0) ? 1 : 0;
    } finally {
      db.close();
    }
  }
  throw new UsageError(`unknown db subcommand "${sub}"\n${USAGE}`);
}
