// `l2desk export --db FILE --session ID|all --format parquet --out DIR`: writes stored sessions as Parquet files
// (book updates, trades, gaps, features) plus manifest.json, for DuckDB, Polars, Spark or pandas.
import { parseDuration } from '../../src-shared/duration.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { writeAtomically } from '../export/exportDir.ts';
import { openSessionStore, type SessionStore } from '../store/sessionStore.ts';
import { EXPORT_FILES, EXPORT_FORMAT, exportSessions, type ExportManifest } from '../export/sessionExport.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import type { SessionInfo } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'write stored sessions as Parquet files (book updates, trades, gaps, features)';

const USAGE = `usage: l2desk export --out DIR [--db FILE|clickhouse://HOST:PORT/DB] [--session ID|ID,ID|all] [--format parquet] [--force]
                     [--no-features] [--decision-interval 1000ms] [--row-group 100000] [--quiet] [--config FILE]
  --out        directory to create: book_updates.parquet (one row per level change), trades.parquet, gaps.parquet,
               features.parquet and manifest.json. Written beside it first and moved in at the end, so a failed
               or cancelled export leaves nothing behind.
  --session    session id, several ids, or all (default: the latest session)
  --format     parquet (the only format)
  --force      replace DIR when it holds a previous export (never a directory of other files)
  --no-features  skip features.parquet (it replays each session through the feature engine: the slow part)
  --decision-interval  sampling period of features.parquet (default: config features.decision_interval)
  --row-group  rows per Parquet row group (default 100000): what the export holds in memory per file
  Times are INT64 milliseconds since the epoch annotated TIMESTAMP(MILLIS, UTC); prices and sizes are DOUBLE.`;

const KNOWN = [
  'db',
  'session',
  'format',
  'out',
  'force',
  'no-features',
  'decision-interval',
  'row-group',
  'quiet',
  'config',
  'help',
];

async function pickSessions(src: SessionStore, spec: string | undefined): Promise<SessionInfo[]> {
  const none = `no sessions in ${src.name}; record one with \`l2desk collect\` or \`l2desk import\``;
  if (spec === undefined) {
    const s = await src.latest();
    if (!s) throw new Error(none);
    return [s];
  }
  if (spec === 'all') {
    const all = await src.list();
    if (all.length === 0) throw new Error(none);
    return all;
  }
  const ids = spec.split(',').map((t) => {
    const n = Number(t.trim());
    if (t.trim() === '' || !Number.isSafeInteger(n) || n <= 0)
      throw new UsageError(`--session takes a session id such as 3, ids such as 3,4, or all; got "${spec}"`);
    return n;
  });
  const out: SessionInfo[] = [];
  for (const id of new Set(ids)) {
    const s = await src.get(id);
    if (!s)
      throw new Error(
        `no session ${id} in ${src.name}; list sessions with \`l2desk db check --db ${src.name}\``,
      );
    out.push(s);
  }
  return out;
}

function positiveInt(args: Args, key: string): number | undefined {
  const v = args.num(key);
  if (v !== undefined && (!Number.isInteger(v) || v <= 0))
    throw new UsageError(`--${key} must be a positive integer, got "${args.str(key)}"`);
  return v;
}

function report(out: string, m: ExportManifest, featureNote: string): string {
  const n = m.sessions.reduce((a, s) => a + s.bookMessages + s.tradeMessages, 0);
  const who =
    m.sessions.length === 1
      ? (() => {
          const s = m.sessions[0];
          return `session ${s.id} (${s.source} ${s.symbol} ${s.category}, depth ${s.depth}, tick ${s.tickSize})`;
        })()
      : `${m.sessions.length} sessions (${m.sessions.map((s) => s.id).join(', ')})`;
  const f = m.files;
  const row = (name: string, rows: number | null, note = '') =>
    `  ${name.padEnd(22)} ${rows === null ? '' : `${rows} rows`}${note}`;
  return [
    `exported ${who}, ${n} messages, to ${out}`,
    row(f.bookUpdates.file, f.bookUpdates.rows),
    row(f.trades.file, f.trades.rows),
    row(f.gaps.file, f.gaps.rows),
    f.features
      ? row(f.features.file, f.features.rows, `: ${featureNote}`)
      : `  ${EXPORT_FILES.features.padEnd(22)} not written: ${featureNote}`,
    row(EXPORT_FILES.manifest, null, 'session info, time spans, row counts, feature set'),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['force', 'no-features', 'quiet', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const format = args.str('format') ?? 'parquet';
  if (format !== 'parquet') throw new UsageError(`--format must be parquet, got "${format}"`);
  const out = args.req('out');
  const overrides: Record<string, unknown> = {};
  if (args.str('db') !== undefined) overrides.db = args.req('db');
  const every = args.str('decision-interval');
  if (every !== undefined) {
    // A bare number is ms; a duration such as 1s or 500ms is taken as written.
    let ms = NaN;
    try {
      ms = parseDuration(every, 'ms');
    } catch {
      // reported below
    }
    if (!(ms > 0))
      throw new UsageError(
        `--decision-interval must be a positive duration such as 1000ms or 1s, got "${every}"`,
      );
    overrides['features.decision_interval'] = `${ms}ms`;
  }
  const config = loadConfig({ configFile: args.str('config'), overrides });
  const rowGroupSize = positiveInt(args, 'row-group');
  const withFeatures = !args.bool('no-features');
  const quiet = args.bool('quiet');
  const sessionSpec = args.str('session');
  if (sessionSpec === 'true') throw new UsageError('--session needs a session id, ids, or all');

  const src = await openSessionStore(config.db);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sessions = await pickSessions(src, sessionSpec);
    for (const s of sessions)
      if (s.endedAt === null)
        console.error(
          `warning: session ${s.id} is still open (being collected, or its collector stopped without closing it): exporting what is stored now`,
        );
    const decisionIntervalMs = withFeatures ? config.features.decision_interval : undefined;
    let lastProgress = Date.now();
    const manifest = await writeAtomically(out, args.bool('force'), EXPORT_FORMAT, (tmp) =>
      exportSessions((id) => src.read(id), sessions, tmp, {
        decisionIntervalMs,
        feedLatencyMs: config.trading.feed_latency,
        rowGroupSize,
        signal: abort.signal,
        now: Date.now(),
        onProgress: (done, total) => {
          const t = Date.now();
          if (quiet || (t - lastProgress < 2000 && done < total)) return;
          lastProgress = t;
          const pct = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
          process.stderr.write(`export: ${done}/${total} messages${pct}\n`);
        },
      }),
    );
    const featureNote =
      decisionIntervalMs === undefined
        ? '--no-features'
        : `feature set ${FEATURE_SET.version} every ${decisionIntervalMs} ms, computed by replaying the session through the feature engine (no cached features)`;
    console.log(report(out, manifest, featureNote));
    return 0;
  } catch (e) {
    if (abort.signal.aborted) {
      console.error(`export cancelled: nothing written to ${out}`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await src.close();
  }
}
