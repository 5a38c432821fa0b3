// Worker-thread entry of the backtest: opens its own read-only connection to the database and its own Predictor,
// runs runBacktest off the caller's thread, streams replay progress, and stops when asked. Started by runInWorker.ts.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { getSession } from '../store/sessions.ts';
import { runBacktest } from './backtest.ts';
import { summarizePasses, type BacktestWorkerInput, type BacktestWorkerMessage } from './runInWorker.ts';

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
  // Read-only: the backtest only reads the session; the app's own connection is the single writer.
  const db = new Database(job.dbFile, {
    readonly: true,
    fileMustExist: true,
    nativeBinding: job.nativeBinding,
  });
  let predictor: Predictor | null = null;
  try {
    db.pragma('busy_timeout = 5000');
    try {
      predictor = await Predictor.load(job.modelPath, FEATURE_SET);
    } catch (e) {
      send({ type: 'error', message: (e as Error).message, modelError: true });
      return;
    }
    const perPass = getSession(db, job.sessionId)?.messages ?? 0;
    const n = job.thresholds.length;
    let last = -Infinity;
    const { report, passes } = await runBacktest({
      db,
      sessionId: job.sessionId,
      config: job.config,
      model: new PredictorModel(predictor),
      modelPath: job.modelPath,
      thresholds: job.thresholds,
      record: false,
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
    });
    send({ type: 'done', outcome: { report, passes: summarizePasses(passes) } });

    function progress(pass: number, replayed: number, threshold = job.thresholds[pass]): void {
      const inPass = Math.min(replayed, perPass);
      send({
        type: 'progress',
        progress: { pass, passes: n, threshold, replayed: pass * perPass + inPass, total: n * perPass },
      });
    }
  } finally {
    await predictor?.close();
    db.close();
  }
}
