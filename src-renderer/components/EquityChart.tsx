// Equity curve with drawdown below it; used live (fed by the equity series) and in the backtest report (static).
// Risk halts are markers on the curve (reason on the marker). The whole curve fits the panel however many points it
// has (the default minimum bar spacing showed only the last ~30 min of a 2 h backtest), and the time axis shows
// seconds when the curve spans only minutes ("17:15 17:15 17:15" otherwise).
import {
  BaselineSeries,
  createSeriesMarkers,
  LineSeries,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
} from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import type { EquityPoint } from '../../src-shared/ipc.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { axisFormat } from '../../src-shared/timeAxis.ts';
import type { SeriesBuffer } from '../store/series.ts';
import { Appender, makeChart, perSecond, toTime } from './chart.ts';

/** Markers for the halts (and their resumptions), in time order as the chart requires. */
export function haltMarkers(halts: readonly RiskHalt[] | undefined): SeriesMarker<Time>[] {
  const out: SeriesMarker<Time>[] = [];
  for (const h of halts ?? []) {
    out.push({
      time: toTime(h.ts),
      position: 'aboveBar',
      color: '#e5534b',
      shape: 'arrowDown',
      text: `halt: ${h.reason}`,
    });
    if (h.resumedTs !== null)
      out.push({
        time: toTime(h.resumedTs),
        position: 'belowBar',
        color: '#3fb37f',
        shape: 'arrowUp',
        text: 'resumed',
      });
  }
  return out.sort((a, b) => (a.time as number) - (b.time as number));
}

/** Seconds on the axis when the ticks would be under a minute apart (or the curve crosses no day but spans minutes). */
const needsSeconds = (t0: number, t1: number) => {
  const f = axisFormat(t0, t1, 5);
  return f === 'time-s' || f === 'time-ms';
};

export function EquityChart({
  source,
  points,
  others,
  halts,
  label,
}: {
  source?: SeriesBuffer<EquityPoint>;
  points?: readonly EquityPoint[];
  /** Further curves drawn thin and muted (the other thresholds of a sweep). */
  others?: readonly { title: string; points: readonly EquityPoint[] }[];
  /** Risk halts of the run, drawn as markers. */
  halts?: readonly RiskHalt[];
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const haltsNow = useRef(halts);
  haltsNow.current = halts;
  useEffect(() => {
    const chart = makeChart(el.current!, {
      leftPriceScale: { visible: false },
      // A tiny minimum spacing: fitContent shows every point of a long run, never only its tail.
      // No shift by one bar per new point: the live curve is refitted instead (a shift landing after the refit
      // hid the first point until the next one arrived).
      timeScale: {
        borderColor: '#262c36',
        timeVisible: true,
        secondsVisible: false,
        minBarSpacing: 0.001,
        shiftVisibleRangeOnNewBar: false,
      },
    });
    let seconds = false;
    const axisFor = (t0: number, t1: number) => {
      const want = needsSeconds(t0, t1);
      if (want !== seconds) {
        seconds = want;
        chart.applyOptions({ timeScale: { secondsVisible: want } });
      }
    };
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
    markers.current = createSeriesMarkers(eq, haltMarkers(haltsNow.current));
    let first = NaN;
    eq.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.3 } });
    const app = new Appender();
    const setAll = (all: readonly EquityPoint[]) => {
      app.reset();
      const pts = perSecond(all, (p) => p.t);
      eq.setData(pts.map((p) => ({ time: toTime(p.t), value: p.equity })));
      dd.setData(pts.map((p) => ({ time: toTime(p.t), value: -p.drawdown * 100 })));
      if (pts.length) {
        app.accept(toTime(pts[pts.length - 1].t));
        first = pts[0].t;
        axisFor(first, pts[pts.length - 1].t);
      }
      chart.timeScale().fitContent();
    };
    // Which point the chart shows first (0: the whole curve), for the layout test.
    const onRange = (r: { from: number } | null) => {
      if (r && el.current) el.current.dataset.visibleFrom = String(Math.round(r.from));
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    // A narrower panel keeps the bar spacing and drops the oldest points off the left until the next point refits
    // it (seen after a window resize): refit on every size change too.
    const refit = () => chart.timeScale().fitContent();
    chart.timeScale().subscribeSizeChange(refit);
    let off = () => {};
    if (source)
      off = source.subscribe(setAll, (added) => {
        let grew = false;
        for (const p of added) {
          if (!app.accept(toTime(p.t))) continue;
          eq.update({ time: toTime(p.t), value: p.equity });
          dd.update({ time: toTime(p.t), value: -p.drawdown * 100 });
          if (first !== first) first = p.t;
          axisFor(first, p.t);
          grew = true;
        }
        // The live curve keeps showing the whole session as it grows, as its axis labels assume (by default new
        // points scroll it: after a minute it showed only its last ~45 s, labelled "02:32 02:32").
        if (grew) chart.timeScale().fitContent();
      });
    else setAll(points ?? []);
    return () => {
      off();
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      chart.timeScale().unsubscribeSizeChange(refit);
      markers.current = null;
      chart.remove();
    };
  }, [source, points, others]);
  // Halts change rarely; the live portfolio view sends a new array each time, so compare by content.
  const haltKey = (halts ?? []).map((h) => `${h.ts}:${h.rule}:${h.resumedTs}`).join(',');
  useEffect(() => {
    markers.current?.setMarkers(haltMarkers(haltsNow.current));
  }, [haltKey]);
  return <div className="chart" ref={el} role="img" aria-label={label} />;
}
