// Gradient-boosted regression trees with L2 loss on a histogram-binned matrix (the LightGBM/XGBoost "hist" method):
// per node a gradient histogram per feature; only the smaller child's histogram is built from its rows, the
// sibling's is the parent's minus it; rows are partitioned in place in one index array. Leaves grow best-first
// under a depth limit and an optional leaf limit; without a leaf limit this gives the same tree as depth-wise growth.
// A histogram bin is one float64 holding count * 2^S + (sum of gradients quantized to integers): integer sums are
// exact in a double below 2^53, so one add per row and feature accumulates both, the histograms are half the size
// (in L1 cache), and the subtraction trick stays exact. Gradients keep 52 - 2 * ceil(log2(n + 1)) bits (16 at 230k
// rows), which moves split gains by ~1e-5 relative; leaf values are computed from the exact gradients. Each training
// row records the leaf it reaches; the predictions and next gradients then take one sequential pass per tree.
import { binMatrix, computeBinEdges, type BinEdges } from './binning.ts';
import type { TreeEnsemble } from './model.ts';
import { Prng } from './prng.ts';

export interface GbdtParams {
  rounds: number;
  maxDepth: number;
  /** 0: no limit beyond the depth. */
  maxLeaves: number;
  learningRate: number;
  /** Minimum rows in each child of a split. */
  minSamplesLeaf: number;
  /** L2 regularisation of leaf values (lambda): value = -G / (n + lambda). */
  l2: number;
  /** Fraction of rows drawn (Bernoulli) for each tree. */
  rowSubsample: number;
  /** Fraction of features drawn for each tree. */
  featureSubsample: number;
  /** Stop when the validation loss has not improved for this many rounds; 0 disables. */
  earlyStoppingRounds: number;
  /** Histogram bins per feature, 2..256. */
  bins: number;
  seed: number;
}

export const DEFAULT_PARAMS: GbdtParams = {
  rounds: 300,
  maxDepth: 6,
  maxLeaves: 0,
  learningRate: 0.05,
  minSamplesLeaf: 50,
  l2: 1,
  rowSubsample: 0.8,
  featureSubsample: 0.8,
  earlyStoppingRounds: 30,
  bins: 64,
  seed: 1,
};

/** Row-major float32 features and their targets. */
export interface Matrix {
  X: Float32Array;
  y: Float32Array | Float64Array;
  n: number;
  nFeatures: number;
}

export interface RoundInfo {
  round: number;
  trainLoss: number;
  /** NaN without a validation set. */
  validLoss: number;
}

export interface TrainOptions {
  valid?: Matrix;
  /** Precomputed bin edges (e.g. shared by several trials on the same data). */
  binEdges?: BinEdges;
  /** Precomputed column-major binned training matrix matching binEdges. */
  binned?: Uint8Array;
  onRound?: (r: RoundInfo) => void;
  /** Polled once per round; true stops training (result.stopped = 'cancelled'). */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  model: TreeEnsemble;
  /** Rounds kept in the model (best validation round + 1 when early stopping). */
  bestRounds: number;
  roundsRun: number;
  trainLoss: number[];
  validLoss: number[];
  stopped: 'rounds' | 'early' | 'cancelled';
}

const HIST_STRIDE = 256; // bins per feature in a histogram buffer
/** Byte of a 32-bit word holding its low 8 bits: 0 on little-endian machines (the histogram kernels read words). */
const LOW_BYTE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 3;

interface Split {
  feature: number;
  bin: number;
  gain: number;
  leftG: number;
  leftN: number;
}

interface Open {
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  /** Sum of quantized gradients of the node's rows. */
  sumG: number;
  count: number;
  node: number;
  split: Split | null;
}

export function validateParams(p: GbdtParams): void {
  const bad = (k: string, what: string) => {
    throw new RangeError(`gbdt param ${k}: ${what}`);
  };
  if (!(p.rounds >= 1)) bad('rounds', 'must be >= 1');
  if (!(p.maxDepth >= 1 && p.maxDepth <= 24)) bad('maxDepth', 'must be in 1..24');
  if (!(p.maxLeaves === 0 || p.maxLeaves >= 2)) bad('maxLeaves', 'must be 0 (no limit) or >= 2');
  if (!(p.learningRate > 0 && p.learningRate <= 1)) bad('learningRate', 'must be in (0, 1]');
  if (!(p.minSamplesLeaf >= 1)) bad('minSamplesLeaf', 'must be >= 1');
  if (!(p.l2 >= 0)) bad('l2', 'must be >= 0');
  if (!(p.rowSubsample > 0 && p.rowSubsample <= 1)) bad('rowSubsample', 'must be in (0, 1]');
  if (!(p.featureSubsample > 0 && p.featureSubsample <= 1)) bad('featureSubsample', 'must be in (0, 1]');
  if (!(p.bins >= 2 && p.bins <= 256)) bad('bins', 'must be in 2..256');
}

