// In-sample by what the data is, not only by its clock: a model backtested on a copy of its own training session
// with shifted timestamps is flagged; the bundled default model is flagged on the simulator's reserved seed and
// not on a default (fresh-seed) run. Real SQLite, the real training pipeline and real onnxruntime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { DEFAULT_MODEL_SEED, freshSimSeed } from '../market/sim/simSeed.ts';
import { sessionIdentity } from '../model/dataIdentity.ts';
import { Predictor } from '../model/predictor.ts';
import { settingsFromConfig, trainModelFromDb } from '../model/trainPipeline.ts';
import { openDb, type Db } from '../store/db.ts';
import { getSession } from '../store/sessions.ts';
import { runBacktest } from './backtest.ts';
import { renderHtmlReport } from './htmlReport.ts';
import { inSampleLine } from '../cli/backtest.ts';
import { writeSimSession } from './simSession.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-insample-'));
const dbFile = path.join(dir, 'is.db');
const config = loadConfig({ ignoreUserFile: true });
const T1 = Date.UTC(2026, 2, 1, 12);
const MONTH = 30 * 86_400_000;
let db: Db;
let trainedId: number;
let model: Predictor;

async function backtest(p: Predictor, sessionId: number) {
  const { report } = await runBacktest({
    db,
    sessionId,
    config,
    model: new PredictorModel(p),
    thresholds: [0.2],
    training: p.meta.training,
    record: false,
  });
  return report;
}

beforeAll(async () => {
  db = openDb(dbFile);
  trainedId = writeSimSession(db, { seed: 1234, durationMs: 12 * 60_000, startMs: T1 }).sessionId;
  const outPath = path.join(dir, 'own.onnx');
  await trainModelFromDb({
    spec: { dbFile, sessionIds: [trainedId], decisionIntervalMs: 1000, horizonMs: 10_000 },
    settings: { ...settingsFromConfig(config, 1), trials: 0, folds: 2, minHorizons: 0 },
    outPath,
    createdAt: T1,
    registerIn: null,
  });
  model = await Predictor.load(outPath, FEATURE_SET);
});

afterAll(async () => {
  await model?.close();
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('in-sample by data identity', () => {
  it("stores the training data's identity (source, random seed, fingerprint) in the model metadata", () => {
    const data = model.meta.training.data;
    expect(data).toHaveLength(1);
    expect(data?.[0]).toEqual(sessionIdentity(db, trainedId));
    expect(data?.[0]).toMatchObject({ source: 'sim', seed: 1234, session: trainedId });
    expect(data?.[0].fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('flags a backtest on the training session replayed a month later (same path, shifted timestamps)', async () => {
    const copy = writeSimSession(db, { seed: 1234, durationMs: 12 * 60_000, startMs: T1 + MONTH }).sessionId;
    expect(getSession(db, copy)?.seed).toBe(1234);
    const r = await backtest(model, copy);
    const s = r.in_sample;
    // By time alone nothing overlaps: the month-later clock is far past the training span.
    expect(model.meta.training.to_ts).toBeLessThan(T1 + MONTH);
    expect(s.same_data).toMatchObject({
      reason: 'fingerprint',
      training_session: trainedId,
      offset_ms: MONTH,
    });
    expect(s.decisions).toBeGreaterThan(300);
    // The same share as on the original clock: the training span mapped onto the copy's clock.
    const original = (await backtest(model, trainedId)).in_sample;
    expect(original.same_data).toMatchObject({ reason: 'fingerprint', offset_ms: 0 });
    expect(s.in_sample).toBe(original.in_sample);
    expect(s.share).toBeGreaterThan(0.5);
    expect(renderHtmlReport(r)).toContain(`the same data as the model&#39;s training session ${trainedId}`);
  });

  it('does not flag another path of the simulator', async () => {
    const other = writeSimSession(db, { seed: 4321, durationMs: 6 * 60_000, startMs: T1 + MONTH }).sessionId;
    const s = (await backtest(model, other)).in_sample;
    expect(s.same_data).toBeNull();
    expect(s.in_sample).toBe(0);
    expect(s.share).toBe(0);
  });

  it('another random seed at the very time of the training data is another market: not in-sample', async () => {
    // Two simulated sessions made back to back both start "now": their clocks overlap, their markets do not.
    const sameTime = writeSimSession(db, {
      seed: 999,
      durationMs: 6 * 60_000,
      startMs: T1 + 60_000,
    }).sessionId;
    const s = (await backtest(model, sameTime)).in_sample;
    expect(s.decisions).toBeGreaterThan(100);
    expect(s.same_data).toBeNull();
    expect(s.in_sample).toBe(0);
    expect(s.other_market_overlap).toBeGreaterThan(100);
    expect(inSampleLine(s, false)).toMatch(/out of sample: .* under another random seed: another market/);
    // Recorded data at the same time is the same market however it was stored: time overlap still counts.
    const recorded = writeSimSession(db, {
      seed: 999,
      durationMs: 6 * 60_000,
      startMs: T1 + 60_000,
    }).sessionId;
    db.prepare("UPDATE sessions SET source = 'bybit', seed = NULL WHERE id = ?").run(recorded);
    const r = (await backtest(model, recorded)).in_sample;
    expect(r.in_sample).toBeGreaterThan(100);
  });

  it('the bundled default model: flagged on its reserved random seed, not on a default run', async () => {
    const bundled = await Predictor.load(path.join(PROJECT_ROOT, 'models', 'default.onnx'), FEATURE_SET);
    try {
      expect(bundled.meta.training.data?.[0]).toMatchObject({ source: 'sim', seed: DEFAULT_MODEL_SEED });
      // A default run: a fresh random seed, now.
      const now = Date.now();
      const fresh = writeSimSession(db, {
        seed: freshSimSeed(),
        durationMs: 4 * 60_000,
        startMs: now,
      }).sessionId;
      const a = (await backtest(bundled, fresh)).in_sample;
      expect(a.decisions).toBeGreaterThan(100);
      expect(a.same_data).toBeNull();
      expect(a.share).toBe(0);
      // The reserved seed, run today: the model's own training path on today's clock.
      const reserved = writeSimSession(db, {
        seed: DEFAULT_MODEL_SEED,
        durationMs: 4 * 60_000,
        startMs: now,
      }).sessionId;
      const b = (await backtest(bundled, reserved)).in_sample;
      expect(b.same_data?.reason).toBe('fingerprint');
      expect(b.share).toBeGreaterThan(0.9);
    } finally {
      await bundled.close();
    }
  });
});
