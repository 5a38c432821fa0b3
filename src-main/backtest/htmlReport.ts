// The backtest report as one self-contained HTML page: inline CSS, an inline SVG equity curve per threshold and
// the metrics table. No scripts, fonts or images from anywhere: it opens offline in any browser.
import type { BacktestReport, BacktestRow } from './backtest.ts';
import { excludesZero, formatInterval, type Interval } from '../model/confidence.ts';
import type { WalkForwardSection } from './walkForwardReport.ts';
import { sameDataNote } from './sameData.ts';

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

function equitySvg(series: BacktestReport['equity'], width = 960, height = 320): string {
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
  grid.push(`<text x="${pad.l}" y="${height - 8}">${esc(iso(t0))}</text>`);
  grid.push(`<text x="${pad.l + w}" y="${height - 8}" text-anchor="end">${esc(iso(t1))}</text>`);
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
  const body = rows.map(
    (r) =>
      `<tr><td>${fmt(r.threshold, 3)}</td><td>${r.trades}</td><td>${r.round_trips}</td><td class="${r.net_pnl >= 0 ? 'pos' : 'neg'}">${fmt(r.net_pnl)}</td>` +
      `<td>${pnlInterval(r)}</td><td>${pct(r.total_return, 3)}</td><td>${fmt(r.fees)}</td><td>${fmt(r.sharpe)}</td><td>${fmt(r.sortino)}</td><td>${pct(r.max_drawdown)}</td>` +
      `<td>${pct(r.hit_rate, 1)}</td><td>${pct(r.hit_rate_gross, 1)}</td><td>${fmt(r.turnover, 1)}×</td><td>${fmt(r.avg_holding_s, 1)} s</td><td>${pct(r.exposure, 1)}</td><td>${fmt(r.final_equity)}</td></tr>`,
  );
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
      `<tr><td>${fmt(r.threshold, 3)}</td><td>${f(r.profit_factor)}</td><td>${f(r.avg_win)}</td><td>${f(r.avg_loss)}</td>` +
      `<td>${f(r.payoff_ratio)}</td><td class="${(r.expectancy ?? 0) >= 0 ? 'pos' : 'neg'}">${f(r.expectancy, 4)}</td>` +
      `<td>${f(r.expectancy_bps)}</td><td>${f(r.max_consecutive_losses, 0)}</td><td>${f(r.calmar)}</td>` +
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
        `threshold ${fmt(x.threshold, 3)}: position ${x.final_position} at mid ${x.final_mark}, ${x.cancelled_at_end} order(s) cancelled`,
    );
  return parts.length ? `; at the end: ${esc(parts.join('; '))}` : '';
}

export function renderHtmlReport(r: BacktestReport): string {
  const s = r.session;
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
.legend{margin-top:6px} .key{margin-right:14px} .swatch{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px} dt{color:#8a96a3}
</style></head><body>
<h1>Backtest: ${esc(s.symbol)}, session ${s.id}</h1>
<div class="muted">${esc(iso(s.started_at))} – ${esc(iso(s.ended_at))} · ${s.messages.toLocaleString('en-US')} messages · source ${esc(s.source)} · tick ${esc(s.tick_size)}</div>
${inSampleBanner(r)}
<h2>Equity</h2>
${equitySvg(r.equity)}
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
<dt>Run time</dt><dd>${esc(String(r.elapsed_ms))} ms</dd>
</dl>
</body></html>
`;
}
