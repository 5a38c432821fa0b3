// Price chart: the mid price appended point by point, with buy/sell markers for signals and fills.
import {
  LineSeries,
  createSeriesMarkers,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { prices } from '../store/series.ts';
import { useDesk } from '../store/desk.ts';
import { Appender, makeChart, perSecond, toTime } from './chart.ts';

const MAX_MARKERS = 150;

export function PriceChart() {
  const el = useRef<HTMLDivElement>(null);
  const markersRef = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const [empty, setEmpty] = useState(true);

  useEffect(() => {
    const chart = makeChart(el.current!);
    const series = chart.addSeries(LineSeries, {
      color: '#c9d1d9',
      lineWidth: 1,
      priceLineVisible: true,
      lastValueVisible: true,
    });
    markersRef.current = createSeriesMarkers(series, []);
    const app = new Appender();
    const off = prices.subscribe(
      (all) => {
        app.reset();
        const pts = perSecond(all, (p) => p.t);
        series.setData(pts.map((p) => ({ time: toTime(p.t), value: p.mid })));
        if (pts.length) app.accept(toTime(pts[pts.length - 1].t));
        setEmpty(pts.length === 0);
      },
      (added) => {
        for (const p of added)
          if (app.accept(toTime(p.t))) series.update({ time: toTime(p.t), value: p.mid });
        setEmpty(false);
      },
    );
    return () => {
      off();
      chart.remove();
    };
  }, []);

  const signals = useDesk((s) => s.signals);
  const fills = useDesk((s) => s.fills);
  useEffect(() => {
    const m: SeriesMarker<Time>[] = [];
    for (const s of signals.slice(-MAX_MARKERS)) {
      if (s.signal === 0) continue;
      m.push({
        time: toTime(s.t),
        position: s.signal > 0 ? 'belowBar' : 'aboveBar',
        shape: 'circle',
        color: s.signal > 0 ? '#2f9e6b88' : '#d9534f88',
        size: 0.5,
      });
    }
    for (const f of fills.slice(-MAX_MARKERS)) {
      const buy = f.side === 'Buy';
      m.push({
        time: toTime(f.t),
        position: buy ? 'belowBar' : 'aboveBar',
        shape: buy ? 'arrowUp' : 'arrowDown',
        color: buy ? '#3fb37f' : '#e5534b',
        text: buy ? 'B' : 'S',
      });
    }
    m.sort((a, b) => (a.time as number) - (b.time as number));
    markersRef.current?.setMarkers(m);
  }, [signals, fills]);

  return (
    <section className="panel chart-panel" aria-labelledby="price-h">
      <h2 id="price-h">
        Mid price <span className="dim">· ● signals ▲▼ fills</span>
      </h2>
      <div className="chart" ref={el} role="img" aria-label="Price chart" />
      {empty && <div className="overlay">Waiting for prices…</div>}
    </section>
  );
}
