// Bybit's public trade archive (public.bybit.com/trading/SYMBOL/SYMBOLYYYY-MM-DD.csv.gz), or a Tardis.dev trades
// CSV (told apart by the header), as a time-ordered stream of trade messages, for merging into an order-book
// import. Rows in either time order are accepted: a descending file is reversed through temporary run files, so
// memory stays bounded on any file size. A Tardis file is ordered by local_timestamp (receive time), the
// exchange's timestamps may step back a little there, so its order is checked on local_timestamp.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Side, Trade, TradeMessage } from '../../src-shared/market.ts';
import { openInputs } from './inputs.ts';
import { LineSource, TOO_LONG } from './lineBatches.ts';
import { parseTardisHeader, parseTardisTradeRow, TARDIS_TRADES_HEADER } from './tardisFormat.ts';

/** The archive's header; only the columns in REQUIRED are read. */
export const TRADE_CSV_HEADER =
  'timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional';
const REQUIRED = ['timestamp', 'symbol', 'side', 'size', 'price', 'trdMatchID'] as const;
/** Rows per in-memory run when reversing a descending file. */
const RUN_ROWS = 100_000;
/** Trades per message at most (one fill time can hold a big sweep). */
const MAX_GROUP = 5_000;

export interface CsvBadRow {
  source: string;
  line: number;
  reason: string;
}

type Columns = Record<(typeof REQUIRED)[number], number> & { count: number };

export interface CsvTrade {
  symbol: string;
  trade: Trade;
  source: string;
  line: number;
  /** Local receive time (ms), Tardis `local_timestamp`; absent in Bybit's archive (the fill time stands in). */
  recvTs?: number;
}

/** The time a file's rows are ordered by: receive time when the file has it, else fill time. */
const orderTs = (t: CsvTrade): number => t.recvTs ?? t.trade.ts;

type RowParser = (
  text: string,
  lineNo: number,
) => { symbol: string; trade: Trade; recvTs?: number } | string | undefined;

/** The row parser for a trade CSV's header line, or what is wrong with the header. */
function rowParser(header: string, inputName: string): RowParser | string {
  const t = parseTardisHeader(header);
  if (t) {
    if (t.kind !== 'trades')
      return `a Tardis ${t.kind === 'unsupported' ? 'dataset' : t.kind} CSV, not trades: expected "${TARDIS_TRADES_HEADER}"`;
    // Tardis liquidations share the trades header: only the file name tells them apart.
    if (/liquidation/i.test(inputName)) return 'a Tardis liquidations CSV, not trades';
    return (text, lineNo) => parseTardisTradeRow(text, t.cols, lineNo);
  }
  const h = parseTradeHeader(header);
  if (typeof h === 'string') return h;
  return (text) => parseTradeRow(text, h);
}

/** The column positions, or what is wrong with the header. */
export function parseTradeHeader(line: string): Columns | string {
  const names = line
    .replace(/^\uFEFF/, '')
    .trim()
    .split(',')
    .map((s) => s.trim());
  const cols: Partial<Columns> = { count: names.length };
  const missing: string[] = [];
  for (const k of REQUIRED) {
    const i = names.indexOf(k);
    if (i < 0) missing.push(k);
    else cols[k] = i;
  }
  if (missing.length > 0)
    return `not a Bybit trade CSV header (missing ${missing.join(', ')}): expected "${TRADE_CSV_HEADER}", got "${line.slice(0, 200)}"`;
  return cols as Columns;
}

/**
 * Seconds since epoch with a decimal fraction ("1704067200.1234") as whole ms, exactly (digits, not float maths);
 * sub-millisecond digits are dropped, since the live feed's trade time `T` and every stored time are whole ms.
 */
export function parseCsvTimestamp(text: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  return Number(m[1]) * 1000 + Number(frac.slice(0, 3).padEnd(3, '0'));
}

/** One data row as a trade of its symbol, or what is wrong with it. */
export function parseTradeRow(line: string, cols: Columns): { symbol: string; trade: Trade } | string {
  const f = line.split(',');
  if (f.length < cols.count) return `expected ${cols.count} columns, got ${f.length}`;
  const ts = parseCsvTimestamp(f[cols.timestamp].trim());
  if (ts === undefined || ts <= 0)
    return `bad timestamp "${f[cols.timestamp]}" (seconds, e.g. 1704067200.1234)`;
  const symbol = f[cols.symbol].trim();
  if (!/^[A-Z0-9]{2,30}$/.test(symbol)) return `bad symbol "${symbol}"`;
  const side = f[cols.side].trim();
  if (side !== 'Buy' && side !== 'Sell') return `bad side "${side}" (Buy or Sell)`;
  const sizeText = f[cols.size].trim();
  const size = Number(sizeText);
  if (sizeText === '' || !(size > 0) || !Number.isFinite(size)) return `bad size "${sizeText}"`;
  const priceText = f[cols.price].trim();
  const price = Number(priceText);
  if (priceText === '' || !(price > 0) || !Number.isFinite(price)) return `bad price "${priceText}"`;
  const id = f[cols.trdMatchID].trim();
  if (id === '') return 'empty trdMatchID';
  return { symbol, trade: { ts, side: side as Side, price, size, id, blockTrade: false, seq: 0 } };
}

