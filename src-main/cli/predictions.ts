// `l2desk predictions --db FILE --model PATH [--session ID]... [--threshold X] [--json]`: runs the model over
// features rebuilt from stored data and shows the prediction distribution and, for a ladder of thresholds, how
// many buy/sell signals each would give and how they did.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import { PROJECT_ROOT, loadConfig } from '../config/loadConfig.ts';
import { modelFileLimits } from '../model/modelFileReader.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { sessionSources, type DatasetStats } from '../model/dataset.ts';
import { cachedDataset } from '../model/featureCache.ts';
import { quantiles } from '../model/metrics.ts';
import type { Predictor } from '../model/predictor.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import { storedTimeOverlapCounts } from '../backtest/sameData.ts';
import type { TrainingSpan } from '../backtest/backtest.ts';
import type { Db } from '../store/db.ts';
import { openDb } from '../store/db.ts';
import { openTrainingData } from '../store/trainingData.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'prediction histogram and signal counts per threshold';

const USAGE = `usage: l2desk predictions [--db FILE|clickhouse://HOST:PORT/DATABASE] [--model PATH] [--session ID]... [--threshold X] [--config FILE] [--set key=value] [--json]
  --db         SQLite file or ClickHouse store with recorded sessions (default: config db)
  --model      model .onnx with its .json beside it (default: config model.path)
  --session    session id(s) to use (default: every session of the newest session's symbol)
  --threshold  an extra threshold to evaluate (bps); the configured trading.threshold is always shown
  --json       print the summary as one JSON object (on ClickHouse store_cache: sessions whose features were read
               from the store's feature cache, and those built from its raw data)
On a ClickHouse store no raw data is copied to this machine: features come from the store's cache or are built
by replaying the sessions straight from the store.`;

/** A model path as given, else relative to the project (the bundled models/). */
export function resolveModelPath(p: string): string {
  if (fs.existsSync(p) || path.isAbsolute(p)) return p;
  const bundled = path.join(PROJECT_ROOT, p);
  return fs.existsSync(bundled) ? bundled : p;
}

export function parseSessionIds(args: Args): number[] {
  return args.all('session').flatMap((v) =>
    v.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n <= 0)
        throw new UsageError(`--session takes session ids such as 3 or 3,4; got "${s}"`);
      return n;
    }),
  );
}

export interface PredictionRun {
  pred: Float32Array;
  y: Float32Array;
  ts: Float64Array;
  nRows: number;
  sessionIds: number[];
  symbol: string;
  horizonMs: number;
  decisionIntervalMs: number;
  stats: DatasetStats;
}

/** Features over the stored sessions (the training pipeline's own builder), then the model's batch path. */
export async function predictStored(
  db: Db,
  predictor: Predictor,
  opts: {
    sessionIds: number[];
    decisionIntervalMs: number;
    horizonMs: number;
    feedLatencyMs?: number;
    /** Rows of sessions the file holds only the records of (a ClickHouse store's feature cache). */
    storeFeatures?: StoreFeatures;
  },
): Promise<PredictionRun> {
  const { sessions } = sessionSources(db, opts.sessionIds);
  const params = {
    decisionIntervalMs: opts.decisionIntervalMs,
    horizonMs: opts.horizonMs,
    feedLatencyMs: opts.feedLatencyMs,
  };
  // The rows training cached for these sessions when it has them (read only: this command does not write the file).
  const ds = cachedDataset(db, sessions, params, {}, { write: false, given: opts.storeFeatures }).dataset;
  const pred = new Float32Array(ds.nRows);
  const chunk = 8192;
  for (let i = 0; i < ds.nRows; i += chunk) {
    const n = Math.min(chunk, ds.nRows - i);
    pred.set(await predictor.predictBatch(ds.X.subarray(i * ds.nFeatures, (i + n) * ds.nFeatures), n), i);
  }
  return {
    pred,
    y: ds.y,
    ts: ds.ts,
    nRows: ds.nRows,
    sessionIds: ds.sessionIds,
    symbol: sessions[0]?.symbol ?? '',
    horizonMs: opts.horizonMs,
    decisionIntervalMs: opts.decisionIntervalMs,
    stats: ds.stats,
  };
}

/**
 * Decisions inside the model's training span: their hit rate and edge are in-sample, hence optimistic. None when the
 * sessions are provably other data than the training sessions (the simulator under other random seeds).
 */
export function inSampleOfStored(
  db: Db,
  sessionIds: readonly number[],
  ts: Float64Array,
  training: TrainingSpan,
): number {
  return storedTimeOverlapCounts(db, sessionIds, training.data) ? inSampleCount(ts, training) : 0;
}

export function inSampleCount(ts: Float64Array, training: { from_ts: number; to_ts: number }): number {
  let n = 0;
  for (const t of ts) if (t >= training.from_ts && t <= training.to_ts) n++;
  return n;
}