export function trainGbdt(data: Matrix, params: GbdtParams, opts: TrainOptions = {}): TrainResult {
  validateParams(params);
  const { n, nFeatures: nf } = data;
  // One element type for the hot loops (a Float32Array | Float64Array union makes every access polymorphic).
  const y = Float64Array.from(data.y);
  if (n < 2) throw new RangeError(`gbdt: need at least 2 training rows, got ${n}`);
  if (data.X.length !== n * nf)
    throw new RangeError(`gbdt: X has ${data.X.length} values, expected ${n} x ${nf}`);
  const be = opts.binEdges ?? computeBinEdges(data.X, n, nf, params.bins);
  const B = opts.binned ?? binMatrix(data.X, n, nf, be);
  const valid = opts.valid;
  const nv = valid?.n ?? 0;
  const Bv = valid ? binMatrix(valid.X, nv, nf, be) : new Uint8Array(0);
  const yv = valid ? Float64Array.from(valid.y) : new Float64Array(0);

  const lr = params.learningRate;
  const lambda = params.l2;
  const minLeaf = params.minSamplesLeaf;
  const maxLeaves = params.maxLeaves > 0 ? params.maxLeaves : Infinity;
  const rng = new Prng(params.seed);

  let base = 0;
  for (let i = 0; i < n; i++) base += y[i];
  base = Math.fround(base / n);

  const pred = new Float64Array(n).fill(base);
  const predV = new Float64Array(nv).fill(base);
  const g = new Float64Array(n);
  /** Per row: COUNT_UNIT + quantized gradient (see the header). */
  const gp = new Float64Array(n);
  const bitsN = Math.ceil(Math.log2(n + 1));
  const COUNT_UNIT = 2 ** (53 - bitsN);
  const INV_COUNT_UNIT = 1 / COUNT_UNIT; // exact: a power of two
  // Capped at 30 so that a quantized gradient fits an int32 (`| 0`).
  const gradBits = Math.min(30, 52 - 2 * bitsN);
  if (gradBits < 6)
    throw new RangeError(`gbdt: ${n} rows are too many for one training set (limit ${2 ** 23})`);
  let qscale = 1;
  const idx = new Int32Array(n);
  /** Per row: the leaf (node index) it reached in the tree being grown. */
  const leafOf = new Int32Array(n);
  const tmp = new Int32Array(n);
  const inSample = new Uint8Array(n);
  const allFeatures = Int32Array.from({ length: nf }, (_, f) => f);
  const nFeatSample = Math.max(1, Math.round(params.featureSubsample * nf));

  // Histogram buffers are recycled: at most one per open leaf is alive.
  const pool: Float64Array[] = [];
  const takeHist = () => pool.pop() ?? new Float64Array(histLen);

  // The ensemble under construction (JS arrays; packed into typed arrays at the end).
  const feature: number[] = [];
  const binThr: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const gainArr: number[] = [];
  const cover: number[] = [];
  const treeStart: number[] = [];

  let feats = allFeatures;

  // Row-major copy of the bins for histogram building: one row's bins are contiguous, so each row costs one
  // index load and one gradient load for all its features (measured ~2x faster than per-feature passes). Rows are
  // padded to a multiple of 8 bytes and read as pairs of 32-bit words, eight bins per step; the padding bytes count
  // into spare histogram columns past the last feature, which nothing reads.
  const nw = ((nf + 7) >> 3) * 2;
  const rowBytes = nw * 4;
  const histLen = rowBytes * HIST_STRIDE;
  const Br = new Uint8Array(n * rowBytes);
  for (let f = 0; f < nf; f++) {
    const off = f * n;
    const at = f ^ LOW_BYTE; // feature 4w + j is bits 8j..8j+7 of word w
    for (let i = 0; i < n; i++) Br[i * rowBytes + at] = B[off + i];
  }
  const Bw = new Int32Array(Br.buffer);
  const histOff = new Int32Array(nf);
  const histByte = new Int32Array(nf);
  const buildHist = (h: Float64Array, start: number, end: number) => {
    const nfs = feats.length;
    for (let j = 0; j < nfs; j++) {
      const ho = feats[j] * HIST_STRIDE;
      h.fill(0, ho, ho + be.nBins[feats[j]]);
      histOff[j] = ho;
      histByte[j] = feats[j] ^ LOW_BYTE;
    }
    h.fill(0, nf * HIST_STRIDE, histLen); // the padding columns: keeps their garbage bounded
    if (nfs === nf) {
      // Only a root holds every row; it also quantizes this round's gradients (see growTree).
      if (start === 0 && end === n) histRootQuantize(h, n, g, gp, qscale, COUNT_UNIT, Bw, nw);
      else histAllFeatures(h, idx, start, end, gp, Bw, nw);
    } else histSomeFeatures(h, idx, start, end, gp, Br, rowBytes, histByte, histOff, nfs);
  };

  const bestSplit = (h: Float64Array, G: number, C: number, depth: number): Split | null => {
    if (depth >= params.maxDepth || C < 2 * minLeaf) return null;
    // Gains in quantized units while searching (x qscale^2: only the numerators scale); the stored gain is converted back.
    const parentScore = (G * G) / (C + lambda);
    let bestGain = 1e-12 * Math.max(1, parentScore);
    let bestF = -1;
    let bestB = 0;
    let bestGL = 0;
    let bestCL = 0;
    for (let j = 0; j < feats.length; j++) {
      const f = feats[j];
      const ho = f * HIST_STRIDE;
      const nb = be.nBins[f];
      let P = 0;
      for (let b = 0; b < nb - 1; b++) {
        const hb = h[ho + b];
        // An empty bin repeats the previous split (same rows each side, same gain), which `>` would not take.
        if (hb === 0) continue;
        P += hb;
        const CL = Math.round(P * INV_COUNT_UNIT);
        if (CL < minLeaf) continue;
        const GL = P - CL * COUNT_UNIT;
        const CR = C - CL;
        if (CR < minLeaf) break;
        const GR = G - GL;
        const gain = (GL * GL) / (CL + lambda) + (GR * GR) / (CR + lambda) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestF = f;
          bestB = b;
          bestGL = GL;
          bestCL = CL;
        }
      }
    }
    if (bestF < 0) return null;
    return { feature: bestF, bin: bestB, gain: bestGain / (qscale * qscale), leftG: bestGL, leftN: bestCL };
  };

  const newNode = (C: number): number => {
    feature.push(-1);
    binThr.push(0);
    left.push(-1);
    right.push(-1);
    value.push(0);
    gainArr.push(0);
    cover.push(C);
    return feature.length - 1;
  };

  // Leaves record their rows in leafOf; the predictions move once per tree, in one sequential pass (applyTree).
  const finishLeaf = (o: Open) => {
    const G = leafSum(g, idx, o.start, o.end, leafOf, o.node);
    value[o.node] = Math.fround((-lr * G) / (o.count + lambda));
    pool.push(o.hist);
  };

  const splitToLeaves = (o: Open, s: Split, ln: number, rn: number) => {
    splitSums(g, idx, o.start, o.end, B, s.feature * n, s.bin, leafOf, ln, rn, acc);
    const gs = acc[0];
    const gl = acc[1];
    value[ln] = Math.fround((-lr * gl) / (s.leftN + lambda));
    value[rn] = Math.fround((-lr * (gs - gl)) / (o.count - s.leftN + lambda));
    pool.push(o.hist);
  };

  const growTree = () => {
    // Rows of this tree.
    let m = params.rowSubsample < 1 ? sampleRows(idx, inSample, n, params.rowSubsample, rng) : 0;
    if (m < 2) {
      identity(idx, n);
      inSample.fill(1);
      m = n;
    }
    // Features of this tree.
    if (nFeatSample < nf) {
      const perm = allFeatures.slice();
      for (let j = 0; j < nFeatSample; j++) {
        const r = j + Math.floor(rng.next() * (nf - j));
        const t = perm[j];
        perm[j] = perm[r];
        perm[r] = t;
      }
      feats = perm.subarray(0, nFeatSample).sort();
    } else feats = allFeatures;

    // g holds this round's gradients; gp gets them quantized by the root's histogram pass when that pass reads
    // every row, else here.
    if (m < n || feats.length < nf) quantize(gp, g, n, qscale, COUNT_UNIT);
    const root = newNode(m);
    treeStart.push(root);
    const rootHist = takeHist();
    buildHist(rootHist, 0, m);
    // Every row lands in one bin of feature feats[0]: the root's gradient sum is that column's sum.
    const sumG = columnSum(rootHist, feats[0] * HIST_STRIDE, be.nBins[feats[0]], COUNT_UNIT, m);
    const open: Open[] = [
      {
        start: 0,
        end: m,
        depth: 0,
        hist: rootHist,
        sumG,
        count: m,
        node: root,
        split: bestSplit(rootHist, sumG, m, 0),
      },
    ];
    let leaves = 1;
    while (open.length > 0) {
      // Best-first: split the open leaf with the largest gain; leaves without a split are final.
      let bi = -1;
      for (let j = 0; j < open.length; j++) {
        const s = open[j].split;
        if (s && (bi < 0 || s.gain > (open[bi].split as Split).gain)) bi = j;
      }
      if (bi < 0 || leaves >= maxLeaves) {
        for (const o of open) finishLeaf(o);
        break;
      }
      const o = open[bi];
      open[bi] = open[open.length - 1];
      open.pop();
      const s = o.split as Split;
      const d = o.depth + 1;
      feature[o.node] = s.feature;
      binThr[o.node] = s.bin;
      gainArr[o.node] = s.gain;
      // Counts from the histogram are exact.
      const cL = s.leftN;
      const cR = o.count - cL;
      if ((d >= params.maxDepth || cL < 2 * minLeaf) && (d >= params.maxDepth || cR < 2 * minLeaf)) {
        // Both children are final leaves (typically the last level): their values from one pass over the rows,
        // with no partition and no histograms.
        const ln = newNode(cL);
        const rn = newNode(cR);
        left[o.node] = ln;
        right[o.node] = rn;
        splitToLeaves(o, s, ln, rn);
        leaves++;
        continue;
      }
      // Stable in-place partition of the node's rows: left rows stay in idx, right rows go through tmp.
      const mid = partitionRows(idx, tmp, o.start, o.end, B, s.feature * n, s.bin);
      const nL = mid - o.start;
      const nR = o.end - mid;
      const ln = newNode(nL);
      const rn = newNode(nR);
      left[o.node] = ln;
      right[o.node] = rn;
      // Subtraction trick: build the smaller child, the larger one is parent - smaller (in the parent's buffer).
      const small = takeHist();
      const leftSmall = nL <= nR;
      if (leftSmall) buildHist(small, o.start, mid);
      else buildHist(small, mid, o.end);
      const big = o.hist;
      for (let j = 0; j < feats.length; j++) {
        const ho = feats[j] * HIST_STRIDE;
        const top = ho + be.nBins[feats[j]];
        for (let b = ho; b < top; b++) big[b] -= small[b];
      }
      const hL = leftSmall ? small : big;
      const hR = leftSmall ? big : small;
      const GL = s.leftG;
      const GR = o.sumG - GL;
      open.push({
        start: o.start,
        end: mid,
        depth: d,
        hist: hL,
        sumG: GL,
        count: nL,
        node: ln,
        split: bestSplit(hL, GL, nL, d),
      });
      open.push({
        start: mid,
        end: o.end,
        depth: d,
        hist: hR,
        sumG: GR,
        count: nR,
        node: rn,
        split: bestSplit(hR, GR, nR, d),
      });
      leaves++;
    }
    // Rows left out of this tree's sample still get its prediction.
    if (m < n) assignLeaves(leafOf, B, n, inSample, root, feature, binThr, left, right);
    if (nv > 0) addTreeBinned(predV, Bv, nv, null, root, feature, binThr, left, right, value);
  };

  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  const nodeCountAfter: number[] = [];
  let bestLoss = Infinity;
  let bestRound = -1;
  let stopped: TrainResult['stopped'] = 'rounds';
  const acc = new Float64Array(2);
  const gv = new Float64Array(nv);
  residuals(pred, y, g, n, acc);
  let gmax = acc[1];
  for (let round = 0; round < params.rounds; round++) {
    if (opts.shouldStop?.()) {
      stopped = 'cancelled';
      break;
    }
    // g and gmax hold this round's gradients (computed with the previous round's loss).
    qscale = gmax > 0 ? 2 ** gradBits / gmax : 1;
    const root = feature.length;
    growTree();
    nodeCountAfter.push(feature.length);
    applyTree(pred, leafOf, Float64Array.from(value.slice(root)), root, y, g, n, acc);
    const tl = acc[0] / n;
    gmax = acc[1];
    let vl = NaN;
    if (valid) {
      residuals(predV, yv, gv, nv, acc);
      vl = acc[0] / nv;
    }
    trainLoss.push(tl);
    validLoss.push(vl);
    opts.onRound?.({ round, trainLoss: tl, validLoss: vl });
    if (valid && nv > 0) {
      if (vl < bestLoss) {
        bestLoss = vl;
        bestRound = round;
      } else if (params.earlyStoppingRounds > 0 && round - bestRound >= params.earlyStoppingRounds) {
        stopped = 'early';
        break;
      }
    } else bestRound = round;
  }
  const keep = valid && nv > 0 ? bestRound + 1 : trainLoss.length;
  const nodes = keep > 0 ? nodeCountAfter[keep - 1] : 0;
  const threshold = new Float32Array(nodes);
  for (let k = 0; k < nodes; k++) if (feature[k] >= 0) threshold[k] = be.edges[feature[k]][binThr[k]];
  const model: TreeEnsemble = {
    nFeatures: nf,
    base,
    treeStart: Int32Array.from([...treeStart.slice(0, keep), nodes]),
    feature: Int32Array.from(feature.slice(0, nodes)),
    threshold,
    left: Int32Array.from(left.slice(0, nodes)),
    right: Int32Array.from(right.slice(0, nodes)),
    value: Float32Array.from(value.slice(0, nodes)),
    gain: Float32Array.from(gainArr.slice(0, nodes)),
    cover: Float32Array.from(cover.slice(0, nodes)),
  };
  return { model, bestRounds: keep, roundsRun: trainLoss.length, trainLoss, validLoss, stopped };
}

