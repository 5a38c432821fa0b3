// train.vs_xgboost: our GBDT trainer against Debian's `xgboost` command-line program on the same feature
// matrix, same run: tree_method=hist, one thread each, same depth, rounds, learning rate, lambda, min child
// weight and bins. The matrix is built by the real dataset builder from the seeded simulator (decision every
// 50 ms, 10 s horizon; 287k rows, 230k for training); the newest 20% (after a 10 s embargo) is the validation set.
// Headline: training time only on both sides. Ours: trainGbdt in-process (bin edges, binning and boosting);
// xgboost: its own "Complete Training loop time" (the CLI's clock around the boosting loop, which holds its quantile
// sketch, gradient index and every tree, but not its process start or the CSV parse). Beside it: xgboost's whole
// process (start + CSV parse + training + model save) as *_with_parse. CPU seconds beside wall seconds (the machine
// is shared): ours from process.cpuUsage, xgboost's from /usr/bin/time, its training share being the N-round
// process's CPU less that of a process that only starts and parses the same CSV (xgbParseOnly). R² of both models on
// the same holdout (the newest 20%, after an embargo), and on the training rows (how closely each fits).
// Goal: time ≤ 1.2× xgboost's training at holdout R² ≥ 0.98× xgboost's. On the calibrated simulator the 10 s return
// is close to unpredictable: both holdout R² come out negative (each model fits noise, train R² ~0.46), and which one
// overfits noise a little less says nothing about accuracy. So accuracy is compared where there is something to
// learn: a planted target on the same feature matrix (a fixed nonlinear function of five of its features plus as
// much noise again; both trainers, same parameters, same holdout rows). The simulator's R² are reported beside it,
// with their ratio only when xgboost's is positive.
// BENCH_RUNS (default 3) runs of each, alternating who goes first, a full GC before each; medians are reported.
// Fails (exit 1) when the xgboost CLI is missing: a missing peer is not a figure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDataset, type Dataset } from '../src-main/model/dataset.ts';
import { predict } from '../src-main/model/gbdt/model.ts';
import { Prng } from '../src-main/model/gbdt/prng.ts';
import { trainGbdt, type GbdtParams } from '../src-main/model/gbdt/train.ts';
import { r2 } from '../src-main/model/metrics.ts';
import { SIM_EPOCH_MS, simMessages, type SimConfig } from '../src-main/model/simData.ts';
import { emit, failBench, fullGc, median } from './lib/report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const DEPTH = 6;
const ETA = 0.05;
const SIM_HOURS = Number(process.env.BENCH_SIM_HOURS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const H = 10_000;

/** The xgboost CLI on PATH ('' when absent). */
function findOnPath(name: string): string {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return '';
}
const xgb = findOnPath('xgboost');
if (!xgb) failBench('train.vs_xgboost', 'the xgboost CLI is not installed (apt-get install xgboost)');
const TIME_BIN = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
if (!TIME_BIN)
  failBench('train.vs_xgboost', "no /usr/bin/time for xgboost's CPU time (apt-get install time)");

// The simulator's settings as in resources/config.yaml. Not read through loadConfig: merely importing the YAML
// parser makes this process's GBDT loops ~20% slower (measured; in the product, training runs in the trainer
// worker, which never loads it).
const config: SimConfig = {
  symbol: 'BTCUSDT',
  category: 'linear',
  depth: 50,
  tick_size: null,
  sim: {
    seed: 42,
    params_file: null,
    speed: 'max',
    start_price: 65000,
    tick_size: '0.1',
    book_rate_hz: 50,
    levels: 200,
  },
};
const tb = performance.now();
const ds: Dataset = buildDataset(
  [
    {
      sessionId: 1,
      tickSize: config.sim.tick_size,
      events: simMessages({ config, durationMs: SIM_HOURS * 3600_000, startMs: SIM_EPOCH_MS }),
    },
  ],
  {
    decisionIntervalMs: 50,
    horizonMs: H,
  },
);
process.stderr.write(
  `train.vs_xgboost: dataset of ${ds.nRows} rows x ${ds.nFeatures} features from ${SIM_HOURS} h of sim in ${((performance.now() - tb) / 1000).toFixed(1)} s\n`,
);

// Time split with an embargo of one horizon (rows are in time order: one session).
const nf = ds.nFeatures;
const cut = Math.floor(ds.nRows * 0.8);
let trainEnd = cut;
while (trainEnd > 0 && ds.ts[trainEnd - 1] > ds.ts[cut] - H) trainEnd--;
const train = {
  X: ds.X.subarray(0, trainEnd * nf),
  y: ds.y.subarray(0, trainEnd),
  n: trainEnd,
  nFeatures: nf,
};
const valid = { X: ds.X.subarray(cut * nf), y: ds.y.subarray(cut), n: ds.nRows - cut, nFeatures: nf };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-xgb-'));
function writeCsv(file: string, m: typeof train): void {
  const fd = fs.openSync(file, 'w');
  const chunk: string[] = [];
  for (let i = 0; i < m.n; i++) {
    let line = String(m.y[i]);
    for (let f = 0; f < nf; f++) line += ',' + m.X[i * nf + f];
    chunk.push(line);
    if (chunk.length === 10_000 || i === m.n - 1) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk.length = 0;
    }
  }
  fs.closeSync(fd);
}
const trainCsv = path.join(dir, 'train.csv');
const validCsv = path.join(dir, 'valid.csv');
writeCsv(trainCsv, train);
writeCsv(validCsv, valid);

