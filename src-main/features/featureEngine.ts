// Streaming feature engine: one implementation for training, backtest and live. It reads the touch on each applied
// book message, keeps time-windowed state in ring buffers, and computes FEATURE_SET at a decision time from data
// with timestamps <= that time only (causal; see featureEngine.test.ts). The deeper levels are read only when a
// decision needs them, from the book as the last onBook left it: decisions are ~2% of messages, and reading ten
// levels per side after every message was a fifth of a backtest's time. The book's revision proves it unchanged.
import type { Trade } from '../../src-shared/market.ts';
import { IMBALANCE_WEIGHTS, bookImbalance, weightedBookImbalance } from './bookImbalance.ts';
import { depthSlope } from './depthSlope.ts';
import {
  BOOK_LEVELS,
  MAX_LOOKBACK_MS,
  N_FEATURES,
  OFI_WINDOWS_MS,
  RETURN_LOOKBACKS_MS,
  RV_WINDOWS_MS,
  TIME_SINCE_TRADE_CAP_S,
  TRADE_WINDOWS_MS,
} from './featureSet.ts';
import { LaggedValue } from './laggedValue.ts';
import { micropriceOffsetBps } from './microprice.ts';
import { logReturnBps } from './midReturn.ts';
import { normalisedOfi, ofiEvent } from './orderFlowImbalance.ts';
import { realizedVolBps } from './realizedVolatility.ts';
import { spreadBps } from './spread.ts';
import { timeSinceTradeS } from './timeSinceTrade.ts';
import { perSecond, tradeFlowImbalance } from './tradeFlow.ts';
import { WindowedSums } from './windowedSums.ts';

// Usage: onBook(book, ts) after every applied book message, onTrade(trade) for every trade, compute(t, out) at
// each decision time, and reset() whenever the feed has a gap or the book goes invalid (SequencedBook 'gap').

/** The part of `OrderBook` (src-main/book/orderBook.ts) the features read; OrderBook satisfies it. */
export interface BookReader {
  bidCount(): number;
  askCount(): number;
  bestBid(): number;
  bestAsk(): number;
  bestBidSize(): number;
  bestAskSize(): number;
  /** Copies up to n levels of a side, best first, into px / sz and returns how many. */
  copyLevels(side: 'bid' | 'ask', n: number, px: Float64Array, sz: Float64Array): number;
  /** Changes whenever the book may have changed. */
  revision(): number;
}

export interface FeatureEngineOptions {
  /** Valid book history needed after a reset before compute() answers; at least the longest look-back (30 s). */
  warmupMs?: number;
}

export class FeatureEngine {
  readonly warmupMs: number;
  private readonly bidPx = new Float64Array(BOOK_LEVELS);
  private readonly bidSz = new Float64Array(BOOK_LEVELS);
  private readonly askPx = new Float64Array(BOOK_LEVELS);
  private readonly askSz = new Float64Array(BOOK_LEVELS);
  private nBid = 0;
  private nAsk = 0;
  /** The book of the last onBook and its revision then; levelsRead once its levels are in bidPx… for compute. */
  private levelsOf: BookReader | null = null;
  private levelsRev = NaN;
  private levelsRead = false;
  /** Decisions refused because the book had changed since onBook without a reset (a caller's bug; see compute). */
  staleBookReads = 0;

  private ok = false; // a valid two-sided book has been seen since the last reset
  private validSince = NaN;
  private lastTs = -Infinity;
  private prevBid = NaN;
  private prevBidSize = NaN;
  private prevAsk = NaN;
  private prevAskSize = NaN;
  private prevMid = NaN;
  private lastTradeTs = NaN;

  private readonly ofi = new WindowedSums(OFI_WINDOWS_MS); // channels: e_n, touch depth
  private readonly trades = new WindowedSums(TRADE_WINDOWS_MS); // channels: buy volume, sell volume, count
  private readonly rv = new WindowedSums(RV_WINDOWS_MS); // channel: squared mid log return (bps²)
  private readonly mids = new LaggedValue(RETURN_LOOKBACKS_MS);

  constructor(opts: FeatureEngineOptions = {}) {
    this.warmupMs = Math.max(opts.warmupMs ?? MAX_LOOKBACK_MS, MAX_LOOKBACK_MS);
  }

  /** Forgets everything (call on a data gap): features answer again after a fresh warm-up. */
  reset(): void {
    this.ok = false;
    this.validSince = NaN;
    this.lastTs = -Infinity;
    this.prevBid = this.prevBidSize = this.prevAsk = this.prevAskSize = this.prevMid = NaN;
    this.lastTradeTs = NaN;
    this.nBid = this.nAsk = 0;
    this.levelsOf = null;
    this.levelsRead = false;
    this.ofi.clear();
    this.trades.clear();
    this.rv.clear();
    this.mids.clear();
  }

  /** True once compute(ts) would answer: a valid book has been seen for at least the warm-up. */
  isWarm(ts: number): boolean {
    return this.ok && ts - this.validSince >= this.warmupMs;
  }