// The hot loops live in top-level functions taking every array as an argument, so that the JIT keeps them in
// registers rather than reloading closure slots on each iteration.
// Histogram kernels. Bins are read four per 32-bit word (little-endian: byte j of word w is feature 4w + j), nw is
// even. Four rows by eight features a step: 32 independent adds overlap in the CPU, and V8 re-checks each typed
// array once per step, not per access (measured 0.7 ns per update, against 1.0 for one row by four features).
// The sums are of integers, exact in any order.

function histAllFeatures(
  h: Float64Array,
  idx: Int32Array,
  start: number,
  end: number,
  gp: Float64Array,
  Bw: Int32Array,
  nw: number,
): void {
  let k = start;
  const end4 = start + ((end - start) & ~3);
  for (; k < end4; k += 4) {
    const i0 = idx[k];
    const i1 = idx[k + 1];
    const i2 = idx[k + 2];
    const i3 = idx[k + 3];
    const g0 = gp[i0];
    const g1 = gp[i1];
    const g2 = gp[i2];
    const g3 = gp[i3];
    const r0 = i0 * nw;
    const r1 = i1 * nw;
    const r2 = i2 * nw;
    const r3 = i3 * nw;
    for (let w = 0; w < nw; w += 2) {
      const o = w << 10;
      const x0 = Bw[r0 + w];
      const x1 = Bw[r1 + w];
      const x2 = Bw[r2 + w];
      const x3 = Bw[r3 + w];
      const y0 = Bw[r0 + w + 1];
      const y1 = Bw[r1 + w + 1];
      const y2 = Bw[r2 + w + 1];
      const y3 = Bw[r3 + w + 1];
      h[o + (x0 & 255)] += g0;
      h[o + 256 + ((x0 >>> 8) & 255)] += g0;
      h[o + 512 + ((x0 >>> 16) & 255)] += g0;
      h[o + 768 + (x0 >>> 24)] += g0;
      h[o + 1024 + (y0 & 255)] += g0;
      h[o + 1280 + ((y0 >>> 8) & 255)] += g0;
      h[o + 1536 + ((y0 >>> 16) & 255)] += g0;
      h[o + 1792 + (y0 >>> 24)] += g0;
      h[o + (x1 & 255)] += g1;
      h[o + 256 + ((x1 >>> 8) & 255)] += g1;
      h[o + 512 + ((x1 >>> 16) & 255)] += g1;
      h[o + 768 + (x1 >>> 24)] += g1;
      h[o + 1024 + (y1 & 255)] += g1;
      h[o + 1280 + ((y1 >>> 8) & 255)] += g1;
      h[o + 1536 + ((y1 >>> 16) & 255)] += g1;
      h[o + 1792 + (y1 >>> 24)] += g1;
      h[o + (x2 & 255)] += g2;
      h[o + 256 + ((x2 >>> 8) & 255)] += g2;
      h[o + 512 + ((x2 >>> 16) & 255)] += g2;
      h[o + 768 + (x2 >>> 24)] += g2;
      h[o + 1024 + (y2 & 255)] += g2;
      h[o + 1280 + ((y2 >>> 8) & 255)] += g2;
      h[o + 1536 + ((y2 >>> 16) & 255)] += g2;
      h[o + 1792 + (y2 >>> 24)] += g2;
      h[o + (x3 & 255)] += g3;
      h[o + 256 + ((x3 >>> 8) & 255)] += g3;
      h[o + 512 + ((x3 >>> 16) & 255)] += g3;
      h[o + 768 + (x3 >>> 24)] += g3;
      h[o + 1024 + (y3 & 255)] += g3;
      h[o + 1280 + ((y3 >>> 8) & 255)] += g3;
      h[o + 1536 + ((y3 >>> 16) & 255)] += g3;
      h[o + 1792 + (y3 >>> 24)] += g3;
    }
  }
  for (; k < end; k++) {
    const i = idx[k];
    const gv = gp[i];
    const rb = i * nw;
    for (let w = 0; w < nw; w += 2) {
      const o = w << 10;
      const x = Bw[rb + w];
      const y = Bw[rb + w + 1];
      h[o + (x & 255)] += gv;
      h[o + 256 + ((x >>> 8) & 255)] += gv;
      h[o + 512 + ((x >>> 16) & 255)] += gv;
      h[o + 768 + (x >>> 24)] += gv;
      h[o + 1024 + (y & 255)] += gv;
      h[o + 1280 + ((y >>> 8) & 255)] += gv;
      h[o + 1536 + ((y >>> 16) & 255)] += gv;
      h[o + 1792 + (y >>> 24)] += gv;
    }
  }
}

