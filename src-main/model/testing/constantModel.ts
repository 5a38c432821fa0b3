// Test fixture: a tree-less model that always predicts one value (its base), with placeholder metadata, so tests can
// run real ONNX files whose output they know exactly (a deliberately poor champion, a fixed signal).
import { FEATURE_SET } from '../../features/featureSet.ts';
import type { TreeEnsemble } from '../gbdt/model.ts';
import { writeModel } from '../modelFiles.ts';
import type { ModelMeta } from '../modelMeta.ts';

export function constantEnsemble(value: number, nFeatures: number = FEATURE_SET.names.length): TreeEnsemble {
  return {
    nFeatures,
    base: value,
    treeStart: new Int32Array([0]),
    feature: new Int32Array(0),
    threshold: new Float32Array(0),
    left: new Int32Array(0),
    right: new Int32Array(0),
    value: new Float32Array(0),
    gain: new Float32Array(0),
    cover: new Float32Array(0),
  };
}

/** Metadata for the current FEATURE_SET with no training record and zero metrics (fits any ensemble in a test). */
export function placeholderMeta(name: string, horizonMs = 10_000): ModelMeta {
  return {
    format: 'l2desk-model',
    format_version: 1,
    name,
    feature_set: { version: FEATURE_SET.version, names: [...FEATURE_SET.names] },
    label: { kind: 'mid_log_return_bps', horizon_ms: horizonMs },
    training: { from_ts: 0, to_ts: 0, sessions: [] },
    params: {},
    n_trees: 0,
    metrics: {
      r2: 0,
      ic: 0,
      hit_rate: 0,
      mse: 0,
      n_train: 0,
      n_valid: 0,
      pred_quantiles: {},
      feature_importance: {},
    },
    created_at: 1,
  };
}

/** Writes `onnxPath` (+ its .json) as a model that always predicts `value` bps. */
export function writeConstantModel(
  onnxPath: string,
  value: number,
  name: string,
  horizonMs = 10_000,
): string {
  writeModel(onnxPath, constantEnsemble(value), placeholderMeta(name, horizonMs));
  return onnxPath;
}
