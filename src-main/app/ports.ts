// The ports the app service drives: a live pipeline (the engine fed by a source), a collector, a trainer and a
// backtester. Adapters in this folder implement them over src-main/engine, market, store, model and backtest, so
// the service itself only orchestrates, coalesces and validates.
import type {
  BacktestRunReport,
  FillEvent,
  ModelInfo,
  PortfolioView,
  PredictionPoint,
  RetrainProgress,
  SignalEvent,
  SourceSpec,
  WalkForwardView,
} from '../../src-shared/ipc.ts';
import type { FeedHealth, Trade } from '../../src-shared/market.ts';
import type { BookLike } from './uiFeed.ts';

export interface PipelineSink {
  /**
   * After each applied book message (the sink reads the book lazily, at most at the UI rate). `tickSize` is the
   * tick the book is built on now: for an unknown symbol it is only learnt from the first snapshot.
   */
  book(book: BookLike, ts: number, recvTs: number, valid: boolean, tickSize?: string): void;
  prediction(p: PredictionPoint): void;
  /**
   * Right after prediction(): the feature row the model saw at decision time t (feature-set order). The pipeline
   * reuses the buffer, so a sink copies what it keeps before returning. Optional: not every pipeline has features.
   */
  features?(t: number, row: ArrayLike<number>): void;
  /** The trades of each trade message (for the volume bars). Optional: a pipeline without trades never calls it. */
  trades?(trades: readonly Trade[]): void;
  signal(s: SignalEvent): void;
  fill(f: FillEvent): void;
  portfolio(p: PortfolioView): void;
  error(where: string, message: string): void;
  /** Informational (where the tick size came from, ...): shown calmly, never as an error. */
  notice(where: string, message: string): void;
  /**
   * The feed ended by itself for good after it had started (the exchange refused the symbol on a resubscription: a
   * delisting). Its reason was said as an error already; the pipeline is to be stopped. Optional.
   */
  ended?(reason: string): void;
}

export interface LivePipeline {
  readonly kind: SourceSpec['kind'];
  readonly symbol: string;
  /** The tick known now ('' for an unknown symbol until its first snapshot). */
  readonly tickSize: string;
  /** No shorts (a spot symbol without risk.spot_shorts): the threshold's what-if trades the same way. */
  readonly longOnly?: boolean;
  /** The taker fee of the feed's category (spot's differs from linear's): the threshold's what-if charges it. */
  readonly takerFee?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  setThreshold(x: number): void;
  getThreshold(): number;
  health(): FeedHealth;
  bookValid(): boolean;
  model(): ModelInfo | null;
  /** Why predictions are missing, if they are (no model, warming up, book invalid). */
  note(): string | null;
  /** Decisions skipped because a feature was not finite (never handed to the model). */
  skippedDecisions?(): number;
  /** Swaps the model in place (after the user accepts a retrained one). */
  useModel(onnxPath: string): Promise<void>;
}

export type PipelineFactory = (
  spec: SourceSpec,
  sink: PipelineSink,
  threshold: number,
) => Promise<LivePipeline>;

export interface CollectJob {
  /** One session per symbol, in the order asked. */
  readonly sessions: readonly { symbol: string; sessionId: number }[];
  messages(): number;
  gaps(): number;
  /** Stops the source and closes the session (flushes the last batch); rejects with what ended it badly, if anything. */
  stop(): Promise<void>;
  /** Settles when the recording has ended, by stop() or by itself (its source failed or finished, a write failed). */
  readonly ended: Promise<void>;
}
export type Collector = (a: {
  /** Several symbols are recorded over one connection (a live feed only; the simulator makes one market). */
  symbols: readonly string[];
  depth: number;
  source: 'bybit' | 'sim';
  onError: (msg: string) => void;
  /** Informational notes from the source (not problems). */
  onNotice: (msg: string) => void;
}) => Promise<CollectJob>;

export interface TrainOutcome {
  candidate: ModelInfo;
  /**
   * Both models scored on the candidate's validation fold (data the candidate never trained on), when a current
   * model was given and could be loaded: the comparison the user decides on.
   */
  holdout?: { n: number; candidate: Record<string, number>; current: Record<string, number> };
}
export type Trainer = (a: {
  jobId: string;
  sessionIds: number[] | undefined;
  /** The model running now (scored on the same holdout as the candidate). */
  currentModel?: string | null;
  outDir: string;
  onProgress: (p: Omit<RetrainProgress, 'jobId'>) => void;
  /** Aborting stops the training at its next round; the promise then rejects. */
  signal?: AbortSignal;
}) => Promise<TrainOutcome>;

/** Where a running backtest is: the threshold being replayed and messages replayed / total over all passes. */
export interface BacktestProgressDetail {
  threshold: number;
  replayed: number;
  total: number;
}

/** Where a walk-forward backtest is while it trains its models: the 0-based window and how many there are. */
export interface BacktestTrainingDetail {
  window: number;
  windows: number;
}

/** One run per threshold (a sweep re-uses the first run's predictions); a walk-forward run adds its windows. */
export type Backtester = (a: {
  sessionId: number;
  thresholds: number[];
  /** Out of sample: one model per window trained on the data before it, instead of the active model. */
  walkForward?: { trainWindowMs: number; everyMs: number };
  onProgress: (
    fraction: number,
    message: string,
    detail?: BacktestProgressDetail | BacktestTrainingDetail,
  ) => void;
  /** Aborting stops the run; the promise then rejects. */
  signal?: AbortSignal;
}) => Promise<{ runs: BacktestRunReport[]; walkForward: WalkForwardView | null }>;