/**
 * histAllFeatures over every row in order (a tree's root without row sampling): no index indirection, and it
 * quantizes the gradients (as `quantize`) in the same pass.
 */
function histRootQuantize(
  h: Float64Array,
  n: number,
  g: Float64Array,
  gp: Float64Array,
  qscale: number,
  unit: number,
  Bw: Int32Array,
  nw: number,
): void {
  let i = 0;
  const n4 = n & ~3;
  for (; i < n4; i += 4) {
    const g0 = unit + ((g[i] * qscale) | 0);
    const g1 = unit + ((g[i + 1] * qscale) | 0);
    const g2 = unit + ((g[i + 2] * qscale) | 0);
    const g3 = unit + ((g[i + 3] * qscale) | 0);
    gp[i] = g0;
    gp[i + 1] = g1;
    gp[i + 2] = g2;
    gp[i + 3] = g3;
    const r0 = i * nw;
    const r1 = r0 + nw;
    const r2 = r1 + nw;
    const r3 = r2 + nw;
    for (let w = 0; w < nw; w += 2) {
      const o = w << 10;
      const x0 = Bw[r0 + w];
      const x1 = Bw[r1 + w];
      const x2 = Bw[r2 + w];
      const x3 = Bw[r3 + w];
      const y0 = Bw[r0 + w + 1];
      const y1 = Bw[r1 + w + 1];
      const y2 = Bw[r2 + w + 1];
      const y3 = Bw[r3 + w + 1];
      h[o + (x0 & 255)] += g0;
      h[o + 256 + ((x0 >>> 8) & 255)] += g0;
      h[o + 512 + ((x0 >>> 16) & 255)] += g0;
      h[o + 768 + (x0 >>> 24)] += g0;
      h[o + 1024 + (y0 & 255)] += g0;
      h[o + 1280 + ((y0 >>> 8) & 255)] += g0;
      h[o + 1536 + ((y0 >>> 16) & 255)] += g0;
      h[o + 1792 + (y0 >>> 24)] += g0;
      h[o + (x1 & 255)] += g1;
      h[o + 256 + ((x1 >>> 8) & 255)] += g1;
      h[o + 512 + ((x1 >>> 16) & 255)] += g1;
      h[o + 768 + (x1 >>> 24)] += g1;
      h[o + 1024 + (y1 & 255)] += g1;
      h[o + 1280 + ((y1 >>> 8) & 255)] += g1;
      h[o + 1536 + ((y1 >>> 16) & 255)] += g1;
      h[o + 1792 + (y1 >>> 24)] += g1;
      h[o + (x2 & 255)] += g2;
      h[o + 256 + ((x2 >>> 8) & 255)] += g2;
      h[o + 512 + ((x2 >>> 16) & 255)] += g2;
      h[o + 768 + (x2 >>> 24)] += g2;
      h[o + 1024 + (y2 & 255)] += g2;
      h[o + 1280 + ((y2 >>> 8) & 255)] += g2;
      h[o + 1536 + ((y2 >>> 16) & 255)] += g2;
      h[o + 1792 + (y2 >>> 24)] += g2;
      h[o + (x3 & 255)] += g3;
      h[o + 256 + ((x3 >>> 8) & 255)] += g3;
      h[o + 512 + ((x3 >>> 16) & 255)] += g3;
      h[o + 768 + (x3 >>> 24)] += g3;
      h[o + 1024 + (y3 & 255)] += g3;
      h[o + 1280 + ((y3 >>> 8) & 255)] += g3;
      h[o + 1536 + ((y3 >>> 16) & 255)] += g3;
      h[o + 1792 + (y3 >>> 24)] += g3;
    }
  }
  for (; i < n; i++) {
    const gv = unit + ((g[i] * qscale) | 0);
    gp[i] = gv;
    const rb = i * nw;
    for (let w = 0; w < nw; w += 2) {
      const o = w << 10;
      const x = Bw[rb + w];
      const y = Bw[rb + w + 1];
      h[o + (x & 255)] += gv;
      h[o + 256 + ((x >>> 8) & 255)] += gv;
      h[o + 512 + ((x >>> 16) & 255)] += gv;
      h[o + 768 + (x >>> 24)] += gv;
      h[o + 1024 + (y & 255)] += gv;
      h[o + 1280 + ((y >>> 8) & 255)] += gv;
      h[o + 1536 + ((y >>> 16) & 255)] += gv;
      h[o + 1792 + (y >>> 24)] += gv;
    }
  }
}

