// Imports Bybit v5 order-book and trade messages, one JSON per line, or Tardis.dev incremental_book_L2 /
// book_snapshot_N CSV rows (told apart by the first line), streaming: one session per (symbol, depth) per input
// (a file or a zip entry). Optionally merges a trade CSV (Bybit's or Tardis') into the book data by exchange time.
// Bad lines are reported with their numbers and skipped.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { BookMessage, Category, MarketMessage, TradeMessage } from '../../src-shared/market.ts';
import type { PlausibilityLimits } from '../book/plausibility.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import type { Db } from '../store/db.ts';
import { importContentKey, sessionsWithContent } from './contentHash.ts';
import { openInputs, type TruncatedZip } from './inputs.ts';
import { LineSource, MAX_LINE, TOO_LONG } from './lineBatches.ts';
import { SessionStream, type ImportedSession, type StreamOptions } from './sessionStream.ts';
import { TardisBookReader, type TardisMessage } from './tardisBook.ts';
import { parseTardisHeader } from './tardisFormat.ts';
import { TradeCsvFeed } from './tradeCsv.ts';

export type { ImportedSession } from './sessionStream.ts';
export type { TruncatedZip } from './inputs.ts';

const LISTED_BAD_LINES = 20;

export interface BadLine {
  source: string;
  line: number;
  reason: string;
}

/** What became of a trade CSV merged into the book data (`trades` option). */
export interface TradeMergeResult {
  file: string;
  /** Well-formed rows read, and rows reported as bad. */
  rows: number;
  badRows: number;
  order: 'ascending' | 'descending';
  /** Trades written (each into every session of its symbol). */
  merged: number;
  /** Trades of a symbol of the book data but before its first or after its last book message. */
  outsideSpan: number;
  /** Trades of symbols without book data, per symbol. */
  otherSymbols: Record<string, number>;
  /** publicTrade messages of the book file skipped: the CSV supplies the trades. */
  bookFileTradeMessages: number;
  /** Tardis trades whose taker side is `unknown` (some exchanges): skipped; absent when none. */
  unknownSide?: number;
}

export interface ImportResult {
  sessions: ImportedSession[];
  badLines: number;
  listedBadLines: BadLine[];
  lines: number;
  /** Zips read without a central directory (cut short). */
  truncatedZips: TruncatedZip[];
  trades?: TradeMergeResult;
  /** The trade file could not be used (missing, wrong header): nothing was imported. */
  tradesRejected?: string;
  /** Files skipped because the same content was imported before (without `force`). */
  duplicates: { file: string; sessions: number[] }[];
}

export interface ImportOptions {
  tickSize?: string;
  category: Category;
  onBadLine?: (b: BadLine) => void;
  /** Called about every 50k lines with the input's name and lines read so far. */
  onProgress?: (name: string, lines: number) => void;
  /** A Bybit or Tardis trade CSV (plain, .gz or .zip) merged into the sessions of the (single) book file. */
  trades?: string;
  /** Plausibility limits (config `plausibility.*`); default DEFAULT_PLAUSIBILITY. */
  plausibility?: PlausibilityLimits;
  /** Import a file even when sessions of the same content exist (default: refuse it, listed in `duplicates`). */
  force?: boolean;
}

/** The merge of a trade CSV: the feed, the counts, and the trades not (yet) matched to a session. */
interface Merge {
  feed: TradeCsvFeed;
  result: TradeMergeResult;
  /** Per symbol: trades that found no session of their symbol when their time came. */
  unmatched: Map<string, number>;
  /** Symbols that had book data in some input. */
  bookSymbols: Set<string>;
}