export interface ThresholdRow {
  threshold: number;
  /** Where the threshold comes from: "config", "--threshold", or a quantile of |prediction| such as "p95|pred|". */
  source: string;
  buy: number;
  sell: number;
  /** Share of decisions that would signal. */
  signalShare: number;
  signalsPerHour: number;
  /** sign(prediction) = sign(label) among signals with a non-zero label; NaN without signals. */
  hitRate: number;
  /** Mean of sign(prediction) x label over signals (bps, before fees); NaN without signals. */
  meanEdgeBps: number;
}

export interface PredictionSummary {
  n: number;
  mean: number;
  std: number;
  quantiles: Record<string, number>;
  absQuantiles: Record<string, number>;
  maxAbs: number;
  ladder: ThresholdRow[];
}

const ABS_LEVELS = [0.5, 0.75, 0.9, 0.95, 0.99];

export function thresholdRow(
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  threshold: number,
  source: string,
  hours: number,
): ThresholdRow {
  let buy = 0;
  let sell = 0;
  let hits = 0;
  let judged = 0;
  let edge = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    const s = p > threshold ? 1 : p < -threshold ? -1 : 0;
    if (s === 0) continue;
    if (s > 0) buy++;
    else sell++;
    edge += s * y[i];
    if (y[i] !== 0) {
      judged++;
      if (Math.sign(y[i]) === s) hits++;
    }
  }
  const signals = buy + sell;
  return {
    threshold,
    source,
    buy,
    sell,
    signalShare: pred.length ? signals / pred.length : 0,
    signalsPerHour: hours > 0 ? signals / hours : 0,
    hitRate: judged ? hits / judged : NaN,
    meanEdgeBps: signals ? edge / signals : NaN,
  };
}

/** Distribution of predictions and the threshold ladder: quantiles of |prediction| plus the given thresholds. */
export function summarizePredictions(
  pred: Float32Array,
  y: Float32Array,
  decisionIntervalMs: number,
  given: { threshold: number; source: string }[],
): PredictionSummary {
  const n = pred.length;
  let sum = 0;
  for (const p of pred) sum += p;
  const mean = n ? sum / n : NaN;
  let ss = 0;
  for (const p of pred) ss += (p - mean) ** 2;
  const abs = Float64Array.from(pred, Math.abs);
  const absQ = quantiles(abs, ABS_LEVELS);
  const hours = (n * decisionIntervalMs) / 3_600_000;
  const candidates = [
    ...ABS_LEVELS.map((q) => ({
      threshold: absQ[`p${Math.round(q * 100)}`],
      source: `p${Math.round(q * 100)}|pred|`,
    })),
    ...given,
  ].filter((c) => Number.isFinite(c.threshold));
  const seen = new Map<number, string>();
  for (const c of candidates)
    seen.set(c.threshold, seen.has(c.threshold) ? `${seen.get(c.threshold)}, ${c.source}` : c.source);
  const ladder = [...seen.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, s]) => thresholdRow(pred, y, t, s, hours));
  return {
    n,
    mean,
    std: n ? Math.sqrt(ss / n) : NaN,
    quantiles: quantiles(pred),
    absQuantiles: absQ,
    maxAbs: n ? (absQ.max ?? 0) : 0,
    ladder,
  };
}

export const fmt = (x: number, digits = 4): string =>
  Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : '-';

/** Text histogram of predictions; bins holding ±threshold are marked. */
export function histogramLines(pred: ArrayLike<number>, threshold: number, bins = 20, width = 40): string[] {
  if (pred.length === 0) return ['(no predictions)'];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < pred.length; i++) {
    lo = Math.min(lo, pred[i]);
    hi = Math.max(hi, pred[i]);
  }
  if (lo === hi) return [`all ${pred.length} predictions equal ${fmt(lo)}`];
  const counts = new Array<number>(bins).fill(0);
  const step = (hi - lo) / bins;
  for (let i = 0; i < pred.length; i++) counts[Math.min(bins - 1, Math.floor((pred[i] - lo) / step))]++;
  const top = Math.max(...counts);
  return counts.map((c, b) => {
    const a = lo + b * step;
    const z = b === bins - 1 ? hi : a + step;
    const marks = [threshold, -threshold]
      .filter((t) => t >= a && (t < z || (b === bins - 1 && t <= z)))
      .map((t) => (t > 0 ? ' <- +threshold' : ' <- -threshold'));
    const bar = '#'.repeat(Math.round((c / top) * width));
    return `  [${fmt(a).padStart(9)}, ${fmt(z).padStart(9)}) ${bar.padEnd(width)} ${String(c).padStart(7)}${marks.join('')}`;
  });
}

export function ladderLines(ladder: ThresholdRow[]): string[] {
  const head = `  ${'threshold'.padStart(10)} ${'buy'.padStart(7)} ${'sell'.padStart(7)} ${'share'.padStart(7)} ${'per hour'.padStart(9)} ${'hit rate'.padStart(9)} ${'edge bps'.padStart(9)}  from`;
  return [
    head,
    ...ladder.map(
      (r) =>
        `  ${fmt(r.threshold).padStart(10)} ${String(r.buy).padStart(7)} ${String(r.sell).padStart(7)} ${(100 * r.signalShare).toFixed(1).padStart(6)}% ` +
        `${fmt(r.signalsPerHour, 3).padStart(9)} ${(Number.isFinite(r.hitRate) ? (100 * r.hitRate).toFixed(1) + '%' : '-').padStart(9)} ` +
        `${fmt(r.meanEdgeBps, 3).padStart(9)}  ${r.source}`,
    ),
  ];
}

