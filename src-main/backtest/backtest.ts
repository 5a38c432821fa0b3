// Backtest = the live engine fed from storage: a ReplaySource at speed 'max' and a ReplayClock, nothing else
// differs. A sweep runs one engine pass per threshold. Predictions do not depend on the threshold, so passes
// after the first replay the first pass's predictions (RecordedModel: no features, no model) through the same
// engine; backtest.test.ts proves the rows equal independent full runs.
import type { Config } from '../../src-shared/config.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { ReplayClock } from '../engine/clock.ts';
import { RecordedModel, RecordingModel, type DecisionModel } from '../engine/decisionModel.ts';
import { END_OF_RUN, Engine, engineOptionsFromConfig, type EngineOptions } from '../engine/engine.ts';
import { RunRecorder } from '../engine/runRecorder.ts';
import { ReplaySource, type StoredSessionData } from '../market/replay/replaySource.ts';
import type { Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { prefetchedPages } from '../store/sessionPrefetch.ts';
import { readSession } from '../store/sessionReader.ts';
import { SHARPE_MIN_SAMPLES, SHARPE_MIN_SPAN_MS, type Metrics } from '../trading/metrics.ts';
import type { PortfolioSnapshot } from '../trading/portfolio.ts';
import type { Fill, Order } from '../trading/types.ts';
import type { DataIdentity } from '../model/dataIdentity.ts';
import { sameDataAs, timeOverlapCounts, type SameDataMatch } from './sameData.ts';
import { sessionIdentity } from '../model/dataIdentity.ts';
import type { WalkForwardSection } from './walkForwardReport.ts';

/** What a model was trained on (its metadata's `training`): epoch ms of the first and last training row. */
export interface TrainingSpan {
  from_ts: number;
  to_ts: number;
  sessions?: number[];
  /** What each training session is (metadata training.data): the same data on another clock is in-sample too. */
  data?: DataIdentity[];
}

export interface BacktestOptions {
  db: Db;
  sessionId: number;
  /** The session from another store (ClickHouse): replayed instead of reading `db`, which then only holds runs. */
  data?: StoredSessionData;
  /**
   * What the session is (dataIdentity.ts) when `db` holds only its record (`data` from a ClickHouse store): the
   * in-sample check recognises the model's own training data on another clock by it. Default: read from `db`.
   */
  identity?: DataIdentity | null;
  /**
   * Read the session ahead in a worker thread (sessionPrefetch.ts; the same events) when `db` is a file. Default:
   * config store.read_ahead (auto: when the session holds at least READ_AHEAD_MIN_MESSAGES messages; below that a
   * worker's start costs more than it saves).
   */
  readAhead?: boolean;
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
  /** The model's training span (metadata `training`): decisions inside it are in-sample (see inSampleOf). */
  training?: TrainingSpan | null;
  /** A model that changes during the run (walk-forward): the training span of the model deciding at `ts`. */
  trainingAt?: (ts: number) => TrainingSpan | null;
  /** Model changes stored with each run (run_models): decisions at or after `fromTs` are `model`'s. */
  modelSwaps?: readonly { fromTs: number; model: string; previous: string | null }[];
  /** Each prediction of the first pass (later passes replay the same ones). */
  onPrediction?: (ts: number, value: number, mid: number) => void;
}

/** One threshold's result (snake_case: the JSON report's schema). */
export interface BacktestRow {
  threshold: number;
  trades: number;
  round_trips: number;
  fees: number;
  net_pnl: number;
  /** 95% interval of net_pnl (block bootstrap of the equity changes); null when the run is too short. Spanning 0:
   * not distinguishable from zero. Absent from reports of older versions. */
  net_pnl_ci?: [number, number] | null;
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
  /** Share of the decisions made inside the training span of the model that made them (0..1); null: unknown. */
  in_sample_share: number | null;
  run_id: number | null;
  /** Implementation shortfall against the decision mids, notional-weighted bps of the decision notional (a cost is
   * positive): latency drift + spread & book walk (negative on passive fills: the spread earned). See COSTS_BASIS. */
  shortfall_bps: number;
  latency_bps: number;
  spread_walk_bps: number;
  fees_bps: number;
  /** The same in quote currency. */
  shortfall_cost: number;
  latency_cost: number;
  spread_walk_cost: number;
  /** P&L had every fill traded at its decision mid: gross_alpha − spread_walk_cost − latency_cost − fees = net_pnl. */
  gross_alpha: number;
  /** Round-trip statistics after fees (see TRADE_STATS_BASIS); null where a ratio is undefined (no losing trip). */
  profit_factor: number | null;
  avg_win: number;
  avg_loss: number;
  payoff_ratio: number | null;
  /** Mean net P&L per round trip, quote currency and bps of the trips' notional. */
  expectancy: number;
  expectancy_bps: number;
  max_consecutive_losses: number;
  /** Linearly annualised return / max drawdown; null when the drawdown is 0. */
  calmar: number | null;
  /** Returns on the Sharpe grid, and whether there are enough of them (≥ 30, over ≥ 1 day) for the annualised figure. */
  sharpe_samples: number;
  sharpe_reliable: boolean;
  /** Span of the equity series (ms), for the reliability notes. Absent from reports of older versions. */
  span_ms?: number;
  /** When the risk rules halted trading (daily loss, an invalid book), why, and when it resumed. Absent from reports
   * of older versions. */
  halts?: RiskHalt[];
}

/** Decisions (predictions) inside the training span of the model that made them: in-sample, so optimistic. */
export interface InSampleSummary {
  /** in_sample / decisions, or null when no training span is known or there was no decision. */
  share: number | null;
  decisions: number;
  in_sample: number;
  /** The model's training span (null for a walk-forward run: see walk_forward.models). */
  training: TrainingSpan | null;
  /** The replayed session repeats a training session of the model (its copy, or the simulator's same seed) on
   * another clock: decisions inside the training span shifted by offset_ms are in-sample too. */
  same_data?: SameDataMatch | null;
  /** Decisions inside the training span's times that do not count: the session is the simulator under another
   * random seed than every training session, another market (absent when none). */
  other_market_overlap?: number;
  basis: string;
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
  /** The run's risk halts in time order (each with its resumption, when it resumed). */
  halts: RiskHalt[];
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
    /** When the collection ran (wall clock): seconds for a fast simulated session of hours of data. */
    started_at: number;
    ended_at: number | null;
    /** The span of the data itself (first and last message received); absent from reports of older versions. */
    data_from?: number | null;
    data_to?: number | null;
    messages: number;
  };
  model: string | null;
  /** How final_equity is computed (open position marked to the last mid, working orders cancelled). */
  final_equity_basis: string;
  /** What the shortfall, latency, spread+walk and gross alpha fields of the rows mean. */
  costs_basis: string;
  /** What profit_factor … calmar and sharpe_reliable of the rows mean (absent from reports of older versions). */
  trade_stats_basis?: string;
  /** Equity sampling for Sharpe/Sortino: "equity sampled every N ms, annualised with sqrt(periods per 365-day year)". */
  sampling_ms: number;
  annualisation: string;
  params: Record<string, unknown>;
  elapsed_ms: number;
  in_sample: InSampleSummary;
  /** Only for `backtest --walk-forward`: the plan and the model of each window. */
  walk_forward?: WalkForwardSection;
}

