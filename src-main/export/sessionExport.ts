// Writes stored sessions as Parquet files in a directory, in one streaming pass over the store's session reader:
// book_updates (one row per level change), trades, gaps, optionally the running feature set sampled every
// decision interval, and manifest.json. Rows follow arrival order; `msg_index` (per session) orders book updates,
// trades and gaps against each other.
import fs from 'node:fs';
import path from 'node:path';
import { FEATURE_SET } from '../features/featureSet.ts';
import type { StoredEvent } from '../store/sessionReader.ts';
import type { SessionInfo } from '../store/sessions.ts';
import { FeatureSampler } from './featureSampler.ts';
import { ParquetTable, type Cell, type ColumnSpec } from './parquetTable.ts';

export const EXPORT_FORMAT = 'l2desk-parquet';
export const EXPORT_FORMAT_VERSION = 1;

export const BOOK_UPDATE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'session_id', kind: 'int64' },
  { name: 'msg_index', kind: 'int64' },
  { name: 'recv_ts', kind: 'timestamp' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'cts', kind: 'timestamp', nullable: true },
  { name: 'u', kind: 'int64' },
  { name: 'seq', kind: 'int64' },
  { name: 'is_snapshot', kind: 'bool' },
  // Null on the one row kept for a message that changes no level (its u still counts for gap checks).
  { name: 'side', kind: 'string', nullable: true },
  { name: 'level', kind: 'int32', nullable: true },
  { name: 'price', kind: 'double', nullable: true },
  { name: 'size', kind: 'double', nullable: true },
];

export const TRADE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'session_id', kind: 'int64' },
  { name: 'msg_index', kind: 'int64' },
  { name: 'recv_ts', kind: 'timestamp' },
  { name: 'msg_ts', kind: 'timestamp' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'side', kind: 'string' },
  { name: 'price', kind: 'double' },
  { name: 'size', kind: 'double' },
  { name: 'trade_id', kind: 'string' },
  { name: 'block_trade', kind: 'bool' },
  { name: 'seq', kind: 'int64' },
];

export const GAP_COLUMNS: readonly ColumnSpec[] = [
  { name: 'session_id', kind: 'int64' },
  { name: 'msg_index', kind: 'int64' },
  { name: 'reason', kind: 'string' },
  { name: 'start_ts', kind: 'timestamp' },
  { name: 'end_ts', kind: 'timestamp', nullable: true },
  { name: 'detail', kind: 'string' },
];

export const FEATURE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'session_id', kind: 'int64' },
  { name: 'ts', kind: 'timestamp' },
  ...FEATURE_SET.names.map((name): ColumnSpec => ({ name, kind: 'double' })),
];

/** A session's stored events in arrival order, from whichever store backend holds it (SQLite or ClickHouse). */
export type SessionEvents = (sessionId: number) => Iterable<StoredEvent> | AsyncIterable<StoredEvent>;

export interface ExportOptions {
  /** Sample the running feature set every this many ms (config features.decision_interval); omit to skip features. */
  decisionIntervalMs?: number;
  /** Local time of messages without a receive stamp = exchange time + this (config trading.feed_latency). */
  feedLatencyMs?: number;
  rowGroupSize?: number;
  /** Called now and then with the messages read so far (all sessions) and the total stored. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches: an aborted export throws and the caller discards the directory. */
  signal?: AbortSignal;
  /** Export time recorded in the manifest (ms). */
  now?: number;
}

export interface FileSummary {
  file: string;
  rows: number;
}

