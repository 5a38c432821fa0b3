// Pure aggregation for the market chart: mid-price candles, volume bars and liquidity-heatmap columns at a
// chosen interval. No DOM, no chart library: tested with tables of cases.
import type { Level } from '../../src-shared/market.ts';
import type { PricePoint, TradeBar } from '../../src-shared/ipc.ts';

export interface Candle {
  /** Interval start, seconds (the chart's time unit). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Time of the close (ms): a point older than it is late and ignored. */
  closeT: number;
}

export interface VolumeBar {
  time: number;
  buy: number;
  sell: number;
}

/** The intervals a trader can pick (ms). */
export const INTERVALS = [1_000, 5_000, 15_000, 60_000, 300_000] as const;
export type IntervalMs = (typeof INTERVALS)[number];

export const intervalLabel = (ms: number) => (ms < 60_000 ? `${ms / 1000}s` : `${ms / 60_000}m`);

export const bucketSec = (tMs: number, intervalMs: number) =>
  Math.floor(tMs / intervalMs) * (intervalMs / 1000);

/** Folds one price into the candle list (in place); points older than the last candle are ignored. */
export function foldPrice(candles: Candle[], t: number, price: number, intervalMs: number): Candle | null {
  if (!Number.isFinite(price) || !Number.isFinite(t)) return null;
  const time = bucketSec(t, intervalMs);
  const last = candles[candles.length - 1];
  if (last && t < last.closeT) return null;
  if (last && time === last.time) {
    if (price > last.high) last.high = price;
    if (price < last.low) last.low = price;
    last.close = price;
    last.closeT = t;
    return last;
  }
  const c = { time, open: price, high: price, low: price, close: price, closeT: t };
  candles.push(c);
  return c;
}

export function toCandles(points: readonly PricePoint[], intervalMs: number): Candle[] {
  const out: Candle[] = [];
  for (const p of points) foldPrice(out, p.t, p.mid, intervalMs);
  return out;
}

/** Per-second trade bars summed into the interval. Bars must come in time order (a re-sent bar replaces its own). */
export function toVolume(bars: readonly TradeBar[], intervalMs: number): VolumeBar[] {
  const out: VolumeBar[] = [];
  for (const b of bars) {
    const time = bucketSec(b.t, intervalMs);
    const last = out[out.length - 1];
    if (last && last.time === time) {
      last.buy += b.buy;
      last.sell += b.sell;
    } else if (!last || time > last.time) out.push({ time, buy: b.buy, sell: b.sell });
  }
  return out;
}

/** Resting size by price at one time: the book's levels (both sides), largest size seen in the bucket per price. */
export interface HeatColumn {
  /** Bucket start, seconds. */
  time: number;
  prices: number[];
  sizes: number[];
}

/** Folds a book view into per-interval columns (in place), keeping at most `keep` columns. */
export function foldBook(
  columns: HeatColumn[],
  t: number,
  bids: readonly Level[],
  asks: readonly Level[],
  intervalMs: number,
  keep: number,
): void {
  const time = bucketSec(t, intervalMs);
  let col = columns[columns.length - 1];
  if (col && time < col.time) return;
  if (!col || time > col.time) {
    col = { time, prices: [], sizes: [] };
    columns.push(col);
    if (columns.length > keep * 1.25) columns.splice(0, columns.length - keep);
  }
  const index = new Map<number, number>();
  col.prices.forEach((p, i) => index.set(p, i));
  for (const side of [bids, asks])
    for (const [price, size] of side) {
      if (!(size > 0) || !Number.isFinite(price)) continue;
      const i = index.get(price);
      if (i === undefined) {
        index.set(price, col.prices.length);
        col.prices.push(price);
        col.sizes.push(size);
      } else if (size > col.sizes[i]) col.sizes[i] = size;
    }
}

/** Re-buckets per-second columns to a coarser interval (the largest size per price within each bucket). */
export function rebucket(columns: readonly HeatColumn[], intervalMs: number, keep: number): HeatColumn[] {
  const out: HeatColumn[] = [];
  for (const c of columns) {
    const bids: Level[] = c.prices.map((p, i) => [p, c.sizes[i]] as const);
    foldBook(out, c.time * 1000, bids, [], intervalMs, keep);
  }
  return out;
}

/** The size at the given quantile over all cells (the colour scale's top, robust to one huge order). */
export function sizeQuantile(columns: readonly HeatColumn[], q: number): number {
  const all: number[] = [];
  for (const c of columns) for (const s of c.sizes) all.push(s);
  if (all.length === 0) return 0;
  all.sort((a, b) => a - b);
  return all[Math.min(all.length - 1, Math.floor(q * all.length))];
}
