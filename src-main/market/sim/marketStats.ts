// The statistics a simulated market is calibrated against, measured the same way on any stream of parsed v5
// messages (a stored Bybit session or the simulator's output): volatility per √s, 10 s return autocorrelation,
// spread, message rates, trade sizes, book depth at the touch, and the edge of imbalance and order flow on the
// next 10 s return. Pure: the caller feeds messages in order (local receive time) and reads the summary.
import type { MarketMessage } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { spearman } from '../../model/metrics.ts';

/** Sampling grid of the book (ms): mids, spreads, imbalance and flow are read at each grid time. */
export const STATS_GRID_MS = 1000;
/** Return horizon of the autocorrelation and of the edge (ms): the default label horizon. */
export const STATS_HORIZON_MS = 10_000;

/** Summary statistics of a market stream (snake_case: the JSON of `sim calibrate`). */
export interface MarketStats {
  /** Span of the stream on the receive clock (s). */
  span_s: number;
  book_msgs_per_s: number;
  trade_msgs_per_s: number;
  /** Individual trades (prints) per second. */
  trades_per_s: number;
  /** Volatility of the mid in bps per √s, from non-overlapping 10 s log returns (robust to bid-ask bounce). */
  vol_bps_per_sqrt_s: number;
  /** The same from 1 s returns (larger than the 10 s figure when the mid bounces). */
  vol_1s_bps_per_sqrt_s: number;
  /** Lag-1 autocorrelation of non-overlapping 10 s mid log returns, and how many returns it rests on. */
  ret10_autocorr: number;
  ret10_n: number;
  /** Spread in ticks sampled on the 1 s grid: share at one tick, mean, median and 90th percentile. */
  spread_one_tick_share: number;
  spread_mean_ticks: number;
  spread_p50_ticks: number;
  spread_p90_ticks: number;
  /** Trade size in base units (BTC): mean, median, 90th and 99th percentile. */
  trade_size_mean: number;
  trade_size_p50: number;
  trade_size_p90: number;
  trade_size_p99: number;
  /** Mean size (base units) at the best bid and ask, and in the top 5 levels of one side. */
  touch_size_mean: number;
  top5_size_mean: number;
  /** Spearman correlation of top-5 imbalance, and of signed traded volume over the last 10 s, with the next 10 s return. */
  imbalance_ic: number;
  flow_ic: number;
  /** Grid samples the two ICs rest on (overlapping: about span / 10 s of them are independent). */
  ic_n: number;
}

/** Percentile p (0..1) of an ascending-sorted array (nearest rank); NaN when empty. */
function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function sd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
}

/** Lag-1 autocorrelation over the consecutive pairs (a break in the series pairs nothing across it). */
function autocorr1(xs: readonly number[], pairs: readonly [number, number][]): number {
  if (pairs.length < 2) return NaN;
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  const den = xs.reduce((s, v) => s + (v - m) ** 2, 0) / xs.length;
  const num = pairs.reduce((s, [a, b]) => s + (a - m) * (b - m), 0) / pairs.length;
  return den > 0 ? num / den : NaN;
}

/**
 * Accumulates a stream and summarises it. Book messages go through the same sequence checks as the engine's book;
 * while the book is invalid (a gap, before the first snapshot) the grid records no sample.
 */
export class MarketStatsCollector {
  private readonly book: SequencedBook;
  private firstTs = NaN;
  private lastTs = NaN;
  private bookMsgs = 0;
  private tradeMsgs = 0;
  private readonly tradeSizes: number[] = [];
  /** Signed traded volume (base) per grid step, reset at each grid time. */
  private stepFlow = 0;
  private nextGrid = NaN;
  private readonly mids: number[] = [];
  private readonly spreads: number[] = [];
  private readonly imbalance: number[] = [];
  private readonly flows: number[] = [];
  private touchSum = 0;
  private top5Sum = 0;
  private depthSamples = 0;

  constructor(tickSize: string) {
    const scale = new TickScale(tickSize);
    this.book = new SequencedBook(scale);
  }

  /** A recorded gap: the book is untrusted until the next snapshot. */
  gap(): void {
    this.book.invalidate();
  }

  add(m: MarketMessage): void {
    const t = m.recvTs;
    if (Number.isNaN(this.firstTs)) {
      this.firstTs = t;
      this.nextGrid = Math.ceil(t / STATS_GRID_MS) * STATS_GRID_MS;
    }
    // Grid times passed before this message see the book as it was: sample first, then apply.
    while (t > this.nextGrid) this.sample();
    this.lastTs = Math.max(this.lastTs || t, t);
    if (m.kind === 'book') {
      this.bookMsgs++;
      this.book.apply(m);
    } else {
      this.tradeMsgs++;
      for (const tr of m.trades) {
        this.tradeSizes.push(tr.size);
        this.stepFlow += tr.side === 'Buy' ? tr.size : -tr.size;
      }
    }
  }

