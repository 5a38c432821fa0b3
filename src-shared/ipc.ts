// The one IPC contract between the renderer and the main process (Electron IPC or the loopback WebSocket bridge):
// every command (request/response) and every event (main → renderer) with its payload, plus the zod schemas that
// validate command payloads at the boundary. Versioned: a renderer and a main process must agree on IPC_VERSION.
import { z } from 'zod';
import type { ConnectionState, Level, SourceKind } from './market.ts';
import { EVENT_NAMES } from './ipcEvents.ts';
import type { RiskHalt } from './riskHalt.ts';
import { MAX_COLLECT_SYMBOLS } from './inputRules.ts';

export { IPC_VERSION } from './ipcEvents.ts';

// ---------------------------------------------------------------------------------------------------------------
// Command payload schemas (the single source of truth: argument types are inferred from them)

const empty = z.strictObject({});
const sessionId = z.number().int().positive();
const threshold = z.number().finite().min(0).max(1000);

export const sourceSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sim') }),
  // The live feed of `symbol` (default: the config's): the app watches one symbol at a time.
  z.strictObject({
    kind: z.literal('bybit'),
    symbol: z
      .string()
      .regex(/^[A-Z0-9]{2,30}$/, 'an upper-case symbol such as BTCUSDT')
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('replay'),
    sessionId,
    speed: z.number().positive().max(10_000).default(1),
  }),
]);