/**
 * The planted target for the accuracy comparison: sin(1.5·z_a) + 0.5·z_b·z_c + 0.3·z_d + [z_e > 0.5] + N(0, 1),
 * where z are five of the real features standardized on the training rows (clipped to ±4, non-finite as 0), taken
 * from those with the most distinct values. Its noise is about as large as its signal: an ideal model has R² ≈ 0.5.
 */
function plantedTarget(): Float32Array {
  const n = ds.nRows;
  const distinct: Array<[number, number]> = [];
  for (let f = 0; f < nf; f++) {
    const seen = new Set<number>();
    for (let i = 0; i < Math.min(n, 20_000); i++) seen.add(ds.X[i * nf + f]);
    distinct.push([seen.size, f]);
  }
  const chosen = distinct
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, 5)
    .map(([, f]) => f);
  if (chosen.length < 5) throw new Error(`planted target: needs 5 features, the dataset has ${nf}`);
  const mean: number[] = [];
  const sd: number[] = [];
  for (const f of chosen) {
    let s1 = 0;
    let s2 = 0;
    let m = 0;
    for (let i = 0; i < trainEnd; i++) {
      const v = ds.X[i * nf + f];
      if (Number.isFinite(v)) {
        s1 += v;
        s2 += v * v;
        m++;
      }
    }
    const mu = m > 0 ? s1 / m : 0;
    mean.push(mu);
    sd.push(m > 0 ? Math.sqrt(Math.max(0, s2 / m - mu * mu)) : 0);
  }
  const rng = new Prng(7);
  const y = new Float32Array(n);
  const z = new Float64Array(5);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 5; k++) {
      const v = (ds.X[i * nf + chosen[k]] - mean[k]) / sd[k];
      z[k] = Number.isFinite(v) ? Math.max(-4, Math.min(4, v)) : 0;
    }
    // Box-Muller from two uniforms in (0, 1].
    const noise = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    y[i] = Math.sin(1.5 * z[0]) + 0.5 * z[1] * z[2] + 0.3 * z[3] + (z[4] > 0.5 ? 1 : 0) + noise;
  }
  return y;
}
const plantedY = plantedTarget();
const plantedTrain = { ...train, y: plantedY.subarray(0, trainEnd) };
const plantedValid = { ...valid, y: plantedY.subarray(cut) };
const plantedTrainCsv = path.join(dir, 'planted-train.csv');
const plantedValidCsv = path.join(dir, 'planted-valid.csv');
writeCsv(plantedTrainCsv, plantedTrain);
writeCsv(plantedValidCsv, plantedValid);

function meanOf(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i];
  return m / y.length;
}
const meanY = meanOf(train.y);

interface XgbRun {
  /** The whole process: start, CSV parse, training, model save. */
  wall: number;
  cpu: number;
  /** xgboost's own clock around its training loop. */
  train: number;
}

