// Tardis.dev CSV datasets (incremental_book_L2, book_snapshot_N, trades): telling them apart by their header line
// and parsing one row. Times are microseconds since epoch, kept as whole ms (floored) like every stored time.
import type { Category, Side, Trade } from '../../src-shared/market.ts';

/** The four columns every Tardis CSV dataset starts with. */
const COMMON = ['exchange', 'symbol', 'timestamp', 'local_timestamp'] as const;
export const TARDIS_INCREMENTAL_HEADER =
  'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount';
export const TARDIS_TRADES_HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';

type Common = Record<(typeof COMMON)[number], number> & { count: number };
export type IncrementalColumns = Common & {
  is_snapshot: number;
  side: number;
  price: number;
  amount: number;
};
export type TradeColumns = Common & { id: number; side: number; price: number; amount: number };
/** book_snapshot_N: the (price, amount) columns of each level, best first. */
export type SnapshotColumns = Common & { asks: [number, number][]; bids: [number, number][] };

export type TardisHeader =
  | { kind: 'incremental_book_L2'; cols: IncrementalColumns }
  | { kind: 'book_snapshot'; depth: number; cols: SnapshotColumns }
  | { kind: 'trades'; cols: TradeColumns }
  /** A Tardis dataset we do not import (quotes, derivative_ticker, ...), or a damaged header. */
  | { kind: 'unsupported'; reason: string };

const splitHeader = (line: string): string[] =>
  line
    .replace(/^\uFEFF/, '')
    .trim()
    .split(',')
    .map((s) => s.trim());

/** The Tardis dataset a header line announces; undefined when it is no Tardis header at all. */
export function parseTardisHeader(line: string): TardisHeader | undefined {
  const names = splitHeader(line);
  if (COMMON.some((c, i) => names[i] !== c)) return undefined;
  const at = (n: string) => names.indexOf(n);
  const common: Common = { exchange: 0, symbol: 1, timestamp: 2, local_timestamp: 3, count: names.length };
  const has = (...ns: string[]) => ns.every((n) => at(n) >= 0);
  if (has('is_snapshot', 'side', 'price', 'amount'))
    return {
      kind: 'incremental_book_L2',
      cols: {
        ...common,
        is_snapshot: at('is_snapshot'),
        side: at('side'),
        price: at('price'),
        amount: at('amount'),
      },
    };
  if (has('asks[0].price')) {
    const asks: [number, number][] = [];
    const bids: [number, number][] = [];
    for (const [side, out] of [
      ['asks', asks],
      ['bids', bids],
    ] as const)
      for (let i = 0; at(`${side}[${i}].price`) >= 0; i++) {
        const a = at(`${side}[${i}].amount`);
        if (a < 0)
          return { kind: 'unsupported', reason: `book snapshot header without ${side}[${i}].amount` };
        out.push([at(`${side}[${i}].price`), a]);
      }
    if (asks.length !== bids.length)
      return {
        kind: 'unsupported',
        reason: `book snapshot header with ${asks.length} ask and ${bids.length} bid levels`,
      };
    return { kind: 'book_snapshot', depth: asks.length, cols: { ...common, asks, bids } };
  }
  if (has('id', 'side', 'price', 'amount') && names.length === 8)
    return {
      kind: 'trades',
      cols: { ...common, id: at('id'), side: at('side'), price: at('price'), amount: at('amount') },
    };
  return {
    kind: 'unsupported',
    reason: `a Tardis dataset other than incremental_book_L2, book_snapshot_N or trades ("${line.slice(0, 120)}")`,
  };
}

/** Microseconds since epoch as whole ms, floored, exactly (digits, not float maths); undefined if malformed. */
export function microsToMs(text: string): number | undefined {
  if (!/^\d{4,17}$/.test(text)) return undefined;
  const ms = Number(text.slice(0, -3));
  return ms > 0 ? ms : undefined;
}

/** The session category of a Tardis exchange id (bybit = linear, bybit-spot = spot); others keep the default. */
export function tardisCategory(exchange: string, fallback: Category): Category {
  if (exchange === 'bybit-spot' || exchange.endsWith('-spot')) return 'spot';
  if (exchange === 'bybit') return 'linear';
  return fallback;
}

const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const EXCHANGE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The fields every row shares, or what is wrong with them. */
export interface RowHead {
  exchange: string;
  symbol: string;
  /** The raw timestamp texts: rows of one update share them exactly. */
  tsText: string;
  localText: string;
  ts: number;
  recvTs: number;
}

