// Market history for the candle chart, kept outside React like ./series.ts: per-second trade bars (from
// market/trades) and per-second liquidity columns (sampled from every market/book view the page receives).
import type { BookView, TradeBar } from '../../src-shared/ipc.ts';
import { foldBook, type HeatColumn } from '../chart/candles.ts';

const KEEP_SECONDS = 3_600;

type Listener = () => void;

class MarketHistory {
  trades: TradeBar[] = [];
  columns: HeatColumn[] = [];
  /** Tick size of the book the columns were taken from ('' before any). */
  tickSize = '';
  private listeners = new Set<Listener>();
  /** Bumped on every change, so that a chart knows whether to redraw. */
  version = 0;

  resetTrades(bars: readonly TradeBar[]): void {
    this.trades = bars.slice(-KEEP_SECONDS);
    this.changed();
  }

  /** New or re-sent bars (a re-sent bar replaces the one of its second). */
  addTrades(bars: readonly TradeBar[]): void {
    for (const b of bars) {
      const last = this.trades[this.trades.length - 1];
      if (last && b.t === last.t) this.trades[this.trades.length - 1] = b;
      else if (!last || b.t > last.t) this.trades.push(b);
      else {
        const i = this.trades.findIndex((x) => x.t === b.t);
        if (i >= 0) this.trades[i] = b;
      }
    }
    if (this.trades.length > KEEP_SECONDS * 1.25) this.trades = this.trades.slice(-KEEP_SECONDS);
    this.changed();
  }

  addBook(book: BookView): void {
    if (!book.valid) return;
    if (book.tickSize !== this.tickSize) {
      // Another symbol or a refined tick: the old columns are on another grid.
      this.columns = [];
      this.tickSize = book.tickSize;
    }
    foldBook(this.columns, book.ts, book.bids, book.asks, 1_000, KEEP_SECONDS);
    this.changed();
  }

  clearBook(): void {
    this.columns = [];
    this.changed();
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version++;
    this.listeners.forEach((l) => l());
  }
}

export const market = new MarketHistory();
