// `l2desk runs`: the paper and backtest runs stored in a database (newest first), one run in detail (parameters,
// metrics, model swaps, orders, fills, execution costs), and the backtest report re-rendered from what was stored,
// so a run can be re-opened later without replaying it. A run that never finished has no stored metrics: they are
// recomputed from its stored fills and equity (the same Portfolio and MetricsAccumulator the engine uses).
import fs from 'node:fs';
import path from 'node:path';
import {
  annualisationOf,
  COSTS_BASIS,
  FINAL_EQUITY_BASIS,
  inSampleOf,
  rowOf,
  thin,
  TRADE_STATS_BASIS,
  type BacktestReport,
  type BacktestRow,
  type TrainingSpan,
} from '../backtest/backtest.ts';
import { renderHtmlReport } from '../backtest/htmlReport.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { END_OF_RUN } from '../engine/engine.ts';
import { readRunHalts } from '../engine/runRecorder.ts';
import { formatHalt, type RiskHalt } from '../../src-shared/riskHalt.ts';
import { figureWithNote, hitRateReason, sharpeReason } from '../../src-shared/reliability.ts';
import { readModelMeta } from '../model/predictor.ts';
import { openSessionStore, type SessionStore } from '../store/sessionStore.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { addFillCost, emptyCostTotals } from '../trading/executionCosts.ts';
import { computeMetrics, DEFAULT_SAMPLING_MS, type Metrics } from '../trading/metrics.ts';
import { Portfolio, type PortfolioSnapshot } from '../trading/portfolio.ts';
import type { Fill, Liquidity, Side } from '../trading/types.ts';
import { Args, UsageError } from './args.ts';
import { costsLine, tradesLine } from './backtest.ts';
import { sameDataAs, timeOverlapCounts } from '../backtest/sameData.ts';
import { sessionIdentity, type DataIdentity } from '../model/dataIdentity.ts';

export const summary = 'list stored paper/backtest runs, show one, re-render its report';

const USAGE = `usage: l2desk runs [--db FILE|clickhouse://HOST:PORT/DATABASE] [--kind paper|backtest] [--limit N] [--json]
       l2desk runs show ID [--db FILE] [--json]
       l2desk runs report ID[,ID...] [--db FILE] --out FILE.html|FILE.json
  runs         stored runs, newest first: id, kind, status, session, model, threshold, start, duration, trades,
               net P&L, Sharpe, max drawdown (--limit: default 50)
  show         one run: parameters, metrics (with round-trip statistics), model swaps, orders and fills, execution costs
  report       the backtest report (equity curve, metrics, costs) rebuilt from the stored run(s), without replaying;
               several ids (a sweep) give one row and one curve each, and must share a session
  status: done | cancelled | failed (stopped in the app's backtest worker) | unfinished (no end recorded: still
  running, or the process died; its metrics are recomputed from the stored fills and equity)`;

export type RunStatus = 'done' | 'cancelled' | 'failed' | 'unfinished';

interface RunRow {
  id: number;
  kind: string;
  source: string;
  session_id: number | null;
  symbol: string;
  model: string | null;
  threshold: number;
  params: string;
  started_at: number;
  ended_at: number | null;
  metrics: string | null;
  final: string | null;
}

/** One line of `l2desk runs` (snake_case: the --json schema). */
export interface RunListItem {
  id: number;
  kind: string;
  status: RunStatus;
  source: string;
  session_id: number | null;
  symbol: string;
  model: string | null;
  threshold: number;
  started_at: number;
  ended_at: number | null;
  /** Fills, round trips, net P&L after fees, Sharpe, max drawdown (fraction): null without stored metrics. */
  trades: number | null;
  round_trips: number | null;
  net_pnl: number | null;
  sharpe: number | null;
  max_drawdown: number | null;
  /** Why the Sharpe is not shown ("run too short to annualise: …"), null when it stands (src-shared/reliability.ts). */
  sharpe_not_shown?: string | null;
}

export interface ModelSwap {
  from_ts: number;
  model: string;
  previous: string | null;
  swapped_at: number;
}

