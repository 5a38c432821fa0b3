// Runs the trainer in a worker thread so that training never blocks the caller (the Electron main process, the
// engine's inference): progress arrives as events, cancel() stops it at the next boosting round.
import { Worker } from 'node:worker_threads';
import type { Dataset } from './dataset.ts';
import type { DatasetSummary, DbDatasetSpec, PipelineProgress } from './trainPipeline.ts';
import { TrainCancelled, type TrainJob, type TrainOutcome } from './trainer.ts';
import type { WorkerInput, WorkerTask } from './trainerWorker.ts';
import { TrainingDataError, type TrainingDataProblem } from './trainingData.ts';

export interface WorkerResult {
  outcome: TrainOutcome;
  /** Set when the worker built the dataset itself (a 'db' task). */
  dataset: DatasetSummary | null;
}

export interface TrainHandle {
  result: Promise<WorkerResult>;
  /** Stops at the next round; `result` then rejects with TrainCancelled. */
  cancel(): void;
}

export interface WorkerOptions {
  onProgress?: (p: PipelineProgress) => void;
  progressEveryMs?: number;
}

/**
 * From TypeScript sources (tsx CLI, vitest) the worker starts through src-main/tsWorkerBoot.mjs, which registers tsx
 * inside the worker (a worker does not inherit in-process loaders, and Node 20 ignores `--import` for a worker's
 * entry); from built JavaScript the entry runs directly.
 */
function workerEntry(): { file: URL; entry?: string } {
  const entry = new URL('./trainerWorker.ts', import.meta.url);
  if (import.meta.url.endsWith('.ts'))
    return { file: new URL('../tsWorkerBoot.mjs', import.meta.url), entry: entry.href };
  return { file: new URL('./trainerWorker.js', import.meta.url) };
}

interface WorkerMessage {
  type: string;
  progress?: PipelineProgress;
  outcome?: TrainOutcome;
  dataset?: DatasetSummary | null;
  built?: Dataset;
  message?: string;
  problem?: TrainingDataProblem;
}

export function trainInWorker(
  taskOrJob: Exclude<WorkerTask, { kind: 'dataset' }> | TrainJob,
  opts: WorkerOptions = {},
): TrainHandle {
  const task: WorkerTask = 'kind' in taskOrJob ? taskOrJob : { kind: 'job', job: taskOrJob };
  const h = startWorker(task, opts);
  return {
    result: h.done.then((msg) => {
      if (!msg.outcome) throw new Error('trainer worker answered without a model');
      return { outcome: msg.outcome, dataset: msg.dataset ?? null };
    }),
    cancel: h.cancel,
  };
}

/** Builds a dataset from the database in a worker (the caller's thread only receives the arrays). */
export function buildDatasetInWorker(spec: DbDatasetSpec, opts: WorkerOptions = {}): Promise<Dataset> {
  return startWorker({ kind: 'dataset', spec }, opts).done.then((msg) => {
    if (!msg.built) throw new Error('trainer worker answered without a dataset');
    return msg.built;
  });
}

function startWorker(
  task: WorkerTask,
  opts: WorkerOptions,
): { done: Promise<WorkerMessage>; cancel: () => void } {
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const { file, entry } = workerEntry();
  const input: WorkerInput = { task, cancel, progressEveryMs: opts.progressEveryMs ?? 100, entry };
  const worker = new Worker(file, { workerData: input });
  let settled = false;
  const done = new Promise<WorkerMessage>((resolve, reject) => {
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress' && msg.progress) opts.onProgress?.(msg.progress);
      else if (msg.type === 'done') {
        settled = true;
        resolve(msg);
      } else if (msg.type === 'cancelled') {
        settled = true;
        reject(new TrainCancelled());
      } else if (msg.type === 'error') {
        settled = true;
        reject(msg.problem ? new TrainingDataError(msg.message ?? '', msg.problem) : new Error(msg.message));
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`trainer worker exited with code ${code} before finishing`));
    });
  });
  // The worker exits on its own after its last message; nothing keeps it alive.
  return {
    done,
    cancel: () => {
      Atomics.store(cancel, 0, 1);
    },
  };
}
