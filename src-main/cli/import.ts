// `l2desk import --db FILE FILE...`: imports Bybit v5 order-book and trade messages, one JSON per line
// (plain, .gz, or every entry of a .zip such as Bybit's `YYYY-MM-DD_SYMBOL_ob200.data.zip`), or Tardis.dev
// incremental_book_L2 / book_snapshot_N CSVs, streaming, as one session per (symbol, depth) per file; `--trades`
// merges a Bybit or Tardis trade CSV in. The work is in src-main/importer/.
import path from 'node:path';
import { limitsFromConfig } from '../book/plausibility.ts';
import { loadConfig, parseOverrideValue } from '../config/loadConfig.ts';
import { importFiles, type ImportResult } from '../importer/importFiles.ts';
import { tradeCsvKind } from '../importer/tradeCsv.ts';
import { openSessionStore } from '../store/sessionStore.ts';
import { Args, UsageError } from './args.ts';
import { safeText } from './safeText.ts';
import { CLEAR_LINE, writeControl } from './terminalGuard.ts';

export { importFiles } from '../importer/importFiles.ts';
export type {
  BadLine,
  ImportedSession,
  ImportOptions,
  ImportResult,
  TradeMergeResult,
} from '../importer/importFiles.ts';

export const summary =
  'import Bybit v5 order-book/trade JSON lines or Tardis.dev book CSVs (plain, .gz, .zip) as sessions; --trades merges a trade CSV';

const USAGE = `usage: l2desk import [--db FILE|clickhouse://HOST:PORT/DATABASE] [--tick-size 0.0001] [--category linear|spot] [--force] [--config FILE] FILE...
       l2desk import [options] BOOK_FILE --trades TRADES_FILE
  --db defaults to the config's db; a ClickHouse store is imported through a temporary SQLite file, then copied
  FILE: Bybit v5 messages, one JSON object per line, or a Tardis.dev
    incremental_book_L2 or book_snapshot_N CSV (told apart by the first line); plain, .gz or .zip (every entry is read)
  --force: import a file again although the same content was imported before (default: refused)
  --trades: a Bybit trade CSV (public.bybit.com/trading/...) or a Tardis.dev trades CSV, plain, .gz or .zip,
    merged by time into BOOK_FILE's sessions`;

