// A trained tree ensemble as flat typed arrays (all trees' nodes concatenated), and its prediction.
// Split semantics are the ONNX ones: go left when float32(x) <= threshold, right otherwise (NaN goes right).

export interface TreeEnsemble {
  nFeatures: number;
  /** Added to the sum of leaf values (ONNX base_values). */
  base: number;
  /** treeStart[t] is the index of tree t's root; treeStart[nTrees] is the node count. */
  treeStart: Int32Array;
  /** Split feature, or -1 on a leaf. */
  feature: Int32Array;
  threshold: Float32Array;
  /** Absolute node indices of the children. */
  left: Int32Array;
  right: Int32Array;
  /** Leaf value (already scaled by the learning rate and ensemble weight); 0 on splits. */
  value: Float32Array;
  /** Loss reduction of each split (feature importance); 0 on leaves. */
  gain: Float32Array;
  /** Rows reaching each node while training (ONNX hit rates, diagnostics). */
  cover: Float32Array;
}

export function treeCount(m: TreeEnsemble): number {
  return m.treeStart.length - 1;
}

/** Prediction of one row, X[off .. off + nFeatures) (float32 values). */
export function predictRow(m: TreeEnsemble, X: Float32Array, off = 0): number {
  const { feature, threshold, left, right, value, treeStart } = m;
  const nt = treeStart.length - 1;
  let s = 0;
  for (let t = 0; t < nt; t++) {
    let k = treeStart[t];
    let f = feature[k];
    while (f >= 0) {
      k = X[off + f] <= threshold[k] ? left[k] : right[k];
      f = feature[k];
    }
    s += value[k];
  }
  return m.base + s;
}

/** Predictions of n rows of a row-major float32 matrix. */
export function predict(m: TreeEnsemble, X: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = predictRow(m, X, i * m.nFeatures);
  return out;
}

/** Total split gain per feature, normalised to sum to 1. */
export function featureImportance(m: TreeEnsemble): Float64Array {
  const imp = new Float64Array(m.nFeatures);
  for (let k = 0; k < m.feature.length; k++) if (m.feature[k] >= 0) imp[m.feature[k]] += m.gain[k];
  let sum = 0;
  for (const v of imp) sum += v;
  if (sum > 0) for (let f = 0; f < imp.length; f++) imp[f] /= sum;
  return imp;
}

/** Averages K ensembles into one: every leaf weight scaled by 1/K, bases averaged. */
export function averageEnsembles(models: readonly TreeEnsemble[]): TreeEnsemble {
  if (models.length === 0) throw new RangeError('averageEnsembles needs at least one model');
  const nf = models[0].nFeatures;
  if (models.some((m) => m.nFeatures !== nf))
    throw new RangeError('averageEnsembles: models differ in feature count');
  if (models.length === 1) return models[0];
  const K = models.length;
  const nodes = models.reduce((a, m) => a + m.feature.length, 0);
  const trees = models.reduce((a, m) => a + treeCount(m), 0);
  const out: TreeEnsemble = {
    nFeatures: nf,
    base: models.reduce((a, m) => a + m.base, 0) / K,
    treeStart: new Int32Array(trees + 1),
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    value: new Float32Array(nodes),
    gain: new Float32Array(nodes),
    cover: new Float32Array(nodes),
  };
  let nodeOff = 0;
  let treeOff = 0;
  for (const m of models) {
    const nn = m.feature.length;
    for (let t = 0; t < treeCount(m); t++) out.treeStart[treeOff + t] = m.treeStart[t] + nodeOff;
    for (let k = 0; k < nn; k++) {
      const leaf = m.feature[k] < 0;
      out.feature[nodeOff + k] = m.feature[k];
      out.threshold[nodeOff + k] = m.threshold[k];
      out.left[nodeOff + k] = leaf ? -1 : m.left[k] + nodeOff;
      out.right[nodeOff + k] = leaf ? -1 : m.right[k] + nodeOff;
      out.value[nodeOff + k] = m.value[k] / K;
      out.gain[nodeOff + k] = m.gain[k] / K;
      out.cover[nodeOff + k] = m.cover[k];
    }
    nodeOff += nn;
    treeOff += treeCount(m);
  }
  out.treeStart[trees] = nodes;
  return out;
}
