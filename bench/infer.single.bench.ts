// infer.single: one trading decision, timed end to end: FeatureEngine.compute for the current book and trades,
// the float32 row, and Predictor.predict (onnxruntime-node, reused session and tensor) with the bundled
// default model; beside its peer, a bare onnxruntime-node InferenceSession.run on the same model with a
// preallocated tensor (its features computed untimed). The sim market advances one message between decisions
// (untimed) in both cases, so every decision sees a new state and both see the same GC pressure. Blocks of the
// two cases alternate, so both see the same machine load, with a full GC before each block. The value is the p99
// (the goal is a tail latency: a decision must not stall the feed); p50 beside, for both.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SequencedBook } from '../src-main/book/sequencedBook.ts';
import { TickScale } from '../src-main/book/tickScale.ts';
import { PROJECT_ROOT, loadConfig } from '../src-main/config/loadConfig.ts';
import { FeatureEngine } from '../src-main/features/featureEngine.ts';
import { FEATURE_SET, N_FEATURES } from '../src-main/features/featureSet.ts';
import { Predictor } from '../src-main/model/predictor.ts';
import { simMessages } from '../src-main/model/simData.ts';
import { emit, fullGc } from './lib/report.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const BLOCK = 500;
const MODEL = path.join(PROJECT_ROOT, 'models', 'default.onnx');

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
const predictor = await Predictor.load(MODEL, FEATURE_SET);
const bare = await ort.InferenceSession.create(MODEL, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const bareRow = new Float32Array(N_FEATURES);
const bareTensor = new ort.Tensor('float32', bareRow, [1, N_FEATURES]);

const seq = new SequencedBook(new TickScale(config.sim.tick_size));
const engine = new FeatureEngine();
const feats = new Float64Array(N_FEATURES);
const row = new Float32Array(N_FEATURES);
const stream = simMessages({ config, durationMs: 24 * 3600_000 });
let now = 0;
function advance(): void {
  const r = stream.next();
  if (r.done) throw new Error('sim stream ended');
  const m = r.value;
  now = m.ts;
  if (m.kind === 'book') {
    if (seq.apply(m).status === 'applied') engine.onBook(seq.book, m.ts);
  } else for (const t of m.trades) engine.onTrade(t, m.ts);
}
// Warm up the features (30 s look-back) and both sessions.
while (!engine.compute(now, feats)) advance();
for (let i = 0; i < 2000; i++) {
  await predictor.predict(row);
  await bare.run({ features: bareTensor });
}

const ours = new Float64Array(N);
const peer = new Float64Array(N);
let sink = 0;
let warmFails = 0;
for (let done = 0; done < N; done += BLOCK) {
  fullGc();
  for (let k = done; k < done + BLOCK; k++) {
    advance();
    const t0 = process.hrtime.bigint();
    if (!engine.compute(now, feats)) warmFails++;
    for (let f = 0; f < N_FEATURES; f++) row[f] = feats[f];
    sink += await predictor.predict(row);
    ours[k] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  fullGc();
  for (let k = done; k < done + BLOCK; k++) {
    advance(); // the same allocation (GC) pressure as the timed decisions above
    engine.compute(now, feats);
    for (let f = 0; f < N_FEATURES; f++) bareRow[f] = feats[f];
    const t0 = process.hrtime.bigint();
    const out = await bare.run({ features: bareTensor });
    sink += (out.prediction.data as Float32Array)[0];
    peer[k] = Number(process.hrtime.bigint() - t0) / 1000;
  }
}
ours.sort();
peer.sort();
if (!Number.isFinite(sink)) throw new Error('non-finite prediction');
emit({
  bench: 'infer.single',
  value: quantile(ours, 0.99),
  unit: 'us',
  stat: 'p99',
  p50_us: quantile(ours, 0.5),
  p99_us: quantile(ours, 0.99),
  peer: 'onnxruntime-node bare session.run',
  peer_value: quantile(peer, 0.99),
  peer_p50_us: quantile(peer, 0.5),
  peer_p99_us: quantile(peer, 0.99),
  n: N,
  model_trees: predictor.meta.n_trees,
  features: N_FEATURES,
  not_warm: warmFails,
  goal: 'p99 <= 30 us',
  goal_met: quantile(ours, 0.99) <= 30,
});
await predictor.close();
await bare.release();
