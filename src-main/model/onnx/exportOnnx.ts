// Writes a tree ensemble as an ONNX model with one ai.onnx.ml TreeEnsembleRegressor node: input `features`
// float [N, F], output `prediction` float [N, 1]. Splits are BRANCH_LEQ on float32 thresholds, the exact rule
// the trainer uses (float32(x) <= threshold goes to the true branch), so onnxruntime reproduces its predictions.
import fs from 'node:fs';
// onnx-proto is CommonJS: Node's ESM loader sees only its default export (named exports work under vitest only).
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { treeCount, type TreeEnsemble } from '../gbdt/model.ts';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;
const enc = new TextEncoder();

const ints = (name: string, v: ArrayLike<number>): OnnxTypes.IAttributeProto => ({
  name,
  type: A.INTS,
  ints: Array.from(v),
});
const floats = (name: string, v: ArrayLike<number>): OnnxTypes.IAttributeProto => ({
  name,
  type: A.FLOATS,
  floats: Array.from(v),
});
const str = (name: string, v: string): OnnxTypes.IAttributeProto => ({
  name,
  type: A.STRING,
  s: enc.encode(v),
});
const strs = (name: string, v: string[]): OnnxTypes.IAttributeProto => ({
  name,
  type: A.STRINGS,
  strings: v.map((x) => enc.encode(x)),
});

export interface OnnxExportInfo {
  /** Stored as ONNX metadata_props too, so that an .onnx separated from its .json still says what it expects. */
  featureNames: readonly string[];
  featureSetVersion: string;
  docString?: string;
}

export function ensembleToOnnx(m: TreeEnsemble, info: OnnxExportInfo): Uint8Array {
  if (info.featureNames.length !== m.nFeatures) {
    throw new RangeError(
      `exportOnnx: ${info.featureNames.length} feature names for a model of ${m.nFeatures} features`,
    );
  }
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const tTree: number[] = [];
  const tNode: number[] = [];
  const tWeight: number[] = [];
  const nt = treeCount(m);
  for (let t = 0; t < nt; t++) {
    const root = m.treeStart[t];
    for (let k = root; k < m.treeStart[t + 1]; k++) {
      const leaf = m.feature[k] < 0;
      treeIds.push(t);
      nodeIds.push(k - root);
      featureIds.push(leaf ? 0 : m.feature[k]);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : m.threshold[k]);
      trueIds.push(leaf ? 0 : m.left[k] - root);
      falseIds.push(leaf ? 0 : m.right[k] - root);
      if (leaf) {
        tTree.push(t);
        tNode.push(k - root);
        tWeight.push(m.value[k]);
      }
    }
  }
  if (nt === 0) {
    // A model with no trees (nothing to learn) still needs one tree: a single leaf of weight 0.
    treeIds.push(0);
    nodeIds.push(0);
    featureIds.push(0);
    modes.push('LEAF');
    values.push(0);
    trueIds.push(0);
    falseIds.push(0);
    tTree.push(0);
    tNode.push(0);
    tWeight.push(0);
  }
  const node: OnnxTypes.INodeProto = {
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    name: 'gbdt',
    input: ['features'],
    output: ['prediction'],
    attribute: [
      { name: 'n_targets', type: A.INT, i: 1 },
      str('aggregate_function', 'SUM'),
      str('post_transform', 'NONE'),
      floats('base_values', [m.base]),
      ints('nodes_treeids', treeIds),
      ints('nodes_nodeids', nodeIds),
      ints('nodes_featureids', featureIds),
      strs('nodes_modes', modes),
      floats('nodes_values', values),
      ints('nodes_truenodeids', trueIds),
      ints('nodes_falsenodeids', falseIds),
      ints('nodes_missing_value_tracks_true', new Array<number>(treeIds.length).fill(0)),
      ints('target_treeids', tTree),
      ints('target_nodeids', tNode),
      ints('target_ids', new Array<number>(tTree.length).fill(0)),
      floats('target_weights', tWeight),
    ],
  };
  const tensor = (
    name: string,
    dims: OnnxTypes.TensorShapeProto.IDimension[],
  ): OnnxTypes.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims } } },
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'l2desk',
    producerVersion: '1',
    docString: info.docString ?? '',
    opsetImport: [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    metadataProps: [
      { key: 'feature_set_version', value: info.featureSetVersion },
      { key: 'feature_names', value: JSON.stringify(info.featureNames) },
    ],
    graph: {
      name: 'l2desk_gbdt',
      node: [node],
      input: [tensor('features', [{ dimParam: 'N' }, { dimValue: m.nFeatures }])],
      output: [tensor('prediction', [{ dimParam: 'N' }, { dimValue: 1 }])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Writes the model to `file` (atomically: a reader never sees half a file). */
export function exportOnnx(m: TreeEnsemble, file: string, info: OnnxExportInfo): void {
  const bytes = ensembleToOnnx(m, info);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}
