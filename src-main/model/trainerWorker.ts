// Worker-thread entry of the trainer: runs runTraining off the main thread, streams progress, and stops at the
// next round when the shared cancel flag is raised. Started by trainInWorker.ts.
import { parentPort, workerData } from 'node:worker_threads';
import {
  datasetFromDb,
  jobFromDataset,
  summarize,
  type DbDatasetSpec,
  type TrainSettings,
} from './trainPipeline.ts';
import { runTraining, TrainCancelled, type TrainJob, type TrainProgress } from './trainer.ts';
import { TrainingDataError } from './trainingData.ts';

/** A ready feature matrix, or a dataset to build from the database first (in the worker too). */
export type WorkerTask =
  | { kind: 'job'; job: TrainJob }
  | { kind: 'db'; spec: DbDatasetSpec; settings: TrainSettings }
  | { kind: 'dataset'; spec: DbDatasetSpec };

export interface WorkerInput {
  task: WorkerTask;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 asks the worker to stop. */
  cancel: Int32Array;
  /** Minimum milliseconds between progress messages (the last round of each fit is always sent). */
  progressEveryMs: number;
  /** Set when started through src-main/tsWorkerBoot.mjs: this module's URL. */
  entry?: string;
}

if (!parentPort) throw new Error('trainerWorker.ts must run in a worker thread');
const port = parentPort;
const { task, cancel, progressEveryMs } = workerData as WorkerInput;
let last = 0;
try {
  if (task.kind === 'dataset') {
    const ds = datasetFromDb(task.spec, (events) =>
      port.postMessage({ type: 'progress', progress: { phase: 'dataset', events } }),
    );
    port.postMessage({ type: 'done', built: ds }, [
      ds.X.buffer,
      ds.y.buffer,
      ds.ts.buffer,
      ds.session.buffer,
    ] as ArrayBuffer[]);
  } else {
    train(task);
  }
} catch (e) {
  report(e);
}

function train(task: Exclude<WorkerTask, { kind: 'dataset' }>): void {
  let job: TrainJob;
  let dataset = null;
  if (task.kind === 'db') {
    const ds = datasetFromDb(task.spec, (events) =>
      port.postMessage({ type: 'progress', progress: { phase: 'dataset', events } }),
    );
    if (Atomics.load(cancel, 0) === 1) throw new TrainCancelled();
    dataset = summarize(ds);
    job = jobFromDataset(ds, task.settings);
  } else job = task.job;
  const outcome = runTraining(job, {
    shouldStop: () => Atomics.load(cancel, 0) === 1,
    onProgress: (p: TrainProgress) => {
      const now = performance.now();
      if (now - last >= progressEveryMs || p.round === p.rounds) {
        last = now;
        port.postMessage({ type: 'progress', progress: p });
      }
    },
  });
  const m = outcome.model;
  port.postMessage({ type: 'done', outcome, dataset }, [
    m.treeStart.buffer,
    m.feature.buffer,
    m.threshold.buffer,
    m.left.buffer,
    m.right.buffer,
    m.value.buffer,
    m.gain.buffer,
    m.cover.buffer,
  ] as ArrayBuffer[]);
}

function report(e: unknown): void {
  if (e instanceof TrainCancelled) port.postMessage({ type: 'cancelled' });
  else
    port.postMessage({
      type: 'error',
      message: (e as Error).message ?? String(e),
      stack: (e as Error).stack,
      // The caller rebuilds the typed error: a walk-forward window without enough data is skipped, not fatal.
      problem: e instanceof TrainingDataError ? e.problem : undefined,
    });
}
