// App backtests store their runs like `l2desk backtest` (same tables, same rows per threshold), while Collect writes
// to the same file from the main thread without either side failing with SQLITE_BUSY; backtest/cancel (through the
// validating dispatcher) ends the job as cancelled, marks the cut-short run in the database and lets the worker exit.
// createApp, a real SQLite file, real sim sessions, a real ONNX model and the real worker thread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppErrorEvent, BacktestProgress } from '../../src-shared/ipc.ts';
import { liveBacktestWorkers } from '../backtest/runInWorker.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { run as cliBacktest } from '../cli/backtest.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { createApp, type AppContext } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-btrec-'));
const dbFile = path.join(dir, 'app.db');
const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim', 'sim.speed': 'max' } });
const TABLES = ['predictions', 'features', 'signals', 'orders', 'fills', 'equity'] as const;
let db: Db;
let small: number;
let mid: number;
let modelPath: string;
let app: AppContext;
const errors: AppErrorEvent[] = [];

interface RunRow {
  id: number;
  kind: string;
  source: string;
  session_id: number;
  model: string;
  threshold: number;
  params: string;
  ended_at: number | null;
  metrics: string | null;
}

beforeAll(async () => {
  db = openDb(dbFile);
  const train = writeSimSession(db, { seed: 61, durationMs: 600_000 }).sessionId;
  small = writeSimSession(db, { seed: 62, durationMs: 120_000 }).sessionId;
  mid = writeSimSession(db, { seed: 63, durationMs: 600_000 }).sessionId;
  modelPath = (await testModelPath(db, train, dir)).path;
  app = await createApp({
    config: { ...config, db: dbFile, model: { ...config.model, path: modelPath } },
    modelsDir: path.join(dir, 'models'),
  });
  app.bus.on('app/error', (e) => errors.push(e));
});
afterAll(async () => {
  await app?.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const runsAfter = (id: number) =>
  db.prepare('SELECT * FROM runs WHERE id > ? ORDER BY id').all(id) as RunRow[];
const lastRunId = () => (db.prepare('SELECT coalesce(max(id), 0) FROM runs').pluck().get() as number) ?? 0;
const counts = (runId: number) =>
  Object.fromEntries(
    TABLES.map((t) => [t, db.prepare(`SELECT count(*) FROM ${t} WHERE run_id = ?`).pluck().get(runId)]),
  );

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('app backtest recording', () => {
  it('stores the same runs as `l2desk backtest` (kind, session, model, threshold, every table)', async () => {
    const before = lastRunId();
    const report = await app.service.backtest({ sessionId: small, sweep: [0.3, 1] });
    expect(report.runs).toHaveLength(2);
    const appRuns = runsAfter(before);
    expect(appRuns).toHaveLength(2);

    const cliFrom = lastRunId();
    const code = await cliBacktest([
      '--db',
      dbFile,
      '--session',
      String(small),
      '--model',
      modelPath,
      '--sweep',
      '0.3,1',
    ]);
    expect(code).toBe(0);
    const cliRuns = runsAfter(cliFrom);
    expect(cliRuns).toHaveLength(2);

    for (let i = 0; i < 2; i++) {
      const a = appRuns[i];
      const c = cliRuns[i];
      expect(a).toMatchObject({ kind: 'backtest', source: 'replay', session_id: small, model: modelPath });
      expect(a.threshold).toBe([0.3, 1][i]);
      expect(a.ended_at).not.toBeNull();
      // Same engine, same data: the stored results match the CLI's row for row.
      expect({ ...a, id: 0, started_at: 0, ended_at: 0 }).toEqual({
        ...c,
        id: 0,
        started_at: 0,
        ended_at: 0,
      });
      expect(counts(a.id)).toEqual(counts(c.id));
      expect(JSON.parse(a.metrics ?? 'null')?.finalEquity).toBe(report.runs[i].finalEquity);
    }
    // Not vacuous: the first pass traded and stored the feature rows behind its predictions.
    const first = counts(appRuns[0].id);
    for (const t of TABLES) expect(first[t], t).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 60_000);

  it('records a backtest while Collect writes to the same file, neither failing with SQLITE_BUSY', async () => {
    const before = lastRunId();
    const collect = await app.service.startCollect({ symbol: 'BTCUSDT', depth: 50, durationMs: 600_000 });
    const sessionId = collect.sessionId!;
    await until(() => getCollected(sessionId) > 50);
    const atStart = getCollected(sessionId);
    const report = await app.service.backtest({ sessionId: mid, sweep: [0.1, 0.5, 1] });
    const during = getCollected(sessionId);
    const done = await app.service.stopCollect();
    expect(done.error).toBeNull();
    expect(errors).toEqual([]);
    expect(report.runs).toHaveLength(3);
    const runs = runsAfter(before);
    expect(runs.map((r) => r.threshold)).toEqual([0.1, 0.5, 1]);
    for (const r of runs) expect(r.ended_at).not.toBeNull();
    expect(counts(runs[0].id).predictions).toBeGreaterThan(0);
    // Collect kept writing through the backtest, and every message it counted is stored.
    expect(during).toBeGreaterThan(atStart);
    let stored = 0;
    for (const e of readSession(db, sessionId)) if (e.kind !== 'gap') stored++;
    expect(stored).toBe(done.messages);
    expect(getSession(db, sessionId)?.messages).toBe(done.messages);
  }, 90_000);

  it('cancels a running job by id: cancelled, the cut-short run ended in the DB, the worker gone', async () => {
    const before = lastRunId();
    // The dispatcher validates the command like the bridge does.
    expect(await app.dispatch('backtest/cancel', { jobId: '' })).toMatchObject({ ok: false });
    let jobId = '';
    let answer: unknown = null;
    const off = app.bus.on('backtest/progress', (p: BacktestProgress) => {
      if (jobId || (p.replayed ?? 0) === 0) return;
      jobId = p.jobId;
      void app.dispatch('backtest/cancel', { jobId }).then((r) => (answer = r));
    });
    try {
      await expect(app.service.backtest({ sessionId: mid, sweep: [0.1, 0.2, 0.3, 0.4] })).rejects.toThrow(
        /^backtest bt\d+ cancelled$/,
      );
    } finally {
      off();
    }
    expect(answer).toMatchObject({ ok: true, result: { jobId, cancelled: true } });
    // The job is gone: a second cancel finds nothing, and the worker thread exits.
    expect(app.service.cancelJob(jobId)).toEqual({ jobId, cancelled: false });
    await until(() => liveBacktestWorkers() === 0);

    const runs = runsAfter(before);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.length).toBeLessThan(4);
    // Nothing is left "running", and the pass that was cut short says so.
    for (const r of runs) expect(r.ended_at).not.toBeNull();
    expect(JSON.parse(runs.at(-1)!.params)).toMatchObject({ cancelled: true });
    expect(errors).toEqual([]);

    // The app still backtests after a cancel.
    const after = await app.service.backtest({ sessionId: small, threshold: 0.3 });
    expect(after.runs).toHaveLength(1);
  }, 60_000);
});

/** Messages of the collected session committed so far (read through the test's own connection). */
function getCollected(sessionId: number): number {
  return getSession(db, sessionId)?.messages ?? 0;
}
