// Quantile histogram binning: per feature at most `maxBins` bins whose upper edges are float32 values taken
// from the data, so a split "bin <= b" is exactly "float32(x) <= edge[b]" at inference (ONNX BRANCH_LEQ).
// NaN lands in the last bin, which every split sends right, as `NaN <= t` is false in ORT too.

export interface BinEdges {
  /** edges[f]: ascending float32 upper edges; bin b holds x <= edges[f][b] (and > edges[f][b-1]). */
  edges: Float32Array[];
  /** Bins per feature: edges.length + 1. */
  nBins: Uint16Array;
}

// Quantiles from an evenly strided sample: 50k values place 255 edges to within ~0.2% of rank.
const SAMPLE_LIMIT = 50_000;

/** Upper edges for each feature of a row-major float matrix X (n rows, nf features). */
export function computeBinEdges(X: Float32Array, n: number, nf: number, maxBins: number): BinEdges {
  if (maxBins < 2 || maxBins > 256) throw new RangeError(`maxBins must be in [2, 256], got ${maxBins}`);
  const stride = n > SAMPLE_LIMIT ? n / SAMPLE_LIMIT : 1;
  const m = Math.min(n, SAMPLE_LIMIT);
  // The sampled rows, read once each (row-major: one or two cache lines a row), into per-feature columns.
  const cols = new Float32Array(m * nf);
  for (let j = 0; j < m; j++) {
    const r = Math.floor(j * stride) * nf;
    for (let f = 0; f < nf; f++) cols[f * m + j] = X[r + f];
  }
  const buf = new Float32Array(m);
  const edges: Float32Array[] = [];
  const nBins = new Uint16Array(nf);
  for (let f = 0; f < nf; f++) {
    let k = 0;
    const co = f * m;
    for (let j = 0; j < m; j++) {
      const v = cols[co + j];
      if (v === v) buf[k++] = v;
    }
    const sorted = buf.subarray(0, k).sort();
    // Distinct values decide between "one bin per value" and quantiles.
    const distinct: number[] = [];
    for (let j = 0; j < k; j++) if (j === 0 || sorted[j] !== sorted[j - 1]) distinct.push(sorted[j]);
    let e: number[];
    if (distinct.length <= maxBins) {
      e = distinct.slice(0, Math.max(0, distinct.length - 1));
    } else {
      e = [];
      for (let b = 1; b < maxBins; b++) {
        const v = sorted[Math.floor((b * k) / maxBins) - 1];
        if (e.length === 0 || v > e[e.length - 1]) e.push(v);
      }
      // The last edge must leave values above it, or the top bin would be empty.
      if (e.length > 0 && e[e.length - 1] >= sorted[k - 1]) e.pop();
    }
    edges.push(Float32Array.from(e));
    nBins[f] = e.length + 1;
  }
  return { edges, nBins };
}

/** Bin index of one value: the first edge >= x, or the last bin for larger values and NaN. */
export function binOf(edges: Float32Array, x: number): number {
  if (!(x <= edges[edges.length - 1])) return edges.length; // also NaN and empty edges
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Column-major binned matrix: out[f * n + i] is the bin of row i, feature f. */
export function binMatrix(X: Float32Array, n: number, nf: number, be: BinEdges): Uint8Array {
  const out = new Uint8Array(n * nf);
  // Edges padded to 256 with +Infinity allow a fixed 8-step search: bin = number of edges below x. The steps add
  // comparison results as numbers, so the JIT emits no unpredictable branches (2x faster than if/else).
  const pad = new Float32Array(256 * nf).fill(Infinity);
  for (let f = 0; f < nf; f++) pad.set(be.edges[f], f * 256);
  const last = Int32Array.from(be.edges, (e) => e.length);
  // Rows outer: X is row-major, so it is read once, sequentially.
  for (let i = 0; i < n; i++) {
    const rx = i * nf;
    for (let f = 0; f < nf; f++) {
      const x = X[rx + f];
      const p = f * 256;
      let b = p;
      b += +(x > pad[b + 127]) << 7;
      b += +(x > pad[b + 63]) << 6;
      b += +(x > pad[b + 31]) << 5;
      b += +(x > pad[b + 15]) << 4;
      b += +(x > pad[b + 7]) << 3;
      b += +(x > pad[b + 3]) << 2;
      b += +(x > pad[b + 1]) << 1;
      b += +(x > pad[b]);
      out[f * n + i] = x === x ? b - p : last[f];
    }
  }
  return out;
}
