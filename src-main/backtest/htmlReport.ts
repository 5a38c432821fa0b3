// The backtest report as one self-contained HTML page: inline CSS, an inline SVG equity curve per threshold and
// the metrics table. No scripts, fonts or images from anywhere: it opens offline in any browser.
import type { BacktestReport, BacktestRow } from './backtest.ts';
import { excludesZero, formatInterval, type Interval } from '../model/confidence.ts';
import type { WalkForwardSection } from './walkForwardReport.ts';
import { sameDataNote } from './sameData.ts';
import { formatDuration } from '../../src-shared/duration.ts';
import { formatHalt, type RiskHalt } from '../../src-shared/riskHalt.ts';
import {
  calmarReason,
  hitRateReason,
  lossRatioReason,
  NOT_SHOWN,
  sharpeReason,
} from '../../src-shared/reliability.ts';
import { axisTicks } from '../../src-shared/timeAxis.ts';
import { plainNumber } from '../../src-shared/plainNumber.ts';

const COLORS = ['#4fc3f7', '#ffb74d', '#81c784', '#e57373', '#ba68c8', '#fff176', '#4db6ac', '#f06292'];

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pct = (x: number, d = 2) => (Number.isFinite(x) ? `${(x * 100).toFixed(d)} %` : '–');
const iso = (ms: number | null) =>
  ms === null || !Number.isFinite(ms)
    ? '–'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');

/** A figure, or "—" with the reason on hover when it is not reliable (src-shared/reliability.ts). */
function cell(reason: string | null, text: string): string {
  return reason === null
    ? text
    : `<span class="muted" title="${esc(`Not shown: ${reason}`)}">${NOT_SHOWN}</span>`;
}

const basisOf = (r: BacktestRow) => ({
  returns: r.sharpe_samples,
  spanMs: r.span_ms,
  sharpeReliable: r.sharpe_reliable,
});

/** Halts of every threshold, once each (a sweep's passes usually halt at the same time for the same reason). */
function allHalts(rows: readonly BacktestRow[]): { halt: RiskHalt; thresholds: number[] }[] {
  const out = new Map<string, { halt: RiskHalt; thresholds: number[] }>();
  for (const r of rows)
    for (const h of r.halts ?? []) {
      const key = `${h.ts}|${h.rule}|${h.reason}|${h.resumedTs}`;
      const e = out.get(key);
      if (e) e.thresholds.push(r.threshold);
      else out.set(key, { halt: h, thresholds: [r.threshold] });
    }
  return [...out.values()].sort((a, b) => a.halt.ts - b.halt.ts);
}

function equitySvg(
  series: BacktestReport['equity'],
  halts: readonly { halt: RiskHalt; thresholds: number[] }[] = [],
  width = 960,
  height = 320,
): string {
  const pts = series.flatMap((s) => s.points);
  if (pts.length < 2) return '<p class="muted">No equity samples.</p>';
  let t0 = Infinity;
  let t1 = -Infinity;
  let lo = Infinity;
  let hi = -Infinity;
  for (const [t, e] of pts) {
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
    if (e < lo) lo = e;
    if (e > hi) hi = e;
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const pad = { l: 70, r: 10, t: 10, b: 28 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const x = (t: number) => pad.l + (t1 > t0 ? ((t - t0) / (t1 - t0)) * w : 0);
  const y = (e: number) => pad.t + (1 - (e - lo) / (hi - lo)) * h;
  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    grid.push(
      `<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
    );
    grid.push(`<text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v, 2)}</text>`);
  }
  // Time labels that tell ticks apart: seconds on a short run, the date when it crosses a UTC day.
  const ticks = axisTicks(t0, t1, 5);
  ticks.forEach((k, i) => {
    const anchor = i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle';
    grid.push(
      `<text x="${x(k.t).toFixed(1)}" y="${height - 8}" text-anchor="${anchor}" class="tick">${esc(k.label)}</text>`,
    );
  });
  // Risk halts: a marked vertical line where trading stopped (and a dashed one where it resumed), reason on hover.
  for (const { halt: hl, thresholds } of halts) {
    if (!Number.isFinite(hl.ts)) continue;
    const text = `${formatHalt(hl)} (threshold ${thresholds.join(', ')})`;
    const hx = x(Math.min(t1, Math.max(t0, hl.ts))).toFixed(1);
    grid.push(
      `<g class="halt"><title>${esc(text)}</title><line x1="${hx}" x2="${hx}" y1="${pad.t}" y2="${pad.t + h}" class="halt-line"/>` +
        `<text x="${hx}" y="${pad.t + 12}" dx="4" class="halt-label">halt: ${esc(hl.reason)}</text></g>`,
    );
    if (hl.resumedTs !== null && hl.resumedTs >= t0 && hl.resumedTs <= t1) {
      const rx = x(hl.resumedTs).toFixed(1);
      grid.push(
        `<line x1="${rx}" x2="${rx}" y1="${pad.t}" y2="${pad.t + h}" class="resume-line"><title>${esc(text)}</title></line>`,
      );
    }
  }
  const lines = series.map((s, i) => {
    const d = s.points.map(([t, e]) => `${x(t).toFixed(1)},${y(e).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${d}"><title>threshold ${s.threshold}</title></polyline>`;
  });
  const legend = series
    .map(
      (s, i) =>
        `<span class="key"><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>threshold ${esc(String(s.threshold))}</span>`,
    )
    .join(' ');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Equity curve">${grid.join('')}${lines.join('')}</svg><div class="legend">${legend}</div>`;
}

