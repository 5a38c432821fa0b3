// `l2desk import --db FILE FILE...`: imports Bybit v5 order-book and trade messages, one JSON per line
// (plain, .gz, or every entry of a .zip such as Bybit's `YYYY-MM-DD_SYMBOL_ob200.data.zip`), streaming,
// as one session per symbol per file. Bad lines are reported with their numbers and skipped.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import type { BookMessage, Category, Gap, MarketMessage } from '../../src-shared/market.ts';
import { isRepeatedDelta } from '../book/sequencedBook.ts';
import { inferTickSize, TickScale } from '../book/tickScale.ts';
import { loadConfig, parseOverrideValue } from '../config/loadConfig.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { decimalText, refineTick } from '../market/bybit/tickInference.ts';
import { openDb, type Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession, updateSessionMeta } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'import Bybit v5 order-book/trade JSON lines (plain, .gz, .zip) as a session';

const USAGE = `usage: l2desk import [--db FILE] [--tick-size 0.0001] [--category linear|spot] [--config FILE] FILE...
  --db defaults to the config's db; FILE: Bybit v5 messages, one JSON object per line; plain, .gz or .zip (every entry is read)`;

const KNOWN = ['db', 'tick-size', 'category', 'config', 'quiet', 'help'];
const LISTED_BAD_LINES = 20;
/** Messages held back, per symbol, while waiting for a snapshot to infer the tick size from. */
const MAX_PENDING = 5000;
/** Price strings kept for tick-size inference. */
const MAX_PRICE_SAMPLES = 20_000;
/** Longest line accepted (a 1000-level snapshot is ~60 KB). */
const MAX_LINE = 64 * 1048576;

export interface BadLine {
  source: string;
  line: number;
  reason: string;
}

export interface ImportedSession {
  sessionId: number;
  source: string;
  symbol: string;
  depth: number;
  tickSize: string;
  bookMessages: number;
  tradeMessages: number;
  gaps: number;
}

export interface ImportResult {
  sessions: ImportedSession[];
  badLines: number;
  listedBadLines: BadLine[];
  lines: number;
}

export interface ImportOptions {
  tickSize?: string;
  category: Category;
  onBadLine?: (b: BadLine) => void;
  /** Called about every 50k lines with the input's name and lines read so far. */
  onProgress?: (name: string, lines: number) => void;
}

type Pending = { msg: MarketMessage } | { gap: Gap };

/** Per symbol within one input: the session it goes to, sequence state, and tick-size evidence. */
class SymbolImport {
  sessionId: number | undefined;
  writer: SessionWriter | undefined;
  pending: Pending[] = [];
  prices: string[] = [];
  depth = 0;
  lastU: number | null = null;
  lastBook: BookMessage | undefined;
  openGap: Gap | null = null;
  /** The tick grid so far when inferred (not given): refined when a later price falls off it. */
  scale: TickScale | undefined;
  book = 0;
  trades = 0;
  gaps = 0;
  lastRecvTs = 0;
  tickSize = '';

  constructor(readonly symbol: string) {}
}

/** Imports every input; one session per symbol per file (per zip entry). */
export async function importFiles(
  db: Db,
  files: readonly string[],
  opts: ImportOptions,
): Promise<ImportResult> {
  const result: ImportResult = { sessions: [], badLines: 0, listedBadLines: [], lines: 0 };
  const onBad = (b: BadLine) => {
    result.badLines++;
    if (result.listedBadLines.length < LISTED_BAD_LINES) result.listedBadLines.push(b);
    opts.onBadLine?.(b);
  };
  for (const file of files) {
    if (!fs.existsSync(file)) {
      onBad({ source: file, line: 0, reason: 'no such file' });
      continue;
    }
    try {
      for await (const input of openInputs(file)) {
        if (input.warning) onBad({ source: input.name, line: 0, reason: input.warning });
        const r = await importStream(db, input.name, input.stream, opts, onBad);
        result.sessions.push(...r.sessions);
        result.lines += r.lines;
      }
    } catch (e) {
      onBad({ source: file, line: 0, reason: `cannot read: ${(e as Error).message}` });
    }
  }
  return result;
}

/** The line streams of one file: itself, its gunzipped content, or each entry of a zip. */
type Input = { name: string; stream: Readable; warning?: string };