function histSomeFeatures(
  h: Float64Array,
  idx: Int32Array,
  start: number,
  end: number,
  gp: Float64Array,
  Br: Uint8Array,
  rowBytes: number,
  /** Per sampled feature j < nfs: its byte in a row of Br, and its histogram offset. */
  byteAt: Int32Array,
  histOff: Int32Array,
  nfs: number,
): void {
  const nfs4 = nfs & ~3;
  for (let k = start; k < end; k++) {
    const i = idx[k];
    const gv = gp[i];
    const rb = i * rowBytes;
    let j = 0;
    for (; j < nfs4; j += 4) {
      const a = histOff[j] + Br[rb + byteAt[j]];
      const b = histOff[j + 1] + Br[rb + byteAt[j + 1]];
      const c = histOff[j + 2] + Br[rb + byteAt[j + 2]];
      const d = histOff[j + 3] + Br[rb + byteAt[j + 3]];
      h[a] += gv;
      h[b] += gv;
      h[c] += gv;
      h[d] += gv;
    }
    for (; j < nfs; j++) h[histOff[j] + Br[rb + byteAt[j]]] += gv;
  }
}

/**
 * Stable partition of idx[start, end) by "bin <= cut" on one column: left rows stay in idx (in order), right rows
 * go through tmp and are copied back after them. Branch-free, as the direction of a row is unpredictable; unrolled
 * by four rows, which amortises V8's per-iteration array checks (measured ~25% faster).
 * Returns the first index of the right part.
 */