const KNOWN = ['db', 'tick-size', 'category', 'config', 'quiet', 'help', 'trades', 'force'];

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report lines on a truncated zip and on a merged trade file (stderr). */
function notes(res: ImportResult): string[] {
  const out: string[] = [];
  for (const z of res.truncatedZips) {
    const read =
      z.complete.length > 0 ? `${plural(z.complete.length, 'complete entry')} read` : 'no complete entry';
    const cut = z.cutEntry
      ? `; entry ${z.cutEntry} was cut short (its whole lines before the cut were imported)`
      : '; no entry was cut (only the central directory is missing)';
    out.push(`warning: ${z.file} is a truncated zip: ${read}${cut}${z.stopped ? `; ${z.stopped}` : ''}`);
  }
  const t = res.trades;
  if (t) {
    const other = Object.entries(t.otherSymbols);
    out.push(
      `trades from ${path.basename(t.file)} (${t.order}): ${plural(t.merged, 'trade')} merged` +
        `, ${t.outsideSpan} outside the book data's time span dropped` +
        (other.length > 0
          ? `, ${other.reduce((n, [, k]) => n + k, 0)} of other symbols skipped (${other.map(([s, k]) => `${s} ${k}`).join(', ')})`
          : '') +
        (t.badRows > 0 ? `, ${plural(t.badRows, 'bad row')} skipped` : '') +
        (t.unknownSide ? `, ${plural(t.unknownSide, 'trade')} of unknown side skipped` : '') +
        (t.bookFileTradeMessages > 0
          ? `; ${plural(t.bookFileTradeMessages, 'publicTrade line')} of the book file ignored (--trades supplies the trades)`
          : ''),
    );
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['quiet', 'help', 'force']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const overrides: Record<string, unknown> = {};
  if (args.str('db')) overrides.db = args.str('db');
  if (args.str('category')) overrides.category = args.str('category');
  if (args.str('tick-size')) overrides.tick_size = parseOverrideValue(args.req('tick-size'));
  const config = loadConfig({ configFile: args.str('config'), overrides });
  const files = args.positionals;
  const trades = args.has('trades') ? args.req('trades') : undefined;
  // A CSV may be Tardis book data; a trade CSV (by its header) alone makes no usable session.
  for (const csv of files.filter((f) => /\.csv(\.gz|\.zip)?$/i.test(f))) {
    const kind = await tradeCsvKind(csv);
    if (kind)
      throw new UsageError(
        `${csv} looks like a ${kind === 'bybit' ? 'Bybit trade CSV' : 'Tardis trades CSV'}: trades alone make no ` +
          `usable session; merge it into its order-book file with: l2desk import BOOK_FILE --trades ${csv}`,
      );
  }
  if (files.length === 0)
    throw new UsageError(
      trades
        ? `--trades ${trades} needs the order-book file to merge into: l2desk import BOOK_FILE --trades ${trades}`
        : `no input files\n${USAGE}`,
    );
  if (trades && files.length > 1)
    throw new UsageError(`--trades merges into one order-book file; got ${files.length}: ${files.join(' ')}`);
  // A ClickHouse store: the importer writes a temporary SQLite file whose new sessions are then copied over.
  const store = await openSessionStore(config.db, { mustExist: false });
  const target = await store
    .importTarget()
    .catch((e: unknown) => store.close().then(() => Promise.reject(e)));
  const db = target.db;
  const quiet = args.bool('quiet');
  const t0 = performance.now();
  try {
    const tty = Boolean(process.stderr.isTTY);
    let lastReport = 0;
    const onProgress = (name: string, lines: number) => {
      const now = performance.now();
      if (quiet || now - lastReport < 1000) return;
      lastReport = now;
      const line = `importing ${path.basename(name)}: ${lines} lines, ${Math.round(lines / ((now - t0) / 1000))} lines/s`;
      // A name inside an archive is outside text: escaped, like every line below that names one.
      if (tty) writeControl(process.stderr, CLEAR_LINE);
      process.stderr.write(tty ? safeText(line) : `${safeText(line)}\n`);
    };
    const res = await importFiles(db, files, {
      tickSize: config.tick_size ?? undefined,
      category: config.category,
      plausibility: limitsFromConfig(config.plausibility),
      onProgress,
      trades,
      force: args.bool('force'),
    });
    if (tty && !quiet && lastReport > 0) writeControl(process.stderr, CLEAR_LINE);
    if (target.staged) {
      if (!res.tradesRejected)
        for (const s of res.sessions) {
          if (!quiet) process.stderr.write(`storing session ${s.symbol} in ${store.name}\n`);
          s.sessionId = await target.store(s.sessionId);
        }
      for (const d of res.duplicates) d.sessions = d.sessions.map((id) => target.storedId(id));
    }
    const secs = (performance.now() - t0) / 1000;
    for (const s of res.sessions) {
      console.log(
        safeText(
          `session ${s.sessionId}: ${s.symbol} from ${path.basename(s.source)}: depth ${s.depth}, tick ${s.tickSize}, ` +
            `${s.bookMessages} book + ${s.tradeMessages} trade messages, ${s.gaps} gap${s.gaps === 1 ? '' : 's'}`,
        ),
      );
    }
    if (res.badLines > 0) {
      console.error(`${res.badLines} bad line${res.badLines === 1 ? '' : 's'} skipped:`);
      for (const b of res.listedBadLines)
        console.error(safeText(`  ${b.source}${b.line > 0 ? `:${b.line}` : ''}: ${b.reason}`));
      if (res.badLines > res.listedBadLines.length)
        console.error(`  ... and ${res.badLines - res.listedBadLines.length} more`);
    }
    for (const n of notes(res)) console.error(safeText(n));
    for (const d of res.duplicates)
      console.error(
        safeText(d.file) +
          ` was imported before (same content) as ${d.sessions.length === 1 ? 'session' : 'sessions'} ` +
          `${d.sessions.join(', ')}: skipped. Add --force to import it again as new sessions.`,
      );
    if (res.tradesRejected) {
      console.error(safeText(`--trades ${trades}: ${res.tradesRejected}; nothing imported`));
      return 1;
    }
    const total = res.sessions.reduce((n, s) => n + s.bookMessages + s.tradeMessages, 0);
    if (!quiet)
      console.error(
        `imported ${total} messages from ${res.lines} lines in ${secs.toFixed(1)} s into ${store.name}`,
      );
    if (total === 0) {
      if (res.duplicates.length > 0 && res.duplicates.length === files.length) return 1;
      console.error('nothing could be imported');
      return 1;
    }
    return 0;
  } finally {
    target.dispose();
    await store.close();
  }
}
