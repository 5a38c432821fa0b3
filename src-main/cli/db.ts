// `l2desk db check --db FILE [--json]` (integrity, counts, sizes, sessions and gaps) and
// `l2desk db prune --db FILE [--days N]` (retention of raw market data, store.retention_days by default) and
// `l2desk db quality --db FILE [--session ID] [--json]` (data-quality report of stored sessions).
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { limitsFromConfig, type PlausibilityLimits } from '../book/plausibility.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { qualityWallClock, SessionQuality, type QualityReport } from '../quality/sessionQuality.ts';
import { eachEvent, openSessionStore, type SessionStore } from '../store/sessionStore.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import type { SessionInfo, StoreCheckReport } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'database maintenance: `db check`, `db prune`, `db quality`';

const USAGE = `usage: l2desk db check [--db FILE|clickhouse://HOST:PORT/DATABASE] [--json]
       l2desk db prune [--db FILE|clickhouse://HOST:PORT/DATABASE] [--days N] [--whole-days]   (default: store.retention_days)
       l2desk db quality [--db FILE|clickhouse://HOST:PORT/DATABASE] [--session ID] [--silence 5s] [--json]
  prune: --whole-days (ClickHouse) drops whole day partitions only and runs no delete mutation (which rewrites the
  day's data): up to a day more is kept; what a collector does as it records. An SQLite file always cuts exactly.
  quality: replays each session (or --session) and reports silences, feed latency, sequence breaks and the time the
  book was invalid, crossed books, spread, timestamps running backwards, duplicated trades and trades printing
  through the book, implausible values (plausibility.*) and refusals stored while recording; exit code 1 when a
  session has findings.`;

export type DbReport = StoreCheckReport;

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;
/** The pruned sessions' cached features, built on data now gone, are deleted with it. */
const cacheNote = (n: number) =>
  n > 0
    ? `; ${n} cached feature ${n === 1 ? 'entry' : 'entries'} of those sessions deleted (rebuilt when next used)`
    : '';
const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z'));

function printReport(r: DbReport): void {
  // A ClickHouse store has no file, WAL or migrations: its size is its parts on the server's (or shards') disks.
  const size = isClickHouseUrl(r.file)
    ? `${mb(r.fileBytes)} on the ${/[?&]cluster=/.test(r.file) ? "shards'" : "server's"} disk`
    : `file ${mb(r.fileBytes)}, WAL ${mb(r.walBytes)}; schema ${r.schemaVersions.join(',') || 'none'}`;
  console.log(`${r.file}: integrity ${r.ok ? 'ok' : 'FAILED'}; ${size}`);
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
export async function sessionQuality(
  store: SessionStore,
  s: SessionInfo,
  silenceMs?: number,
  plausibility?: PlausibilityLimits,
): Promise<QualityReport> {
  const q = new SessionQuality(s.tickSize, { silenceMs, plausibility, nowMs: qualityWallClock(s.source) });
  await eachEvent(store.read(s.id), (ev) => q.onEvent(ev));
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
  const args = Args.of(argv, ['json', 'help', 'whole-days']);
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
    let store: SessionStore;
    try {
      // No migration: check must work on a database from an older or newer L2 Desk, and must not write.
      store = await openSessionStore(file, { migrate: false });
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
      const r: DbReport = await store.check();
      if (args.bool('json')) console.log(JSON.stringify(r));
      else printReport(r);
      return r.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  }
  if (sub === 'prune') {
    args.rejectUnknown(['db', 'days', 'whole-days', 'config', 'help']);
    const days = args.num('days') ?? config.store.retention_days;
    if (!(days >= 0)) throw new UsageError('--days must be a non-negative number');
    if (days === 0) {
      console.log('retention is 0 days (keep everything): nothing to prune; pass --days N');
      return 0;
    }
    const store = await openSessionStore(file);
    try {
      const r = await store.prune({ days, now: Date.now(), wholeDays: args.bool('whole-days') });
      console.log(
        `pruned raw data received before ${iso(r.cutoff)}: ${r.l2Deleted} L2 updates, ${r.tradesDeleted} trades ` +
          `from ${r.sessionsTouched.length} session(s) in ${store.name}${r.space ? `; ${r.space}` : ''}` +
          cacheNote(r.featureCacheDeleted) +
          // Said because the session's first message is now one the exchange did not send as such.
          (r.checkpoints > 0
            ? `; ${r.checkpoints} session(s) spanning the cutoff now start at a snapshot of their book there`
            : ''),
      );
      return 0;
    } finally {
      await store.close();
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
    // Not migrated (read-only use): an empty file or another program's is refused as holding no sessions.
    const store = await openSessionStore(file, { migrate: false });
    try {
      const sid = args.num('session');
      const sessions =
        sid === undefined ? await store.list() : [await store.get(sid)].filter((x) => x !== undefined);
      if (sessions.length === 0) {
        console.error(
          sid === undefined ? `no sessions in ${store.name}` : `no session ${sid} in ${store.name}`,
        );
        return 1;
      }
      const limits = limitsFromConfig(config.plausibility);
      const reports: (QualityReport & { session: number; symbol: string })[] = [];
      for (const s of sessions)
        reports.push({
          session: s.id,
          symbol: s.symbol,
          ...(await sessionQuality(store, s, silenceMs, limits)),
        });
      if (args.bool('json')) console.log(JSON.stringify({ file: store.name, sessions: reports }));
      else sessions.forEach((s, i) => printQuality(s, reports[i]));
      return reports.some((r) => r.findings.length > 0) ? 1 : 0;
    } finally {
      await store.close();
    }
  }
  throw new UsageError(`unknown db subcommand "${sub}"\n${USAGE}`);
}