async function* openInputs(file: string): AsyncGenerator<Input> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.zip')) {
    yield* zipEntries(file);
    return;
  }
  const raw = fs.createReadStream(file);
  yield { name: file, stream: lower.endsWith('.gz') ? raw.pipe(gunzip(raw)) : raw };
}

/** A gunzip stream that forwards read errors of its source (pipe() does not). */
function gunzip(src: Readable): zlib.Gunzip {
  const z = zlib.createGunzip();
  src.on('error', (e) => z.destroy(e));
  return z;
}

async function* zipEntries(file: string): AsyncGenerator<Input> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (e) {
    // A truncated download has no central directory; its first entry can still be read up to the cut.
    const first = firstLocalEntry(file);
    if (!first) throw e;
    yield {
      ...first,
      warning: `${(e as Error).message}: a truncated zip? reading its first entry as far as it goes`,
    };
    return;
  }
  try {
    while (true) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => done(() => resolve(e));
        const onEnd = () => done(() => resolve(null));
        const onError = (e: Error) => done(() => reject(e));
        const done = (f: () => void) => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
          f();
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      const stream = await new Promise<Readable>((resolve, reject) =>
        zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
      );
      const name = `${file}:${entry.fileName}`;
      yield {
        name,
        stream: entry.fileName.toLowerCase().endsWith('.gz') ? stream.pipe(gunzip(stream)) : stream,
      };
    }
  } finally {
    zip.close();
  }
}

/** The first entry of a zip from its local header alone (deflated or stored), or null if there is none. */
function firstLocalEntry(file: string): { name: string; stream: Readable } | null {
  const fd = fs.openSync(file, 'r');
  let name: string;
  let stream: Readable;
  try {
    const h = Buffer.alloc(30);
    if (fs.readSync(fd, h, 0, 30, 0) < 30 || h.readUInt32LE(0) !== 0x04034b50) return null;
    const flags = h.readUInt16LE(6);
    const method = h.readUInt16LE(8);
    const size = h.readUInt32LE(18);
    const nameBuf = Buffer.alloc(h.readUInt16LE(26));
    fs.readSync(fd, nameBuf, 0, nameBuf.length, 30);
    name = nameBuf.toString('utf8');
    const start = 30 + nameBuf.length + h.readUInt16LE(28);
    if (flags & 1) return null; // encrypted
    if (method === 8) {
      const raw = fs.createReadStream(file, { start });
      const z = zlib.createInflateRaw();
      raw.on('error', (e) => z.destroy(e));
      stream = raw.pipe(z);
    } else if (method === 0 && !(flags & 8) && size > 0 && size !== 0xffffffff)
      stream = fs.createReadStream(file, { start, end: start + size - 1 });
    else return null;
  } finally {
    fs.closeSync(fd);
  }
  if (name.toLowerCase().endsWith('.gz')) stream = stream.pipe(gunzip(stream));
  return { name: `${file}:${name}`, stream };
}

type RawObj = { ts?: unknown };

/**
 * Plain decimal texts of a parsed message's prices (book levels or trades), for tick-size inference. From the
 * parsed numbers, not the raw JSON, so prices sent as JSON numbers or in exponent form ("1e-7") count too.
 */
function samplePrices(msg: MarketMessage, out: string[]): void {
  if (msg.kind === 'book') {
    for (const side of [msg.bids, msg.asks])
      for (let i = 0; i < side.length && out.length < MAX_PRICE_SAMPLES; i++)
        out.push(decimalText(side[i][0]));
  } else
    for (let i = 0; i < msg.trades.length && out.length < MAX_PRICE_SAMPLES; i++)
      out.push(decimalText(msg.trades[i].price));
}

/** Refines `st.scale` to a finer grid when one of the message's prices is off it (a snapshot can look coarse). */
function fitGrid(st: SymbolImport, msg: MarketMessage): void {
  const fit = (p: number) => {
    const scale = st.scale as TickScale;
    if (Number.isFinite(scale.tryToTicks(p))) return;
    // No finer grid worth trusting (corrupt price): the book marks that message as a gap on replay.
    const next = refineTick(scale, [p]);
    if (next) st.scale = next;
  };
  if (msg.kind === 'book') {
    for (let i = 0; i < msg.bids.length; i++) fit(msg.bids[i][0]);
    for (let i = 0; i < msg.asks.length; i++) fit(msg.asks[i][0]);
  } else for (let i = 0; i < msg.trades.length; i++) fit(msg.trades[i].price);
}

