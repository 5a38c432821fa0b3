// Runs a backtest in a worker thread so that the replay never blocks the caller (the Electron main process, or
// web mode's process serving the UI bridge): replay progress arrives as events, an AbortSignal cancels it, and the
// result is the same report an in-process runBacktest gives (runInWorker.test.ts proves it).
import { Worker } from 'node:worker_threads';
import type { Config } from '../../src-shared/config.ts';
import type { PipelineProgress, StoreFeatures } from '../model/trainPipeline.ts';
import type { BacktestReport, PassResult } from './backtest.ts';
import type { WalkForwardModelRow } from './walkForwardReport.ts';

/** What a backtest needs, as plain data (structured-cloned into the worker). */
export interface BacktestJob {
  dbFile: string;
  /** better-sqlite3 binary built for Electron's ABI (packaged app); undefined under Node. */
  nativeBinding?: string;
  sessionId: number;
  /**
   * A ClickHouse store (clickhouse://HOST:PORT/DATABASE) the session is replayed from, page by page, as `l2desk
   * backtest` does; `dbFile` then holds only the session's stand-in record and the runs. A walk-forward job on a
   * store needs storeFeatures.
   */
  clickhouse?: string;
  /**
   * A walk-forward job on a ClickHouse store: the session's rows (from the store's feature cache or built from the
   * store), which its window models learn from; `dbFile` holds the session's record (store/clickhouse/trainingCopy.ts).
   */
  storeFeatures?: StoreFeatures;
  modelPath: string;
  config: Config;
  thresholds: number[];
  maxEquityPoints?: number;
  samplingMs?: number;
  /** Store each pass as a run (runs, predictions, features, signals, orders, fills, equity), like the CLI. Default true. */
  record?: boolean;
  /** How long a write waits for the other connection's transaction (ms); default 5000. */
  busyTimeoutMs?: number;
  /**
   * A walk-forward backtest instead of modelPath's model (runWalkForward): one model per window of everyMs trained
   * by the trainer worker (started from this worker) on the trainWindowMs before it, written to outDir, not registered.
   */
  walkForward?: { trainWindowMs: number; everyMs: number; outDir: string; createdAt: number };
}

/** A pass without its bulky per-order lists: what a report view needs. */
export type PassSummary = Omit<PassResult, 'orders' | 'fills' | 'equity'> & { fillCount: number };

export interface BacktestOutcome {
  report: BacktestReport;
  passes: PassSummary[];
}

export interface ReplayProgress {
  /** 0-based pass (one per threshold) and how many there are. */
  pass: number;
  passes: number;
  threshold: number;
  /** Messages replayed so far over all passes, and the total the whole run replays. */
  replayed: number;
  total: number;
}

/** A walk-forward backtest training its window models (before the one replay). */
export interface TrainingProgress {
  /** 0-based window and how many there are. */
  window: number;
  windows: number;
  /** The trainer's progress inside the window; null once the window is done (see row). */
  train: PipelineProgress | null;
  /** The finished window: rows and validation metrics, or why it was not trained. */
  row: WalkForwardModelRow | null;
}

export interface BacktestWorkerInput {
  job: BacktestJob;
  /** Minimum milliseconds between progress messages (the end of each pass is always sent). */
  progressEveryMs: number;
  /** Set when started through src-main/tsWorkerBoot.mjs: this module's URL. */
  entry?: string;
}

export type BacktestWorkerMessage =
  | { type: 'progress'; progress: ReplayProgress }
  | { type: 'training'; training: TrainingProgress }
  | { type: 'done'; outcome: BacktestOutcome }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; modelError: boolean };

export function summarizePasses(passes: readonly PassResult[]): PassSummary[] {
  return passes.map(({ orders: _o, fills, equity: _e, ...rest }) => ({ ...rest, fillCount: fills.length }));
}

/** The run was cancelled through its AbortSignal. */
export class BacktestCancelled extends Error {
  constructor() {
    super('backtest cancelled');
    this.name = 'BacktestCancelled';
  }
}

/** The worker could not load the model (missing, corrupt, or built for another feature set). */
export class BacktestModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestModelError';
  }
}

export interface RunInWorkerOptions {
  onProgress?: (p: ReplayProgress) => void;
  /** A walk-forward job's model training, window by window. */
  onTraining?: (p: TrainingProgress) => void;
  signal?: AbortSignal;
  progressEveryMs?: number;
  /** After a cancel, how long the worker gets to stop by itself before it is terminated (ms). */
  cancelGraceMs?: number;
}

/**
 * From TypeScript sources (tsx CLI, vitest) the worker starts through src-main/tsWorkerBoot.mjs, which registers tsx
 * inside the worker; from built JavaScript (electron-vite builds backtestWorker as its own entry) it runs directly.
 */
function workerEntry(): { file: URL; entry?: string } {
  const entry = new URL('./backtestWorker.ts', import.meta.url);
  if (import.meta.url.endsWith('.ts'))
    return { file: new URL('../tsWorkerBoot.mjs', import.meta.url), entry: entry.href };
  return { file: new URL('./backtestWorker.js', import.meta.url) };
}

let live = 0;
/** Backtest worker threads started and not yet exited (a cancelled or finished job must bring this back down). */
export function liveBacktestWorkers(): number {
  return live;
}

export function backtestInWorker(job: BacktestJob, opts: RunInWorkerOptions = {}): Promise<BacktestOutcome> {
  if (opts.signal?.aborted) return Promise.reject(new BacktestCancelled());
  const { file, entry } = workerEntry();
  const input: BacktestWorkerInput = { job, progressEveryMs: opts.progressEveryMs ?? 100, entry };
  const worker = new Worker(file, { workerData: input });
  live++;
  let settled = false;
  let kill: ReturnType<typeof setTimeout> | null = null;
  const onAbort = () => {
    worker.postMessage({ type: 'cancel' });
    // The replay checks for a cancel every couple of thousand messages (a walk-forward's training every boosting
    // round); a worker stuck elsewhere (building a window's dataset) is terminated, its trainer worker with it.
    kill = setTimeout(() => void worker.terminate(), opts.cancelGraceMs ?? 2000);
    kill.unref();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise<BacktestOutcome>((resolve, reject) => {
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (m: BacktestWorkerMessage) => {
      if (m.type === 'progress') {
        if (!settled) opts.onProgress?.(m.progress);
      } else if (m.type === 'training') {
        if (!settled) opts.onTraining?.(m.training);
      } else if (m.type === 'done') finish(() => resolve(m.outcome));
      else if (m.type === 'cancelled') finish(() => reject(new BacktestCancelled()));
      else if (m.type === 'error')
        finish(() => reject(m.modelError ? new BacktestModelError(m.message) : new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => {
      live--;
      if (kill) clearTimeout(kill);
      finish(() =>
        reject(
          opts.signal?.aborted
            ? new BacktestCancelled()
            : new Error(`backtest worker exited with code ${code} before finishing`),
        ),
      );
    });
  });
}
