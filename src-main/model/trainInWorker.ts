// Runs the trainer in a worker thread so that training never blocks the caller (the Electron main process, the
// engine's inference): progress arrives as events, cancel() stops it at the next boosting round.
import { Worker } from 'node:worker_threads';
import type { DatasetSummary, PipelineProgress } from './trainPipeline.ts';
import { TrainCancelled, type TrainJob, type TrainOutcome } from './trainer.ts';
import type { WorkerInput, WorkerTask } from './trainerWorker.ts';

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
 * From TypeScript sources (tsx CLI, vitest) the worker starts through trainerWorkerBoot.mjs, which registers tsx
 * inside the worker (a worker does not inherit in-process loaders, and Node 20 ignores `--import` for a worker's
 * entry); from built JavaScript the entry runs directly.
 */
function workerEntry(): { file: URL; entry?: string } {
  const entry = new URL('./trainerWorker.ts', import.meta.url);
  if (import.meta.url.endsWith('.ts')) return { file: new URL('./trainerWorkerBoot.mjs', import.meta.url), entry: entry.href };
  return { file: new URL('./trainerWorker.js', import.meta.url) };
}

export function trainInWorker(taskOrJob: WorkerTask | TrainJob, opts: WorkerOptions = {}): TrainHandle {
  const task: WorkerTask = 'kind' in taskOrJob ? taskOrJob : { kind: 'job', job: taskOrJob };
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const { file, entry } = workerEntry();
  const input: WorkerInput = { task, cancel, progressEveryMs: opts.progressEveryMs ?? 100, entry };
  const worker = new Worker(file, { workerData: input });
  let settled = false;
  const result = new Promise<WorkerResult>((resolve, reject) => {
    worker.on('message', (msg: { type: string; progress?: PipelineProgress; outcome?: TrainOutcome; dataset?: DatasetSummary | null; message?: string }) => {
      if (msg.type === 'progress' && msg.progress) opts.onProgress?.(msg.progress);
      else if (msg.type === 'done' && msg.outcome) {
        settled = true;
        resolve({ outcome: msg.outcome, dataset: msg.dataset ?? null });
      } else if (msg.type === 'cancelled') {
        settled = true;
        reject(new TrainCancelled());
      } else if (msg.type === 'error') {
        settled = true;
        reject(new Error(msg.message));
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
    result,
    cancel: () => {
      Atomics.store(cancel, 0, 1);
    },
  };
}