async function importStream(
  db: Db,
  name: string,
  stream: Readable,
  opts: ImportOptions,
  onBad: (b: BadLine) => void,
): Promise<{ sessions: ImportedSession[]; lines: number }> {
  const symbols = new Map<string, SymbolImport>();
  const order: SymbolImport[] = [];
  let lineNo = 0;

  const startSession = (st: SymbolImport) => {
    let tick = opts.tickSize;
    if (!tick) {
      try {
        tick = inferTickSize(st.prices);
      } catch {
        tick = '1'; // no prices at all; refined below if any message has one
      }
      st.scale = new TickScale(tick);
      for (const p of st.pending) if ('msg' in p) fitGrid(st, p.msg);
    }
    st.tickSize = tick;
    const first = st.pending.find((p): p is { msg: MarketMessage } => 'msg' in p);
    st.sessionId = createSession(db, {
      source: 'import',
      symbol: st.symbol,
      category: opts.category,
      depth: st.depth,
      tickSize: tick,
      startedAt: first ? first.msg.recvTs : 0,
      meta: { importedFrom: name },
    });
    st.writer = new SessionWriter(db, st.sessionId, { maxRows: 20_000 });
    for (const p of st.pending) {
      if ('msg' in p) st.writer.writeMessage(p.msg);
      else st.writer.writeGap(p.gap);
    }
    st.pending = [];
    st.prices = [];
  };
  const put = (st: SymbolImport, p: Pending) => {
    if (st.writer) {
      if ('msg' in p && st.scale) fitGrid(st, p.msg);
      if ('msg' in p) st.writer.writeMessage(p.msg);
      else st.writer.writeGap(p.gap);
    } else {
      st.pending.push(p);
      if (st.pending.length >= MAX_PENDING) startSession(st);
    }
  };

  const handle = (text: string): void => {
    lineNo++;
    if (opts.onProgress && lineNo % 50_000 === 0) opts.onProgress(name, lineNo);
    const line = text.trim();
    if (line.length === 0) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      onBad({ source: name, line: lineNo, reason: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const raw = (obj ?? {}) as RawObj;
    // Dumps carry no local receive time: the exchange time stands in for it.
    const recvTs = typeof raw.ts === 'number' ? raw.ts : 0;
    const f = parseRawMessage(obj, recvTs);
    if (f.type === 'pong' || f.type === 'subscribe') return;
    if (f.type === 'malformed' || f.type === 'unknown') {
      onBad({ source: name, line: lineNo, reason: f.reason });
      return;
    }
    const msg = f.msg;
    let st = symbols.get(msg.symbol);
    if (!st) {
      st = new SymbolImport(msg.symbol);
      symbols.set(msg.symbol, st);
      order.push(st);
    }
    if (msg.kind === 'book') {
      if (st.depth === 0) st.depth = msg.depth;
      else if (msg.depth !== st.depth) {
        onBad({
          source: name,
          line: lineNo,
          reason: `orderbook.${msg.depth} mixed with orderbook.${st.depth} for ${msg.symbol}: import them from separate files`,
        });
        return;
      }
    }
    if (!st.writer && !opts.tickSize) samplePrices(msg, st.prices);
    st.lastRecvTs = msg.recvTs;
    if (msg.kind === 'book') {
      st.book++;
      if (msg.type === 'snapshot') {
        if (st.openGap) {
          put(st, { gap: { ...st.openGap, endTs: msg.recvTs } });
          st.openGap = null;
        }
        if (msg.u === 1 && st.lastU !== null && st.lastU !== 1) {
          st.gaps++;
          put(st, {
            gap: {
              symbol: msg.symbol,
              reason: 'restart',
              startTs: msg.recvTs,
              endTs: msg.recvTs,
              detail: `snapshot u=1 after u=${st.lastU} (line ${lineNo})`,
            },
          });
        }
      } else if (
        st.lastU !== null &&
        msg.u !== st.lastU + 1 &&
        !st.openGap &&
        !isRepeatedDelta(st.lastBook, msg)
      ) {
        st.openGap = {
          symbol: msg.symbol,
          reason: 'sequence',
          startTs: msg.recvTs,
          endTs: null,
          detail: `u ${st.lastU} -> ${msg.u} (line ${lineNo})`,
        };
        st.gaps++;
        put(st, { gap: st.openGap });
      }
      st.lastU = msg.u;
      st.lastBook = msg;
      put(st, { msg });
      if (msg.type === 'snapshot' && !st.writer) {
        startSession(st);
      }
    } else {
      st.trades++;
      put(st, { msg });
    }
  };

  // Lines are split here, per chunk, and handled synchronously: far cheaper than an await per line.
  stream.setEncoding('utf8');
  // The unfinished line, as chunk pieces: a newline is searched for in each new chunk only, so a very long
  // line (or a binary entry without newlines) costs linear time, not a rescan of everything held per chunk.
  let rest: string[] = [];
  let restLen = 0;
  let skipping = false;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
        if (skipping) {
          skipping = false;
          lineNo++;
        } else if (rest.length > 0) {
          rest.push(chunk.slice(start, nl));
          const line = rest.join('');
          rest = [];
          restLen = 0;
          handle(line);
        } else handle(chunk.slice(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length && !skipping) {
        rest.push(start === 0 ? chunk : chunk.slice(start));
        restLen += chunk.length - start;
        if (restLen > MAX_LINE) {
          // Not line-oriented input (or a broken line): report once, skip to the next newline.
          onBad({
            source: name,
            line: lineNo + 1,
            reason: `line longer than ${MAX_LINE / 1048576} MB, skipped`,
          });
          skipping = true;
          rest = [];
          restLen = 0;
        }
      }
    }
  } catch (e) {
    // A truncated .gz or a damaged zip entry: keep every whole line read so far, drop the cut one.
    const msg = (e as Error).message;
    onBad(
      lineNo === 0
        ? { source: name, line: 0, reason: `cannot read: ${msg}` }
        : { source: name, line: lineNo + 1, reason: `cannot read past line ${lineNo}: ${msg}` },
    );
    rest = [];
  }
  if (rest.length > 0 && !skipping) handle(rest.join(''));

  const sessions: ImportedSession[] = [];
  for (const st of order) {
    if (!st.writer) startSession(st);
    const writer = st.writer as SessionWriter;
    writer.close(st.lastRecvTs);
    const sid = st.sessionId as number;
    // A snapshot can look coarser than the instrument's tick; later prices off its grid refined it.
    if (st.scale && st.scale.tickSize !== st.tickSize) {
      st.tickSize = st.scale.tickSize;
      db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?').run(st.tickSize, sid);
    }
    // A session opened on trades alone learns its book depth later.
    db.prepare('UPDATE sessions SET depth = ? WHERE id = ? AND depth <> ?').run(st.depth, sid, st.depth);
    updateSessionMeta(db, sid, { importedLines: lineNo });
    sessions.push({
      sessionId: sid,
      source: name,
      symbol: st.symbol,
      depth: st.depth,
      tickSize: st.tickSize,
      bookMessages: st.book,
      tradeMessages: st.trades,
      gaps: st.gaps,
    });
  }
  return { sessions, lines: lineNo };
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['quiet', 'help']);
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
  if (files.length === 0) throw new UsageError(`no input files\n${USAGE}`);
  const db = openDb(config.db);
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
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    };
    const res = await importFiles(db, files, {
      tickSize: config.tick_size ?? undefined,
      category: config.category,
      onProgress,
    });
    if (tty && !quiet && lastReport > 0) process.stderr.write('\r\x1b[K');
    const secs = (performance.now() - t0) / 1000;
    for (const s of res.sessions) {
      console.log(
        `session ${s.sessionId}: ${s.symbol} from ${path.basename(s.source)}: depth ${s.depth}, tick ${s.tickSize}, ` +
          `${s.bookMessages} book + ${s.tradeMessages} trade messages, ${s.gaps} gap${s.gaps === 1 ? '' : 's'}`,
      );
    }
    if (res.badLines > 0) {
      console.error(`${res.badLines} bad line${res.badLines === 1 ? '' : 's'} skipped:`);
      for (const b of res.listedBadLines)
        console.error(`  ${b.source}${b.line > 0 ? `:${b.line}` : ''}: ${b.reason}`);
      if (res.badLines > res.listedBadLines.length)
        console.error(`  ... and ${res.badLines - res.listedBadLines.length} more`);
    }
    const total = res.sessions.reduce((n, s) => n + s.bookMessages + s.tradeMessages, 0);
    if (!quiet)
      console.error(
        `imported ${total} messages from ${res.lines} lines in ${secs.toFixed(1)} s into ${config.db}`,
      );
    if (total === 0) {
      console.error('nothing could be imported');
      return 1;
    }
    return 0;
  } finally {
    db.close();
  }
}