/** Whose trade CSV `file` is, by its first line: undefined when none (or unreadable). */
export async function tradeCsvKind(file: string): Promise<'bybit' | 'tardis' | undefined> {
  if (!fs.existsSync(file)) return undefined;
  try {
    for await (const input of openInputs(file)) {
      const src = new LineSource(input.stream);
      const first = (await src.next())?.[0];
      await src.close();
      if (typeof first !== 'string') return undefined;
      const text = first.endsWith('\r') ? first.slice(0, -1) : first;
      if (parseTardisHeader(text)?.kind === 'trades') return 'tardis';
      return typeof parseTradeHeader(text) === 'string' ? undefined : 'bybit';
    }
  } catch {
    // unreadable: the import reports it
  }
  return undefined;
}

/** The rows of every input of the file (each starting with its header), in file order, a batch at a time. */
async function* fileRows(
  file: string,
  onBad: (b: CsvBadRow) => void,
  onHeader: (ok: boolean) => void,
  onUnknownSide: () => void,
): AsyncGenerator<CsvTrade[]> {
  for await (const input of openInputs(file)) {
    if (input.warning) onBad({ source: input.name, line: 0, reason: input.warning });
    const src = new LineSource(input.stream);
    let parse: RowParser | undefined;
    let lineNo = 0;
    try {
      for (let batch = await src.next(); batch; batch = await src.next()) {
        const out: CsvTrade[] = [];
        for (const item of batch) {
          lineNo++;
          if (item === TOO_LONG) {
            onBad({ source: input.name, line: lineNo, reason: 'line too long, skipped' });
            continue;
          }
          const text = item.endsWith('\r') ? item.slice(0, -1) : item;
          if (!parse) {
            const h = rowParser(text, input.name);
            if (typeof h === 'string') {
              onBad({ source: input.name, line: lineNo, reason: h });
              onHeader(false);
              return;
            }
            onHeader(true);
            parse = h;
            continue;
          }
          if (text.trim() === '') continue;
          const r = parse(text, lineNo);
          if (r === undefined) onUnknownSide();
          else if (typeof r === 'string') onBad({ source: input.name, line: lineNo, reason: r });
          else out.push({ ...r, source: input.name, line: lineNo });
        }
        if (out.length > 0) yield out;
      }
    } finally {
      await src.close();
    }
    if (src.error)
      onBad({
        source: input.name,
        line: lineNo + 1,
        reason: `cannot read past line ${lineNo}: ${src.error.message}`,
      });
    if (!parse) {
      if (!src.error)
        onBad({ source: input.name, line: 1, reason: `empty: expected the header "${TRADE_CSV_HEADER}"` });
      // Unreadable before its header (a damaged .gz) is no trade CSV either: refused, not merged as zero trades
      // while the book file's own trades are dropped.
      onHeader(false);
      return;
    }
  }
}

/**
 * The trades of a Bybit trade CSV as messages in time order (one per symbol and fill time), pulled by the
 * book import as its messages pass: `drainBefore` hands over what is buffered, `fill` reads more.
 */
export class TradeCsvFeed {
  /** Well-formed rows read, rows reported as bad, and the file's time order once known. */
  rows = 0;
  badRows = 0;
  /** Tardis rows whose taker side is `unknown`: skipped. */
  unknownSide = 0;
  order: 'ascending' | 'descending' = 'ascending';
  private buf: CsvTrade[] = [];
  private i = 0;
  private eof = false;
  private src!: AsyncGenerator<CsvTrade[]>;
  /** The file's rows as read, closed too in case `src` never started on them. */
  private raw: AsyncGenerator<CsvTrade[]> | undefined;
  private tmpDir: string | undefined;

  private constructor(
    readonly file: string,
    private readonly runRows: number,
    private readonly onBad: (b: CsvBadRow) => void,
  ) {}

  /** Opens the file and reads up to its first rows; null (reported through onBad) if its header is wrong. */
  static async open(
    file: string,
    onBad: (b: CsvBadRow) => void,
    opts: { runRows?: number } = {},
  ): Promise<TradeCsvFeed | null> {
    const feed = new TradeCsvFeed(file, opts.runRows ?? RUN_ROWS, (b) => {
      if (b.line > 0) feed.badRows++;
      onBad(b);
    });
    let headerOk = true;
    const rows = fileRows(
      file,
      feed.onBad,
      (ok) => (headerOk &&= ok),
      () => feed.unknownSide++,
    );
    feed.raw = rows;
    // Read until the time order shows (two different timestamps) or the file ends.
    const head: CsvTrade[] = [];
    let dir = 0;
    while (dir === 0) {
      const r = await rows.next();
      if (!headerOk) {
        await rows.return(undefined);
        return null;
      }
      if (r.done) break;
      for (const t of r.value) {
        const prev = head.length > 0 ? orderTs(head[head.length - 1]) : orderTs(t);
        if (dir === 0 && orderTs(t) !== prev) dir = orderTs(t) > prev ? 1 : -1;
        head.push(t);
      }
      if (head.length > feed.runRows) break; // one timestamp throughout: any order will do
    }
    if (dir < 0) {
      feed.order = 'descending';
      await feed.reverse(head, rows);
    } else feed.src = feed.inOrder(head, rows, 1);
    return feed;
  }

