// Backtest = the live engine fed from storage: a ReplaySource at speed 'max' and a ReplayClock, nothing else
// differs. A sweep runs one engine pass per threshold. Predictions do not depend on the threshold, so passes
// after the first replay the first pass's predictions (RecordedModel: no features, no model) through the same
// engine; backtest.test.ts proves the rows equal independent full runs.
import type { Config } from '../../src-shared/config.ts';
import { ReplayClock } from '../engine/clock.ts';
import { RecordedModel, RecordingModel, type DecisionModel } from '../engine/decisionModel.ts';
import { END_OF_RUN, Engine, engineOptionsFromConfig, type EngineOptions } from '../engine/engine.ts';
import { RunRecorder } from '../engine/runRecorder.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import type { Metrics } from '../trading/metrics.ts';
import type { PortfolioSnapshot } from '../trading/portfolio.ts';
import type { Fill, Order } from '../trading/types.ts';

export interface BacktestOptions {
  db: Db;
  sessionId: number;
  config: Config;
  model: DecisionModel;
  /** Shown in the report and stored with the run. */
  modelPath?: string;
  thresholds: readonly number[];
  /** Record each pass as a run (runs, predictions, signals, orders, fills, equity). Default true. */
  record?: boolean;
  /** Re-use the first pass's predictions for the other thresholds (default true). */
  reusePredictions?: boolean;
  /** Equity grid for Sharpe/Sortino (ms); default: 60 s, or 1 s for sessions shorter than an hour. */
  samplingMs?: number;
  fromTs?: number;
  toTs?: number;
  /** Most equity points per threshold kept for the report (evenly thinned). */
  maxEquityPoints?: number;
  onProgress?: (done: number, total: number, row: BacktestRow) => void;
  /** As the replay advances (every `replayEvery` messages): messages replayed so far in pass `pass` (0-based). */
  onReplay?: (replayed: number, pass: number) => void;
  replayEvery?: number;
  /** Aborting stops the replay at its next yield; runBacktest then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One threshold's result (snake_case: the JSON report's schema). */
export interface BacktestRow {
  threshold: number;
  trades: number;
  round_trips: number;
  fees: number;
  net_pnl: number;
  total_return: number;
  sharpe: number;
  sortino: number;
  max_drawdown: number;
  max_drawdown_abs: number;
  hit_rate: number;
  /** Round trips that won before fees. */
  hit_rate_gross: number;
  turnover: number;
  avg_holding_s: number;
  exposure: number;
  /** Cash plus the position still open at the end (final_position) marked to the last mid (final_mark). */
  final_equity: number;
  final_position: number;
  /** Last mid of the book (NaN if it never had one): the price the open position is valued at. */
  final_mark: number;
  /** Orders still working when the data ended, recorded as cancelled (they could never fill). */
  cancelled_at_end: number;
  signals: number;
  predictions: number;
  run_id: number | null;
}

export interface PassResult {
  threshold: number;
  metrics: Metrics;
  final: PortfolioSnapshot;
  orders: Order[];
  fills: Fill[];
  equity: [ts: number, equity: number][];
  signals: number;
  predictions: number;
  messages: number;
  runId: number | null;
}

export interface BacktestReport {
  rows: BacktestRow[];
  /** Equity per threshold as [ts, equity] pairs (thinned evenly to at most maxEquityPoints). */
  equity: { threshold: number; points: [number, number][] }[];
  session: {
    id: number;
    symbol: string;
    source: string;
    tick_size: string;
    started_at: number;
    ended_at: number | null;
    messages: number;
  };
  model: string | null;
  /** How final_equity is computed (open position marked to the last mid, working orders cancelled). */
  final_equity_basis: string;
  /** Equity sampling for Sharpe/Sortino: "equity sampled every N ms, annualised with sqrt(periods per 365-day year)". */
  sampling_ms: number;
  annualisation: string;
  params: Record<string, unknown>;
  elapsed_ms: number;
}

export function rowOf(p: PassResult): BacktestRow {
  const m = p.metrics;
  return {
    threshold: p.threshold,
    trades: m.trades,
    round_trips: m.roundTrips,
    fees: m.fees,
    net_pnl: m.netPnl,
    total_return: m.totalReturn,
    sharpe: m.sharpe,
    sortino: m.sortino,
    max_drawdown: m.maxDrawdown,
    max_drawdown_abs: m.maxDrawdownAbs,
    hit_rate: m.hitRate,
    hit_rate_gross: m.grossHitRate,
    turnover: m.turnover,
    avg_holding_s: m.avgHoldingMs / 1000,
    exposure: m.exposure,
    final_equity: m.finalEquity,
    final_position: p.final.position,
    final_mark: p.final.mark,
    cancelled_at_end: p.orders.filter((o) => o.status === 'cancelled' && o.note.startsWith(END_OF_RUN))
      .length,
    signals: p.signals,
    predictions: p.predictions,
    run_id: p.runId,
  };
}

export const FINAL_EQUITY_BASIS =
  'final equity = cash after fees + any position still open at the end marked to the last mid of the book ' +
  '(no exit cost charged); orders still working when the data ends are cancelled (recorded with the reason)';

/** Default Sharpe grid: 1 min, or 1 s when the session is under an hour (else there are too few returns). */
export function defaultSamplingMs(spanMs: number): number {
  return spanMs > 0 && spanMs < 3_600_000 ? 1000 : 60_000;
}

/** One engine pass over the session at one threshold. */
export async function runPass(
  o: Pick<
    BacktestOptions,
    'db' | 'sessionId' | 'config' | 'modelPath' | 'record' | 'fromTs' | 'toTs' | 'replayEvery' | 'signal'
  > & {
    model: DecisionModel;
    threshold: number;
    samplingMs: number;
    kind?: 'backtest' | 'paper';
    onReplay?: (replayed: number) => void;
  },
): Promise<PassResult> {
  const source = new ReplaySource({
    db: o.db,
    sessionId: o.sessionId,
    speed: 'max',
    fromTs: o.fromTs,
    toTs: o.toTs,
    // Progress rides on the source's health events (they change nothing downstream).
    healthEvery: o.onReplay ? (o.replayEvery ?? 2000) : undefined,
  });
  const options: EngineOptions = {
    ...engineOptionsFromConfig(o.config, source.instrument, o.samplingMs),
    threshold: o.threshold,
  };
  const sink =
    o.record === false
      ? undefined
      : new RunRecorder(o.db, {
          kind: o.kind ?? 'backtest',
          source: 'replay',
          sessionId: o.sessionId,
          symbol: source.instrument.symbol,
          model: o.modelPath ?? null,
          threshold: o.threshold,
          params: { ...options, instrument: undefined },
          startedAt: Date.now(),
        });
  const engine = new Engine(options, { source, clock: new ReplayClock(), model: o.model, sink });
  const orders = new Map<number, Order>();
  const fills: Fill[] = [];
  const equity: [number, number][] = [];
  let signals = 0;
  let predictions = 0;
  engine.on('order', (x) => orders.set(x.id, x));
  engine.on('fill', (f) => fills.push(f));
  engine.on('signal', () => signals++);
  engine.on('prediction', () => predictions++);
  engine.on('portfolio', (p) => equity.push([p.ts, p.equity]));
  const onReplay = o.onReplay;
  if (onReplay) engine.on('health', (h) => h.feed && onReplay(h.feed.messages));
  const abort = () => void source.stop();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    await engine.start();
    await source.done();
  } finally {
    o.signal?.removeEventListener('abort', abort);
  }
  const metrics = await engine.stop();
  return {
    threshold: o.threshold,
    metrics,
    final: engine.portfolioNow(),
    orders: [...orders.values()],
    fills,
    equity,
    signals,
    predictions,
    messages: engine.health().messages,
    runId: sink?.runId ?? null,
  };
}