/** The net P&L interval, and the verdict a trader needs: can this run tell its result apart from zero? */
function pnlInterval(r: BacktestRow): string {
  const ci = r.net_pnl_ci;
  if (!ci) return '<span class="muted">run too short</span>';
  return (
    `${esc(formatInterval(ci, 2))} ` +
    (excludesZero(ci)
      ? `<span class="${ci[0] > 0 ? 'pos' : 'neg'}">distinguishable from zero</span>`
      : '<span class="muted">not distinguishable from zero</span>')
  );
}

function table(rows: readonly BacktestRow[]): string {
  const head = [
    'Threshold',
    'Trades',
    'Round trips',
    'Net P&L',
    'Net P&L 95% interval',
    'Return',
    'Fees',
    'Sharpe',
    'Sortino',
    'Max DD',
    'Hit rate',
    'Hit rate before fees',
    'Turnover',
    'Avg hold',
    'Exposure',
    'Final equity',
  ];
  const body = rows.map((r) => {
    const short = sharpeReason({ sharpe: r.sharpe, ...basisOf(r) });
    const trips = hitRateReason(r.round_trips);
    return (
      `<tr><td>${fmt(r.threshold, 3)}</td><td>${r.trades}</td><td>${r.round_trips}</td><td class="${r.net_pnl >= 0 ? 'pos' : 'neg'}">${fmt(r.net_pnl)}</td>` +
      `<td>${pnlInterval(r)}</td><td>${pct(r.total_return, 3)}</td><td>${fmt(r.fees)}</td>` +
      `<td data-figure="sharpe">${cell(short, fmt(r.sharpe))}</td><td data-figure="sortino">${cell(short, fmt(r.sortino))}</td><td>${pct(r.max_drawdown)}</td>` +
      `<td data-figure="hit-rate">${cell(trips, pct(r.hit_rate, 1))}</td><td>${cell(trips, pct(r.hit_rate_gross, 1))}</td><td>${fmt(r.turnover, 1)}×</td>` +
      `<td>${cell(trips, `${fmt(r.avg_holding_s, 1)} s`)}</td><td>${pct(r.exposure, 1)}</td><td>${fmt(r.final_equity)}</td></tr>`
    );
  });
  return `<table aria-label="Backtest metrics"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

/** Where the P&L went: gross alpha at the decision mids, minus spread + walk, latency drift and fees, equals net. */
function costsTable(rows: readonly BacktestRow[]): string {
  const head = [
    'Threshold',
    'Gross alpha',
    '− Spread + walk',
    '− Latency',
    '− Fees',
    '= Net P&amp;L',
    'Shortfall',
    'Latency',
    'Spread + walk',
    'Fees',
  ];
  const bp = (x: number) => `${fmt(x, 3)} bps`;
  const body = rows.map(
    (r) =>
      `<tr><td>${fmt(r.threshold, 3)}</td><td class="${r.gross_alpha >= 0 ? 'pos' : 'neg'}">${fmt(r.gross_alpha)}</td>` +
      `<td>${fmt(r.spread_walk_cost)}</td><td>${fmt(r.latency_cost)}</td><td>${fmt(r.fees)}</td>` +
      `<td class="${r.net_pnl >= 0 ? 'pos' : 'neg'}">${fmt(r.net_pnl)}</td><td>${bp(r.shortfall_bps)}</td><td>${bp(r.latency_bps)}</td>` +
      `<td>${bp(r.spread_walk_bps)}</td><td>${bp(r.fees_bps)}</td></tr>`,
  );
  return `<table aria-label="Execution costs"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

/** Round-trip statistics after fees; '–' where a ratio is undefined (no losing trip) or the row predates them. */
function tradesTable(rows: readonly BacktestRow[]): string {
  const head = [
    'Threshold',
    'Profit factor',
    'Avg win',
    'Avg loss',
    'Payoff',
    'Expectancy',
    'Expectancy bps',
    'Max losing streak',
    'Calmar',
    'Sharpe returns',
  ];
  const f = (x: number | null | undefined, d = 2) => (x == null ? '–' : fmt(x, d));
  const body = rows.map(
    (r) =>
      `<tr><td>${fmt(r.threshold, 3)}</td><td data-figure="profit-factor">${cell(lossRatioReason(r.profit_factor, r.round_trips), f(r.profit_factor))}</td><td>${f(r.avg_win)}</td><td>${f(r.avg_loss)}</td>` +
      `<td>${cell(lossRatioReason(r.payoff_ratio, r.round_trips), f(r.payoff_ratio))}</td><td class="${(r.expectancy ?? 0) >= 0 ? 'pos' : 'neg'}">${f(r.expectancy, 4)}</td>` +
      `<td>${f(r.expectancy_bps)}</td><td>${f(r.max_consecutive_losses, 0)}</td><td data-figure="calmar">${cell(calmarReason(r.calmar, basisOf(r)), f(r.calmar))}</td>` +
      `<td>${f(r.sharpe_samples, 0)}${r.sharpe_reliable === false ? ' <span class="muted">(too short)</span>' : ''}</td></tr>`,
  );
  return `<table aria-label="Round trips"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

/** The in-sample verdict: a warning banner when decisions lie inside the training span of their model. */
function inSampleBanner(r: BacktestReport): string {
  const s = r.in_sample;
  if (!s || s.share === null) return '';
  const span = s.training ? ` (${esc(iso(s.training.from_ts))} – ${esc(iso(s.training.to_ts))})` : '';
  if (s.in_sample === 0)
    return `<p class="ok" role="status">Out of sample: none of the ${s.decisions} decisions lies inside the training span of the model that made it${span}.</p>`;
  return (
    `<p class="warn" role="alert">Warning: ${esc(pct(s.share, 0))} of decisions (${s.in_sample} of ${s.decisions}) lie inside the model's training span${span}` +
    `${s.same_data ? ` ${esc(sameDataNote(s.same_data))}` : ''}: ` +
    'in-sample, hence optimistic. Use a walk-forward backtest (<code>--walk-forward</code>) or a later session.</p>'
  );
}