function partitionRows(
  idx: Int32Array,
  tmp: Int32Array,
  start: number,
  end: number,
  B: Uint8Array,
  off: number,
  cut: number,
): number {
  let l = start;
  let r = 0;
  let k = start;
  const end4 = start + ((end - start) & ~3);
  for (; k < end4; k += 4) {
    const i0 = idx[k];
    const i1 = idx[k + 1];
    const i2 = idx[k + 2];
    const i3 = idx[k + 3];
    const c0 = +(B[off + i0] <= cut);
    const c1 = +(B[off + i1] <= cut);
    const c2 = +(B[off + i2] <= cut);
    const c3 = +(B[off + i3] <= cut);
    idx[l] = i0;
    tmp[r] = i0;
    l += c0;
    r += 1 - c0;
    idx[l] = i1;
    tmp[r] = i1;
    l += c1;
    r += 1 - c1;
    idx[l] = i2;
    tmp[r] = i2;
    l += c2;
    r += 1 - c2;
    idx[l] = i3;
    tmp[r] = i3;
    l += c3;
    r += 1 - c3;
  }
  for (; k < end; k++) {
    const i = idx[k];
    const c = +(B[off + i] <= cut);
    idx[l] = i;
    tmp[r] = i;
    l += c;
    r += 1 - c;
  }
  idx.set(tmp.subarray(0, r), l);
  return l;
}