export const IN_SAMPLE_BASIS =
  'a decision is in-sample when its time (epoch ms) lies in [training.from_ts, training.to_ts] of the model that made it, ' +
  'or when the replayed session is a training session of the model on another clock (the same fingerprint of its first ' +
  "messages, or the simulator's same random seed) and its time lies in that span shifted onto this session's clock; " +
  'times and data, not session ids, are compared (ids are per database and may coincide by accident); a simulated ' +
  'session under another random seed than every training session is another market: its times do not count';

/** Counts decision times inside the deciding model's training span (spanAt(ts) null: not in-sample). */
export function inSampleOf(
  ts: Iterable<number>,
  spanAt: ((ts: number) => TrainingSpan | null) | null,
  training: TrainingSpan | null,
  same: SameDataMatch | null = null,
  timeCounts = true,
): InSampleSummary {
  let decisions = 0;
  let inSample = 0;
  let ignored = 0;
  const shift = same?.offset_ms ?? 0;
  for (const t of ts) {
    decisions++;
    const s = spanAt ? spanAt(t) : null;
    if (
      s &&
      ((timeCounts && t >= s.from_ts && t <= s.to_ts) ||
        (same && t - shift >= s.from_ts && t - shift <= s.to_ts))
    )
      inSample++;
    else if (s && !timeCounts && t >= s.from_ts && t <= s.to_ts) ignored++;
  }
  return {
    share: spanAt && decisions > 0 ? inSample / decisions : null,
    decisions,
    in_sample: inSample,
    training,
    same_data: same,
    ...(ignored > 0 ? { other_market_overlap: ignored } : {}),
    basis: IN_SAMPLE_BASIS,
  };
}

