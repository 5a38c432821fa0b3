// Peer order books for the book benchmarks: ccxt's OrderBook (sorted arrays with bisection, the one ccxt.pro uses
// for Bybit) and tardis-dev's OrderBook (red-black trees). Each gets its input in its own native shape, prepared
// before the clock starts, and each is read after every message the way our engine reads ours (TopReads).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BookChange, OrderBook as TardisOrderBookType } from 'tardis-dev';
import type { Level } from '../../src-shared/market.ts';
import type { BenchBookMessage } from './bookData.ts';
import { PROJECT_ROOT } from './bookData.ts';

/** Levels per side read after each message: the features' BOOK_LEVELS (src-main/features/featureSet.ts). */
export const TOP_N = 10;

/**
 * What the engine reads after every applied book message: the top TOP_N levels of each side (FeatureEngine.onBook
 * copies them into typed arrays) and the best bid and ask (the mid, for marking and risk). Each book fills these
 * and then calls record(). In a checked pass (digests set) record() also folds the reads into one number per
 * message so that the books can be compared message by message; the timed passes leave digests null, because the
 * fold is the harness's check, not work a reader of the book does (it cost about 50 ns per message, a third of
 * our book's whole per-message time on the fine-tick streams, and the same for every book).
 */
export class TopReads {
  readonly bidPx = new Float64Array(TOP_N);
  readonly bidSz = new Float64Array(TOP_N);
  readonly askPx = new Float64Array(TOP_N);
  readonly askSz = new Float64Array(TOP_N);
  nBid = 0;
  nAsk = 0;
  bestBid = NaN;
  bestAsk = NaN;
  /** One value per message in a checked pass; null in a timed one. */
  digests: Float64Array | null = null;

  /** A checked pass over `messages` messages from here on, or (0) a timed one. */
  check(messages: number): void {
    if (messages === 0) this.digests = null;
    else if (this.digests === null || this.digests.length < messages)
      this.digests = new Float64Array(messages);
  }

  record(i: number, bestBid: number, bestAsk: number): void {
    this.bestBid = bestBid;
    this.bestAsk = bestAsk;
    const d = this.digests;
    if (d !== null) d[i] = this.digest();
  }

  /** The current reads as one number (levels weighted by rank, so that an order change shows). */
  digest(): number {
    let s = this.bestAsk - this.bestBid + this.nBid * 1e3 + this.nAsk * 1e6;
    for (let k = 0; k < this.nBid; k++) s += this.bidPx[k] * (k + 1) + this.bidSz[k] * (k + 7);
    for (let k = 0; k < this.nAsk; k++) s += this.askPx[k] * (k + 3) + this.askSz[k] * (k + 11);
    return s;
  }
}

/** Fails with a clear message when a peer package is not installed: a missing peer is not a figure. */
export class PeerMissingError extends Error {}

interface CcxtSide {
  length: number;
  [i: number]: number[];
  // Typed as our Level: ccxt mutates the row it keeps, which is why every replay gets fresh arrays.
  storeArray(delta: Level): void;
}
export interface CcxtBook {
  bids: CcxtSide;
  asks: CcxtSide;
  reset(snapshot?: object): void;
}
type CcxtBookCtor = new (snapshot?: object, depth?: number) => CcxtBook;

/** ccxt does not export its order-book class from the package root; load the module file itself. */
export async function loadCcxtOrderBook(): Promise<CcxtBookCtor> {
  const file = path.join(PROJECT_ROOT, 'node_modules', 'ccxt', 'js', 'src', 'base', 'ws', 'OrderBook.js');
  if (!fs.existsSync(file))
    throw new PeerMissingError(
      `ccxt is not installed (no ${path.relative(PROJECT_ROOT, file)}): npm install`,
    );
  const mod = (await import(pathToFileURL(file).href)) as { OrderBook?: CcxtBookCtor };
  if (typeof mod.OrderBook !== 'function') throw new PeerMissingError(`${file} exports no OrderBook class`);
  return mod.OrderBook;
}

export type TardisOrderBook = TardisOrderBookType;
type TardisCtor = new () => TardisOrderBook;

export async function loadTardisOrderBook(): Promise<TardisCtor> {
  try {
    const mod = (await import('tardis-dev')) as { OrderBook?: TardisCtor };
    if (typeof mod.OrderBook !== 'function') throw new Error('no OrderBook export');
    return mod.OrderBook;
  } catch (e) {
    throw new PeerMissingError(
      `tardis-dev's OrderBook cannot be loaded (${(e as Error).message}): npm install`,
    );
  }
}

/**
 * ccxt keeps the [price, size] arrays it is given and later mutates them in place (`row[1] = size`), so, as its
 * own Bybit handler does (parseBidAsk builds a fresh array per level), it needs fresh arrays on every replay:
 * the caller materializes them for each chunk before the clock starts, just as it does for the other books.
 */
export function applyCcxt(ob: CcxtBook, msgs: readonly BenchBookMessage[], r: TopReads): void {
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.snapshot) ob.reset({});
    const bids = ob.bids;
    const asks = ob.asks;
    const mb = m.bids;
    const ma = m.asks;
    for (let k = 0; k < mb.length; k++) bids.storeArray(mb[k]);
    for (let k = 0; k < ma.length; k++) asks.storeArray(ma[k]);
    // The reads: ccxt's sides are price-sorted arrays of [price, size] rows.
    const nb = Math.min(TOP_N, bids.length);
    for (let k = 0; k < nb; k++) {
      const row = bids[k];
      r.bidPx[k] = row[0];
      r.bidSz[k] = row[1];
    }
    const na = Math.min(TOP_N, asks.length);
    for (let k = 0; k < na; k++) {
      const row = asks[k];
      r.askPx[k] = row[0];
      r.askSz[k] = row[1];
    }
    r.nBid = nb;
    r.nAsk = na;
    r.record(i, bids.length ? bids[0][0] : NaN, asks.length ? asks[0][0] : NaN);
  }
}

/** tardis-dev's input: BookChange objects with {price, amount} levels. */
export function toTardis(msgs: readonly BenchBookMessage[]): BookChange[] {
  const ts = new Date(0);
  const conv = (ls: readonly Level[]) => ls.map(([price, amount]) => ({ price, amount }));
  return msgs.map((m) => ({
    type: 'book_change',
    symbol: 'BTCUSDT',
    exchange: 'bybit',
    isSnapshot: m.snapshot,
    bids: conv(m.bids),
    asks: conv(m.asks),
    timestamp: ts,
    localTimestamp: ts,
  }));
}

/** tardis-dev's reads: bestBid()/bestAsk() and its bids()/asks() iterators, best first. */
export function applyTardis(book: TardisOrderBook, msgs: readonly BookChange[], r: TopReads): void {
  for (let i = 0; i < msgs.length; i++) {
    book.update(msgs[i]);
    const bb = book.bestBid();
    const ba = book.bestAsk();
    let nb = 0;
    for (const lv of book.bids()) {
      if (nb === TOP_N) break;
      r.bidPx[nb] = lv.price;
      r.bidSz[nb++] = lv.amount;
    }
    let na = 0;
    for (const lv of book.asks()) {
      if (na === TOP_N) break;
      r.askPx[na] = lv.price;
      r.askSz[na++] = lv.amount;
    }
    r.nBid = nb;
    r.nAsk = na;
    r.record(i, bb ? bb.price : NaN, ba ? ba.price : NaN);
  }
}
