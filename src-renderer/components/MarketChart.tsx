// The market chart: mid-price candles at a chosen interval, traded volume under them (buy/sell coloured), a
// Bookmap-style heatmap of resting liquidity behind them, and the model's signals and our fills as markers.
import {
  CandlestickSeries,
  HistogramSeries,
  createSeriesMarkers,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import {
  INTERVALS,
  bucketSec,
  foldPrice,
  intervalLabel,
  rebucket,
  toCandles,
  toVolume,
  type Candle,
} from '../chart/candles.ts';
import { HeatmapPrimitive } from '../chart/heatmapPrimitive.ts';
import { midPriceFormat } from '../format.ts';
import { useDesk } from '../store/desk.ts';
import { market } from '../store/market.ts';
import { prices } from '../store/series.ts';
import { makeChart } from './chart.ts';

const MAX_MARKERS = 150;
const STORE_KEY = 'l2desk.chart';

interface ChartPrefs {
  interval: number;
  heatmap: boolean;
}

function loadPrefs(): ChartPrefs {
  try {
    const p = JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}') as Partial<ChartPrefs>;
    return {
      interval: INTERVALS.includes(p.interval as (typeof INTERVALS)[number]) ? (p.interval as number) : 5_000,
      heatmap: p.heatmap !== false,
    };
  } catch {
    return { interval: 5_000, heatmap: true };
  }
}

const bar = (c: Candle) => ({
  time: c.time as UTCTimestamp,
  open: c.open,
  high: c.high,
  low: c.low,
  close: c.close,
});
const volumeColor = (buy: number, sell: number) => (buy >= sell ? '#2f9e6b99' : '#d9534f99');

export function MarketChart() {
  const el = useRef<HTMLDivElement>(null);
  const [prefs, setPrefs] = useState<ChartPrefs>(loadPrefs);
  const [empty, setEmpty] = useState(true);
  const markersRef = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const interval = prefs.interval;

  useEffect(() => {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(prefs));
    } catch {
      // private mode: the choice just isn't remembered
    }
  }, [prefs]);

  useEffect(() => {
    const chart = makeChart(el.current!, {
      timeScale: {
        borderColor: '#262c36',
        timeVisible: true,
        secondsVisible: interval < 60_000,
        rightOffset: 4,
        barSpacing: 8,
      },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: '#3fb37f',
      downColor: '#e5534b',
      borderVisible: false,
      wickUpColor: '#3fb37f',
      wickDownColor: '#e5534b',
      priceLineVisible: true,
      lastValueVisible: true,
      priceFormat: midPriceFormat(market.tickSize),
    });
    let axisTick = market.tickSize;
    const volume = chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.06, bottom: 0.2 } });
    const heat = new HeatmapPrimitive();
    heat.setVisible(prefs.heatmap);
    candles.attachPrimitive(heat);
    markersRef.current = createSeriesMarkers(candles, []);

    let bars: Candle[] = [];
    const offPrices = prices.subscribe(
      (all) => {
        bars = toCandles(all, interval);
        candles.setData(bars.map(bar));
        setEmpty(bars.length === 0);
      },
      (added) => {
        for (const p of added) {
          const c = foldPrice(bars, p.t, p.mid, interval);
          if (c) candles.update(bar(c));
        }
        if (bars.length) setEmpty(false);
      },
    );

    let heatVersion = -1;
    const redrawMarket = () => {
      if (market.version === heatVersion) return;
      heatVersion = market.version;
      if (market.tickSize !== axisTick) {
        // Another symbol or a refined tick: the axis labels follow its decimals.
        axisTick = market.tickSize;
        candles.applyOptions({ priceFormat: midPriceFormat(axisTick) });
      }
      const vol = toVolume(market.trades, interval);
      volume.setData(
        vol.map((v) => ({
          time: v.time as UTCTimestamp,
          value: v.buy + v.sell,
          color: volumeColor(v.buy, v.sell),
        })),
      );
      const cols = interval === 1_000 ? market.columns : rebucket(market.columns, interval, 2_000);
      heat.setData(cols, Number(market.tickSize));
    };
    redrawMarket();
    // The book arrives at up to 20 Hz: the heatmap and volume are redrawn at most twice a second.
    const timer = setInterval(redrawMarket, 500);
    return () => {
      clearInterval(timer);
      offPrices();
      chart.remove();
    };
  }, [interval, prefs.heatmap]);

  const signals = useDesk((s) => s.signals);
  const fills = useDesk((s) => s.fills);
  useEffect(() => {
    const m: SeriesMarker<Time>[] = [];
    for (const s of signals.slice(-MAX_MARKERS)) {
      if (s.signal === 0) continue;
      m.push({
        time: bucketSec(s.t, interval) as UTCTimestamp,
        position: s.signal > 0 ? 'belowBar' : 'aboveBar',
        shape: 'circle',
        color: s.signal > 0 ? '#2f9e6b88' : '#d9534f88',
        size: 0.5,
      });
    }
    for (const f of fills.slice(-MAX_MARKERS)) {
      const buy = f.side === 'Buy';
      m.push({
        time: bucketSec(f.t, interval) as UTCTimestamp,
        position: buy ? 'belowBar' : 'aboveBar',
        shape: buy ? 'arrowUp' : 'arrowDown',
        color: buy ? '#3fb37f' : '#e5534b',
        text: buy ? 'B' : 'S',
      });
    }
    m.sort((a, b) => (a.time as number) - (b.time as number));
    markersRef.current?.setMarkers(m);
  }, [signals, fills, interval, prefs.heatmap]);

  return (
    <section data-panel="price-chart" className="panel chart-panel" aria-labelledby="price-h">
      <h2 id="price-h" className="chart-head">
        <span>
          Mid price{' '}
          <span className="dim">
            · candles, volume{prefs.heatmap ? ', resting liquidity' : ''} · ● signals ▲▼ fills
          </span>
        </span>
        <span className="chart-tools" role="group" aria-label="Candle interval">
          {INTERVALS.map((ms) => (
            <button
              key={ms}
              className={ms === interval ? 'chip on' : 'chip'}
              aria-pressed={ms === interval}
              onClick={() => setPrefs((p) => ({ ...p, interval: ms }))}
            >
              {intervalLabel(ms)}
            </button>
          ))}
          <label className="chip" title="Resting size by price over time, drawn from the order book">
            <input
              type="checkbox"
              checked={prefs.heatmap}
              onChange={(e) => setPrefs((p) => ({ ...p, heatmap: e.target.checked }))}
            />{' '}
            Heatmap
          </label>
        </span>
      </h2>
      <div className="chart" ref={el} role="img" aria-label="Price chart" data-interval={interval} />
      {empty && <div className="overlay">Waiting for prices…</div>}
    </section>
  );
}
