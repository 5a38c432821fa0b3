// Peer order books for the book benchmarks, each fed the already-parsed messages the way it expects:
// ccxt's OrderBook (sorted arrays with bisection, the one ccxt.pro uses for Bybit) and tardis-dev's
// OrderBook (red-black trees).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OrderBook as TardisOrderBook } from 'tardis-dev';
import type { BookChange } from 'tardis-dev';
import type { Level } from '../../src-shared/market.ts';
import type { BenchBookMessage } from './bookData.ts';
import { PROJECT_ROOT } from './bookData.ts';

/** What every benchmarked book offers: apply one message, report its top of book. */
export interface BenchBook {
  apply(msg: BenchBookMessage): void;
  top(): { bid: number; bidSize: number; ask: number; askSize: number };
}

interface CcxtSide {
  length: number;
  [i: number]: number[];
  storeArray(delta: number[]): void;
}
interface CcxtBook {
  bids: CcxtSide;
  asks: CcxtSide;
  reset(snapshot?: object): void;
}
type CcxtBookCtor = new (snapshot?: object, depth?: number) => CcxtBook;

let ccxtCtor: CcxtBookCtor | undefined;

/** ccxt does not export its order-book class from the package root; load the module file itself. */
export async function loadCcxtOrderBook(): Promise<CcxtBookCtor> {
  if (!ccxtCtor) {
    const file = path.join(PROJECT_ROOT, 'node_modules', 'ccxt', 'js', 'src', 'base', 'ws', 'OrderBook.js');
    const mod = (await import(pathToFileURL(file).href)) as { OrderBook: CcxtBookCtor };
    ccxtCtor = mod.OrderBook;
  }
  return ccxtCtor;
}

/**
 * ccxt stores the level arrays it is given and later mutates them in place (`row[1] = size`), so, as its
 * own Bybit handler does (parseBidAsk builds a fresh [price, size]), each level is passed as a new array;
 * otherwise it would corrupt the shared messages the other books replay.
 */
export function ccxtBook(Ctor: CcxtBookCtor): BenchBook {
  const ob = new Ctor({}, undefined);
  const store = (side: CcxtSide, levels: readonly Level[]) => {
    for (let i = 0; i < levels.length; i++) side.storeArray([levels[i][0], levels[i][1]]);
  };
  return {
    apply(msg) {
      if (msg.snapshot) ob.reset({});
      store(ob.bids, msg.bids);
      store(ob.asks, msg.asks);
    },
    top() {
      const b = ob.bids.length ? ob.bids[0] : [NaN, NaN];
      const a = ob.asks.length ? ob.asks[0] : [NaN, NaN];
      return { bid: b[0], bidSize: b[1], ask: a[0], askSize: a[1] };
    },
  };
}

/** tardis-dev takes BookChange objects with {price, amount} levels; converted once, outside the timing. */
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

export function tardisBook(): { book: TardisOrderBook; top: BenchBook['top'] } {
  const book = new TardisOrderBook();
  return {
    book,
    top() {
      const b = book.bestBid();
      const a = book.bestAsk();
      return {
        bid: b?.price ?? NaN,
        bidSize: b?.amount ?? NaN,
        ask: a?.price ?? NaN,
        askSize: a?.amount ?? NaN,
      };
    },
  };
}
