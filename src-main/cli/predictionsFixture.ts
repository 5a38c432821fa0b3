// Test fixture for the predictions/diagnose commands: a real SQLite file with a synthetic session written by
// SessionWriter, and a real ONNX model trained by our GBDT trainer on features built from it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FEATURE_SET } from '../features/featureSet.ts';
import { syntheticEvents } from '../features/testing/syntheticMarket.ts';
import { buildDatasetFromDb } from '../model/dataset.ts';
import { predict } from '../model/gbdt/model.ts';
import { DEFAULT_PARAMS, trainGbdt } from '../model/gbdt/train.ts';
import { quantiles } from '../model/metrics.ts';
import type { ModelMeta } from '../model/modelMeta.ts';
import { writeModel } from '../model/modelFiles.ts';
import { openDb } from '../store/db.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';

export interface Fixture {
  dir: string;
  db: string;
  model: string;
  /** Same trees, metadata listing two features swapped: a model of another feature set. */
  mismatched: string;
  sessionId: number;
  cleanup(): void;
}

export function makeFixture(): Fixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2pred-'));
  const dbFile = path.join(dir, 'data.db');
  const T0 = 1_700_000_000_000;
  const db = openDb(dbFile);
  const events = syntheticEvents({ durationMs: 400_000, seed: 21, gapsAtMs: [250_000] });
  const sessionId = storeEvents(db, events, { startedAt: T0, endedAt: T0 + 400_000 });
  const horizonMs = 10_000;
  const ds = buildDatasetFromDb(db, [sessionId], { decisionIntervalMs: 1000, horizonMs });
  db.close();
  const { model } = trainGbdt(
    { X: ds.X, y: ds.y, n: ds.nRows, nFeatures: ds.nFeatures },
    {
      ...DEFAULT_PARAMS,
      rounds: 40,
      maxDepth: 3,
      minSamplesLeaf: 10,
      earlyStoppingRounds: 0,
      rowSubsample: 1,
      featureSubsample: 1,
    },
  );
  const predQ = quantiles(predict(model, ds.X, ds.nRows));
  const meta = (names: readonly string[], name: string): ModelMeta => ({
    format: 'l2desk-model',
    format_version: 1,
    name,
    feature_set: { version: FEATURE_SET.version, names: [...names] },
    label: { kind: 'mid_log_return_bps', horizon_ms: horizonMs },
    training: {
      from_ts: ds.ts[0],
      to_ts: ds.ts[ds.nRows - 1],
      sessions: [sessionId],
      decision_interval_ms: 1000,
    },
    params: { rounds: 40, max_depth: 3 },
    n_trees: 40,
    metrics: {
      r2: 0,
      ic: 0,
      hit_rate: 0.5,
      mse: 1,
      n_train: ds.nRows,
      n_valid: ds.nRows,
      pred_quantiles: predQ,
      feature_importance: {},
    },
    created_at: T0,
  });
  const modelPath = path.join(dir, 'm.onnx');
  writeModel(modelPath, model, meta(FEATURE_SET.names, 'fixture'));
  const swapped = [...FEATURE_SET.names];
  [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
  const mismatched = path.join(dir, 'other.onnx');
  writeModel(mismatched, model, meta(swapped, 'other'));
  return {
    dir,
    db: dbFile,
    model: modelPath,
    mismatched,
    sessionId,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs a command's run(argv) and returns its exit code and what it printed on stdout (console.log). */
export async function capture(
  run: (argv: string[]) => Promise<number>,
  argv: string[],
): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  };
  try {
    const code = await run(argv);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = orig;
  }
}