/** Imports every input; one session per (symbol, depth) per file (per zip entry). */
export async function importFiles(
  db: Db,
  files: readonly string[],
  opts: ImportOptions,
): Promise<ImportResult> {
  const result: ImportResult = {
    sessions: [],
    badLines: 0,
    listedBadLines: [],
    lines: 0,
    truncatedZips: [],
    duplicates: [],
  };
  const onBad = (b: BadLine) => {
    result.badLines++;
    if (result.listedBadLines.length < LISTED_BAD_LINES) result.listedBadLines.push(b);
    opts.onBadLine?.(b);
  };
  let merge: Merge | undefined;
  if (opts.trades !== undefined) {
    if (files.length !== 1) throw new Error(`--trades merges into one book file; got ${files.length}`);
    const why = !fs.existsSync(opts.trades)
      ? 'no such file'
      : !fs.existsSync(files[0])
        ? `no book file ${files[0]}`
        : undefined;
    const feed = why ? null : await TradeCsvFeed.open(opts.trades, onBad);
    if (!feed) {
      if (why) onBad({ source: opts.trades, line: 0, reason: why });
      result.tradesRejected = why ?? `${opts.trades} is not a Tardis trades CSV and not a Bybit trade CSV`;
      return result;
    }
    merge = {
      feed,
      unmatched: new Map(),
      bookSymbols: new Set(),
      result: {
        file: opts.trades,
        rows: 0,
        badRows: 0,
        order: feed.order,
        merged: 0,
        outsideSpan: 0,
        otherSymbols: {},
        bookFileTradeMessages: 0,
      },
    };
  }
  try {
    for (const file of files) {
      if (!fs.existsSync(file)) {
        onBad({ source: file, line: 0, reason: 'no such file' });
        continue;
      }
      let contentKey: string;
      try {
        contentKey = await importContentKey(file, merge ? opts.trades : undefined);
      } catch (e) {
        onBad({ source: file, line: 0, reason: `cannot read: ${(e as Error).message}` });
        continue;
      }
      const earlier = sessionsWithContent(db, contentKey);
      if (earlier.length > 0 && !opts.force) {
        result.duplicates.push({ file, sessions: earlier });
        continue;
      }
      try {
        for await (const input of openInputs(file, (t) => result.truncatedZips.push(t))) {
          if (input.warning) onBad({ source: input.name, line: 0, reason: input.warning });
          const r = await importStream(db, input.name, input.stream, opts, onBad, merge, contentKey);
          result.sessions.push(...r.sessions);
          result.lines += r.lines;
        }
      } catch (e) {
        onBad({ source: file, line: 0, reason: `cannot read: ${(e as Error).message}` });
      }
    }
    if (merge) {
      // The rest of the trade file lies after the book data: read through it to count (and check) it.
      const m = merge;
      const drop = (t: TradeMessage) =>
        m.unmatched.set(t.symbol, (m.unmatched.get(t.symbol) ?? 0) + t.trades.length);
      while (!m.feed.drainBefore(Infinity, true, drop)) await m.feed.fill();
      for (const [symbol, n] of m.unmatched) {
        if (m.bookSymbols.has(symbol)) m.result.outsideSpan += n;
        else m.result.otherSymbols[symbol] = n;
      }
      m.result.rows = m.feed.rows;
      m.result.badRows = m.feed.badRows;
      if (m.feed.unknownSide > 0) m.result.unknownSide = m.feed.unknownSide;
      result.trades = m.result;
    }
  } finally {
    await merge?.feed.close();
  }
  return result;
}

