// The backtest worker on a real SQLite session with a real ONNX model: its report equals an in-process
// runBacktest of the same session and model (single threshold and sweep) and it stores its runs, its progress counts
// messages up to the total, a cancel stops it by itself (no terminate) and marks the cut-short run, and a bad model
// is reported as such.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb, type Db } from '../store/db.ts';
import { runBacktest, type BacktestReport } from './backtest.ts';
import {
  BacktestCancelled,
  backtestInWorker,
  BacktestModelError,
  summarizePasses,
  type BacktestJob,
  type ReplayProgress,
} from './runInWorker.ts';
import { writeSimSession } from './simSession.ts';
import { testModelPath } from './testing/testModel.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-btworker-'));
const dbFile = path.join(dir, 'bt.db');
const config = loadConfig({ ignoreUserFile: true });
let db: Db;
let sessionId: number;
let messages: number;
let modelPath: string;

beforeAll(async () => {
  db = openDb(dbFile);
  const train = writeSimSession(db, { seed: 41, durationMs: 600_000 }).sessionId;
  ({ sessionId, messages } = writeSimSession(db, { seed: 42, durationMs: 240_000 }));
  modelPath = (await testModelPath(db, train, dir)).path;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const job = (thresholds: number[]): BacktestJob => ({
  dbFile,
  sessionId,
  modelPath,
  config,
  thresholds,
  maxEquityPoints: 1500,
});

async function inProcess(thresholds: number[]) {
  const predictor = await Predictor.load(modelPath, FEATURE_SET);
  try {
    const { report, passes } = await runBacktest({
      db,
      sessionId,
      config,
      model: new PredictorModel(predictor),
      modelPath,
      thresholds,
      // As the worker does: the in-sample share is part of the report.
      training: predictor.meta.training,
      record: false,
      maxEquityPoints: 1500,
    });
    return { report, passes: summarizePasses(passes) };
  } finally {
    await predictor.close();
  }
}

/** Everything but the wall-clock duration and the stored run ids (the in-process reference does not record). */
const timeless = (r: BacktestReport) => ({
  ...r,
  elapsed_ms: 0,
  rows: r.rows.map((x) => ({ ...x, run_id: null })),
});
const runsAfter = (id: number) =>
  db.prepare('SELECT id, threshold, ended_at, params FROM runs WHERE id > ? ORDER BY id').all(id) as {
    id: number;
    threshold: number;
    ended_at: number | null;
    params: string;
  }[];
const lastRunId = () => db.prepare('SELECT coalesce(max(id), 0) FROM runs').pluck().get() as number;

describe('backtestInWorker', () => {
  it.each([[[0.3]], [[0, 0.3, 1]]])(
    'gives the same report as an in-process run (thresholds %j)',
    async (thresholds) => {
      const progress: ReplayProgress[] = [];
      const before = lastRunId();
      const worker = await backtestInWorker(job(thresholds), {
        onProgress: (p) => progress.push(p),
        progressEveryMs: 0,
      });
      const here = await inProcess(thresholds);
      expect(timeless(worker.report)).toEqual(timeless(here.report));
      expect(worker.report.in_sample.share).not.toBeNull(); // the worker judged in- vs out-of-sample
      expect(worker.passes.map((p) => ({ ...p, runId: null }))).toEqual(here.passes);
      // The worker stored one finished run per threshold, the ids its report names.
      const stored = runsAfter(before);
      expect(stored.map((r) => r.threshold)).toEqual(thresholds);
      expect(worker.report.rows.map((r) => r.run_id)).toEqual(stored.map((r) => r.id));
      for (const r of stored) expect(r.ended_at).not.toBeNull();
      // Not vacuous: the model trades, and a sweep's thresholds trade differently.
      expect(worker.passes[0].fillCount).toBeGreaterThan(0);
      if (thresholds.length > 1)
        expect(new Set(worker.report.rows.map((r) => r.trades)).size).toBeGreaterThan(1);

      // Progress: messages replayed over all passes, rising to the total; every threshold in turn.
      const total = thresholds.length * messages;
      expect(progress.length).toBeGreaterThan(thresholds.length);
      for (const p of progress) expect(p.total).toBe(total);
      const replayed = progress.map((p) => p.replayed);
      expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
      expect(replayed.at(-1)).toBe(total);
      expect(replayed.some((r) => r > 0 && r < messages)).toBe(true);
      expect([...new Set(progress.map((p) => p.threshold))]).toEqual(thresholds);
    },
  );

  it('stops by itself when cancelled, and rejects with BacktestCancelled', async () => {
    const abort = new AbortController();
    const before = lastRunId();
    let seen = 0;
    const run = backtestInWorker(job([0.1, 0.2, 0.3, 0.4]), {
      progressEveryMs: 0,
      signal: abort.signal,
      // No terminate fallback within the test: the worker must honour the cancel itself.
      cancelGraceMs: 600_000,
      onProgress: (p) => {
        seen = Math.max(seen, p.replayed);
        if (p.replayed > 0) abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(BacktestCancelled);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(4 * messages);
    // The pass cut short is ended and marked cancelled; nothing stays "running".
    const stored = runsAfter(before);
    expect(stored.length).toBeGreaterThan(0);
    for (const r of stored) expect(r.ended_at).not.toBeNull();
    expect(JSON.parse(stored.at(-1)!.params)).toMatchObject({ cancelled: true });
  });

  it('reports a model it cannot load as a model error', async () => {
    const run = backtestInWorker({ ...job([0.3]), modelPath: path.join(dir, 'missing.onnx') });
    await expect(run).rejects.toBeInstanceOf(BacktestModelError);
  });

  it('reports a missing session', async () => {
    await expect(backtestInWorker({ ...job([0.3]), sessionId: 999 })).rejects.toThrow(/no session 999/);
  });
});