export function rowOf(p: PassResult, inSampleShare: number | null = null): BacktestRow {
  const m = p.metrics;
  return {
    threshold: p.threshold,
    trades: m.trades,
    round_trips: m.roundTrips,
    fees: m.fees,
    net_pnl: m.netPnl,
    net_pnl_ci: m.netPnlCi ?? null,
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
    in_sample_share: inSampleShare,
    run_id: p.runId,
    shortfall_bps: m.costs.shortfallBps,
    latency_bps: m.costs.latencyBps,
    spread_walk_bps: m.costs.spreadWalkBps,
    fees_bps: m.costs.feesBps,
    shortfall_cost: m.costs.shortfall,
    latency_cost: m.costs.latency,
    spread_walk_cost: m.costs.spreadWalk,
    gross_alpha: m.costs.grossAlpha,
    ...tradeStatsOf(m),
    span_ms: m.spanMs,
    halts: p.halts,
  };
}

/** The round-trip statistics fields of a row. */
export type TradeStats = Pick<
  BacktestRow,
  | 'profit_factor'
  | 'avg_win'
  | 'avg_loss'
  | 'payoff_ratio'
  | 'expectancy'
  | 'expectancy_bps'
  | 'max_consecutive_losses'
  | 'calmar'
  | 'sharpe_samples'
  | 'sharpe_reliable'
>;

/** The round-trip statistics fields of a row (stored metrics of older runs lack them: NaN / null then). */
export function tradeStatsOf(m: Partial<Metrics>): TradeStats {
  return {
    profit_factor: m.profitFactor ?? null,
    avg_win: m.avgWin ?? NaN,
    avg_loss: m.avgLoss ?? NaN,
    payoff_ratio: m.payoffRatio ?? null,
    expectancy: m.expectancy ?? NaN,
    expectancy_bps: m.expectancyBps ?? NaN,
    max_consecutive_losses: m.maxConsecutiveLosses ?? NaN,
    calmar: m.calmar ?? null,
    sharpe_samples: m.returns ?? NaN,
    sharpe_reliable: m.sharpeReliable ?? false,
  };
}

export const TRADE_STATS_BASIS =
  'per round trip (flat → flat, or up to a flip), net P&L after fees: profit factor = sum of wins / |sum of losses| ' +
  '(null when no trip lost); avg win / avg loss = mean net P&L of the winning / losing trips; payoff ratio = avg win / ' +
  '|avg loss|; expectancy = mean net P&L per trip, and in bps of the notional the trips put on (sum of net P&L / sum ' +
  'of notional); max consecutive losses = longest run of losing trips. Calmar = total return annualised linearly ' +
  'over the span of the equity series (× 365 d / span) / max drawdown (every equity sample), null when the drawdown ' +
  `is 0. sharpe_reliable: at least ${SHARPE_MIN_SAMPLES} returns on the Sharpe grid and at least ` +
  `${SHARPE_MIN_SPAN_MS / 3_600_000} h of equity; below that the annualised Sharpe and Calmar say little`;

