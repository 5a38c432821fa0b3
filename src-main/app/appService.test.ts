// Live retraining in the app with real components: a stored sim session replayed through the real engine pipeline,
// the shared Retrainer on the engine's decision clock, a real SQLite file and real ONNX models. The running model is
// deliberately poor (always +5 bps), so the challenger must win on the newest rows it never saw and be swapped in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetrainProgress, RetrainResult } from '../../src-shared/ipc.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { listDecisions } from '../model/modelRegistry.ts';
import { SIM_EPOCH_MS, writeSimSession } from '../model/simData.ts';
import { writeConstantModel } from '../model/testing/constantModel.ts';
import { openDb } from '../store/db.ts';
import { createApp } from './createApp.ts';
import { makeTrainer } from './trainer.ts';

let dir: string;
let dbFile: string;
let bad: string;
let sessionId: number;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-rt-'));
  dbFile = path.join(dir, 'app.db');
  bad = path.join(dir, 'bad.onnx');
  writeConstantModel(bad, 5, 'bad');
  const db = openDb(dbFile);
  sessionId = writeSimSession(db, {
    config: loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } }),
    // 20 min: the first round is due after 5 min of data, and the replay must still run (15 min of data at 60x)
    // while a loaded machine trains, so that decisions after the swap can be seen.
    durationMs: 20 * 60_000,
  });
  db.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('app live retraining (retrain.every)', () => {
  // A replay runs on the recording's clock (ReplayClock), not the wall clock: with a wall clock the decision timer
  // stamped decisions with today's time, and live retraining then found "session 1 covers 0 seconds".
  it('retrains on the engine clock, promotes on the shared holdout, swaps without dropping decisions', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'sim',
        db: dbFile,
        'model.path': bad,
        'retrain.every': '5m',
        'retrain.window': '5m',
        'features.decision_interval': '500ms',
        'train.rounds': 30,
        'train.folds': 2,
        'train.early_stopping_rounds': 10,
        'train.min_samples_leaf': 20,
        'train.min_horizons': 10, // a 5 min window: far below the default minimum (200 horizons, 34 min of data)
        'tuning.trials': 0,
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const results: RetrainResult[] = [];
    const progress: RetrainProgress[] = [];
    ctx.bus.on('retrain/result', (r) => results.push(r));
    ctx.bus.on('retrain/progress', (p) => progress.push(p));
    try {
      ctx.service.startAutoRetrain();
      await ctx.service.setSource({ kind: 'replay', sessionId, speed: 60 });
      // 20 min of data at 60x: the first round is due 5 min (data time) after the first decision.
      const deadline = Date.now() + 40_000;
      while (results.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(results.length, JSON.stringify(progress.slice(-3))).toBe(1);
      const r = results[0];
      expect(r).toMatchObject({ ok: true, status: 'accepted', beatsCurrent: true });
      // Both models' metrics on the same holdout rows.
      expect(r.current?.path).toBe(path.resolve(bad));
      expect(r.candidate?.metrics.holdoutRows).toBeGreaterThanOrEqual(50);
      expect(r.current?.metrics.holdoutRows).toBe(r.candidate?.metrics.holdoutRows);
      expect(r.candidate?.metrics.mse).toBeLessThan(r.current?.metrics.mse as number);
      expect(progress.find((p) => p.phase === 'done')?.message).toMatch(
        /PROMOTED .*champion mse .*challenger mse/,
      );
      expect(ctx.service.status().model?.path).toBe(r.candidate?.path);
      // Every decision is on the session's own clock (its 20 minutes from SIM_EPOCH_MS), never on today's.
      for (const p of ctx.service.feed.predictions.items) {
        expect(p.t).toBeGreaterThanOrEqual(SIM_EPOCH_MS);
        expect(p.t).toBeLessThanOrEqual(SIM_EPOCH_MS + 20 * 60_000);
      }
      const swappedAt = ctx.service.feed.predictions.items.at(-1)?.t as number;
      // Decisions go on with the new model.
      const until = Date.now() + 5_000;
      while ((ctx.service.feed.predictions.items.at(-1)?.t ?? 0) < swappedAt + 10_000 && Date.now() < until)
        await new Promise((res) => setTimeout(res, 100));
      const preds = ctx.service.feed.predictions.items;
      const after = preds.filter((p) => p.t > swappedAt);
      expect(after.length).toBeGreaterThan(10);
      expect(after.every((p) => Math.abs(p.value - 5) > 1e-6)).toBe(true);
      // One prediction per 500 ms grid point across the swap (none dropped).
      const around = preds.filter((p) => p.t >= swappedAt - 60_000);
      for (let i = 1; i < around.length; i++) expect(around[i].t - around[i - 1].t).toBe(500);
      const db = openDb(dbFile, { mustExist: true });
      try {
        const [dec] = listDecisions(db);
        expect(dec).toMatchObject({ promoted: true });
        expect((dec.championMetrics as { mse: number }).mse).toBeGreaterThan(
          (dec.challengerMetrics as { mse: number }).mse,
        );
      } finally {
        db.close();
      }
    } finally {
      await ctx.close();
    }
  }, 90_000);
});

describe('manual retrain (Retrain button)', () => {
  it('scores the candidate and the running model on the same rows the candidate never trained on', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      // 20 min of data: below the default training minimum (200 horizons, 34 min)
      overrides: {
        source: 'sim',
        db: dbFile,
        'train.rounds': 30,
        'train.folds': 2,
        'tuning.trials': 0,
        'train.min_horizons': 20,
      },
    });
    const db = openDb(dbFile, { mustExist: true });
    try {
      const phases: string[] = [];
      const out = await makeTrainer({ config, db })({
        jobId: 't1',
        sessionIds: [sessionId],
        currentModel: bad,
        outDir: path.join(dir, 'manual'),
        onProgress: (p) => phases.push(p.phase),
      });
      expect(out.holdout?.n).toBeGreaterThan(50);
      expect(out.holdout?.candidate.holdoutRows).toBe(out.holdout?.n);
      expect(out.holdout?.current.holdoutRows).toBe(out.holdout?.n);
      // The constant +5 bps model is far off on any period; the candidate is not.
      expect(out.holdout?.candidate.mse).toBeLessThan(out.holdout?.current.mse as number);
      expect(phases).toContain('validating');
    } finally {
      db.close();
    }
  }, 30_000);
});
