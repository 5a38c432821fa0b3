// Walk-forward backtests from the app, through the real WebSocket bridge and AppService (createApp, a real SQLite
// file with a stored sim session, the real backtest worker starting the real trainer worker, onnxruntime): each
// window's model learns only from the data before it, training progress reaches the client, the models land beside
// the database without being registered, a bad spec is an error reply, and a cancel stops it while it trains.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestProgress } from '../../src-shared/ipc.ts';
import { liveBacktestWorkers } from '../backtest/runInWorker.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { connectBridge, type NodeBridgeClient } from '../bridge/wsClient.ts';
import { startWsBridge, type WsBridge } from '../bridge/wsBridge.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { makeWalkForwardDir } from './backtester.ts';
import { createApp, type AppContext } from './createApp.ts';

const M = 60_000;
const H = 10_000; // config model.horizon
const WF = { trainWindowMs: 6 * M, everyMs: 3 * M };

let dir: string;
let dbFile: string;
let sessionId: number;
let start: number;
let app: AppContext;
let bridge: WsBridge;
let c: NodeBridgeClient;

const count = (sql: string) => {
  const db = openDb(dbFile, { mustExist: true });
  try {
    return (db.prepare(sql).pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
};
const wfDirs = () => fs.readdirSync(dir).filter((f) => f.startsWith('walkforward-'));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-app-wf-'));
  dbFile = path.join(dir, 'app.db');
  const db = openDb(dbFile);
  sessionId = writeSimSession(db, { seed: 41, durationMs: 13 * M }).sessionId;
  start = getSession(db, sessionId)?.firstRecvTs as number;
  db.close();
  // Small models: a few dozen rounds on two folds keep each window's training short.
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: {
      source: 'sim',
      db: dbFile,
      'train.rounds': 30,
      'train.folds': 2,
      'train.early_stopping_rounds': 10,
      'train.min_horizons': 20, // 6 min windows: far below the default minimum (200 horizons, 34 min of data)
    },
  });
  app = await createApp({ config, modelsDir: path.join(dir, 'models') });
  bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus });
  c = await connectBridge(bridge.wsUrl);
});

