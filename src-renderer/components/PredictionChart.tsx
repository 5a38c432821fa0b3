// Prediction stream: the model's predicted return (bps) with the ± threshold drawn as lines that follow the slider.
import { LineSeries, LineStyle, type IPriceLine } from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { useDesk } from '../store/desk.ts';
import { predictions } from '../store/series.ts';
import { fmt } from '../format.ts';
import { Appender, makeChart, perSecond, toTime } from './chart.ts';

export function PredictionChart() {
  const el = useRef<HTMLDivElement>(null);
  const lines = useRef<IPriceLine[]>([]);
  const [count, setCount] = useState(0);
  const [last, setLast] = useState<number | null>(null);
  const threshold = useDesk((s) => s.threshold);
  const thrRef = useRef(threshold);
  const chartRef = useRef<ReturnType<typeof makeChart> | null>(null);
  const note = useDesk((s) => s.status?.note ?? null);

  useEffect(() => {
    const chart = makeChart(el.current!);
    chartRef.current = chart;
    const series = chart.addSeries(LineSeries, {
      color: '#6ea8fe',
      lineWidth: 1,
      priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
      // Keep the ± threshold lines in view even when every prediction is inside them.
      autoscaleInfoProvider: (
        original: () => { priceRange: { minValue: number; maxValue: number } } | null,
      ) => {
        const r = original();
        const t = thrRef.current * 1.15;
        if (!r) return { priceRange: { minValue: -t, maxValue: t } };
        return {
          ...r,
          priceRange: {
            minValue: Math.min(r.priceRange.minValue, -t),
            maxValue: Math.max(r.priceRange.maxValue, t),
          },
        };
      },
    });
    const mk = (price: number, color: string, title: string) =>
      series.createPriceLine({
        price,
        color,
        lineWidth: 1,
        lineStyle: LineStyle.Dashed,
        axisLabelVisible: true,
        title,
      });
    lines.current = [mk(0, '#3fb37f', '+thr'), mk(0, '#e5534b', '−thr'), mk(0, '#394150', '')];
    const app = new Appender();
    let n = 0;
    const off = predictions.subscribe(
      (all) => {
        app.reset();
        const pts = perSecond(all, (p) => p.t);
        series.setData(pts.map((p) => ({ time: toTime(p.t), value: p.value })));
        if (pts.length) app.accept(toTime(pts[pts.length - 1].t));
        n = all.length;
        setCount(n);
        setLast(pts.length ? pts[pts.length - 1].value : null);
      },
      (added) => {
        for (const p of added)
          if (app.accept(toTime(p.t))) series.update({ time: toTime(p.t), value: p.value });
        n += added.length;
        setCount(n);
        setLast(added[added.length - 1].value);
      },
    );
    return () => {
      off();
      chart.remove();
    };
  }, []);

  useEffect(() => {
    const [up, down] = lines.current;
    thrRef.current = threshold;
    up?.applyOptions({ price: threshold });
    down?.applyOptions({ price: -threshold });
    // Re-run the autoscale so the moved lines stay on screen.
    chartRef.current?.priceScale('right').applyOptions({ autoScale: true });
  }, [threshold]);

  return (
    <section data-panel="predictions" className="panel chart-panel" aria-labelledby="pred-h">
      <h2 id="pred-h">
        Predictions <span className="dim">bps · ±{fmt(threshold, 2)} threshold</span>
        <span className="right dim" data-testid="prediction-count" data-count={count}>
          {count} preds · last {last === null ? '—' : fmt(last, 3)}
        </span>
      </h2>
      <div className="chart" ref={el} role="img" aria-label="Prediction chart" />
      {count === 0 && <div className="overlay">{note ?? 'Waiting for predictions…'}</div>}
    </section>
  );
}