// Per-row loops of a round, kept out of trainGbdt and growTree: a hot loop inside a big function gets it
// compiled on-stack before its other paths have type feedback, and it then deoptimizes over and over.

function identity(idx: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) idx[i] = i;
}

/** Bernoulli row sample: the chosen rows in idx (ascending), inSample[i] = 1 for them; returns their count. */
function sampleRows(idx: Int32Array, inSample: Uint8Array, n: number, p: number, rng: Prng): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const take = rng.next() < p;
    inSample[i] = take ? 1 : 0;
    if (take) idx[m++] = i;
  }
  return m;
}

/** Sum of the quantized gradients in one histogram column of m rows (packed bins, see the header). */
function columnSum(h: Float64Array, ho: number, nb: number, unit: number, m: number): number {
  let s = 0;
  for (let b = 0; b < nb; b++) s += h[ho + b];
  return s - m * unit;
}

function quantize(gp: Float64Array, g: Float64Array, n: number, qscale: number, unit: number): void {
  for (let i = 0; i < n; i++) gp[i] = unit + ((g[i] * qscale) | 0);
}

/** Sum of g over the rows idx[start, end) (in that order), each marked as reaching `node` in leafOf. */
function leafSum(
  g: Float64Array,
  idx: Int32Array,
  start: number,
  end: number,
  leafOf: Int32Array,
  node: number,
): number {
  let G = 0;
  for (let k = start; k < end; k++) {
    const i = idx[k];
    G += g[i];
    leafOf[i] = node;
  }
  return G;
}