  private sample(): void {
    const b = this.book.book;
    let mid = NaN;
    let spread = NaN;
    let imb = NaN;
    if (this.book.valid) {
      mid = b.mid();
      spread = b.bestAskTick() - b.bestBidTick();
      let bv = 0;
      let av = 0;
      b.forEachLevel('bid', 5, (_p, s) => (bv += s));
      b.forEachLevel('ask', 5, (_p, s) => (av += s));
      imb = bv + av > 0 ? (bv - av) / (bv + av) : NaN;
      const touch = (b.bestBidSize() + b.bestAskSize()) / 2;
      if (Number.isFinite(touch)) {
        this.touchSum += touch;
        this.top5Sum += (bv + av) / 2;
        this.depthSamples++;
      }
    }
    this.mids.push(mid);
    this.spreads.push(spread);
    this.imbalance.push(imb);
    this.flows.push(this.stepFlow);
    this.stepFlow = 0;
    this.nextGrid += STATS_GRID_MS;
  }

  summary(): MarketStats {
    const span = Number.isNaN(this.firstTs) ? 0 : (this.lastTs - this.firstTs) / 1000;
    const k = Math.round(STATS_HORIZON_MS / STATS_GRID_MS);
    const mids = this.mids;
    const logRet = (i: number, j: number) =>
      mids[i] > 0 && mids[j] > 0 ? Math.log(mids[j] / mids[i]) * 1e4 : NaN;
    // Non-overlapping 10 s returns (a run breaks where the mid is unknown) and 1 s returns.
    const r10: number[] = [];
    const pairs: [number, number][] = [];
    let prev: number | null = null;
    for (let i = 0; i + k < mids.length; i += k) {
      const r = logRet(i, i + k);
      if (Number.isFinite(r)) {
        r10.push(r);
        if (prev !== null) pairs.push([prev, r]);
        prev = r;
      } else prev = null;
    }
    const r1: number[] = [];
    for (let i = 0; i + 1 < mids.length; i++) {
      const r = logRet(i, i + 1);
      if (Number.isFinite(r)) r1.push(r);
    }
    // Edge: features at grid time i against the return over the next 10 s (every grid time: overlapping).
    const fi: number[] = [];
    const ff: number[] = [];
    const fy: number[] = [];
    let flow10 = 0;
    for (let i = 0; i < mids.length; i++) {
      flow10 += this.flows[i] - (i >= k ? this.flows[i - k] : 0);
      if (i + k >= mids.length) continue;
      const y = logRet(i, i + k);
      if (!Number.isFinite(y) || !Number.isFinite(this.imbalance[i])) continue;
      fi.push(this.imbalance[i]);
      ff.push(flow10);
      fy.push(y);
    }
    const spreadTicks = this.spreads.filter((s) => Number.isFinite(s)).sort((a, b) => a - b);
    const sizes = Float64Array.from(this.tradeSizes).sort();
    const n = this.tradeSizes.length;
    return {
      span_s: span,
      book_msgs_per_s: span > 0 ? this.bookMsgs / span : NaN,
      trade_msgs_per_s: span > 0 ? this.tradeMsgs / span : NaN,
      trades_per_s: span > 0 ? n / span : NaN,
      vol_bps_per_sqrt_s: sd(r10) / Math.sqrt(STATS_HORIZON_MS / 1000),
      vol_1s_bps_per_sqrt_s: sd(r1) / Math.sqrt(STATS_GRID_MS / 1000),
      ret10_autocorr: autocorr1(r10, pairs),
      ret10_n: r10.length,
      spread_one_tick_share: spreadTicks.length
        ? spreadTicks.filter((s) => s === 1).length / spreadTicks.length
        : NaN,
      spread_mean_ticks: spreadTicks.length
        ? spreadTicks.reduce((s, v) => s + v, 0) / spreadTicks.length
        : NaN,
      spread_p50_ticks: pct(spreadTicks, 0.5),
      spread_p90_ticks: pct(spreadTicks, 0.9),
      trade_size_mean: n ? this.tradeSizes.reduce((s, v) => s + v, 0) / n : NaN,
      trade_size_p50: pct(sizes, 0.5),
      trade_size_p90: pct(sizes, 0.9),
      trade_size_p99: pct(sizes, 0.99),
      touch_size_mean: this.depthSamples ? this.touchSum / this.depthSamples : NaN,
      top5_size_mean: this.depthSamples ? this.top5Sum / this.depthSamples : NaN,
      imbalance_ic: fy.length >= 3 ? spearman(fi, fy) : NaN,
      flow_ic: fy.length >= 3 ? spearman(ff, fy) : NaN,
      ic_n: fy.length,
    };
  }
}

/** Statistics of a whole stream of messages (gaps reset the book). */
export function marketStats(
  events: Iterable<MarketMessage | { kind: 'gap' }>,
  tickSize: string,
): MarketStats {
  const c = new MarketStatsCollector(tickSize);
  for (const e of events) {
    if (e.kind === 'gap') c.gap();
    else c.add(e);
  }
  return c.summary();
}