export interface SessionSummary {
  id: number;
  source: string;
  symbol: string;
  category: string;
  depth: number;
  tickSize: string;
  seed: number | null;
  startedAt: number;
  endedAt: number | null;
  /** Receive-time and exchange-time spans of the exported data (ms), null when the session is empty. */
  firstRecvTs: number | null;
  lastRecvTs: number | null;
  firstTs: number | null;
  lastTs: number | null;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  bookUpdateRows: number;
  featureRows: number | null;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  exportedAt: string;
  /** Time columns are INT64 ms since the epoch, annotated TIMESTAMP(MILLIS, UTC). */
  timeUnit: 'ms';
  sessions: SessionSummary[];
  files: { bookUpdates: FileSummary; trades: FileSummary; gaps: FileSummary; features: FileSummary | null };
  /** How features.parquet was made, or null when it was not written. */
  features: {
    featureSetVersion: string;
    names: readonly string[];
    decisionIntervalMs: number;
    /**
     * Decision times are on the local clock (receive stamps; exchange time + feedLatencyMs without them), on the
     * grid the Engine decides on and training samples (engine/decisionGrid.ts).
     */
    clock: 'local';
    feedLatencyMs: number;
    method: 'replayed';
  } | null;
}

const FILES = {
  bookUpdates: 'book_updates.parquet',
  trades: 'trades.parquet',
  gaps: 'gaps.parquet',
  features: 'features.parquet',
  manifest: 'manifest.json',
} as const;
export { FILES as EXPORT_FILES };

