// The app's backtests run in a worker: the report equals the in-process run's (single threshold and sweep), progress
// reaches the IPC event with messages replayed / total, and the main thread stays responsive while a sizeable
// session is replayed through the app service (createApp, real SQLite file, real ONNX model).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestProgress } from '../../src-shared/ipc.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { makeBacktester } from './backtester.ts';
import { createApp, type AppContext } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-app-bt-'));
const dbFile = path.join(dir, 'app.db');
const config = loadConfig({ ignoreUserFile: true });
let db: Db;
let small: number;
let big: number;
let bigMessages: number;
let modelPath: string;

beforeAll(async () => {
  db = openDb(dbFile);
  const train = writeSimSession(db, { seed: 51, durationMs: 600_000 }).sessionId;
  small = writeSimSession(db, { seed: 52, durationMs: 180_000 }).sessionId;
  // Sizeable: in-process, replaying it (three thresholds) keeps this thread busy for a second or more.
  ({ sessionId: big, messages: bigMessages } = writeSimSession(db, { seed: 53, durationMs: 1_200_000 }));
  modelPath = (await testModelPath(db, train, dir)).path;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('makeBacktester', () => {
  it.each([[[0.3]], [[0, 0.3, 1]]])(
    'in a worker returns the same runs as in process (thresholds %j)',
    async (thresholds) => {
      const run = (inWorker: boolean) => {
        const progress: { fraction: number; replayed?: number; total?: number }[] = [];
        return makeBacktester({ config, db, modelPath: () => modelPath, inWorker })({
          sessionId: small,
          thresholds,
          onProgress: (fraction, _m, d) => progress.push({ fraction, ...d }),
        }).then(({ runs }) => ({ runs, progress }));
      };
      const worker = await run(true);
      const here = await run(false);
      expect(worker.runs).toEqual(here.runs);
      expect(worker.runs.map((r) => r.threshold)).toEqual(thresholds);
      expect(worker.runs[0].fills).toBeGreaterThan(0);
      expect(worker.runs[0].equity.length).toBeGreaterThan(10);
      for (const p of [worker.progress, here.progress]) {
        expect(p.at(-1)).toMatchObject({ fraction: 1 });
        const fractions = p.map((x) => x.fraction);
        expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      }
      // In process every 2000 messages report; the worker sends at most one report per 100 ms, and this small
      // session can replay in less on a fast machine (its streaming is the sizeable session's test below).
      expect(here.progress.some((x) => x.fraction > 0 && x.fraction < 1 && (x.replayed ?? 0) > 0)).toBe(true);
    },
  );

  it('says why a pass made no trade: a threshold above every prediction, a session shorter than the warm-up', async () => {
    const bt = makeBacktester({ config, db, modelPath: () => modelPath });
    const { runs } = await bt({ sessionId: small, thresholds: [0.3, 1000], onProgress: () => {} });
    expect(runs[0].fills).toBeGreaterThan(0);
    expect(runs[0].noTrades).toBeNull();
    expect(runs[1].fills).toBe(0);
    expect(runs[1].noTrades).toMatch(
      /^no trades: the threshold 1000 bps is above every prediction \(the largest \|prediction\| of [\d,]+ was [\d.]+ bps\): lower the threshold$/,
    );
    const tiny = writeSimSession(db, { seed: 54, durationMs: 20_000 }).sessionId;
    const short = await bt({ sessionId: tiny, thresholds: [0.3], onProgress: () => {} });
    expect(short.runs[0].noTrades).toMatch(
      /^no trades: the session holds (1\d|20)(\.\d+)?s of data, shorter than the features' warm-up \(30s\), so the model never predicted$/,
    );
  });

  it('explains a missing model', async () => {
    const bt = makeBacktester({ config, db, modelPath: () => path.join(dir, 'none.onnx') });
    await expect(bt({ sessionId: small, thresholds: [0.3], onProgress: () => {} })).rejects.toThrow(
      /cannot backtest without a model: .*Retrain one first/,
    );
  });
});

describe('app service backtest', () => {
  let app: AppContext;
  beforeAll(async () => {
    app = await createApp({
      config: { ...config, db: dbFile, model: { ...config.model, path: modelPath } },
      modelsDir: path.join(dir, 'models'),
    });
  });
  afterAll(() => app?.close());

  it('keeps the main thread responsive and streams progress while a sizeable session replays', async () => {
    const progress: BacktestProgress[] = [];
    const off = app.bus.on('backtest/progress', (p) => progress.push(p));
    // A 10 ms timer on this thread: the replay must not hold it up. In process, the replay keeps this thread busy
    // for the whole run (event-loop utilisation ~1, ticks tens of ms apart); in the worker it idles.
    let last = performance.now();
    let maxGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const elu0 = performance.eventLoopUtilization();
    try {
      const report = await app.service.backtest({ sessionId: big, sweep: [0.1, 0.5, 1] });
      expect(report.runs).toHaveLength(3);
      expect(report.messages).toBe(bigMessages);
    } finally {
      clearInterval(tick);
      off();
    }
    const busy = performance.eventLoopUtilization(elu0).utilization;
    expect(maxGap).toBeLessThan(200);
    expect(busy).toBeLessThan(0.5);

    const replay = progress.filter((p) => p.total !== undefined);
    expect(replay.length).toBeGreaterThan(3);
    expect(replay[0].total).toBe(3 * bigMessages);
    expect(replay.at(-1)).toMatchObject({ fraction: 1, replayed: 3 * bigMessages, threshold: 1 });
    expect(replay.map((p) => p.threshold)).toEqual(expect.arrayContaining([0.1, 0.5, 1]));
    expect(replay.map((p) => p.replayed)).toEqual(replay.map((p) => p.replayed).sort((a, b) => a! - b!));
    expect(replay.find((p) => p.fraction > 0 && p.fraction < 1)?.message).toMatch(
      /threshold [\d.]+ \(\d\/3\): [\d,]+ \/ [\d,]+ messages replayed/,
    );
  });
});