export const COSTS_BASIS =
  'implementation shortfall per fill = side × (fill price − decision mid) (buy +1, sell −1: a cost is positive), split into ' +
  'latency drift = side × (arrival mid − decision mid) and spread + book walk = side × (fill price − arrival mid); the ' +
  'decision mid is the book the signal saw when the order was sent, the arrival mid the book when it reached the exchange ' +
  'after latency. Passive (maker) fills at the touch have a negative spread + walk (the half spread earned; for a limit ' +
  'order it also holds the move while it rested). bps are notional-weighted over the decision notional (qty × decision ' +
  'mid). gross alpha = P&L had every fill traded at its decision mid (open position marked to the last mid); ' +
  'gross alpha − spread + walk − latency − fees = net P&L';

export const FINAL_EQUITY_BASIS =
  'final equity = cash after fees + any position still open at the end marked to the last mid of the book ' +
  '(no exit cost charged); orders still working when the data ends are cancelled (recorded with the reason)';

/** Default Sharpe grid: 1 min, or 1 s when the session is under an hour (else there are too few returns). */
export function defaultSamplingMs(spanMs: number): number {
  return spanMs > 0 && spanMs < 3_600_000 ? 1000 : 60_000;
}

/** One engine pass over the session at one threshold. */
/** Sessions shorter than this are read on the engine's thread: starting the read-ahead worker costs more. */
export const READ_AHEAD_MIN_MESSAGES = 100_000;

/** The session read ahead in a worker, when that pays (see BacktestOptions.readAhead); undefined otherwise. */
function readAheadData(
  o: Pick<BacktestOptions, 'db' | 'sessionId' | 'readAhead' | 'fromTs' | 'toTs' | 'config'>,
): StoredSessionData | undefined {
  const mode = o.readAhead === undefined ? o.config.store.read_ahead : o.readAhead ? 'on' : 'off';
  if (mode === 'off' || o.db.memory || !o.db.name) return undefined;
  const session = getSession(o.db, o.sessionId);
  if (!session) return undefined; // the in-thread reader says so, as always
  if (mode === 'auto' && session.messages < READ_AHEAD_MIN_MESSAGES) return undefined;
  const file = o.db.name;
  return {
    session,
    pages: (range) =>
      prefetchedPages(file, session, range, () =>
        readSession(o.db, session.id, { ...range, reuseLevels: true }),
      ),
  };
}

export async function runPass(
  o: Pick<
    BacktestOptions,
    | 'db'
    | 'sessionId'
    | 'data'
    | 'readAhead'
    | 'config'
    | 'modelPath'
    | 'record'
    | 'fromTs'
    | 'toTs'
    | 'replayEvery'
    | 'signal'
    | 'modelSwaps'
    | 'onPrediction'
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
    data: o.data ?? readAheadData(o),
    speed: 'max',
    fromTs: o.fromTs,
    toTs: o.toTs,
    // Progress rides on the source's health events (they change nothing downstream).
    healthEvery: o.onReplay ? (o.replayEvery ?? 2000) : undefined,
    // The Engine copies a message's levels into its book before it takes the next: no tuple per level.
    reuseLevels: true,
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
  for (const m of o.modelSwaps ?? []) sink?.modelChanged(m.fromTs, m.model, m.previous);
  const engine = new Engine(options, { source, clock: new ReplayClock(), model: o.model, sink });
  const orders = new Map<number, Order>();
  const fills: Fill[] = [];
  const equity: [number, number][] = [];
  let signals = 0;
  let predictions = 0;
  engine.on('order', (x) => orders.set(x.id, x));
  engine.on('fill', (f) => fills.push(f));
  engine.on('signal', () => signals++);
  const onPrediction = o.onPrediction;
  engine.on(
    'prediction',
    onPrediction
      ? (x) => {
          predictions++;
          onPrediction(x.ts, x.value, x.mid);
        }
      : () => predictions++,
  );
  engine.on('portfolio', (p) => equity.push([p.ts, p.equity]));
  const halts = collectHalts(engine);
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
    halts,
  };
}

/** The engine's halts as a list: a resumption replaces its halt (same time and rule) in place. */
export function collectHalts(engine: Pick<Engine, 'on'>): RiskHalt[] {
  const halts: RiskHalt[] = [];
  engine.on('halt', (h) => {
    let i = h.resumedTs === null ? -1 : halts.length - 1;
    while (i >= 0 && !(halts[i].ts === h.ts && halts[i].rule === h.rule)) i--;
    if (i >= 0) halts[i] = h;
    else halts.push(h);
  });
  return halts;
}