  /** Call after each applied book message; ts in ms, non-decreasing (earlier values are clamped). */
  onBook(book: BookReader, ts: number): void {
    if (ts < this.lastTs) ts = this.lastTs;
    this.lastTs = ts;
    if (book.bidCount() === 0 || book.askCount() === 0) {
      if (this.ok) this.reset();
      this.lastTs = ts;
      return;
    }
    const bid = book.bestBid();
    const ask = book.bestAsk();
    const bidSize = book.bestBidSize();
    const askSize = book.bestAskSize();
    this.levelsOf = book;
    this.levelsRev = book.revision();
    this.levelsRead = false;
    if (!(bid < ask)) {
      // A crossed or locked book is not a state the model may see: start over once it is sane.
      if (this.ok) this.reset();
      this.lastTs = ts;
      return;
    }
    const mid = (bid + ask) / 2;
    if (!this.ok) {
      this.ok = true;
      this.validSince = ts;
      this.mids.push(ts, mid);
    } else {
      if (
        bid !== this.prevBid ||
        ask !== this.prevAsk ||
        bidSize !== this.prevBidSize ||
        askSize !== this.prevAskSize
      ) {
        const e = ofiEvent(
          this.prevBid,
          this.prevBidSize,
          this.prevAsk,
          this.prevAskSize,
          bid,
          bidSize,
          ask,
          askSize,
        );
        this.ofi.push(ts, e, (bidSize + askSize) / 2);
      }
      if (mid !== this.prevMid) {
        const r = logReturnBps(this.prevMid, mid);
        this.rv.push(ts, r * r);
        this.mids.push(ts, mid);
        this.mids.advance(ts); // keeps the ring bounded even if compute() is not called for a while
      }
    }
    this.prevBid = bid;
    this.prevAsk = ask;
    this.prevBidSize = bidSize;
    this.prevAskSize = askSize;
    this.prevMid = mid;
  }

  /**
   * Call for each public trade, in arrival order. `ts` is the event time on the caller's clock (the one given to
   * onBook and compute); by default the trade's own fill time. Either way it is clamped to be non-decreasing.
   */
  onTrade(t: Trade, ts: number = t.ts): void {
    if (ts < this.lastTs) ts = this.lastTs;
    this.lastTs = ts;
    const buy = t.side === 'Buy';
    this.trades.push(ts, buy ? t.size : 0, buy ? 0 : t.size, 1);
    this.lastTradeTs = ts;
  }

  /**
   * Fills `out` (length >= N_FEATURES) in FEATURE_SET.names order as of time ts (>= the last event's ts).
   * Returns false, leaving `out` untouched, until warm or while the book is empty/invalid.
   */
  compute(ts: number, out: Float64Array): boolean {
    if (!this.isWarm(ts)) return false;
    if (out.length < N_FEATURES)
      throw new RangeError(`compute needs an output of length ${N_FEATURES}, got ${out.length}`);
    if (!this.levelsRead && !this.readLevels()) {
      // The book changed after the last onBook with no reset: the levels that message left are gone. Never guess
      // them from the changed book; start over as after a gap.
      this.staleBookReads++;
      this.reset();
      return false;
    }
    this.ofi.advance(ts);
    this.trades.advance(ts);
    this.rv.advance(ts);
    this.mids.advance(ts);
    const bid = this.prevBid;
    const ask = this.prevAsk;
    const mid = this.prevMid;
    let k = 0;
    out[k++] = spreadBps(bid, ask);
    out[k++] = micropriceOffsetBps(bid, this.prevBidSize, ask, this.prevAskSize);
    out[k++] = bookImbalance(this.bidSz, this.nBid, this.askSz, this.nAsk, 1);
    out[k++] = bookImbalance(this.bidSz, this.nBid, this.askSz, this.nAsk, 5);
    out[k++] = bookImbalance(this.bidSz, this.nBid, this.askSz, this.nAsk, 10);
    out[k++] = weightedBookImbalance(this.bidSz, this.nBid, this.askSz, this.nAsk, IMBALANCE_WEIGHTS);
    for (let j = 0; j < OFI_WINDOWS_MS.length; j++)
      out[k++] = normalisedOfi(this.ofi.sum(j, 0), this.ofi.sum(j, 1), this.ofi.count(j));
    for (let j = 0; j < TRADE_WINDOWS_MS.length; j++)
      out[k++] = tradeFlowImbalance(this.trades.sum(j, 0), this.trades.sum(j, 1));
    for (let j = 0; j < TRADE_WINDOWS_MS.length; j++)
      out[k++] = perSecond(this.trades.count(j), TRADE_WINDOWS_MS[j]);
    for (let j = 0; j < TRADE_WINDOWS_MS.length; j++)
      out[k++] = perSecond(this.trades.sum(j, 0) + this.trades.sum(j, 1), TRADE_WINDOWS_MS[j]);
    for (let j = 0; j < RV_WINDOWS_MS.length; j++) out[k++] = realizedVolBps(this.rv.sum(j, 0));
    out[k++] = depthSlope(this.bidPx, this.bidSz, this.nBid, mid);
    out[k++] = depthSlope(this.askPx, this.askSz, this.nAsk, mid);
    for (let j = 0; j < RETURN_LOOKBACKS_MS.length; j++) out[k++] = logReturnBps(this.mids.value(j), mid);
    out[k++] = timeSinceTradeS(ts, this.lastTradeTs, TIME_SINCE_TRADE_CAP_S);
    return true;
  }

  /** Reads the top levels of the last onBook's book, if it is still as onBook saw it. */
  private readLevels(): boolean {
    const book = this.levelsOf;
    if (book === null || book.revision() !== this.levelsRev) return false;
    this.nBid = book.copyLevels('bid', BOOK_LEVELS, this.bidPx, this.bidSz);
    this.nAsk = book.copyLevels('ask', BOOK_LEVELS, this.askPx, this.askSz);
    this.levelsRead = true;
    return true;
  }

  /** Mid of the last valid book (NaN when none): the dataset builder labels from it. */
  mid(): number {
    return this.ok ? this.prevMid : NaN;
  }
}
