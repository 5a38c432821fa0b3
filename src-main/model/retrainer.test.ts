// The retrainer against a real SQLite file of simulated data and real models: a challenger replaces a champion
// only when it predicts the newest (unseen) data better, and every decision is stored with both metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { buildDataset } from './dataset.ts';
import { DEFAULT_PARAMS, trainGbdt } from './gbdt/train.ts';
import { writeModel } from './modelFiles.ts';
import type { ModelMeta } from './modelMeta.ts';
import { getChampion, listDecisions, listModels } from './modelRegistry.ts';
import { Retrainer, retrainerFromConfig, type RetrainerOptions } from './retrainer.ts';
import { SIM_EPOCH_MS, writeSimSession } from './simData.ts';
import { placeholderMeta, writeConstantModel } from './testing/constantModel.ts';

const H = 10_000;
const SPAN = 40 * 60_000;
const NOW = SIM_EPOCH_MS + SPAN;
let dir: string;
let dbFile: string;
let sessionId: number;

function options(championPath: string, outDir: string): RetrainerOptions {
  return {
    dbFile,
    championPath,
    featureSet: FEATURE_SET,
    everyMs: 10 * 60_000,
    windowMs: SPAN,
    evalFraction: 0.25,
    horizonMs: H,
    decisionIntervalMs: 1000,
    settings: {
      params: { ...DEFAULT_PARAMS, rounds: 40, earlyStoppingRounds: 10 },
      folds: 2,
      trials: 0,
      ensemble: 1,
    },
    outDir,
  };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2retrain-'));
  dbFile = path.join(dir, 'sim.db');
  const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
  const db = openDb(dbFile);
  sessionId = writeSimSession(db, { config, durationMs: SPAN });
  db.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Retrainer', () => {
  it('is built from the config only when retrain.every is set', () => {
    const o = { dbFile, championPath: path.join(dir, 'x.onnx'), featureSet: FEATURE_SET, outDir: dir };
    expect(retrainerFromConfig(loadConfig({ ignoreUserFile: true }), o)).toBeNull();
    const r = retrainerFromConfig(
      loadConfig({ ignoreUserFile: true, overrides: { 'retrain.every': '30m', 'retrain.window': '60m' } }),
      o,
    );
    expect(r).toBeInstanceOf(Retrainer);
    expect(r?.running).toBe(false);
  });

  it('promotes a challenger that beats the champion on unseen data, and stores the decision', async () => {
    // A poor champion: always predicts +5 bps.
    const bad = path.join(dir, 'bad.onnx');
    writeConstantModel(bad, 5, 'bad', H);
    const r = new Retrainer(options(bad, path.join(dir, 'out1')));
    const d = await r.runOnce(NOW);
    expect(d.promoted).toBe(true);
    expect(d.challenger.metrics.mse).toBeLessThan(d.champion.metrics.mse);
    expect(d.nEval).toBeGreaterThan(400);
    // Independent reference for the champion's score: the constant +5 bps against the labels of the dataset
    // rows inside the evaluation window [evalFrom, now - H], rebuilt here from the stored session.
    const refDb = openDb(dbFile);
    const all = buildDataset(
      [{ sessionId, tickSize: '0.1', events: { [Symbol.iterator]: () => readSession(refDb, sessionId) } }],
      { decisionIntervalMs: 1000, horizonMs: H },
    );
    refDb.close();
    const evalY = [...all.y].filter((_, i) => all.ts[i] >= d.evalFrom && all.ts[i] <= NOW - H);
    expect(d.nEval).toBe(evalY.length);
    const constantMse = evalY.reduce((s, y) => s + (y - 5) ** 2, 0) / evalY.length;
    expect(d.champion.metrics.mse).toBeCloseTo(constantMse, 6);
    expect(d.evalFrom).toBe(NOW - SPAN / 4);
    expect(d.modelPath).toBe(d.challenger.path);
    expect(r.currentModel).toBe(d.challenger.path);
    expect(fs.existsSync(d.challenger.path.replace(/\.onnx$/, '.json'))).toBe(true);
    // The challenger was trained only on data whose labels end before the evaluation window.
    const cm = JSON.parse(
      fs.readFileSync(d.challenger.path.replace(/\.onnx$/, '.json'), 'utf8'),
    ) as ModelMeta;
    expect(cm.training.to_ts + H).toBeLessThanOrEqual(d.evalFrom);
    const db = openDb(dbFile);
    try {
      expect(getChampion(db, FEATURE_SET.version, H)?.path).toBe(d.challenger.path);
      expect(listModels(db).find((m) => m.path === bad)?.status).toBe('retired');
      const [dec] = listDecisions(db);
      expect(dec).toMatchObject({
        promoted: true,
        championId: d.champion.id,
        challengerId: d.challenger.id,
        evalTo: NOW,
      });
      expect((dec.championMetrics as { mse: number }).mse).toBeCloseTo(d.champion.metrics.mse, 10);
      expect((dec.challengerMetrics as { mse: number }).mse).toBeCloseTo(d.challenger.metrics.mse, 10);
    } finally {
      db.close();
    }
    // retrain.every has not elapsed
    expect(await r.maybeRun(NOW + 60_000)).toBeNull();
  });

  it('keeps a champion that predicts the evaluation window better, and rejects the challenger', async () => {
    // A champion that has seen the evaluation window itself (deliberately unfair): the challenger cannot beat it.
    const db = openDb(dbFile);
    const ds = buildDataset(
      [{ sessionId, tickSize: '0.1', events: { [Symbol.iterator]: () => readSession(db, sessionId) } }],
      {
        decisionIntervalMs: 1000,
        horizonMs: H,
      },
    );
    db.close();
    const cheat = trainGbdt(
      { X: ds.X, y: ds.y, n: ds.nRows, nFeatures: ds.nFeatures },
      {
        ...DEFAULT_PARAMS,
        rounds: 300,
        maxDepth: 8,
        minSamplesLeaf: 2,
        learningRate: 0.2,
        rowSubsample: 1,
        earlyStoppingRounds: 0,
      },
    ).model;
    const strong = path.join(dir, 'strong.onnx');
    writeModel(strong, cheat, placeholderMeta('strong', H));
    const r = new Retrainer(options(strong, path.join(dir, 'out2')));
    const d = await r.runOnce(NOW);
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/champion holds/);
    expect(d.modelPath).toBe(path.resolve(strong));
    const db2 = openDb(dbFile);
    try {
      expect(getChampion(db2, FEATURE_SET.version, H)?.path).toBe(path.resolve(strong));
      expect(listModels(db2).find((m) => m.path === d.challenger.path)?.status).toBe('rejected');
      expect(listDecisions(db2).map((x) => x.promoted)).toEqual([true, false]);
    } finally {
      db2.close();
    }
  });
});
