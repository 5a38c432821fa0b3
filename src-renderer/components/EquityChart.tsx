// Equity curve with drawdown below it; used live (fed by the equity series) and in the backtest report (static).
import { BaselineSeries, LineSeries } from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import type { EquityPoint } from '../../src-shared/ipc.ts';
import type { SeriesBuffer } from '../store/series.ts';
import { Appender, makeChart, perSecond, toTime } from './chart.ts';

export function EquityChart({
  source,
  points,
  others,
  label,
}: {
  source?: SeriesBuffer<EquityPoint>;
  points?: readonly EquityPoint[];
  /** Further curves drawn thin and muted (the other thresholds of a sweep). */
  others?: readonly { title: string; points: readonly EquityPoint[] }[];
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = makeChart(el.current!, {
      leftPriceScale: { visible: false },
      timeScale: { borderColor: '#262c36', timeVisible: true, secondsVisible: false },
    });
    const OTHER_COLORS = ['#6ea8fe99', '#a371f799', '#3fb37f99', '#db61a299', '#8b93a199'];
    (others ?? []).forEach((o, i) => {
      const line = chart.addSeries(LineSeries, {
        color: OTHER_COLORS[i % OTHER_COLORS.length],
        lineWidth: 1,
        title: o.title,
        priceLineVisible: false,
        lastValueVisible: false,
        priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
      });
      line.setData(perSecond(o.points, (p) => p.t).map((p) => ({ time: toTime(p.t), value: p.equity })));
    });
    const eq = chart.addSeries(LineSeries, {
      color: '#e3b341',
      lineWidth: 2,
      priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
    });
    const dd = chart.addSeries(BaselineSeries, {
      priceScaleId: 'dd',
      baseValue: { type: 'price', price: 0 },
      topLineColor: '#e5534b00',
      topFillColor1: '#e5534b00',
      topFillColor2: '#e5534b00',
      bottomLineColor: '#e5534baa',
      bottomFillColor1: '#e5534b20',
      bottomFillColor2: '#e5534b50',
      lineWidth: 1,
      priceLineVisible: false,
      lastValueVisible: false,
      priceFormat: { type: 'percent', precision: 2, minMove: 0.01 },
    });
    chart.priceScale('dd').applyOptions({ scaleMargins: { top: 0.75, bottom: 0 } });
    eq.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.3 } });
    const app = new Appender();
    const setAll = (all: readonly EquityPoint[]) => {
      app.reset();
      const pts = perSecond(all, (p) => p.t);
      eq.setData(pts.map((p) => ({ time: toTime(p.t), value: p.equity })));
      dd.setData(pts.map((p) => ({ time: toTime(p.t), value: -p.drawdown * 100 })));
      if (pts.length) app.accept(toTime(pts[pts.length - 1].t));
      chart.timeScale().fitContent();
    };
    let off = () => {};
    if (source)
      off = source.subscribe(setAll, (added) => {
        for (const p of added) {
          if (!app.accept(toTime(p.t))) continue;
          eq.update({ time: toTime(p.t), value: p.equity });
          dd.update({ time: toTime(p.t), value: -p.drawdown * 100 });
        }
      });
    else setAll(points ?? []);
    return () => {
      off();
      chart.remove();
    };
  }, [source, points, others]);
  return <div className="chart" ref={el} role="img" aria-label={label} />;
}