  /** Rows in file order, those out of the file's time order reported and dropped. */
  private async *inOrder(
    head: CsvTrade[],
    rest: AsyncGenerator<CsvTrade[]>,
    dir: 1 | -1,
  ): AsyncGenerator<CsvTrade[]> {
    let last = dir > 0 ? -Infinity : Infinity;
    const check = (batch: CsvTrade[]): CsvTrade[] => {
      const ok: CsvTrade[] = [];
      for (const t of batch) {
        this.rows++;
        const ts = orderTs(t);
        if ((ts - last) * dir < 0) {
          const col = t.recvTs === undefined ? 'timestamp' : 'local_timestamp';
          this.onBad({
            source: t.source,
            line: t.line,
            reason: `${col} ${ts / 1000} out of the file's ${this.order} time order (previous row: ${last / 1000})`,
          });
          continue;
        }
        last = ts;
        ok.push(t);
      }
      return ok;
    };
    yield check(head);
    for await (const batch of rest) yield check(batch);
  }

  /** A descending file: written as reversed runs to a temporary folder, read back last run first. */
  private async reverse(head: CsvTrade[], rest: AsyncGenerator<CsvTrade[]>): Promise<void> {
    this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-trades-'));
    const runs: string[] = [];
    let run: CsvTrade[] = [];
    const spill = () => {
      const file = path.join(this.tmpDir as string, `run${runs.length}.jsonl`);
      const lines: string[] = [];
      for (let k = run.length - 1; k >= 0; k--) {
        const t = run[k];
        lines.push(JSON.stringify([t.symbol, t.source, t.line, t.trade, t.recvTs]));
      }
      fs.writeFileSync(file, lines.join('\n') + '\n');
      runs.push(file);
      run = [];
    };
    for await (const batch of this.inOrder(head, rest, -1)) {
      for (const t of batch) {
        run.push(t);
        if (run.length >= this.runRows) spill();
      }
    }
    const lastRun = run.reverse();
    this.src = (async function* () {
      if (lastRun.length > 0) yield lastRun;
      for (let k = runs.length - 1; k >= 0; k--) {
        const src = new LineSource(fs.createReadStream(runs[k]));
        for (let batch = await src.next(); batch; batch = await src.next()) {
          const out: CsvTrade[] = [];
          for (const item of batch) {
            if (!item) continue;
            const [symbol, source, line, trade, recvTs] = JSON.parse(item) as [
              string,
              string,
              number,
              Trade,
              number | undefined,
            ];
            out.push({ symbol, source, line, trade, recvTs: recvTs ?? undefined });
          }
          yield out;
        }
        if (src.error) throw src.error;
        fs.rmSync(runs[k], { force: true });
      }
    })();
  }

  /** The folder of a descending file's reversed runs (removed by close), if any. */
  get tempDir(): string | undefined {
    return this.tmpDir;
  }

  /** True once every row has been read and handed over. */
  get done(): boolean {
    return this.eof && this.i >= this.buf.length;
  }

  /**
   * Hands over, as messages, the buffered trades with a fill time before `bound` (or at it, if `inclusive`).
   * Returns false when the buffer ran out first and more rows may follow: call `fill` and again.
   */
  drainBefore(bound: number, inclusive: boolean, emit: (m: TradeMessage) => void): boolean {
    const buf = this.buf;
    while (true) {
      if (this.i >= buf.length) return this.eof;
      const first = buf[this.i];
      const ts = first.trade.ts;
      if (ts > bound || (ts === bound && !inclusive)) return true;
      let j = this.i + 1;
      while (
        j < buf.length &&
        j - this.i < MAX_GROUP &&
        buf[j].trade.ts === ts &&
        buf[j].symbol === first.symbol &&
        buf[j].recvTs === first.recvTs
      )
        j++;
      // The group may go on in the next batch.
      if (j === buf.length && !this.eof && j - this.i < MAX_GROUP) return false;
      const trades: Trade[] = new Array(j - this.i);
      for (let k = this.i; k < j; k++) trades[k - this.i] = buf[k].trade;
      this.i = j;
      emit({ kind: 'trades', symbol: first.symbol, ts, recvTs: first.recvTs ?? ts, trades });
    }
  }

  /** Reads the next batch of rows into the buffer (or notes the end). */
  async fill(): Promise<void> {
    if (this.eof) return;
    const r = await this.src.next();
    this.buf = this.i < this.buf.length ? this.buf.slice(this.i) : [];
    this.i = 0;
    if (r.done) this.eof = true;
    else for (const t of r.value) this.buf.push(t);
  }

  /** Stops reading and removes temporary files. */
  async close(): Promise<void> {
    if (this.src) await this.src.return(undefined);
    if (this.raw) await this.raw.return(undefined);
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}
