// The features table (migration 100) filled by a real backtest: one stored feature row per stored prediction, at
// the same decision times, bit-identical to the dataset builder's rows; replayed-prediction passes store none; and a
// database written before migration 100 existed gains the tables when opened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDatasetFromDb } from '../model/dataset.ts';
import { Predictor } from '../model/predictor.ts';
import { appliedVersions, openDb, type Db } from '../store/db.ts';
import { MIGRATIONS } from '../store/migrations/index.ts';
import { PredictorModel } from './decisionModel.ts';
import { readRunFeatures } from './runFeatures.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-runfeatures-'));
const config = loadConfig({ ignoreUserFile: true });
let db: Db;
let sessionId: number;
let predictor: Predictor;

beforeAll(async () => {
  db = openDb(path.join(dir, 'f.db'));
  sessionId = writeSimSession(db, { seed: 31, durationMs: 150_000 }).sessionId;
  predictor = await Predictor.load((await testModelPath(db, sessionId, dir)).path, FEATURE_SET);
});
afterAll(async () => {
  await predictor?.close();
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const predictionTs = (d: Db, runId: number) =>
  d.prepare('SELECT ts FROM predictions WHERE run_id = ? ORDER BY ts, rowid').pluck().all(runId) as number[];

describe('run features', () => {
  it('stores the row behind every prediction, equal bit for bit to the dataset row at that time', async () => {
    const { passes } = await runBacktest({
      db,
      sessionId,
      config,
      model: new PredictorModel(predictor),
      thresholds: [0.2, 0.5],
      record: true,
    });
    const runId = passes[0].runId ?? NaN;
    const f = readRunFeatures(db, runId);
    expect(f.featureSet).toBe(FEATURE_SET.version);
    expect(f.names).toEqual([...FEATURE_SET.names]);
    const preds = predictionTs(db, runId);
    expect(preds.length).toBeGreaterThan(60);
    expect(Array.from(f.ts)).toEqual(preds);
    expect(f.X.length).toBe(preds.length * FEATURE_SET.names.length);

    const ds = buildDatasetFromDb(db, [sessionId], {
      decisionIntervalMs: config.features.decision_interval,
      horizonMs: config.model.horizon,
    });
    const at = new Map<number, number>();
    f.ts.forEach((t, i) => at.set(t, i));
    const nf = ds.nFeatures;
    let compared = 0;
    for (let i = 0; i < ds.nRows; i++) {
      const j = at.get(ds.ts[i]);
      if (j === undefined) continue;
      const stored = f.X.slice(j * nf, (j + 1) * nf);
      const built = ds.X.slice(i * nf, (i + 1) * nf);
      expect(Buffer.from(stored.buffer), `row at ${ds.ts[i]}`).toEqual(Buffer.from(built.buffer));
      compared++;
    }
    // Every training row (those with a full label window) has its stored twin: the comparison is not vacuous.
    expect(compared).toBe(ds.nRows);
    expect(compared).toBeGreaterThan(60);

    // The second pass replays the first pass's predictions: no features computed, none stored.
    const second = passes[1].runId ?? NaN;
    expect(predictionTs(db, second).length).toBe(preds.length);
    expect(readRunFeatures(db, second).ts.length).toBe(0);

    // Deleting a run takes its feature rows with it; the feature set is registered once.
    db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    expect(db.prepare('SELECT count(*) FROM features WHERE run_id = ?').pluck().get(runId)).toBe(0);
    expect(db.prepare('SELECT count(*) FROM feature_sets').pluck().get()).toBe(1);
  });

  it('a database written before migration 100 opens, gains the tables and keeps its runs', () => {
    const file = path.join(dir, 'old.db');
    const old = openDb(file, { migrations: MIGRATIONS.filter((m) => m.version !== 100) });
    const all = MIGRATIONS.map((m) => m.version).sort((x, y) => x - y);
    expect(appliedVersions(old)).toEqual(all.filter((v) => v !== 100));
    old
      .prepare(
        "INSERT INTO runs (kind, source, symbol, threshold, started_at) VALUES ('backtest', 'replay', 'BTCUSDT', 0.5, 1)",
      )
      .run();
    old.close();

    const now = openDb(file);
    expect(appliedVersions(now)).toEqual(all);
    const tables = now.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['features', 'feature_sets']));
    // The foreign keys resolve: a row for an existing run is accepted, one for a missing run is refused.
    now.prepare("INSERT INTO feature_sets (version, names) VALUES ('t', '[\"a\"]')").run();
    const ins = now.prepare(
      "INSERT INTO features (run_id, ts, feature_set, vals) VALUES (?, 5, 't', x'0000803f')",
    );
    ins.run(1);
    expect(() => ins.run(99)).toThrow(/FOREIGN KEY/);
    expect(Array.from(readRunFeatures(now, 1).X)).toEqual([1]);
    now.close();
  });
});
