// Worker-thread entry of the backtest: opens its own connection to the database (WAL, busy timeout) and its own
// Predictor, runs runBacktest off the caller's thread and records its runs like `l2desk backtest`, streams replay
// progress, and stops when asked (marking the runs it started as ended and cancelled). Started by runInWorker.ts.
// A walk-forward job runs runWalkForward here instead (its models are trained by trainer workers started from here).
// A job on a ClickHouse store replays the session from the store; its database file holds the session's record and the
// runs (a walk-forward job's models learn from the session's rows, given with the job).
import { parentPort, workerData } from 'node:worker_threads';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import * as chCatalogue from '../store/clickhouse/catalogue.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { storeIdentity } from '../store/clickhouse/featureStore.ts';
import { readSessionPages } from '../store/clickhouse/reader.ts';
import { openDb } from '../store/db.ts';
import type { ReadOptions as ReadRange } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { runBacktest, type BacktestOptions, type BacktestReport, type PassResult } from './backtest.ts';
import { summarizePasses, type BacktestWorkerInput, type BacktestWorkerMessage } from './runInWorker.ts';
import { endUnfinishedRuns, trackRuns } from './runTracking.ts';
import { runWalkForward } from './walkForward.ts';

/** Default for BacktestJob.busyTimeoutMs: the main process's writers commit small batches (≤ 250 ms apart). */
const WORKER_BUSY_TIMEOUT_MS = 5000;

if (!parentPort) throw new Error('backtestWorker.ts must run in a worker thread');
const port = parentPort;
const { job, progressEveryMs } = workerData as BacktestWorkerInput;
const abort = new AbortController();
port.on('message', (m: { type?: string }) => {
  if (m?.type === 'cancel') abort.abort();
});
// The port must not keep this thread alive once the run has answered.
port.unref();

const send = (m: BacktestWorkerMessage) => port.postMessage(m);
void run().catch((e: unknown) => {
  if (abort.signal.aborted) send({ type: 'cancelled' });
  else send({ type: 'error', message: (e as Error).message ?? String(e), modelError: false });
});

async function run(): Promise<void> {
  // A second writer beside the app's connection (live feed, Collect): WAL lets reads proceed, and the busy timeout
  // makes each side wait out the other's short batch transaction instead of failing with SQLITE_BUSY.
  const db = openDb(job.dbFile, {
    mustExist: true,
    nativeBinding: job.nativeBinding,
    busyTimeoutMs: job.busyTimeoutMs ?? WORKER_BUSY_TIMEOUT_MS,
  });
  const record = job.record !== false;
  if (record) trackRuns(db);
  let predictor: Predictor | null = null;
  let ch: ClickHouseStore | null = null;
  try {
    const wf = job.walkForward;
    if (job.clickhouse && wf && !job.storeFeatures)
      throw new Error(
        "a walk-forward backtest on a ClickHouse store needs the session's features beside the job",
      );
    // A ClickHouse store's session is read from the store here, as `l2desk backtest` reads it: no local copy.
    ch = job.clickhouse ? await openClickHouse(job.clickhouse, { mustExist: true }) : null;
    const stored = ch ? await chCatalogue.getSession(ch, job.sessionId) : undefined;
    if (ch && !stored) throw new Error(`no session ${job.sessionId} in ${ch.name}`);
    const store = ch;
    const data =
      store && stored
        ? { session: stored, pages: (r: ReadRange) => readSessionPages(store, stored.id, r) }
        : undefined;
    if (!wf) {
      try {
        predictor = await Predictor.load(job.modelPath, FEATURE_SET);
      } catch (e) {
        send({ type: 'error', message: (e as Error).message, modelError: true });
        return;
      }
    }
    const perPass = (stored ?? getSession(db, job.sessionId))?.messages ?? 0;
    const n = job.thresholds.length;
    let last = -Infinity;
    const common: Omit<BacktestOptions, 'model' | 'modelPath' | 'training' | 'trainingAt' | 'modelSwaps'> = {
      db,
      sessionId: job.sessionId,
      data,
      config: job.config,
      thresholds: job.thresholds,
      record,
      maxEquityPoints: job.maxEquityPoints,
      samplingMs: job.samplingMs,
      signal: abort.signal,
      onReplay: (replayed, pass) => {
        const now = performance.now();
        if (now - last < progressEveryMs) return;
        last = now;
        progress(pass, replayed);
      },
      onProgress: (done, _total, row) => {
        last = performance.now();
        progress(done - 1, perPass, row.threshold);
      },
    };
    let result: { report: BacktestReport; passes: PassResult[] };
    if (wf) {
      result = await runWalkForward({
        ...common,
        dbFile: job.dbFile,
        storeFeatures: job.storeFeatures,
        trainWindowMs: wf.trainWindowMs,
        everyMs: wf.everyMs,
        outDir: wf.outDir,
        createdAt: wf.createdAt,
        // The trainer worker throttles its own progress; each finished window is always sent.
        onTrainProgress: (w, p, windows) =>
          send({ type: 'training', training: { window: w.index, windows, train: p, row: null } }),
        onWindow: (w, row, windows) =>
          send({ type: 'training', training: { window: w.index, windows, train: null, row } }),
      });
    } else {
      const p = predictor as Predictor;
      result = await runBacktest({
        ...common,
        // The session's record in `db` alone says too little to recognise the model's training data on another clock.
        identity:
          store && stored && p.meta.training.data?.length ? await storeIdentity(store, stored) : undefined,
        model: new PredictorModel(p),
        modelPath: job.modelPath,
        training: p.meta.training,
      });
    }
    const { report, passes } = result;
    send({ type: 'done', outcome: { report, passes: summarizePasses(passes) } });

    function progress(pass: number, replayed: number, threshold = job.thresholds[pass]): void {
      const inPass = Math.min(replayed, perPass);
      send({
        type: 'progress',
        progress: { pass, passes: n, threshold, replayed: pass * perPass + inPass, total: n * perPass },
      });
    }
  } catch (e) {
    // A run cut short (cancel or failure) must not stay "running" (ended_at null) in the runs table.
    if (record) endUnfinishedRuns(db, abort.signal.aborted);
    throw e;
  } finally {
    await predictor?.close();
    await ch?.close();
    db.close();
  }
}