/** One xgboost training process: its wall and CPU seconds (user + system via /usr/bin/time) and its training loop. */
function runXgb(rounds: number, data = trainCsv, tag = String(rounds), baseScore = meanY): XgbRun {
  const conf = path.join(dir, `train-${tag}.conf`);
  fs.writeFileSync(
    conf,
    [
      'booster = gbtree',
      'tree_method = hist',
      'nthread = 1',
      `max_depth = ${DEPTH}`,
      `eta = ${ETA}`,
      `num_round = ${rounds}`,
      'objective = reg:squarederror',
      'lambda = 1',
      'min_child_weight = 1',
      'max_bin = 256',
      // INFO level: prints "Complete Training loop time" (no per-phase monitors, which debug level adds).
      'verbosity = 2',
      `base_score = ${baseScore}`,
      `data = "${data}?format=csv&label_column=0"`,
      `model_out = ${path.join(dir, `xgb-${tag}.model`)}`,
      '',
    ].join('\n'),
  );
  const r = timedXgb(conf);
  const m = /Complete Training loop time: ([0-9.eE+-]+) sec/.exec(r.out);
  if (!m) throw new Error(`xgboost ${rounds} rounds: no "Complete Training loop time" in its output`);
  return { wall: r.wall, cpu: r.cpu, train: Number(m[1]) };
}