/**
 * One pass over a split's rows whose children are both leaves: out[0] = sum of g, out[1] = sum of g on the left
 * ("bin <= cut"); leafOf gets each row's child.
 */
function splitSums(
  g: Float64Array,
  idx: Int32Array,
  start: number,
  end: number,
  B: Uint8Array,
  off: number,
  cut: number,
  leafOf: Int32Array,
  ln: number,
  rn: number,
  out: Float64Array,
): void {
  let gl = 0;
  let gs = 0;
  for (let k = start; k < end; k++) {
    const i = idx[k];
    const gi = g[i];
    const isLeft = B[off + i] <= cut;
    gs += gi;
    gl += isLeft ? gi : 0;
    leafOf[i] = isLeft ? ln : rn;
  }
  out[0] = gs;
  out[1] = gl;
}

/**
 * pred[i] += the value of the leaf row i reached (leafValue[leafOf[i] - root]), then the residuals of the new
 * predictions as in `residuals`, in the same pass.
 */
function applyTree(
  pred: Float64Array,
  leafOf: Int32Array,
  leafValue: Float64Array,
  root: number,
  y: Float64Array,
  g: Float64Array,
  n: number,
  out: Float64Array,
): void {
  let se = 0;
  let gmax = 0;
  for (let i = 0; i < n; i++) {
    const p = pred[i] + leafValue[leafOf[i] - root];
    pred[i] = p;
    const e = p - y[i];
    se += e * e;
    g[i] = e;
    const a = e < 0 ? -e : e;
    if (a > gmax) gmax = a;
  }
  out[0] = se;
  out[1] = gmax;
}

/** leafOf[i] = the leaf of tree `root` for binned row i (column-major Bm), for rows not in `skip`. */
function assignLeaves(
  leafOf: Int32Array,
  Bm: Uint8Array,
  rows: number,
  skip: Uint8Array,
  root: number,
  feature: number[],
  binThr: number[],
  left: number[],
  right: number[],
): void {
  for (let i = 0; i < rows; i++) {
    if (skip[i]) continue;
    let k = root;
    let f = feature[k];
    while (f >= 0) {
      k = Bm[f * rows + i] <= binThr[k] ? left[k] : right[k];
      f = feature[k];
    }
    leafOf[i] = k;
  }
}

/** g = pred - y; out[0] = sum of squares, out[1] = max |g|. */
function residuals(pred: Float64Array, y: Float64Array, g: Float64Array, n: number, out: Float64Array): void {
  let se = 0;
  let gmax = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i] - y[i];
    se += e * e;
    g[i] = e;
    const a = e < 0 ? -e : e;
    if (a > gmax) gmax = a;
  }
  out[0] = se;
  out[1] = gmax;
}

/** pred[i] += the leaf value of tree `root` for binned row i (column-major Bm), for rows not in `skip`. */
function addTreeBinned(
  pred: Float64Array,
  Bm: Uint8Array,
  rows: number,
  skip: Uint8Array | null,
  root: number,
  feature: number[],
  binThr: number[],
  left: number[],
  right: number[],
  value: number[],
): void {
  for (let i = 0; i < rows; i++) {
    if (skip && skip[i]) continue;
    let k = root;
    let f = feature[k];
    while (f >= 0) {
      k = Bm[f * rows + i] <= binThr[k] ? left[k] : right[k];
      f = feature[k];
    }
    pred[i] += value[k];
  }
}