const fmtN = (x: number | null, d = 3) => (x === null ? '–' : fmt(x, d));
const ciCell = (ci: Interval | null | undefined) =>
  ci ? ` <span class="muted">${esc(formatInterval(ci, 3))}</span>` : '';
/** Time of day (UTC): the walk-forward table's times all fall within the session stated above it. */
const hms = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 19) : '–');

function walkForwardSection(w: WalkForwardSection | undefined): string {
  if (!w) return '';
  const head = [
    'Window',
    'Trades from (UTC)',
    'to',
    'Trained on data from',
    'to',
    'Model',
    'Rows',
    'Valid. R²',
    'Valid. IC',
    'Decisions',
    'In-sample',
    'OOS IC',
    'OOS IC 95% interval',
    'OOS hit rate',
    'OOS hit rate 95% interval',
  ];
  const body = w.models.map(
    (m) =>
      `<tr><td>${m.window}</td><td>${hms(m.trade_from)}</td><td>${hms(m.trade_to)}</td><td>${hms(m.train_from)}</td>` +
      `<td>${hms(m.train_to)}</td><td>${esc(m.model?.replace(/^.*[\\/]/, '') ?? 'none')}${m.trained ? '' : ` <span class="muted">(${esc(m.note)})</span>`}</td>` +
      `<td>${m.rows}</td><td>${fmtN(m.r2)}${ciCell(m.r2_ci)}</td><td>${fmtN(m.ic)}${ciCell(m.ic_ci)}</td><td>${m.decisions}</td><td>${m.in_sample}</td>` +
      `<td>${fmtN(m.oos_ic)}</td><td>${m.oos_ic_ci ? esc(formatInterval(m.oos_ic_ci, 3)) + (excludesZero(m.oos_ic_ci) ? '' : ' <span class="muted">(holds 0)</span>') : '–'}</td>` +
      `<td>${m.oos_hit_rate === null ? '–' : pct(m.oos_hit_rate, 1)}</td><td>${m.oos_hit_rate_ci ? esc(formatInterval(m.oos_hit_rate_ci, 1, 100)) + ' %' : '–'}</td></tr>`,
  );
  return `<h2>Walk-forward</h2>
<div class="muted">train window ${esc(String(w.train_window_ms / 60_000))} min, retrained every ${esc(String(w.every_ms / 60_000))} min, embargo ${esc(String(w.embargo_ms / 1000))} s (one horizon) between a model's last label and its first decision; no trading before ${esc(iso(w.first_trade_ts))}; models in ${esc(w.out_dir)}. Intervals are 95%, from a moving-block bootstrap with blocks of at least one horizon: a window's labels overlap, so its decisions are not independent; an interval holding 0 means the IC is not distinguishable from zero.</div>
<table aria-label="Walk-forward windows"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function openAtEnd(rows: readonly BacktestRow[]): string {
  const parts = rows
    .filter((x) => x.final_position !== 0 || x.cancelled_at_end > 0)
    .map(
      (x) =>
        `threshold ${fmt(x.threshold, 3)}: position ${plainNumber(x.final_position)} at mid ${plainNumber(x.final_mark)}, ${x.cancelled_at_end} order(s) cancelled`,
    );
  return parts.length ? `; at the end: ${esc(parts.join('; '))}` : '';
}

/** The risk halts of the run, one line each (when, why, when it resumed), or nothing when it never halted. */
function haltsSection(halts: readonly { halt: RiskHalt; thresholds: number[] }[], multi: boolean): string {
  if (halts.length === 0) return '';
  const items = halts.map(
    ({ halt, thresholds }) =>
      `<li class="halt-item">${esc(formatHalt(halt, (ms) => iso(ms)))}${multi ? ` <span class="muted">(threshold ${esc(thresholds.join(', '))})</span>` : ''}</li>`,
  );
  return `<h2>Risk halts</h2><ul aria-label="Risk halts">${items.join('')}</ul>`;
}

/** The header's time line: the span of the data the report is about, then when it was collected (a fast simulated
 * collection writes hours of data in seconds: its wall-clock times say nothing about the data). */
function spanLine(s: BacktestReport['session']): string {
  const from = s.data_from ?? null;
  const to = s.data_to ?? null;
  if (from === null || to === null) return `collected ${esc(iso(s.started_at))} – ${esc(iso(s.ended_at))}`;
  const collected =
    s.ended_at !== null && s.ended_at >= s.started_at
      ? `; collected ${esc(iso(s.started_at))} in ${esc(formatDuration(s.ended_at - s.started_at))}`
      : '';
  return `data ${esc(iso(from))} – ${esc(iso(to))} (<span data-figure="data-span">${esc(formatDuration(to - from))}</span>)${collected}`;
}

export function renderHtmlReport(r: BacktestReport): string {
  const s = r.session;
  const halts = allHalts(r.rows);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>L2 Desk backtest: session ${s.id} ${esc(s.symbol)}</title>
<style>
body{background:#0f1216;color:#d6dde6;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px} .muted{color:#8a96a3}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid #242b33;text-align:right;white-space:nowrap} th{color:#8a96a3;font-weight:600}
td:first-child,th:first-child{text-align:left} .pos{color:#81c784} .neg{color:#e57373}
svg{background:#141a20;border:1px solid #242b33;border-radius:4px} svg text{fill:#8a96a3;font-size:11px} .grid{stroke:#242b33}
.warn{background:#3a2a12;border:1px solid #8a6414;color:#ffcc80;padding:8px 12px;border-radius:4px}
.ok{color:#81c784} code{font-family:ui-monospace,monospace}
.halt-line{stroke:#e57373;stroke-width:1.5} .resume-line{stroke:#81c784;stroke-dasharray:4 3} svg text.halt-label{fill:#e57373}
.legend{margin-top:6px} .key{margin-right:14px} .swatch{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px} dt{color:#8a96a3}
</style></head><body>
<h1>Backtest: ${esc(s.symbol)}, session ${s.id}</h1>
<div class="muted">${spanLine(s)} · ${s.messages.toLocaleString('en-US')} messages · source ${esc(s.source)} · tick ${esc(s.tick_size)}</div>
${inSampleBanner(r)}
<h2>Equity</h2>
${equitySvg(r.equity, halts)}
${haltsSection(halts, r.rows.length > 1)}
<h2>Metrics</h2>
${table(r.rows)}
<h2>Execution costs</h2>
<div class="muted">quote currency, a cost is positive; bps of the decision notional, notional-weighted</div>
${costsTable(r.rows)}
<h2>Round trips</h2>
<div class="muted">net P&amp;L after fees, quote currency; expectancy in bps of the notional the trips put on</div>
${tradesTable(r.rows)}
${walkForwardSection(r.walk_forward)}
<h2>Notes</h2>
<dl>
<dt>Model</dt><dd>${esc(r.model ?? '–')}</dd>
<dt>In-sample</dt><dd>${r.in_sample?.share == null ? '–' : esc(pct(r.in_sample.share, 1))} of decisions inside the training span of their model; ${esc(r.in_sample?.basis ?? '')}</dd>
<dt>Sharpe, Sortino</dt><dd>equity sampled every ${esc(String(r.sampling_ms))} ms, simple returns, annualised with ${esc(r.annualisation)}</dd>
<dt>Net P&amp;L</dt><dd>after fees (taker on market orders and crossed limits, maker on passive fills), marked at the mid; its 95% interval comes from a moving-block bootstrap of the equity changes over 10 s periods: when it spans zero the run's result is not distinguishable from zero (luck explains it as well as skill)</dd>
<dt>Final equity</dt><dd>${esc(r.final_equity_basis)}${openAtEnd(r.rows)}</dd>
<dt>Execution costs</dt><dd>${esc(r.costs_basis ?? '')}</dd>
<dt>Round trips</dt><dd>${esc(r.trade_stats_basis ?? '')}</dd>
<dt>Hit rate</dt><dd>share of round trips (flat → flat, or up to a flip) with a positive net P&amp;L</dd>
<dt>Turnover</dt><dd>traded notional / initial equity</dd>
<dt>Fills</dt><dd>market orders walk the visible book; limit orders queue behind the visible size; latency applies to orders and cancels; no market impact</dd>
<dt>Run time</dt><dd>the backtest took ${esc(formatDuration(r.elapsed_ms))} to run (wall clock)</dd>
<dt>Not shown (—)</dt><dd>an annualised Sharpe, Sortino or Calmar needs at least 30 returns over 24 h of equity; hit rates and holding times need a round trip; profit factor and payoff need a losing round trip. Hover a — for the reason.</dd>
</dl>
</body></html>
`;
}
