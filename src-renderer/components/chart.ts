// Shared lightweight-charts setup: one dark, calm theme; times in seconds (points within a second replace the last).
import {
  ColorType,
  createChart,
  type DeepPartial,
  type ChartOptions,
  type IChartApi,
  type UTCTimestamp,
} from 'lightweight-charts';

export const toTime = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;

export function makeChart(el: HTMLElement, extra: DeepPartial<ChartOptions> = {}): IChartApi {
  return createChart(el, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: 'transparent' },
      textColor: '#8b93a1',
      fontSize: 11,
      attributionLogo: false,
    },
    grid: { vertLines: { color: '#1b2029' }, horzLines: { color: '#1b2029' } },
    rightPriceScale: { borderColor: '#262c36' },
    timeScale: { borderColor: '#262c36', timeVisible: true, secondsVisible: true },
    crosshair: { mode: 0 },
    ...extra,
  });
}

/** Appends points in time order, skipping any older than the last one drawn (update() rejects those). */
export class Appender {
  private last = -Infinity;
  reset(): void {
    this.last = -Infinity;
  }
  accept(time: number): boolean {
    if (time < this.last) return false;
    this.last = time;
    return true;
  }
}

/** Deduplicates to one point per second (the last one), as setData requires strictly increasing times. */
export function perSecond<T>(points: readonly T[], t: (p: T) => number): T[] {
  const out: T[] = [];
  let lastSec = -Infinity;
  for (const p of points) {
    const s = Math.floor(t(p) / 1000);
    if (s === lastSec) out[out.length - 1] = p;
    else if (s > lastSec) {
      out.push(p);
      lastSec = s;
    }
  }
  return out;
}
