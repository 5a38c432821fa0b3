// A model on disk is a pair: X.onnx (the tree ensemble) and X.json (its metadata). This writes both.
import fs from 'node:fs';
import path from 'node:path';
import type { TreeEnsemble } from './gbdt/model.ts';
import { exportOnnx } from './onnx/exportOnnx.ts';
import { writeModelMeta, type ModelMeta } from './modelMeta.ts';

/** Writes `onnxPath` and the JSON beside it; returns the JSON's path. */
export function writeModel(onnxPath: string, ensemble: TreeEnsemble, meta: ModelMeta): string {
  if (!/\.onnx$/i.test(onnxPath)) throw new RangeError(`model path must end in .onnx, got ${onnxPath}`);
  if (meta.feature_set.names.length !== ensemble.nFeatures) {
    throw new RangeError(
      `metadata lists ${meta.feature_set.names.length} features, the model has ${ensemble.nFeatures}`,
    );
  }
  fs.mkdirSync(path.dirname(onnxPath), { recursive: true });
  exportOnnx(ensemble, onnxPath, {
    featureNames: meta.feature_set.names,
    featureSetVersion: meta.feature_set.version,
    docString: `L2 Desk GBDT: ${meta.label.kind} over ${meta.label.horizon_ms} ms`,
  });
  return writeModelMeta(onnxPath, meta);
}