/** The shared fields of a row; `prev` (the previous row's) is returned as is when they repeat it, as they do on
 * every row of one update: checked once, and an update's rows are told by that identity. */
export function parseRowHead(f: readonly string[], cols: Common, prev?: RowHead): RowHead | string {
  if (f.length !== cols.count || f[0] === 'exchange') {
    if (f[0] === 'exchange' && f[1] === 'symbol')
      return 'a header line among the data rows (files concatenated?)';
    if (f.length !== cols.count) return `expected ${cols.count} columns, got ${f.length}`;
  }
  if (
    prev !== undefined &&
    f[cols.timestamp] === prev.tsText &&
    f[cols.local_timestamp] === prev.localText &&
    f[cols.symbol] === prev.symbol &&
    f[cols.exchange] === prev.exchange
  )
    return prev;
  const exchange = f[cols.exchange];
  if (!EXCHANGE.test(exchange)) return `bad exchange "${exchange.slice(0, 40)}"`;
  const symbol = f[cols.symbol];
  if (!SYMBOL.test(symbol)) return `bad symbol "${symbol.slice(0, 40)}"`;
  const tsText = f[cols.timestamp];
  const ts = microsToMs(tsText);
  if (ts === undefined) return `bad timestamp "${tsText.slice(0, 40)}" (microseconds since epoch)`;
  const localText = f[cols.local_timestamp];
  const recvTs = microsToMs(localText);
  if (recvTs === undefined)
    return `bad local_timestamp "${localText.slice(0, 40)}" (microseconds since epoch)`;
  return { exchange, symbol, tsText, localText, ts, recvTs };
}

/** A price (> 0) or size (>= 0, or > 0 when `positive`) text as a number; undefined if malformed. */
export function decimal(text: string, positive: boolean): number | undefined {
  if (text === '' || text.length > 40 || !/^[0-9.eE+-]+$/.test(text)) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (positive && n === 0)) return undefined;
  return n;
}

export interface IncrementalRow {
  head: RowHead;
  snapshot: boolean;
  bid: boolean;
  price: number;
  amount: number;
}

/** An incremental_book_L2 row: the shared fields plus one level change, or what is wrong with it. */
export function parseIncrementalRow(
  f: readonly string[],
  cols: IncrementalColumns,
  prev?: RowHead,
): IncrementalRow | string {
  const head = parseRowHead(f, cols, prev);
  if (typeof head === 'string') return head;
  const snap = f[cols.is_snapshot];
  if (snap !== 'true' && snap !== 'false') return `bad is_snapshot "${snap.slice(0, 40)}" (true or false)`;
  const side = f[cols.side];
  if (side !== 'bid' && side !== 'ask') return `bad side "${side.slice(0, 40)}" (bid or ask)`;
  const price = decimal(f[cols.price], true);
  if (price === undefined) return `bad price "${f[cols.price].slice(0, 40)}"`;
  const amount = decimal(f[cols.amount], false);
  if (amount === undefined) return `bad amount "${f[cols.amount].slice(0, 40)}"`;
  return { head, snapshot: snap === 'true', bid: side === 'bid', price, amount };
}

/** A trades row as a trade; undefined for a trade without a taker side ("unknown": skipped and counted). */
export function parseTardisTradeRow(
  line: string,
  cols: TradeColumns,
  lineNo: number,
): { symbol: string; trade: Trade; recvTs: number } | string | undefined {
  const f = line.split(',');
  const head = parseRowHead(f, cols);
  if (typeof head === 'string') return head;
  const side = f[cols.side];
  if (side === 'unknown') return undefined;
  if (side !== 'buy' && side !== 'sell') return `bad side "${side.slice(0, 40)}" (buy, sell or unknown)`;
  const price = decimal(f[cols.price], true);
  if (price === undefined) return `bad price "${f[cols.price].slice(0, 40)}"`;
  const size = decimal(f[cols.amount], true);
  if (size === undefined) return `bad amount "${f[cols.amount].slice(0, 40)}"`;
  // Some exchanges publish no trade id: the time and line stand in, unique within the file.
  const id = f[cols.id] === '' ? `${head.tsText}-${lineNo}` : f[cols.id];
  const s: Side = side === 'buy' ? 'Buy' : 'Sell';
  return {
    symbol: head.symbol,
    recvTs: head.recvTs,
    trade: { ts: head.ts, side: s, price, size, id, blockTrade: false, seq: 0 },
  };
}