afterAll(async () => {
  c?.close();
  await bridge?.close();
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('walk-forward backtest in the app', () => {
  it('trains each window on the data before it only, streams training progress, and reports every window', async () => {
    const progress: BacktestProgress[] = [];
    const off = c.on('backtest/progress', (p) => progress.push(p));
    const registered = count('SELECT count(*) FROM models');
    let report;
    try {
      report = await c.invoke('backtest/run', { sessionId, threshold: 0.3, walkForward: WF });
    } finally {
      off();
    }
    const wf = report.walkForward;
    if (!wf) throw new Error('no walk-forward section in the report');
    expect(wf).toMatchObject({
      trainWindowMs: 6 * M,
      everyMs: 3 * M,
      embargoMs: H,
      firstTradeTs: start + 6 * M,
    });
    // Windows at start + 6, 9, 12 min (the session is 13 min long), each traded by its own model.
    expect(wf.windows.map((w) => w.tradeFrom)).toEqual([6, 9, 12].map((k) => start + k * M));
    for (const [k, w] of wf.windows.entries()) {
      expect(w.trained, w.note).toBe(true);
      expect(w.window).toBe(k);
      expect(w.tradeTo).toBe(w.tradeFrom + 3 * M);
      expect(w.trainFrom).toBe(w.tradeFrom - 6 * M);
      // The embargo: its training data ends one horizon before its first decision.
      expect(w.trainTo).toBe(w.tradeFrom - H);
      expect(w.model).toBe(`wf-0${k}.onnx`);
      expect(w.rows).toBeGreaterThanOrEqual(200);
      expect(Number.isFinite(w.r2) && Number.isFinite(w.ic)).toBe(true);
      expect(w.decisions).toBeGreaterThan(k < 2 ? 150 : 20);
      expect(w.inSample).toBe(0);
      expect(w.oosN).toBeGreaterThan(0);
    }
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0].inSampleShare).toBe(0);

    // The models go to a new folder beside the database, and are neither registered nor listed.
    expect(path.dirname(wf.outDir)).toBe(dir);
    expect(path.basename(wf.outDir)).toMatch(new RegExp(`^walkforward-${sessionId}-\\d{8}-\\d{6}$`));
    for (const w of wf.windows) expect(fs.existsSync(path.join(wf.outDir, w.model as string))).toBe(true);
    expect(fs.existsSync(path.join(wf.outDir, 'walkforward.json'))).toBe(true);
    expect(count('SELECT count(*) FROM models')).toBe(registered);
    const listed = await c.invoke('model/list', {});
    expect(listed.filter((m) => m.path.startsWith(wf.outDir))).toEqual([]);

    // Progress: every window's training (in the first half of the bar), then the replay (the second half).
    const training = progress.filter((p) => p.window !== undefined);
    const replay = progress.filter((p) => p.total !== undefined);
    expect(new Set(training.map((p) => p.window))).toEqual(new Set([0, 1, 2]));
    expect(training.every((p) => p.windows === 3 && p.fraction <= 0.5)).toBe(true);
    expect(training.map((p) => p.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^training window 3\/3: [\d,]+ rows, r2 -?\d/)]),
    );
    expect(replay.length).toBeGreaterThan(0);
    expect(replay.every((p) => p.fraction >= 0.5)).toBe(true);
    expect(progress.indexOf(replay[0])).toBeGreaterThan(
      progress.indexOf(training.at(-1) as BacktestProgress),
    );
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
  }, 60_000);

  it('answers a bad walk-forward spec with an error, before anything runs', async () => {
    const before = wfDirs();
    const run = (walkForward: unknown) => c.invoke('backtest/run', { sessionId, walkForward } as never);
    await expect(run({ trainWindowMs: -6 * M, everyMs: 3 * M })).rejects.toThrow(
      /bad payload for backtest\/run: walkForward\.trainWindowMs/,
    );
    await expect(run({ trainWindowMs: 6 * M, everyMs: 0 })).rejects.toThrow(
      /bad payload for backtest\/run: walkForward\.everyMs/,
    );
    await expect(run({ trainWindowMs: 6 * M })).rejects.toThrow(/bad payload .*walkForward\.everyMs/);
    await expect(run({ trainWindowMs: 6 * M, everyMs: 3 * M, out: '/tmp' })).rejects.toThrow(/bad payload/);
    // Valid for the contract, refused by the engine: shorter than 10 horizons of the configured model.
    await expect(run({ trainWindowMs: 30_000, everyMs: 3 * M })).rejects.toThrow(
      /walk-forward: the train window \(30s\) must be at least 10 horizons/,
    );
    // Longer than the session: nothing to test, and no empty model folder is left behind.
    await expect(run({ trainWindowMs: 20 * M, everyMs: 3 * M })).rejects.toThrow(/nothing is left to test/);
    expect(wfDirs()).toEqual(before);
  });

  it('is cancelled while it trains its models, and leaves no worker running', async () => {
    const runsBefore = count('SELECT count(*) FROM runs');
    const progress: BacktestProgress[] = [];
    let cancel: Promise<{ cancelled: boolean }> | null = null;
    const off = c.on('backtest/progress', (p) => {
      progress.push(p);
      // The first training progress: the first window's dataset is being read or its model trained.
      if (!cancel && p.window !== undefined) cancel = c.invoke('backtest/cancel', { jobId: p.jobId });
    });
    try {
      await expect(c.invoke('backtest/run', { sessionId, walkForward: WF })).rejects.toThrow(
        /backtest bt\d+ cancelled/,
      );
    } finally {
      off();
    }
    expect(await cancel).toMatchObject({ cancelled: true });
    // Stopped before the replay: no replay progress, no run stored.
    expect(progress.some((p) => p.total !== undefined)).toBe(false);
    expect(count('SELECT count(*) FROM runs')).toBe(runsBefore);
    await expect.poll(() => liveBacktestWorkers(), { timeout: 5000 }).toBe(0);
  }, 30_000);

  it('gives each run its own model folder', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const a = makeWalkForwardDir(dbFile, 7, now);
    const b = makeWalkForwardDir(dbFile, 7, now);
    expect(path.basename(a)).toBe('walkforward-7-20260102-030405');
    expect(path.basename(b)).toBe('walkforward-7-20260102-030405-2');
    expect(fs.statSync(b).isDirectory()).toBe(true);
  });
});