async function importStream(
  db: Db,
  name: string,
  stream: Readable,
  opts: ImportOptions,
  onBad: (b: BadLine) => void,
  merge: Merge | undefined,
  contentSha256: string,
): Promise<{ sessions: ImportedSession[]; lines: number }> {
  const streamOpts: StreamOptions = {
    db,
    source: name,
    category: opts.category,
    tickSize: opts.tickSize,
    plausibility: opts.plausibility,
    meta: { contentSha256, ...(merge ? { tradesImportedFrom: merge.result.file } : {}) },
  };
  /** Set when the input is a Tardis CSV (its header line says so). */
  let tardis: TardisBookReader | undefined;
  /** Streams per symbol: one per book depth (a symbol seen in trades first has one of depth 0 until then). */
  const bySymbol = new Map<string, SessionStream[]>();
  const order: SessionStream[] = [];
  let lineNo = 0;

  const newStream = (symbol: string, depth: number): SessionStream => {
    const st = new SessionStream(
      tardis
        ? {
            ...streamOpts,
            category: tardis.category(opts.category),
            syntheticIds: true,
            meta: { ...streamOpts.meta, format: `tardis ${tardis.format}`, exchange: tardis.exchange },
          }
        : streamOpts,
      symbol,
      depth,
    );
    const list = bySymbol.get(symbol);
    if (list) list.push(st);
    else bySymbol.set(symbol, [st]);
    order.push(st);
    return st;
  };
  const bookStream = (symbol: string, depth: number): SessionStream => {
    const list = bySymbol.get(symbol);
    if (!list) return newStream(symbol, depth);
    for (const st of list) if (st.depth === depth) return st;
    if (list.length === 1 && list[0].depth === 0) {
      list[0].depth = depth;
      return list[0];
    }
    return newStream(symbol, depth);
  };
  // A trade message has no depth: it goes to every stream of its symbol.
  const onTrades = (msg: TradeMessage) => {
    const list = bySymbol.get(msg.symbol) ?? [newStream(msg.symbol, 0)];
    for (const st of list) st.onTrades(msg);
  };
  // A CSV trade goes to the streams of its symbol that have begun (and, once the book data has ended, that
  // had not ended before it); else it is counted as dropped.
  let ended = false;
  const onCsvTrades = (msg: TradeMessage) => {
    const m = merge as Merge;
    const list = bySymbol.get(msg.symbol);
    let fed = false;
    if (list)
      for (const st of list)
        if (st.book > 0 && (!ended || msg.ts <= st.lastBookTs)) {
          st.onTrades(msg);
          fed = true;
        }
    if (fed) m.result.merged += msg.trades.length;
    else m.unmatched.set(msg.symbol, (m.unmatched.get(msg.symbol) ?? 0) + msg.trades.length);
  };

  /** Parses one line; undefined (reported if bad) when it holds no market message. */
  const parse = (text: string): MarketMessage | undefined => {
    const line = text.trim();
    if (line.length === 0) return undefined;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      onBad({ source: name, line: lineNo, reason: `invalid JSON: ${(e as Error).message}` });
      return undefined;
    }
    const raw = (obj ?? {}) as { ts?: unknown };
    // Dumps carry no local receive time: the exchange time stands in for it.
    const recvTs = typeof raw.ts === 'number' ? raw.ts : 0;
    const f = parseRawMessage(obj, recvTs);
    if (f.type === 'pong' || f.type === 'subscribe') return undefined;
    if (f.type === 'malformed' || f.type === 'unknown' || f.type === 'oversize') {
      onBad({ source: name, line: lineNo, reason: f.reason });
      return undefined;
    }
    return f.msg;
  };

  // Trades up to a book message's time go first; a trade at the same millisecond goes after it. (Awaited only
  // when merging: an await per message would slow a plain import down.)
  const drainTo = async (m: Merge, msg: BookMessage) => {
    m.bookSymbols.add(msg.symbol);
    while (!m.feed.drainBefore(msg.ts, false, onCsvTrades)) await m.feed.fill();
  };
  const onBook = (msg: BookMessage, line: number) => bookStream(msg.symbol, msg.depth).onBook(msg, line);
  /** The first line of a Tardis CSV: its reader, or false (reported) when this dataset cannot be imported. */
  const tardisStart = (line: string): TardisBookReader | false | undefined => {
    const h = parseTardisHeader(line);
    if (!h) return undefined;
    if (h.kind === 'incremental_book_L2' || h.kind === 'book_snapshot')
      return new TardisBookReader(h, (b) => onBad({ source: name, ...b }));
    onBad({
      source: name,
      line: 1,
      reason:
        h.kind === 'trades'
          ? 'a Tardis trades CSV: trades alone make no usable session; give it as --trades beside its incremental_book_L2 file'
          : `${h.reason}: not imported`,
    });
    return false;
  };

  const src = new LineSource(stream);
  try {
    read: for (let batch = await src.next(); batch; batch = await src.next()) {
      for (const item of batch) {
        lineNo++;
        if (opts.onProgress && lineNo % 50_000 === 0) opts.onProgress(name, lineNo);
        if (item === TOO_LONG) {
          // Not line-oriented input (or a broken line): reported once, skipped up to the next newline.
          onBad({ source: name, line: lineNo, reason: `line longer than ${MAX_LINE / 1048576} MB, skipped` });
          continue;
        }
        if (lineNo === 1 && /^\uFEFF?timestamp,symbol,/.test(item)) {
          onBad({
            source: name,
            line: 1,
            reason:
              'a Bybit trade CSV: trades alone make no usable session; give it as --trades beside its order-book file',
          });
          break read;
        }
        if (tardis) {
          const t: TardisMessage | undefined = tardis.row(item, lineNo);
          if (t) {
            if (merge) await drainTo(merge, t.msg);
            onBook(t.msg, t.line);
          }
          continue;
        }
        if (lineNo === 1) {
          const t = tardisStart(item);
          if (t === false) break read;
          if (t) {
            tardis = t;
            continue;
          }
        }
        const msg = parse(item);
        if (!msg) continue;
        if (msg.kind === 'trades') {
          if (merge) merge.result.bookFileTradeMessages++;
          else onTrades(msg);
          continue;
        }
        if (merge) await drainTo(merge, msg);
        onBook(msg, lineNo);
      }
    }
  } finally {
    await src.close();
  }
  // A Tardis update is complete only when a row of another one follows (or the input ends cleanly).
  const tail = tardis?.end(!src.error) ?? {};
  if (tail.last) {
    if (merge) await drainTo(merge, tail.last.msg);
    onBook(tail.last.msg, tail.last.line);
  }
  if (src.error) {
    // A truncated .gz or a damaged zip entry: keep every whole line read so far, drop the cut one.
    const m = src.error.message;
    const dropped =
      tail.dropped === undefined
        ? ''
        : ` (the update from line ${tail.dropped} on was dropped: it may be incomplete)`;
    onBad(
      lineNo === 0
        ? { source: name, line: 0, reason: `cannot read: ${m}` }
        : { source: name, line: lineNo + 1, reason: `cannot read past line ${lineNo}: ${m}${dropped}` },
    );
  }
  if (merge) {
    // The trades at or before the last book message of their symbol still belong to this input's sessions.
    ended = true;
    let end = -Infinity;
    for (const st of order) end = Math.max(end, st.lastBookTs);
    if (end > -Infinity) while (!merge.feed.drainBefore(end, true, onCsvTrades)) await merge.feed.fill();
  }
  return { sessions: order.map((st) => st.finish(lineNo)), lines: lineNo };
}