/** Messages between progress calls and abort checks (the event loop gets a turn there, so Ctrl-C lands). */
const BATCH = 2_000;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Exports `sessions` into `dir` (which must exist and be empty: see exportDir.ts for the atomic wrapper). */
export async function exportSessions(
  read: SessionEvents,
  sessions: readonly SessionInfo[],
  dir: string,
  opts: ExportOptions = {},
): Promise<ExportManifest> {
  const rowGroupSize = opts.rowGroupSize;
  const metadata = {
    'l2desk.format': `${EXPORT_FORMAT}/${EXPORT_FORMAT_VERSION}`,
    'l2desk.sessions': sessions.map((s) => s.id).join(','),
  };
  const table = (file: string, columns: readonly ColumnSpec[], extra: Record<string, string> = {}) =>
    new ParquetTable(path.join(dir, file), columns, { rowGroupSize, metadata: { ...metadata, ...extra } });
  const books = table(FILES.bookUpdates, BOOK_UPDATE_COLUMNS);
  const trades = table(FILES.trades, TRADE_COLUMNS);
  const gaps = table(FILES.gaps, GAP_COLUMNS);
  const every = opts.decisionIntervalMs;
  const features =
    every === undefined
      ? null
      : table(FILES.features, FEATURE_COLUMNS, {
          'l2desk.feature_set': FEATURE_SET.version,
          'l2desk.decision_interval_ms': String(every),
        });
  const total = sessions.reduce((n, s) => n + s.messages, 0);
  let done = 0;
  const summaries: SessionSummary[] = [];
  const bookRow: Cell[] = new Array<Cell>(BOOK_UPDATE_COLUMNS.length);
  const tradeRow: Cell[] = new Array<Cell>(TRADE_COLUMNS.length);
  const featRow: Cell[] = new Array<Cell>(FEATURE_COLUMNS.length);

  for (const s of sessions) {
    opts.signal?.throwIfAborted();
    const sum: SessionSummary = {
      id: s.id,
      source: s.source,
      symbol: s.symbol,
      category: s.category,
      depth: s.depth,
      tickSize: s.tickSize,
      seed: s.seed,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      firstRecvTs: null,
      lastRecvTs: null,
      firstTs: null,
      lastTs: null,
      bookMessages: 0,
      tradeMessages: 0,
      trades: 0,
      gaps: 0,
      bookUpdateRows: 0,
      featureRows: features ? 0 : null,
    };
    const booksBefore = books.rows;
    featRow[0] = s.id;
    const sampler =
      features && every !== undefined
        ? new FeatureSampler(
            { tickSize: s.tickSize, decisionIntervalMs: every, feedLatencyMs: opts.feedLatencyMs },
            (t, row) => {
              featRow[1] = t;
              for (let i = 0; i < row.length; i++) featRow[i + 2] = row[i];
              features.push(featRow);
              sum.featureRows = (sum.featureRows ?? 0) + 1;
            },
          )
        : null;
    let msgIndex = 0;
    const span = (recvTs: number, ts: number) => {
      if (sum.firstRecvTs === null || recvTs < sum.firstRecvTs) sum.firstRecvTs = recvTs;
      if (sum.lastRecvTs === null || recvTs > sum.lastRecvTs) sum.lastRecvTs = recvTs;
      if (sum.firstTs === null || ts < sum.firstTs) sum.firstTs = ts;
      if (sum.lastTs === null || ts > sum.lastTs) sum.lastTs = ts;
    };

    /**
     * Writes one event's rows (a gap takes the index of the message after it); true when another batch of messages
     * is complete: time for progress and an abort check.
     */
    const onEvent = (ev: StoredEvent): boolean => {
      sampler?.push(ev);
      if (ev.kind === 'gap') {
        const g = ev.gap;
        gaps.push([s.id, msgIndex, g.reason, g.startTs, g.endTs, g.detail]);
        sum.gaps++;
        return false;
      }
      span(ev.recvTs, ev.ts);
      if (ev.kind === 'book') {
        sum.bookMessages++;
        bookRow[0] = s.id;
        bookRow[1] = msgIndex;
        bookRow[2] = ev.recvTs;
        bookRow[3] = ev.ts;
        bookRow[4] = ev.cts === 0 ? null : ev.cts;
        bookRow[5] = ev.u;
        bookRow[6] = ev.seq;
        bookRow[7] = ev.type === 'snapshot';
        const before = books.rows;
        for (const [side, levels] of [
          ['bid', ev.bids],
          ['ask', ev.asks],
        ] as const) {
          for (let i = 0; i < levels.length; i++) {
            bookRow[8] = side;
            bookRow[9] = i;
            bookRow[10] = levels[i][0];
            bookRow[11] = levels[i][1];
            books.push(bookRow);
          }
        }
        if (books.rows === before) {
          bookRow[8] = bookRow[9] = bookRow[10] = bookRow[11] = null;
          books.push(bookRow);
        }
      } else {
        sum.tradeMessages++;
        for (const t of ev.trades) {
          tradeRow[0] = s.id;
          tradeRow[1] = msgIndex;
          tradeRow[2] = ev.recvTs;
          tradeRow[3] = ev.ts;
          tradeRow[4] = t.ts;
          tradeRow[5] = t.side;
          tradeRow[6] = t.price;
          tradeRow[7] = t.size;
          tradeRow[8] = t.id;
          tradeRow[9] = t.blockTrade;
          tradeRow[10] = t.seq;
          trades.push(tradeRow);
          sum.trades++;
        }
      }
      msgIndex++;
      done++;
      return done % BATCH === 0;
    };
    const batchDone = async () => {
      opts.onProgress?.(done, total);
      await yieldToEventLoop();
      opts.signal?.throwIfAborted();
    };
    const events = read(s.id);
    // A synchronous reader (SQLite) is walked without a promise per event; an asynchronous one (ClickHouse) awaited.
    if (Symbol.asyncIterator in events) {
      for await (const ev of events) if (onEvent(ev)) await batchDone();
    } else {
      for (const ev of events) if (onEvent(ev)) await batchDone();
    }
    sum.bookUpdateRows = books.rows - booksBefore;
    summaries.push(sum);
  }
  opts.onProgress?.(done, total);
  for (const t of [books, trades, gaps, features]) t?.finish();

  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: new Date(opts.now ?? Date.now()).toISOString(),
    timeUnit: 'ms',
    sessions: summaries,
    files: {
      bookUpdates: { file: FILES.bookUpdates, rows: books.rows },
      trades: { file: FILES.trades, rows: trades.rows },
      gaps: { file: FILES.gaps, rows: gaps.rows },
      features: features ? { file: FILES.features, rows: features.rows } : null,
    },
    features:
      every === undefined
        ? null
        : {
            featureSetVersion: FEATURE_SET.version,
            names: FEATURE_SET.names,
            decisionIntervalMs: every,
            clock: 'local',
            feedLatencyMs: opts.feedLatencyMs ?? 0,
            method: 'replayed',
          },
  };
  fs.writeFileSync(path.join(dir, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