export interface CommonSetup {
  args: Args;
  config: Config;
  dbFile: string;
  modelPath: string;
  sessionIds: number[];
  threshold: number | undefined;
}

/** Parses the options predictions and diagnose share; null once --help has printed `usage`. */
export function commonSetup(argv: string[], usage: string): CommonSetup | null {
  const args = Args.of(argv, ['json', 'help']);
  if (args.bool('help')) {
    console.log(usage);
    return null;
  }
  args.rejectUnknown(['db', 'model', 'session', 'threshold', 'config', 'set', 'json', 'help']);
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: { ...args.sets(), ...(args.str('db') ? { db: args.str('db') } : {}) },
  });
  const threshold = args.num('threshold');
  if (threshold !== undefined && threshold < 0)
    throw new UsageError('--threshold must be >= 0 (it applies as ±threshold)');
  return {
    args,
    config,
    dbFile: config.db,
    modelPath: resolveModelPath(args.str('model') ?? config.model.path),
    sessionIds: parseSessionIds(args),
    threshold,
  };
}

export async function run(argv: string[]): Promise<number> {
  const setup = commonSetup(argv, USAGE);
  if (!setup) return 0;
  const { args, config, dbFile, modelPath, sessionIds, threshold } = setup;
  const { Predictor } = await import('../model/predictor.ts');
  const predictor = await Predictor.load(modelPath, FEATURE_SET, modelFileLimits(config.model));
  const horizonMs = predictor.meta.label.horizon_ms;
  const decisionIntervalMs = config.features.decision_interval;
  const params = { decisionIntervalMs, horizonMs, feedLatencyMs: config.trading.feed_latency };
  // Over a ClickHouse store the sessions' rows come from the store's feature cache (closed sessions a training stored
  // there with these parameters) or are built straight from the store, beside a temporary file of their records
  // (store/trainingData.ts). Nothing is written to the store.
  const data = await openTrainingData(dbFile, sessionIds, params).catch(async (e: unknown) => {
    await predictor.close();
    throw e;
  });
  const db = openDb(data.file, { mustExist: true, migrate: false });
  try {
    const r = await predictStored(db, predictor, {
      ...params,
      sessionIds: data.sessionIds,
      storeFeatures: data.storeFeatures,
    });
    const given = [{ threshold: config.trading.threshold, source: 'config' }];
    if (threshold !== undefined) given.push({ threshold, source: '--threshold' });
    const s = summarizePredictions(r.pred, r.y, decisionIntervalMs, given);
    if (args.bool('json')) {
      console.log(
        JSON.stringify({
          db: dbFile,
          model: modelPath,
          sessions: r.sessionIds,
          symbol: r.symbol,
          horizon_ms: horizonMs,
          decision_interval_ms: decisionIntervalMs,
          n: s.n,
          mean: s.mean,
          std: s.std,
          quantiles: s.quantiles,
          abs_quantiles: s.absQuantiles,
          max_abs: s.maxAbs,
          ladder: s.ladder,
          in_sample: inSampleOfStored(db, r.sessionIds, r.ts, predictor.meta.training),
          dataset: r.stats,
          // ClickHouse stores: sessions whose features came from the store's cache, and those built from its data.
          ...(data.storeCache
            ? { store_cache: { read: data.storeCache.read, built: data.storeCache.built } }
            : {}),
        }),
      );
      return 0;
    }
    console.log(
      `${modelPath} on ${dbFile} (${r.symbol} sessions ${r.sessionIds.join(', ')}): ${s.n} decisions every ${decisionIntervalMs} ms, ` +
        `horizon ${horizonMs} ms`,
    );
    if (s.n === 0) {
      console.log(
        'no decision had warm features and a clean label window: record a longer session (>= 30 s warm-up + horizon)',
      );
      return 0;
    }
    console.log(`predictions (bps): mean ${fmt(s.mean)}, std ${fmt(s.std)}, |max| ${fmt(s.maxAbs)}`);
    console.log(
      `quantiles: ${Object.entries(s.quantiles)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join('  ')}`,
    );
    console.log('histogram:');
    for (const line of histogramLines(r.pred, config.trading.threshold)) console.log(line);
    console.log(
      'signals per threshold (buy: prediction > t, sell: prediction < -t; hit rate and edge against the realised label):',
    );
    for (const line of ladderLines(s.ladder)) console.log(line);
    const inSample = inSampleOfStored(db, r.sessionIds, r.ts, predictor.meta.training);
    if (inSample > 0) {
      console.log(
        `note: ${inSample} of ${s.n} decisions lie inside the model's training span, so hit rate and edge there are in-sample ` +
          '(optimistic); judge the model on data recorded after it was trained.',
      );
    }
    return 0;
  } finally {
    db.close();
    data.dispose();
    await predictor.close();
  }
}
