// A Bookmap-style liquidity heatmap drawn behind the candles: one column per candle, one cell per price level
// with resting size, coloured by size on a log scale whose top is the 95th percentile of the visible cells (one
// huge order does not wash the rest out). It is a lightweight-charts series primitive, so it scrolls and zooms
// with the chart and is drawn in the chart's own frame (no second canvas to keep in step).
import type {
  IChartApi,
  IPrimitivePaneRenderer,
  IPrimitivePaneView,
  ISeriesApi,
  ISeriesPrimitive,
  PrimitivePaneViewZOrder,
  SeriesAttachedParameter,
  SeriesType,
  Time,
  UTCTimestamp,
} from 'lightweight-charts';
import { sizeQuantile, type HeatColumn } from './candles.ts';

type CanvasRenderingTarget2D = Parameters<IPrimitivePaneRenderer['draw']>[0];

/** Dark blue → cyan → yellow → white, 64 steps, semi-transparent so the candles stay readable. */
const PALETTE: string[] = (() => {
  const stops: [number, number, number, number][] = [
    [0, 20, 40, 90],
    [0.35, 20, 120, 170],
    [0.7, 230, 200, 60],
    [1, 255, 255, 235],
  ];
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    const x = i / 63;
    let k = 0;
    while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
    const [x0, r0, g0, b0] = stops[k];
    const [x1, r1, g1, b1] = stops[k + 1];
    const f = (x - x0) / (x1 - x0);
    const alpha = 0.25 + 0.6 * x;
    out.push(
      `rgba(${Math.round(r0 + f * (r1 - r0))},${Math.round(g0 + f * (g1 - g0))},${Math.round(b0 + f * (b1 - b0))},${alpha.toFixed(2)})`,
    );
  }
  return out;
})();

export class HeatmapPrimitive implements ISeriesPrimitive<Time> {
  private chart: IChartApi | null = null;
  private series: ISeriesApi<SeriesType> | null = null;
  private requestUpdate: (() => void) | null = null;
  private columns: readonly HeatColumn[] = [];
  private tick = 0;
  private visible = true;
  private readonly view: IPrimitivePaneView;

  constructor() {
    const renderer: IPrimitivePaneRenderer = { draw: () => {}, drawBackground: (t) => this.draw(t) };
    this.view = { zOrder: (): PrimitivePaneViewZOrder => 'bottom', renderer: () => renderer };
  }

  attached(p: SeriesAttachedParameter<Time>): void {
    this.chart = p.chart as IChartApi;
    this.series = p.series;
    this.requestUpdate = p.requestUpdate;
  }

  detached(): void {
    this.chart = null;
    this.series = null;
    this.requestUpdate = null;
  }

  paneViews(): readonly IPrimitivePaneView[] {
    return [this.view];
  }

  setData(columns: readonly HeatColumn[], tickSize: number): void {
    this.columns = columns;
    this.tick = tickSize;
    this.requestUpdate?.();
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.requestUpdate?.();
  }

  private draw(target: CanvasRenderingTarget2D): void {
    const chart = this.chart;
    const series = this.series;
    if (!this.visible || !chart || !series || this.columns.length === 0 || !(this.tick > 0)) return;
    const ts = chart.timeScale();
    const range = ts.getVisibleRange();
    if (!range) return;
    const from = range.from as number;
    const to = range.to as number;
    const visible = this.columns.filter((c) => c.time >= from - 1 && c.time <= to + 1);
    if (visible.length === 0) return;
    const top = sizeQuantile(visible, 0.95);
    if (!(top > 0)) return;
    const logTop = Math.log1p(top);
    const spacing = ts.options().barSpacing;
    target.useBitmapCoordinateSpace(({ context: ctx, horizontalPixelRatio: hr, verticalPixelRatio: vr }) => {
      const w = Math.max(1, Math.ceil(spacing * hr));
      for (const c of visible) {
        const x = ts.timeToCoordinate(c.time as UTCTimestamp);
        if (x === null) continue;
        const left = Math.round(x * hr - w / 2);
        for (let i = 0; i < c.prices.length; i++) {
          const p = c.prices[i];
          const y0 = series.priceToCoordinate(p + this.tick / 2);
          const y1 = series.priceToCoordinate(p - this.tick / 2);
          if (y0 === null || y1 === null) continue;
          const top = Math.round(Math.min(y0, y1) * vr);
          const h = Math.max(1, Math.round(Math.abs(y1 - y0) * vr));
          const level = Math.min(1, Math.log1p(c.sizes[i]) / logTop);
          ctx.fillStyle = PALETTE[Math.round(level * 63)];
          ctx.fillRect(left, top, w, h);
        }
      }
    });
  }
}