/** One xgboost process on a config: wall seconds, CPU seconds (user + system, /usr/bin/time) and its output. */
function timedXgb(conf: string): { wall: number; cpu: number; out: string } {
  const timeFile = path.join(dir, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync(TIME_BIN as string, ['-f', '%U %S', '-o', timeFile, xgb, conf], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`xgboost ${conf} failed: ${r.stderr}`);
  const cpu = fs
    .readFileSync(timeFile, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number)
    .reduce((a, b) => a + b, 0);
  return { wall, cpu, out: `${r.stdout}\n${r.stderr}` };
}

/**
 * xgboost's process start and parse of the training CSV, without training: `task = pred` of a 1-round model over
 * the training file (one tree's prediction is a few ms). Its CPU is what the N-round process spends outside
 * training (bar writing its model), so the N-round CPU less this one is xgboost's training CPU.
 */
function xgbParseOnly(): { wall: number; cpu: number } {
  const conf = path.join(dir, 'parse.conf');
  fs.writeFileSync(
    conf,
    [
      'task = pred',
      `model_in = ${path.join(dir, 'xgb-1.model')}`,
      `test:data = "${trainCsv}?format=csv&label_column=0"`,
      `name_pred = ${path.join(dir, 'parse-pred.txt')}`,
      '',
    ].join('\n'),
  );
  return timedXgb(conf);
}

/** R² of xgboost's N-round model on a CSV of ours (the holdout, or the training rows). */
function xgbR2(csv: string, m: { n: number; y: ArrayLike<number> }, tag = String(ROUNDS)): number {
  const conf = path.join(dir, 'pred.conf');
  const predFile = path.join(dir, 'pred.txt');
  fs.writeFileSync(
    conf,
    [
      'task = pred',
      `model_in = ${path.join(dir, `xgb-${tag}.model`)}`,
      `test:data = "${csv}?format=csv&label_column=0"`,
      `name_pred = ${predFile}`,
      '',
    ].join('\n'),
  );
  const r = spawnSync(xgb, [conf], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xgboost task=pred failed: ${r.stderr}`);
  const pred = fs.readFileSync(predFile, 'utf8').trim().split('\n').map(Number);
  if (pred.length !== m.n) throw new Error(`xgboost predicted ${pred.length} rows, expected ${m.n}`);
  return r2(pred, m.y);
}

const params: GbdtParams = {
  rounds: ROUNDS,
  maxDepth: DEPTH,
  maxLeaves: 0,
  learningRate: ETA,
  minSamplesLeaf: 1,
  l2: 1,
  rowSubsample: 1,
  featureSubsample: 1,
  earlyStoppingRounds: 0,
  bins: 256,
  seed: 1,
};

const ours: number[] = [];
const oursCpu: number[] = [];
const full: XgbRun[] = [];
const parse: { wall: number; cpu: number }[] = [];
let ourR2 = NaN;
let ourTrainR2 = NaN;
try {
  runXgb(1); // the 1-round model xgbParseOnly predicts with (untimed)
  for (let run = 0; run < RUNS; run++) {
    // Alternate who goes first: a noisy neighbour should not always hit the same side.
    const order = run % 2 === 0 ? ['ours', 'xgb'] : ['xgb', 'ours'];
    for (const who of order) {
      fullGc();
      if (who === 'xgb') {
        full.push(runXgb(ROUNDS));
        parse.push(xgbParseOnly());
      } else {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const res = trainGbdt(train, params);
        ours.push((performance.now() - t0) / 1000);
        const c = process.cpuUsage(c0);
        oursCpu.push((c.user + c.system) / 1e6);
        ourR2 = r2(predict(res.model, valid.X, valid.n), valid.y);
        ourTrainR2 = r2(predict(res.model, train.X, train.n), train.y);
      }
    }
  }
  const peerR2 = xgbR2(validCsv, valid);
  const peerTrainR2 = xgbR2(trainCsv, train);
  // The accuracy comparison on the planted target (untimed: one training each).
  runXgb(ROUNDS, plantedTrainCsv, 'planted', meanOf(plantedTrain.y));
  const peerPlantedR2 = xgbR2(plantedValidCsv, plantedValid, 'planted');
  const planted = trainGbdt(plantedTrain, params);
  const plantedR2 = r2(predict(planted.model, plantedValid.X, plantedValid.n), plantedValid.y);
  const o = median(ours);
  const oCpu = median(oursCpu);
  const xTrain = median(full.map((x) => x.train));
  const xWall = median(full.map((x) => x.wall));
  const xCpu = median(full.map((x) => x.cpu));
  const xCpuTrain = Math.max(1e-3, xCpu - median(parse.map((x) => x.cpu)));
  const ratio = o / xTrain;
  const ratioCpu = oCpu / xCpuTrain;
  // "R² ≥ 0.98 of xgboost's", judged on the planted target (see the header); on the simulator's target only when
  // xgboost's holdout R² is positive, i.e. when there is anything to compare.
  const r2Ratio = peerR2 > 0 ? ourR2 / peerR2 : null;
  const plantedRatio = peerPlantedR2 > 0 ? plantedR2 / peerPlantedR2 : 0;
  const r2Ok = plantedRatio >= 0.98 && (r2Ratio === null || r2Ratio >= 0.98);
  emit({
    bench: 'train.vs_xgboost',
    value: Number(o.toFixed(3)),
    unit: 's',
    peer: 'xgboost-cli training loop (its own clock; no process start, no CSV parse)',
    peer_value: Number(xTrain.toFixed(3)),
    time_ratio: Number(ratio.toFixed(3)),
    cpu_s: Number(oCpu.toFixed(3)),
    peer_cpu_s: Number(xCpuTrain.toFixed(3)),
    cpu_ratio: Number(ratioCpu.toFixed(3)),
    r2: ourR2,
    peer_r2: peerR2,
    r2_ratio: r2Ratio === null ? null : Number(r2Ratio.toFixed(4)),
    train_r2: ourTrainR2,
    peer_train_r2: peerTrainR2,
    sim_r2_comparable: peerR2 > 0,
    planted_r2: plantedR2,
    peer_planted_r2: peerPlantedR2,
    planted_r2_ratio: Number(plantedRatio.toFixed(4)),
    goal: "time_ratio <= 1.2 (xgboost's training without its parse) at holdout r2 >= 0.98x xgboost's on the planted target (and on the simulator's target when xgboost's r2 there is positive)",
    goal_met: ratio <= 1.2 && r2Ok,
    goal_met_cpu: ratioCpu <= 1.2 && r2Ok,
    peer_value_with_parse: Number(xWall.toFixed(3)),
    time_ratio_with_parse: Number((o / xWall).toFixed(3)),
    peer_cpu_s_with_parse: Number(xCpu.toFixed(3)),
    peer_parse_only_cpu_s: Number(median(parse.map((x) => x.cpu)).toFixed(3)),
    cpu_ratio_with_parse: Number((oCpu / xCpu).toFixed(3)),
    n: train.n,
    n_valid: valid.n,
    features: nf,
    rounds: ROUNDS,
    max_depth: DEPTH,
    eta: ETA,
    runs: RUNS,
    data: `dataset builder over ${SIM_HOURS} h of sim (seed ${config.sim.seed}), decision 50 ms, horizon 10 s`,
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