export async function runBacktest(
  o: BacktestOptions,
): Promise<{ report: BacktestReport; passes: PassResult[] }> {
  const started = performance.now();
  const s = getSession(o.db, o.sessionId);
  if (!s) throw new Error(`no session ${o.sessionId} in ${o.db.name}`);
  if (o.thresholds.length === 0) throw new Error('no threshold to test');
  o.signal?.throwIfAborted();
  const span = (s.lastRecvTs ?? 0) - (s.firstRecvTs ?? 0);
  const samplingMs = o.samplingMs ?? defaultSamplingMs(span);
  const reuse = o.reusePredictions !== false && o.thresholds.length > 1;
  const recorder = reuse ? new RecordingModel(o.model) : null;
  const passes: PassResult[] = [];
  for (let i = 0; i < o.thresholds.length; i++) {
    const model =
      i === 0 ? (recorder ?? o.model) : reuse && recorder ? new RecordedModel(recorder.recorded) : o.model;
    const onReplay = o.onReplay;
    const p = await runPass({
      ...o,
      model,
      threshold: o.thresholds[i],
      samplingMs,
      onReplay: onReplay && ((n) => onReplay(n, i)),
    });
    // A pass cut short by the signal is not a result.
    o.signal?.throwIfAborted();
    passes.push(p);
    o.onProgress?.(i + 1, o.thresholds.length, rowOf(p));
  }
  const maxPts = o.maxEquityPoints ?? 2000;
  // rows and equity first: what a reader of the JSON looks for.
  const report: BacktestReport = {
    rows: passes.map(rowOf),
    equity: passes.map((p) => ({ threshold: p.threshold, points: thin(p.equity, maxPts) })),
    session: {
      id: s.id,
      symbol: s.symbol,
      source: s.source,
      tick_size: s.tickSize,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      messages: s.messages,
    },
    model: o.modelPath ?? null,
    final_equity_basis: FINAL_EQUITY_BASIS,
    sampling_ms: samplingMs,
    annualisation: `sqrt(${Math.round((365 * 86_400_000) / samplingMs)}) periods per 365-day year (24/7 market)`,
    params: {
      decision_interval_ms: o.config.features.decision_interval,
      trading: o.config.trading,
      risk: o.config.risk,
    },
    elapsed_ms: Math.round(performance.now() - started),
  };
  return { report, passes };
}

function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]);
  return out;
}