export const commandSchemas = {
  'app/hello': z.strictObject({ version: z.number().int() }),
  'market/setSource': z.strictObject({ source: sourceSpecSchema }),
  'market/start': empty,
  'market/stop': empty,
  'trading/setThreshold': z.strictObject({ threshold }),
  'trading/getThreshold': empty,
  'trading/whatIf': z.strictObject({
    threshold,
    windowMs: z.number().int().positive().max(86_400_000).optional(),
  }),
  'collect/start': z.strictObject({
    /** One symbol, or several separated by commas (recorded over one connection, one session each; live feed only). */
    symbol: z
      .string()
      .max(MAX_COLLECT_SYMBOLS * 31)
      .regex(
        /^[A-Z0-9]{2,30}(,[A-Z0-9]{2,30})*$/,
        'an upper-case symbol such as BTCUSDT, or several separated by commas',
      ),
    depth: z.union([z.literal(1), z.literal(50), z.literal(200), z.literal(1000)]),
    durationMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * 86_400_000),
  }),
  'collect/stop': empty,
  'model/retrain': z.strictObject({ sessionIds: z.array(sessionId).max(1000).optional() }),
  'model/accept': z.strictObject({ jobId: z.string().min(1).max(100) }),
  'model/reject': z.strictObject({ jobId: z.string().min(1).max(100) }),
  'model/list': empty,
  /** Trade with one of the listed models (by name: the engine never opens a path the page chose). */
  'model/use': z.strictObject({ name: z.string().min(1).max(200) }),
  'backtest/run': z.strictObject({
    sessionId,
    threshold: threshold.optional(),
    sweep: z.array(threshold).min(1).max(50).optional(),
    /**
     * Out of sample (`l2desk backtest --walk-forward`): instead of the active model, one model per window of
     * everyMs, each trained on the trainWindowMs of data before it. The engine also checks them against the horizon.
     */
    walkForward: z
      .strictObject({
        trainWindowMs: z
          .number()
          .int()
          .positive()
          .max(7 * 86_400_000),
        everyMs: z
          .number()
          .int()
          .positive()
          .max(7 * 86_400_000),
      })
      .optional(),
  }),
  /** Stop a running backtest (job id from its backtest/progress events); its backtest/run then fails as cancelled. */
  'backtest/cancel': z.strictObject({ jobId: z.string().min(1).max(100) }),
  /**
   * Cancel a heavy job (backtest, walk-forward, retrain; job id from its progress events), queued or running. A
   * queued one never starts; a running one stops at its next check. Its command then fails as cancelled.
   */
  'jobs/cancel': z.strictObject({ jobId: z.string().min(1).max(100) }),
  'sessions/list': empty,
  /** The data-quality report of a stored session (as `l2desk db quality`). */
  'sessions/quality': z.strictObject({ sessionId }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export type SourceSpec = z.infer<typeof sourceSpecSchema>;
export type HelloArgs = z.input<(typeof commandSchemas)['app/hello']>;
export type SetSourceArgs = z.input<(typeof commandSchemas)['market/setSource']>;
export type SetThresholdArgs = z.input<(typeof commandSchemas)['trading/setThreshold']>;
export type WhatIfArgs = z.input<(typeof commandSchemas)['trading/whatIf']>;
export type CollectArgs = z.input<(typeof commandSchemas)['collect/start']>;
export type SessionQualityArgs = z.input<(typeof commandSchemas)['sessions/quality']>;
export type RetrainArgs = z.input<(typeof commandSchemas)['model/retrain']>;
export type JobArgs = z.input<(typeof commandSchemas)['model/accept']>;
export type UseModelArgs = z.input<(typeof commandSchemas)['model/use']>;
export type BacktestArgs = z.input<(typeof commandSchemas)['backtest/run']>;
export type Empty = Record<string, never>;

// ---------------------------------------------------------------------------------------------------------------
// View types carried by results and events (plain data, structured-clone and JSON safe)

export interface ModelInfo {
  name: string;
  path: string;
  featureSetVersion: string;
  trainedAt: number | null;
  /** Validation metrics from training, e.g. { rmse, ic, hitRate }. */
  metrics: Record<string, number>;
  /** Gain importance per feature name (shares summing to 1), when the model's metadata has it. */
  importance?: Record<string, number>;
  /** 95% intervals [low, high] of some metrics, keyed like `metrics` (ic, r2, hitRate): a block bootstrap over the
   * validation rows, whose labels overlap. Absent from older models and peers. */
  intervals?: Record<string, [number, number]>;
}

export interface SessionInfo {
  id: number;
  source: string;
  symbol: string;
  category: string;
  depth: number;
  tickSize: string;
  startedAt: number;
  endedAt: number | null;
  messages: number;
}

/** Top of book as the ladder shows it: best first on each side. */
export interface BookView {
  symbol: string;
  tickSize: string;
  /** Exchange time of the last applied message (ms). */
  ts: number;
  /** Local receive time of the last applied message (ms): feed-to-paint latency is measured from it. */
  recvTs: number;
  bids: Level[];
  asks: Level[];
  mid: number;
  spread: number;
  valid: boolean;
}

export interface PricePoint {
  /** ms since epoch */
  t: number;
  mid: number;
}

/** Traded volume of one second (base units): the volume bars under the candles. */
export interface TradeBar {
  /** Start of the second (ms since epoch, exchange time). */
  t: number;
  /** Volume of taker buys and taker sells. */
  buy: number;
  sell: number;
  /** Last trade price in the second. */
  last: number;
  /** Number of trades. */
  n: number;
}

export interface PredictionPoint {
  t: number;
  /** Predicted future mid return in the label's units (bps). */
  value: number;
  threshold: number;
}

/**
 * The feature row behind the latest prediction (sent at most ~2 Hz), with each feature's distribution over the
 * decisions since the feed started (running mean and sample standard deviation) to judge how unusual it is.
 * Arrays are in the feature set's order; null where a value is not a finite number (or too few to tell).
 */
export interface FeaturesView {
  /** Decision time of the row (ms). */
  t: number;
  featureSetVersion: string;
  names: string[];
  /** The model's input at that decision (float32, as the model saw it). */
  values: (number | null)[];
  mean: (number | null)[];
  /** Null until a feature has two finite values. */
  std: (number | null)[];
  /** Decisions counted in mean and std. */
  n: number;
}

export interface SignalEvent {
  t: number;
  /** +1 buy, -1 sell, 0 hold/flat. */
  signal: -1 | 0 | 1;
  prediction: number;
  price: number;
}

export interface FillEvent {
  t: number;
  side: 'Buy' | 'Sell';
  price: number;
  size: number;
  fee: number;
  liquidity: 'maker' | 'taker';
  reason: string;
}

export interface MetricsView {
  totalReturn: number;
  sharpe: number;
  maxDrawdown: number;
  /** Round trips that made money after fees. */
  hitRate: number;
  /** Round trips whose price move alone was favourable (before fees): the model's directional skill. */
  grossHitRate: number;
  trades: number;
  turnover: number;
  avgHoldingMs: number;
  fees: number;
  /** Execution costs of the run so far (absent from older peers). */
  costs?: CostsView;
  /** Round trips after fees: wins / |losses| (null when none lost), mean net P&L per trip and in bps of its notional;
   * whether the Sharpe rests on enough returns to annualise (≥ 30 over ≥ 1 day). Absent from older peers. */
  profitFactor?: number | null;
  expectancy?: number;
  expectancyBps?: number;
  sharpeReliable?: boolean;
  /** 95% interval of the net P&L (quote currency; block bootstrap of the equity changes); null when the run is too
   * short. When it spans 0 the P&L is not distinguishable from zero. Absent from older peers. */
  netPnlCi?: [number, number] | null;
  /** Round trips, returns on the Sharpe grid and the equity's span (ms), and Calmar (null: no drawdown): what the
   * reliability verdicts of src-shared/reliability.ts need. Absent from older peers. */
  roundTrips?: number;
  returns?: number;
  spanMs?: number;
  calmar?: number | null;
}

/**
 * Transaction-cost analysis: implementation shortfall against the decision mids (the book each order's signal saw),
 * split into latency drift (arrival mid − decision mid) and spread + book walk (fill − arrival mid; negative on
 * passive fills: the spread earned). A cost is positive; bps of the decision notional, notional-weighted.
 * grossAlpha − spreadWalk − latency − fees = netPnl (quote currency).
 */
export interface CostsView {
  shortfallBps: number;
  latencyBps: number;
  spreadWalkBps: number;
  feesBps: number;
  grossAlpha: number;
  spreadWalk: number;
  latency: number;
  fees: number;
  netPnl: number;
}

export interface PortfolioView {
  t: number;
  balance: number;
  position: number;
  entryPrice: number;
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
  equity: number;
  /** Current drawdown from the equity peak, as a fraction (0.02 = 2 %). */
  drawdown: number;
  metrics: MetricsView;
  /** The run's latest risk halts (daily loss, an invalid book), oldest first; the last one with resumedTs null is in
   * force. Absent from older peers. */
  halts?: RiskHalt[];
}

export interface EquityPoint {
  t: number;
  equity: number;
  drawdown: number;
}

export interface StatusView {
  source: SourceKind;
  /** Replay session when source is replay. */
  sessionId: number | null;
  symbol: string;
  running: boolean;
  connection: ConnectionState;
  latencyMs: number;
  messagesPerSec: number;
  messages: number;
  gaps: number;
  bookValid: boolean;
  threshold: number;
  model: ModelInfo | null;
  /** Why there are no predictions, when there are none (no model, warming up, ...). */
  note: string | null;
  /** Decisions skipped because a feature was not finite (implausible data): the model never saw them. */
  skippedDecisions?: number;
}

export interface WhatIfResult {
  threshold: number;
  windowMs: number;
  /** Predictions in the window the result was computed over. */
  samples: number;
  signals: number;
  trades: number;
  /** Fraction of signals whose direction matched the realised mid move over the horizon. */
  hitRate: number;
  /** Net P&L in quote currency after fees, trading the configured notional. */
  netPnl: number;
  fees: number;
}

/** Data quality of a stored session: what makes it untrustworthy for a model or a backtest (`l2desk db quality`). */
export interface QualityView {
  sessionId: number;
  spanMs: number;
  messages: number;
  /** Receive − exchange time, p99 (ms); null when the data has one clock (imports, the simulator). */
  latencyP99Ms: number | null;
  silences: number;
  replayGaps: number;
  storedGaps: number;
  /** Share of the session's time the book could not be trusted. */
  invalidShare: number;
  spreadP50Ticks: number | null;
  /** Plain-language findings, worst first; empty when nothing stands out. */
  findings: string[];
}

export interface CollectProgress {
  running: boolean;
  /** The (first) symbol's session. */
  sessionId: number | null;
  /** Every symbol's session, in the order of `symbol` (one entry when one symbol is collected). */
  sessionIds?: number[];
  /** The symbol, or the symbols separated by commas. */
  symbol: string;
  elapsedMs: number;
  durationMs: number;
  messages: number;
  messagesPerSec: number;
  gaps: number;
  done: boolean;
  error: string | null;
  /** The collected session's data quality, once computed after the stop (absent before). */
  quality?: QualityView | null;
  /** With several symbols: each session's quality (null until computed), in the order of `sessionIds`. */
  qualities?: { symbol: string; sessionId: number; quality: QualityView | null }[];
}

export interface RetrainProgress {
  jobId: string;
  /** queued: waiting for a slot in the heavy-job queue (config jobs.concurrency); `ahead` says behind how many. */
  phase: 'queued' | 'dataset' | 'training' | 'validating' | 'exporting' | 'done' | 'failed';
  /** 0..1 */
  fraction: number;
  message: string;
  /** Validation metrics as they stream (e.g. per round). */
  metrics: Record<string, number>;
  /** While queued: how many jobs (running or queued) are ahead of it. Absent once it runs. */
  ahead?: number;
}

export interface RetrainResult {
  jobId: string;
  ok: boolean;
  error: string | null;
  candidate: ModelInfo | null;
  current: ModelInfo | null;
  /** True when the candidate beats the current model out of sample. */
  beatsCurrent: boolean;
  status: 'pending' | 'accepted' | 'rejected';
}

export interface BacktestRunReport {
  threshold: number;
  metrics: MetricsView;
  finalEquity: number;
  equity: EquityPoint[];
  signals: number;
  fills: number;
  /** Share of the decisions inside the model's training span (in-sample, hence optimistic); null: unknown. */
  inSampleShare?: number | null;
  /** The model's training span (first and last training row, epoch ms), when known. */
  trainingSpan?: { fromTs: number; toTs: number } | null;
  /** When the risk rules halted trading in this pass, why, and when it resumed. Absent from older peers. */
  halts?: RiskHalt[];
  /** Why the pass made no trade ("no trades: …", as `l2desk backtest` says it); null or absent when it traded. */
  noTrades?: string | null;
}

/** One window of a walk-forward backtest: when it traded, what its model learnt from, how well it did. */
export interface WalkForwardWindowView {
  /** 0-based. */
  window: number;
  /** Its decisions: times in [tradeFrom, tradeTo) (epoch ms). */
  tradeFrom: number;
  tradeTo: number;
  /** Its model learnt from data received in [trainFrom, trainTo] (epoch ms); trainTo = tradeFrom - horizon. */
  trainFrom: number;
  trainTo: number;
  /** False: too little data to train; the previous window's model (if any) traded it (see note). */
  trained: boolean;
  note: string;
  /** File name of the model that traded the window (null: none, no trading). */
  model: string | null;
  /** Training rows, and the model's validation R² and IC at training time (null when not trained). */
  rows: number;
  r2: number | null;
  ic: number | null;
  decisions: number;
  /** Decisions inside the deciding model's training span (0 by construction). */
  inSample: number;
  /** Out of sample on the window: IC and hit rate of its predictions against the mid return over the horizon. */
  oosIc: number | null;
  oosHitRate: number | null;
  oosN: number;
  /** 95% intervals (block bootstrap, blocks of at least one horizon) of ic, r2, oosIc and oosHitRate; null when
   * unknown. Absent from older peers. */
  icCi?: [number, number] | null;
  r2Ci?: [number, number] | null;
  oosIcCi?: [number, number] | null;
  oosHitRateCi?: [number, number] | null;
}

export interface WalkForwardView {
  trainWindowMs: number;
  everyMs: number;
  /** Between a window's last training data and its first decision (one horizon). */
  embargoMs: number;
  /** No trading before this time (session start + train window). */
  firstTradeTs: number;
  /** Where its models were written (beside the database; they are not in the model list). */
  outDir: string;
  windows: WalkForwardWindowView[];
}

export interface BacktestReport {
  jobId: string;
  sessionId: number;
  symbol: string;
  startedAt: number;
  endedAt: number;
  messages: number;
  /** One run per threshold (a sweep has several); `best` indexes the highest net result. */
  runs: BacktestRunReport[];
  best: number;
  elapsedMs: number;
  /** Only for a walk-forward backtest (args.walkForward). */
  walkForward?: WalkForwardView | null;
}

export interface BacktestProgress {
  jobId: string;
  fraction: number;
  message: string;
  /** While replaying: the threshold being tested and messages replayed / total over all thresholds. */
  threshold?: number;
  replayed?: number;
  total?: number;
  /** While a walk-forward backtest trains its models: the 0-based window being trained and how many there are. */
  window?: number;
  windows?: number;
  /** While queued (heavy-job queue, config jobs.concurrency): how many jobs are ahead of it. Absent once it runs. */
  ahead?: number;
}

export interface AppErrorEvent {
  where: string;
  message: string;
  t: number;
  /**
   * The condition the error is tied to ('feed', 'collect', 'retrain'): it stays until app/cleared names its key
   * (source switched, feed subscribed again, job restarted), and a newer error with the same key replaces it.
   * Absent: a one-off error, which the page lets fade after a while.
   */
  key?: string;
}

/** The condition behind errors with this key ended: the page removes them. */
export interface AppClearedEvent {
  key: string;
}

/** Purely informational (where an unlisted symbol's tick size came from, ...): nothing went wrong, not an error. */
export type AppNoticeEvent = AppErrorEvent;

/** Everything a renderer needs to draw the screen when it (re)connects; later changes arrive as events. */
/** Where the app stores sessions and runs: its SQLite file (named, never its folder) or a ClickHouse store. */
export interface StoreView {
  kind: 'sqlite' | 'clickhouse';
  /** The file's name, or the store's clickhouse://HOST:PORT/DATABASE address. */
  name: string;
}

export interface Snapshot {
  version: number;
  status: StatusView;
  book: BookView | null;
  prices: PricePoint[];
  predictions: PredictionPoint[];
  signals: SignalEvent[];
  fills: FillEvent[];
  portfolio: PortfolioView | null;
  equity: EquityPoint[];
  collect: CollectProgress | null;
  retrain: RetrainResult | null;
  models: ModelInfo[];
  sessions: SessionInfo[];
  /** The latest notes (said once, often before the page connects: where the live feed's tick came from, ...). */
  notices: AppNoticeEvent[];
  /** The latest feature row and its running statistics (absent from older peers; null before a prediction). */
  features?: FeaturesView | null;
  /** Recent per-second trade bars (absent from older peers). */
  trades?: TradeBar[];
  /** Where Collect stores and Backtest and Replay read (absent from older peers). */
  store?: StoreView;
}

// ---------------------------------------------------------------------------------------------------------------
// Handler maps, one per domain, combined into Commands

export type AppCommands = {
  'app/hello': (a: HelloArgs) => Promise<Snapshot>;
};
export type MarketCommands = {
  'market/setSource': (a: SetSourceArgs) => Promise<StatusView>;
  'market/start': (a: Empty) => Promise<StatusView>;
  'market/stop': (a: Empty) => Promise<StatusView>;
};
export type TradingCommands = {
  'trading/setThreshold': (a: SetThresholdArgs) => Promise<{ threshold: number }>;
  'trading/getThreshold': (a: Empty) => Promise<{ threshold: number }>;
  'trading/whatIf': (a: WhatIfArgs) => Promise<WhatIfResult>;
};
export type CollectCommands = {
  'collect/start': (a: CollectArgs) => Promise<CollectProgress>;
  'collect/stop': (a: Empty) => Promise<CollectProgress>;
};
export type ModelCommands = {
  'model/retrain': (a: RetrainArgs) => Promise<{ jobId: string }>;
  'model/accept': (a: JobArgs) => Promise<RetrainResult>;
  'model/reject': (a: JobArgs) => Promise<RetrainResult>;
  'model/list': (a: Empty) => Promise<ModelInfo[]>;
  'model/use': (a: UseModelArgs) => Promise<StatusView>;
};
export type BacktestCommands = {
  'backtest/run': (a: BacktestArgs) => Promise<BacktestReport>;
  /** `cancelled` is false when no such job is running (it already ended). */
  'backtest/cancel': (a: JobArgs) => Promise<{ jobId: string; cancelled: boolean }>;
  'sessions/list': (a: Empty) => Promise<SessionInfo[]>;
  'sessions/quality': (a: SessionQualityArgs) => Promise<QualityView>;
};
export type JobCommands = {
  /** `cancelled` is false when no such job is queued or running (it already ended). */
  'jobs/cancel': (a: JobArgs) => Promise<{ jobId: string; cancelled: boolean }>;
};

export type Commands = AppCommands &
  MarketCommands &
  TradingCommands &
  CollectCommands &
  ModelCommands &
  BacktestCommands &
  JobCommands;

export type CommandArgs<K extends CommandName> = Parameters<Commands[K]>[0];
export type CommandResult<K extends CommandName> = Awaited<ReturnType<Commands[K]>>;

// Compile-time check that every schema has a handler type and vice versa.
type _SameKeys = [CommandName] extends [keyof Commands]
  ? [keyof Commands] extends [CommandName]
    ? true
    : never
  : never;
export const _commandKeysMatch: _SameKeys = true;

// ---------------------------------------------------------------------------------------------------------------
// Events (main → renderer). Series events carry only the points new since the last event.

export type Events = {
  'market/book': BookView;
  'market/prices': PricePoint[];
  /** Per-second trade bars, new or updated (a bar of the current second is re-sent as it grows). */
  'market/trades': TradeBar[];
  'model/predictions': PredictionPoint[];
  /** The latest prediction's feature row, coalesced to at most ~2 Hz. */
  'model/features': FeaturesView;
  'trading/signals': SignalEvent[];
  'trading/fills': FillEvent[];
  'trading/portfolio': PortfolioView;
  'trading/equity': EquityPoint[];
  'trading/threshold': { threshold: number };
  'app/status': StatusView;
  'collect/progress': CollectProgress;
  'retrain/progress': RetrainProgress;
  'retrain/result': RetrainResult;
  'backtest/progress': BacktestProgress;
  'backtest/result': BacktestReport;
  'sessions/changed': SessionInfo[];
  'models/changed': ModelInfo[];
  'app/error': AppErrorEvent;
  'app/notice': AppNoticeEvent;
  'app/cleared': AppClearedEvent;
};
export type EventName = keyof Events;

// EVENT_NAMES lives in a zod-free module so that the sandboxed preload can import it (it may only require 'electron').
export { EVENT_NAMES } from './ipcEvents.ts';
type _AllEvents = [EventName] extends [(typeof EVENT_NAMES)[number]] ? true : never;
export const _eventNamesComplete: _AllEvents = true;

// ---------------------------------------------------------------------------------------------------------------
// The API both transports expose to the renderer (window.l2desk in Electron; the WS client in a browser)

export interface L2DeskApi {
  readonly transport: 'electron' | 'websocket';
  invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends EventName>(event: K, fn: (payload: Events[K]) => void): () => void;
}

/** What a transport answers for one command: a bad payload or a failing handler is an error value, not a throw. */
export type Reply<T = unknown> =
  { ok: true; result: T } | { ok: false; error: string; code: 'bad_request' | 'unknown_command' | 'failed' };

/** WebSocket wire messages. */
export type WsClientMessage = { id: number; cmd: string; args: unknown };
export type WsServerMessage =
  ({ id: number } & Reply) | { event: string; payload: unknown } | { hello: { version: number } };

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commandSchemas, name);
}

/** Validates a command payload; returns the parsed value or a readable error naming the bad field. */
export function parseCommand(
  cmd: string,
  args: unknown,
):
  | { ok: true; cmd: CommandName; args: unknown }
  | { ok: false; error: string; code: 'bad_request' | 'unknown_command' } {
  if (!isCommandName(cmd)) return { ok: false, code: 'unknown_command', error: `unknown command "${cmd}"` };
  const res = commandSchemas[cmd].safeParse(args ?? {});
  if (!res.success) {
    const why = res.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    return { ok: false, code: 'bad_request', error: `bad payload for ${cmd}: ${why}` };
  }
  return { ok: true, cmd, args: res.data };
}