export async function runBacktest(
  o: BacktestOptions,
): Promise<{ report: BacktestReport; passes: PassResult[] }> {
  const started = performance.now();
  const s = o.data?.session ?? getSession(o.db, o.sessionId);
  if (!s) throw new Error(`no session ${o.sessionId} in ${o.db.name}`);
  if (o.thresholds.length === 0) throw new Error('no threshold to test');
  o.signal?.throwIfAborted();
  const span = (s.lastRecvTs ?? 0) - (s.firstRecvTs ?? 0);
  const samplingMs = o.samplingMs ?? defaultSamplingMs(span);
  const reuse = o.reusePredictions !== false && o.thresholds.length > 1;
  const recorder = reuse ? new RecordingModel(o.model) : null;
  const passes: PassResult[] = [];
  const decisionTs: number[] = [];
  const onPrediction = o.onPrediction;
  const training = o.training ?? null;
  const spanAt = o.trainingAt ?? (training ? () => training : null);
  // One model: is this session its own training data on another clock? (Walk-forward models train on this session's
  // earlier windows by construction: their spans say all there is to say.)
  // What the session is matters only against a model's record of what it learnt from.
  const here =
    o.trainingAt || !training?.data?.length
      ? null
      : o.identity !== undefined
        ? o.identity
        : sessionIdentity(o.db, o.sessionId);
  const same = o.trainingAt ? null : sameDataAs(here, training?.data);
  // A simulated session under another random seed is another market path: overlapping times do not make it in-sample.
  const timeCounts = o.trainingAt ? true : timeOverlapCounts([here], training?.data);
  let inSample: InSampleSummary | null = null;
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
      // Every pass decides at the same times with the same predictions: the first one is counted.
      onPrediction:
        i === 0
          ? (ts, v, mid) => {
              decisionTs.push(ts);
              onPrediction?.(ts, v, mid);
            }
          : undefined,
    });
    // A pass cut short by the signal is not a result.
    o.signal?.throwIfAborted();
    passes.push(p);
    if (i === 0) inSample = inSampleOf(decisionTs, spanAt, o.trainingAt ? null : training, same, timeCounts);
    o.onProgress?.(i + 1, o.thresholds.length, rowOf(p, inSample?.share ?? null));
  }
  const inSampleSummary = inSample ?? inSampleOf([], spanAt, training, same, timeCounts);
  const maxPts = o.maxEquityPoints ?? 2000;
  // rows and equity first: what a reader of the JSON looks for.
  const report: BacktestReport = {
    rows: passes.map((p) => rowOf(p, inSampleSummary.share)),
    equity: passes.map((p) => ({ threshold: p.threshold, points: thin(p.equity, maxPts) })),
    session: {
      id: s.id,
      symbol: s.symbol,
      source: s.source,
      tick_size: s.tickSize,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      data_from: s.firstRecvTs,
      data_to: s.lastRecvTs,
      messages: s.messages,
    },
    model: o.modelPath ?? null,
    final_equity_basis: FINAL_EQUITY_BASIS,
    costs_basis: COSTS_BASIS,
    trade_stats_basis: TRADE_STATS_BASIS,
    sampling_ms: samplingMs,
    annualisation: annualisationOf(samplingMs),
    params: {
      decision_interval_ms: o.config.features.decision_interval,
      trading: o.config.trading,
      risk: o.config.risk,
    },
    elapsed_ms: Math.round(performance.now() - started),
    in_sample: inSampleSummary,
  };
  return { report, passes };
}

/** The report's `annualisation` text for a Sharpe grid of `samplingMs`. */
export function annualisationOf(samplingMs: number): string {
  return `sqrt(${Math.round((365 * 86_400_000) / samplingMs)}) periods per 365-day year (24/7 market)`;
}

/** Evenly thinned to at most `max` points (first and last kept). */
export function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]);
  return out;
}