/** `l2desk runs show` (the --json schema). */
export interface RunDetail {
  run: Omit<
    RunListItem,
    'trades' | 'round_trips' | 'net_pnl' | 'sharpe' | 'max_drawdown' | 'sharpe_not_shown'
  >;
  params: Record<string, unknown>;
  /** 'stored' (written when the run ended), 'stored+recomputed' (a run of an older version: the fields it lacks are
   * recomputed from its fills and equity), 'recomputed' (the run never ended). */
  metrics_source: 'stored' | 'stored+recomputed' | 'recomputed';
  metrics: Metrics;
  /** The run's row as in the backtest report (threshold, net P&L, costs, round-trip statistics, ...). */
  row: BacktestRow;
  final: PortfolioSnapshot | null;
  model_swaps: ModelSwap[];
  /** When the risk rules halted trading, why, and when it resumed (time order; empty for runs before schema v250). */
  halts: RiskHalt[];
  orders: { total: number; by_status: Record<string, number>; cancelled_at_end: number };
  fills: { total: number; maker: number; taker: number; fees: number; notional: number };
  predictions: number;
  signals: number;
  equity_points: number;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function paramsOf(r: RunRow): Record<string, unknown> {
  const p = parseJson(r.params);
  return isObject(p) ? p : {};
}

/** cancelled / failed are flagged in params by the app's backtest worker (endUnfinishedRuns); no end: unfinished. */
export function statusOf(r: Pick<RunRow, 'params' | 'ended_at'>): RunStatus {
  const p = parseJson(r.params);
  if (isObject(p) && p.cancelled === true) return 'cancelled';
  if (isObject(p) && p.failed === true) return 'failed';
  return r.ended_at === null ? 'unfinished' : 'done';
}

const fin = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function listRuns(
  db: Db,
  o: { kind?: string; limit?: number } = {},
): { runs: RunListItem[]; total: number } {
  const where = o.kind ? 'WHERE kind = ?' : '';
  const args = o.kind ? [o.kind] : [];
  const total = db
    .prepare(`SELECT count(*) FROM runs ${where}`)
    .pluck()
    .get(...args) as number;
  const rows = db
    .prepare(`SELECT * FROM runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`)
    .all(...args, o.limit ?? -1) as RunRow[];
  const runs = rows.map((r): RunListItem => {
    const m = parseJson(r.metrics);
    const mm = isObject(m) ? m : {};
    return {
      id: r.id,
      kind: r.kind,
      status: statusOf(r),
      source: r.source,
      session_id: r.session_id,
      symbol: r.symbol,
      model: r.model,
      threshold: r.threshold,
      started_at: r.started_at,
      ended_at: r.ended_at,
      trades: fin(mm.trades),
      round_trips: fin(mm.roundTrips),
      net_pnl: fin(mm.netPnl),
      sharpe: fin(mm.sharpe),
      max_drawdown: fin(mm.maxDrawdown),
      sharpe_not_shown:
        fin(mm.sharpe) === null
          ? null
          : sharpeReason({
              sharpe: fin(mm.sharpe) as number,
              returns: fin(mm.returns) ?? undefined,
              spanMs: fin(mm.spanMs) ?? undefined,
              sharpeReliable: mm.sharpeReliable === true,
            }),
    };
  });
  return { runs, total };
}

function getRun(db: Db, file: string, id: number): RunRow {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  if (r) return r;
  const n = db.prepare('SELECT count(*), min(id), max(id) FROM runs').raw().get() as [number, number, number];
  throw new Error(
    n[0] === 0
      ? `no run ${id} in ${file}: it holds no runs (l2desk backtest or trade --paper record them)`
      : `no run ${id} in ${file}; it holds ${n[0]} run(s), ids ${n[1]}–${n[2]} (l2desk runs --db ${file})`,
  );
}

interface FillRow {
  order_id: number;
  ts: number;
  side: Side;
  price: number;
  qty: number;
  fee: number;
  liquidity: Liquidity;
  reason: string;
  decision_mid: number | null;
  arrival_mid: number | null;
}

/** The run's fills in the order they happened, with their orders' decision and arrival mids. */
function storedFills(db: Db, id: number): Fill[] {
  const rows = db
    .prepare(
      `SELECT f.order_id, f.ts, f.side, f.price, f.qty, f.fee, f.liquidity, f.reason, o.decision_mid, o.arrival_mid
       FROM fills f LEFT JOIN orders o ON o.run_id = f.run_id AND o.order_id = f.order_id
       WHERE f.run_id = ? ORDER BY f.id`,
    )
    .all(id) as FillRow[];
  return rows.map((r) => ({
    orderId: r.order_id,
    ts: r.ts,
    side: r.side,
    price: r.price,
    qty: r.qty,
    fee: r.fee,
    liquidity: r.liquidity,
    reason: r.reason,
    decisionMid: r.decision_mid ?? NaN,
    arrivalMid: r.arrival_mid ?? NaN,
  }));
}

interface EquityRow {
  ts: number;
  equity: number;
  position: number;
  entry_price: number | null;
  unrealized: number;
}

function storedEquity(db: Db, id: number): EquityRow[] {
  return db
    .prepare(
      'SELECT ts, equity, position, entry_price, unrealized FROM equity WHERE run_id = ? ORDER BY ts, rowid',
    )
    .all(id) as EquityRow[];
}

/** Metrics from the stored fills and equity: what the engine would have reported had the run ended there. */
function recompute(
  fills: readonly Fill[],
  equity: readonly EquityRow[],
  initial: number,
  samplingMs: number,
  final: PortfolioSnapshot | null,
): Metrics {
  const pf = new Portfolio(initial, Infinity);
  const totals = emptyCostTotals();
  for (const f of fills) {
    pf.applyFill(f);
    addFillCost(totals, f);
  }
  const last = equity.at(-1);
  // The mark of the open position: the final snapshot's, else implied by the last equity row.
  const mark =
    final?.mark ??
    (last && last.position !== 0 && last.entry_price !== null
      ? last.entry_price + last.unrealized / last.position
      : NaN);
  return computeMetrics(
    equity,
    {
      roundTrips: pf.roundTrips,
      fills: pf.fills,
      turnoverNotional: pf.turnoverNotional,
      fees: pf.fees,
      costs: { totals, position: pf.position, mark },
    },
    initial,
    samplingMs,
  );
}

const count = (db: Db, table: string, id: number) =>
  db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(id) as number;

export function loadRun(db: Db, file: string, id: number): { detail: RunDetail; equity: [number, number][] } {
  const r = getRun(db, file, id);
  const params = paramsOf(r);
  const stored = parseJson(r.metrics);
  const finalJson = parseJson(r.final);
  // JSON turned the snapshot's NaNs (entry price when flat, a missing mark) into null.
  const final = isObject(finalJson)
    ? ({
        ...finalJson,
        entryPrice: fin(finalJson.entryPrice) ?? NaN,
        mark: fin(finalJson.mark) ?? NaN,
      } as unknown as PortfolioSnapshot)
    : null;
  const fills = storedFills(db, id);
  const eq = storedEquity(db, id);
  const sm = isObject(stored) ? (stored as Partial<Metrics>) : null;
  const initial = fin(sm?.initialEquity) ?? fin(params.initialBalance) ?? eq[0]?.equity ?? NaN;
  const samplingMs = fin(sm?.samplingMs) ?? fin(params.samplingMs) ?? DEFAULT_SAMPLING_MS;
  const fresh = recompute(fills, eq, initial, samplingMs, final);
  let metrics: Metrics;
  let source: RunDetail['metrics_source'];
  if (sm === null) {
    metrics = fresh;
    source = 'recomputed';
  } else {
    const missing = Object.keys(fresh).some((k) => !(k in sm));
    // JSON stored NaN as null: a stored null stays "unknown" (NaN), it is not replaced by a recomputed figure.
    const restored = Object.fromEntries(
      Object.entries(sm).map(([k, v]) => [
        k,
        v === null && typeof fresh[k as keyof Metrics] === 'number' ? NaN : v,
      ]),
    );
    metrics = { ...fresh, ...restored } as Metrics;
    // Nullable fields (profit factor, payoff, Calmar) are stored as null on purpose.
    for (const k of ['profitFactor', 'payoffRatio', 'calmar'] as const)
      if (k in sm) metrics[k] = sm[k] ?? null;
    source = missing ? 'stored+recomputed' : 'stored';
  }
  const byStatus = Object.fromEntries(
    (
      db
        .prepare('SELECT status, count(*) FROM orders WHERE run_id = ? GROUP BY status ORDER BY status')
        .raw()
        .all(id) as [string, number][]
    ).map(([s, n]) => [s, n]),
  );
  const cancelledAtEnd = db
    .prepare("SELECT count(*) FROM orders WHERE run_id = ? AND status = 'cancelled' AND note LIKE ?")
    .pluck()
    .get(id, `${END_OF_RUN}%`) as number;
  const predictions = count(db, 'predictions', id);
  const signals = count(db, 'signals', id);
  const lastEq = eq.at(-1);
  const finalOrLast: PortfolioSnapshot = final ?? {
    ts: lastEq?.ts ?? NaN,
    balance: NaN,
    position: lastEq?.position ?? 0,
    entryPrice: lastEq?.entry_price ?? NaN,
    realizedPnl: NaN,
    unrealizedPnl: lastEq?.unrealized ?? 0,
    fees: metrics.fees,
    equity: lastEq?.equity ?? NaN,
    mark: NaN,
  };
  const halts = readRunHalts(db, id);
  const row: BacktestRow = {
    ...rowOf({
      threshold: r.threshold,
      metrics,
      final: finalOrLast,
      orders: [],
      fills: [],
      equity: [],
      signals,
      predictions,
      messages: 0,
      runId: r.id,
      halts,
    }),
    cancelled_at_end: cancelledAtEnd,
  };
  const detail: RunDetail = {
    run: {
      id: r.id,
      kind: r.kind,
      status: statusOf(r),
      source: r.source,
      session_id: r.session_id,
      symbol: r.symbol,
      model: r.model,
      threshold: r.threshold,
      started_at: r.started_at,
      ended_at: r.ended_at,
    },
    params,
    metrics_source: source,
    metrics,
    row,
    final,
    model_swaps: db
      .prepare(
        'SELECT from_ts, model, previous, swapped_at FROM run_models WHERE run_id = ? ORDER BY from_ts, rowid',
      )
      .all(id) as ModelSwap[],
    halts,
    orders: {
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      by_status: byStatus,
      cancelled_at_end: cancelledAtEnd,
    },
    fills: {
      total: fills.length,
      maker: fills.filter((f) => f.liquidity === 'maker').length,
      taker: fills.filter((f) => f.liquidity === 'taker').length,
      fees: fills.reduce((a, f) => a + f.fee, 0),
      notional: fills.reduce((a, f) => a + f.price * f.qty, 0),
    },
    predictions,
    signals,
    equity_points: eq.length,
  };
  return { detail, equity: eq.map((e) => [e.ts, e.equity]) };
}

/** The training span of each model file (its X.json), or null when the file is gone or has none. */
function trainingSpans(): (model: string | null) => TrainingSpan | null {
  const cache = new Map<string, TrainingSpan | null>();
  return (model) => {
    if (!model) return null;
    if (!cache.has(model)) {
      let span: TrainingSpan | null = null;
      try {
        span = readModelMeta(model).training ?? null;
      } catch {
        span = null;
      }
      cache.set(model, span);
    }
    return cache.get(model) ?? null;
  };
}

/** The backtest report of stored runs (one row and one equity curve each), as `l2desk backtest --report` writes it. */
export function reportOfRuns(
  db: Db,
  file: string,
  ids: readonly number[],
  maxEquityPoints = 2000,
  /** What the runs' session is when `db` holds only its record (a ClickHouse store's runs); default: read from db. */
  identity?: DataIdentity | null,
): BacktestReport {
  const loaded = ids.map((id) => loadRun(db, file, id));
  const runs = loaded.map((x) => x.detail);
  const first = runs[0];
  const sessions = new Set(runs.map((x) => x.run.session_id));
  if (sessions.size > 1)
    throw new UsageError(
      `runs ${ids.join(', ')} replayed different sessions (${[...sessions].join(', ')}): one report is of one session`,
    );
  const s = first.run.session_id === null ? undefined : getSession(db, first.run.session_id);
  const span = trainingSpans();
  // In-sample share: each prediction against the training span of the model deciding at its time (run_models swaps
  // included). Every run of a sweep decides at the same times: the first run's predictions count (as backtest does).
  const swaps = first.model_swaps;
  const spanAt = (ts: number): TrainingSpan | null => {
    let m = first.run.model;
    for (const w of swaps) if (w.from_ts <= ts) m = w.model;
    return span(m);
  };
  const known = swaps.length > 0 || span(first.run.model) !== null;
  const decisions = db
    .prepare('SELECT ts FROM predictions WHERE run_id = ? ORDER BY ts')
    .pluck()
    .all(first.run.id) as number[];
  const one = swaps.length === 0 ? span(first.run.model) : null;
  // One model: the session may be its own training data on another clock (see backtest's in-sample basis).
  const here = s && one ? (identity !== undefined ? identity : sessionIdentity(db, s.id)) : null;
  const same = s && one ? sameDataAs(here, one.data) : null;
  const timeCounts = s && one ? timeOverlapCounts([here], one.data) : true;
  const inSample = inSampleOf(decisions, known ? spanAt : null, one, same, timeCounts);
  const samplingMs = first.metrics.samplingMs;
  return {
    rows: runs.map((x) => ({ ...x.row, in_sample_share: inSample.share })),
    equity: loaded.map((x) => ({
      threshold: x.detail.run.threshold,
      points: thin(x.equity, maxEquityPoints),
    })),
    session: {
      id: s?.id ?? first.run.session_id ?? 0,
      symbol: s?.symbol ?? first.run.symbol,
      source: s?.source ?? first.run.source,
      tick_size: s?.tickSize ?? '',
      started_at: s?.startedAt ?? first.run.started_at,
      ended_at: s?.endedAt ?? null,
      data_from: s?.firstRecvTs ?? null,
      data_to: s?.lastRecvTs ?? null,
      messages: s?.messages ?? 0,
    },
    model: first.run.model,
    final_equity_basis: FINAL_EQUITY_BASIS,
    costs_basis: COSTS_BASIS,
    trade_stats_basis: TRADE_STATS_BASIS,
    sampling_ms: samplingMs,
    annualisation: annualisationOf(samplingMs),
    params: {
      rendered_from: `stored run(s) ${ids.join(', ')} of ${path.basename(file)}`,
      runs: runs.map((x) => ({
        id: x.run.id,
        kind: x.run.kind,
        status: x.run.status,
        metrics: x.metrics_source,
      })),
      engine: first.params,
    },
    elapsed_ms: runs.reduce(
      (a, x) => a + Math.max(0, (x.run.ended_at ?? x.run.started_at) - x.run.started_at),
      0,
    ),
    in_sample: inSample,
  };
}

const iso = (ms: number | null) =>
  ms === null
    ? '–'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
const fx = (x: number | null | undefined, d = 2) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));
const pctx = (x: number | null | undefined, d = 2) =>
  x == null || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(d)}%`;
const modelName = (m: string | null) => (m ? path.basename(m) : '–');

function duration(a: number, b: number | null): string {
  if (b === null) return '–';
  const s = (b - a) / 1000;
  return s < 120
    ? `${s.toFixed(1)} s`
    : s < 7200
      ? `${(s / 60).toFixed(1)} min`
      : `${(s / 3600).toFixed(1)} h`;
}

function printList(file: string, l: { runs: RunListItem[]; total: number }, kind?: string): void {
  if (l.total === 0) {
    console.log(
      `no ${kind ? `${kind} ` : ''}runs in ${file} (l2desk backtest and l2desk trade --paper record them)`,
    );
    return;
  }
  console.log(
    `${'id'.padStart(5)}  ${'kind'.padEnd(8)} ${'status'.padEnd(10)} ${'session'.padStart(7)}  ${'model'.padEnd(20)} ${'threshold'.padStart(9)}  ` +
      `${'started'.padEnd(23)} ${'duration'.padStart(9)}  ${'trades'.padStart(6)} ${'net_pnl'.padStart(10)} ${'sharpe'.padStart(8)} ${'max_dd'.padStart(7)}`,
  );
  for (const r of l.runs)
    console.log(
      `${String(r.id).padStart(5)}  ${r.kind.padEnd(8)} ${r.status.padEnd(10)} ${String(r.session_id ?? '–').padStart(7)}  ` +
        `${modelName(r.model).slice(0, 20).padEnd(20)} ${fx(r.threshold, 3).padStart(9)}  ${iso(r.started_at).padEnd(23)} ` +
        `${duration(r.started_at, r.ended_at).padStart(9)}  ${String(r.trades ?? '–').padStart(6)} ${fx(r.net_pnl).padStart(10)} ` +
        `${(r.sharpe_not_shown ? '—' : fx(r.sharpe)).padStart(8)} ${pctx(r.max_drawdown).padStart(7)}`,
    );
  if (l.runs.length < l.total) console.log(`(${l.total - l.runs.length} older run(s) not shown: --limit N)`);
  if (l.runs.some((r) => r.sharpe_not_shown))
    console.log('(sharpe —: run too short to annualise; l2desk runs show ID says why)');
}

function flatParams(p: Record<string, unknown>): string {
  return Object.entries(p)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function printDetail(d: RunDetail): void {
  const r = d.run;
  const m = d.metrics;
  console.log(
    `run ${r.id}: ${r.kind}, ${r.status}; ${r.source}${r.session_id !== null ? ` session ${r.session_id}` : ''} ${r.symbol}`,
  );
  console.log(`  model      ${r.model ?? '–'}`);
  console.log(`  threshold  ${r.threshold}`);
  console.log(
    `  time       ${iso(r.started_at)} – ${iso(r.ended_at)} (${duration(r.started_at, r.ended_at)} wall clock)`,
  );
  console.log(`  params     ${flatParams(d.params)}`);
  console.log(
    `  metrics    ${d.metrics_source === 'stored' ? '' : `(${d.metrics_source} from the stored fills and equity) `}` +
      `net_pnl ${fx(m.netPnl)} (return ${pctx(m.totalReturn, 3)}), fees ${fx(m.fees)}, final_equity ${fx(m.finalEquity, 4)}`,
  );
  // Annualised ratios of a short run and rates without a round trip are shown as "—" with the reason, not a number.
  const short = sharpeReason(m);
  const trips = hitRateReason(m.roundTrips);
  console.log(
    `             sharpe ${figureWithNote(m.sharpe, short, (x) => fx(x))}, sortino ${figureWithNote(m.sortino, short === null ? null : 'as Sharpe', (x) => fx(x))} ` +
      `(${m.returns} returns every ${m.samplingMs} ms), max_dd ${pctx(m.maxDrawdown)} (${fx(m.maxDrawdownAbs)})`,
  );
  console.log(
    `             trades ${m.trades}, round trips ${m.roundTrips}, hit rate ${figureWithNote(m.hitRate, trips, (x) => pctx(x, 1))}, ` +
      `hit rate before fees ${figureWithNote(m.grossHitRate, trips, (x) => pctx(x, 1))}, ` +
      `turnover ${fx(m.turnover, 1)}x, avg hold ${m.roundTrips > 0 ? `${fx(m.avgHoldingMs / 1000, 1)} s` : '—'}, exposure ${pctx(m.exposure, 1)}`,
  );
  console.log(`  ${tradesLine(d.row)}`);
  console.log(`  ${costsLine(d.row)}`);
  if (d.halts.length === 0) console.log('  risk halts: none');
  else for (const h of d.halts) console.log(`  risk halt  ${formatHalt(h)}`);
  if (d.model_swaps.length === 0) console.log('  model swaps: none');
  else
    for (const w of d.model_swaps)
      console.log(`  model swap at ${iso(w.from_ts)}: ${modelName(w.previous)} → ${modelName(w.model)}`);
  const st = Object.entries(d.orders.by_status)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(
    `  orders ${d.orders.total}${st ? ` (${st})` : ''}${d.orders.cancelled_at_end ? `, ${d.orders.cancelled_at_end} cancelled at the end` : ''}; ` +
      `fills ${d.fills.total} (maker ${d.fills.maker}, taker ${d.fills.taker}), fees ${fx(d.fills.fees)}, notional ${fx(d.fills.notional)}; ` +
      `predictions ${d.predictions}, signals ${d.signals}, equity points ${d.equity_points}`,
  );
  if (d.final)
    console.log(
      `  final      position ${d.final.position}${d.final.position !== 0 ? ` marked at ${fx(d.final.mark, 4)}` : ''}, ` +
        `balance ${fx(d.final.balance, 4)}, equity ${fx(d.final.equity, 4)}`,
    );
}

function parseId(text: string | undefined): number {
  if (text === undefined) throw new UsageError('which run? l2desk runs show ID (ids: l2desk runs)');
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`a run id is a positive integer, got "${text}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  const [sub, idText, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: args.str('db') ? { db: args.req('db') } : {},
  });
  // An SQLite file or a ClickHouse store; named in messages by its masked name. A killed paper-trading run a
  // ClickHouse store could not save is saved now, and listed with the rest (the store's runs() says so here).
  const opened = async (): Promise<SessionStore> => openSessionStore(config.db);
  const log = (line: string) => console.error(line);
  if (sub === undefined) {
    args.rejectUnknown(['db', 'kind', 'limit', 'json', 'config', 'help']);
    const kind = args.str('kind');
    if (kind !== undefined && kind !== 'paper' && kind !== 'backtest')
      throw new UsageError(`--kind is paper or backtest, got "${kind}"`);
    const limit = args.num('limit') ?? 50;
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive integer');
    const store = await opened();
    try {
      const l = listRuns(await store.runs({ runsOnly: true, log }), { kind, limit });
      if (args.bool('json')) console.log(JSON.stringify(l));
      else printList(store.name, l, kind);
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === 'show') {
    args.rejectUnknown(['db', 'json', 'config', 'help']);
    const id = parseId(idText);
    const store = await opened();
    try {
      const d = loadRun(await store.runs({ runIds: [id], log }), store.name, id).detail;
      if (args.bool('json')) console.log(JSON.stringify(d));
      else printDetail(d);
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === 'report') {
    args.rejectUnknown(['db', 'out', 'config', 'help']);
    if (idText === undefined) throw new UsageError('which run? l2desk runs report ID --out FILE.html');
    const ids = idText.split(',').map((x) => parseId(x.trim()));
    const out = args.req('out');
    if (!/\.(json|html?)$/i.test(out)) throw new UsageError('--out must end in .json or .html');
    const store = await opened();
    try {
      const db = await store.runs({ runIds: ids, log });
      // The in-sample check recognises the model's own training data on another clock by the session's identity.
      const sid = db.prepare('SELECT session_id FROM runs WHERE id = ?').pluck().get(ids[0]) as number | null;
      const identity = typeof sid === 'number' ? await store.identity(sid) : null;
      const report = reportOfRuns(db, store.name, ids, undefined, identity);
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      fs.writeFileSync(
        out,
        /\.json$/i.test(out) ? JSON.stringify(report, null, 1) + '\n' : renderHtmlReport(report),
      );
      console.log(`report of run(s) ${ids.join(', ')}: ${out}`);
    } finally {
      await store.close();
    }
    return 0;
  }
  throw new UsageError(`unknown subcommand "${sub}"\n${USAGE}`);
}
