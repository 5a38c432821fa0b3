// For tests and the benchmark when no bundled model exists yet: trains a small GBDT on a stored session with the
// model engineer's dataset builder and trainer, and exports it as a real X.onnx + X.json pair.
import { FEATURE_SET } from '../../features/featureSet.ts';
import { buildDataset } from '../../model/dataset.ts';
import { DEFAULT_PARAMS, trainGbdt } from '../../model/gbdt/train.ts';
import { writeModel } from '../../model/modelFiles.ts';
import type { Db } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { getSession } from '../../store/sessions.ts';

export function trainTinyModel(
  db: Db,
  sessionId: number,
  onnxPath: string,
  o: { decisionIntervalMs?: number; horizonMs?: number; rounds?: number } = {},
): string {
  const s = getSession(db, sessionId);
  if (!s) throw new Error(`no session ${sessionId}`);
  const horizonMs = o.horizonMs ?? 10_000;
  const decisionIntervalMs = o.decisionIntervalMs ?? 1000;
  const ds = buildDataset([{ sessionId, tickSize: s.tickSize, events: readSession(db, sessionId) }], {
    decisionIntervalMs,
    horizonMs,
  });
  if (ds.nRows < 100) throw new Error(`session ${sessionId} gives only ${ds.nRows} training rows`);
  const { model } = trainGbdt(
    { X: ds.X, y: ds.y, n: ds.nRows, nFeatures: ds.nFeatures },
    { ...DEFAULT_PARAMS, rounds: o.rounds ?? 30, maxDepth: 3, minSamplesLeaf: 20, earlyStoppingRounds: 0 },
  );
  writeModel(onnxPath, model, {
    format: 'l2desk-model',
    format_version: 1,
    name: 'tiny-test-model',
    feature_set: { version: FEATURE_SET.version, names: [...FEATURE_SET.names] },
    label: { kind: 'mid_log_return_bps', horizon_ms: horizonMs },
    training: {
      from_ts: ds.ts[0],
      to_ts: ds.ts[ds.nRows - 1],
      sessions: [sessionId],
      decision_interval_ms: decisionIntervalMs,
    },
    params: { rounds: o.rounds ?? 30, max_depth: 3 },
    n_trees: model.treeStart.length - 1,
    metrics: {
      r2: 0,
      ic: 0,
      hit_rate: 0,
      mse: 0,
      n_train: ds.nRows,
      n_valid: 0,
      pred_quantiles: {},
      feature_importance: {},
    },
    created_at: 0,
  });
  return onnxPath;
}
