// Live retraining (config retrain.every / retrain.window): trains a challenger in the worker on the newest window
// of stored data, then scores it and the running champion on the newest data the challenger never saw (after an
// embargo of one horizon), and promotes the challenger only if it predicts better there (lower MSE, i.e. higher
// R²). Every decision is stored (model_decisions) with both models' metrics. Time is the caller's clock; the engine
// calls maybeRun(now) and swaps its Predictor when a decision says promoted.
import path from 'node:path';
import { openDb } from '../store/db.ts';
import { evaluate, type EvalMetrics } from './metrics.ts';
import {
  getChampion,
  getModel,
  listModels,
  recordDecision,
  registerModel,
  setChampion,
  setStatus,
} from './modelRegistry.ts';
import { Predictor, readModelMeta, type FeatureSetSpec } from './predictor.ts';
import type { Config } from '../../src-shared/config.ts';
import {
  settingsFromConfig,
  trainModelFromDb,
  type DbDatasetSpec,
  type PipelineProgress,
  type StoreFeatures,
  type TrainSettings,
} from './trainPipeline.ts';
import { buildDatasetInWorker } from './trainInWorker.ts';
import { datasetParamsFromConfig, featureKey } from './featureCache.ts';
import { OpenSessionRows } from './openSessionRows.ts';

export interface RetrainerOptions {
  dbFile: string;
  /** The model in use when the retrainer starts (registered as champion if the database has none). */
  championPath: string;
  featureSet: FeatureSetSpec;
  /** retrain.every (ms): maybeRun() starts a round when this much time has passed since the last one. */
  everyMs: number;
  /** retrain.window (ms): how much of the newest data a round uses (training + evaluation). */
  windowMs: number;
  horizonMs: number;
  decisionIntervalMs: number;
  /** config trading.feed_latency: rows on the Engine's receive clock (dataset.ts); default 0. */
  feedLatencyMs?: number;
  settings: TrainSettings;
  /** Where challengers are written (challenger-<time>.onnx + .json). */
  outDir: string;
  /** Newest share of the window kept out of training and used to compare the two models. */
  evalFraction?: number;
  /** Sessions to read (default: every session of the newest session's symbol). */
  sessionIds?: number[];
  /**
   * Rows of a session built beside the store: the feed being recorded, built as it is stored (liveRows.ts), or a
   * replayed ClickHouse session's; null when there are none (or they cannot be used). A round learns from them
   * instead of replaying that session from its start.
   */
  liveRows?: () => StoreFeatures | null;
  /**
   * Follow the round's sessions that are still being recorded (a collector writing into the file) across rounds, in
   * a worker, so that a round reads only what they gained since the last one (openSessionRows.ts); default true.
   */
  followOpenSessions?: boolean;
  onProgress?: (p: PipelineProgress) => void;
  log?: (line: string) => void;
}

export interface ModelScore {
  id: number;
  path: string;
  metrics: EvalMetrics;
}

export interface RetrainDecision {
  decisionId: number;
  decidedAt: number;
  promoted: boolean;
  reason: string;
  champion: ModelScore;
  challenger: ModelScore;
  /** Span of the challenger's training rows (decision times, ms). */
  trainFrom: number;
  trainTo: number;
  evalFrom: number;
  evalTo: number;
  nEval: number;
  /** The model to run from now on (the challenger's path when promoted). */
  modelPath: string;
}

export interface HoldoutScore {
  /** Rows scored (decision times in [rowsFrom, rowsTo]). */
  n: number;
  /** One per model, in the order given. */
  metrics: EvalMetrics[];
}

/**
 * Scores several models on the same held-out rows: decisions in [rowsFrom, rowsTo] of the stored sessions, labels
 * included (data read up to rowsTo + horizon). The dataset is built in the worker; only the rows come back here.
 */
export async function scoreOnHoldout(o: {
  spec: Omit<DbDatasetSpec, 'fromTs' | 'toTs'>;
  rowsFrom: number;
  rowsTo: number;
  models: string[];
  featureSet: FeatureSetSpec;
}): Promise<HoldoutScore> {
  const ds = await buildDatasetInWorker({ ...o.spec, fromTs: o.rowsFrom, toTs: o.rowsTo + o.spec.horizonMs });
  const keep: number[] = [];
  for (let i = 0; i < ds.nRows; i++) if (ds.ts[i] >= o.rowsFrom && ds.ts[i] <= o.rowsTo) keep.push(i);
  const nf = ds.nFeatures;
  const X = new Float32Array(keep.length * nf);
  const y = new Float32Array(keep.length);
  keep.forEach((r, k) => {
    X.set(ds.X.subarray(r * nf, r * nf + nf), k * nf);
    y[k] = ds.y[r];
  });
  const metrics: EvalMetrics[] = [];
  for (const file of o.models) {
    const p = await Predictor.load(file, o.featureSet);
    try {
      metrics.push(evaluate(await p.predictBatch(X, keep.length), y));
    } finally {
      await p.close();
    }
  }
  return { n: keep.length, metrics };
}

/** Smallest evaluation set worth a decision. */
const MIN_EVAL_ROWS = 50;

export class Retrainer {
  private busy = false;
  private lastRun = -Infinity;
  private championPath: string;
  private abort: AbortController | null = null;
  private readonly openRows: OpenSessionRows | null;

  constructor(private readonly o: RetrainerOptions) {
    if (!(o.everyMs > 0)) throw new RangeError('retrain.every must be positive');
    if (!(o.windowMs > 4 * o.horizonMs))
      throw new RangeError('retrain.window must span several label horizons');
    this.championPath = path.resolve(o.championPath);
    this.openRows =
      o.followOpenSessions === false
        ? null
        : new OpenSessionRows(o.dbFile, {
            decisionIntervalMs: o.decisionIntervalMs,
            horizonMs: o.horizonMs,
            feedLatencyMs: o.feedLatencyMs,
          });
  }

  /** Stops the worker that follows open sessions (a later round starts it again). */
  async close(): Promise<void> {
    await this.openRows?.close();
  }

  get running(): boolean {
    return this.busy;
  }

  get currentModel(): string {
    return this.championPath;
  }

  /** The running model changed outside the retrainer (the user picked or accepted another one). */
  useChampion(onnxPath: string): void {
    this.championPath = path.resolve(onnxPath);
  }

  /**
   * True when a round should start now. The first call arms the schedule (the first round comes one `everyMs`
   * later, once that much data has arrived); a clock that jumps back (another source, a replay) re-arms it.
   */
  due(now: number): boolean {
    if (this.lastRun === -Infinity || now < this.lastRun) {
      this.lastRun = now;
      return false;
    }
    return !this.busy && now - this.lastRun >= this.o.everyMs;
  }

  /** Starts a round when due() says so; resolves to its decision, or null when none was due. */
  async maybeRun(now: number): Promise<RetrainDecision | null> {
    if (!this.due(now)) return null;
    return this.runOnce(now);
  }

  /** Stops a running round (its training is cancelled; no decision is stored). */
  cancel(): void {
    this.abort?.abort();
  }

  async runOnce(now: number): Promise<RetrainDecision> {
    if (this.busy) throw new Error('a retraining round is already running');
    this.busy = true;
    this.lastRun = now;
    this.abort = new AbortController();
    const log = this.o.log ?? (() => {});
    try {
      const o = this.o;
      const from = now - o.windowMs;
      const evalFrom = now - o.windowMs * (o.evalFraction ?? 0.2);
      // The challenger's labels end before the evaluation period starts (embargo = one horizon).
      const trainTo = evalFrom - o.horizonMs;
      const live = o.liveRows?.() ?? undefined;
      // Sessions still being recorded, followed across rounds: only what they gained since the last round is read.
      // Should that fail, the round replays them as before: the rows only save time.
      const open = this.openRows
        ? await this.openRows
            .rows(o.sessionIds ?? [], live?.rows.map((r) => r.sessionId) ?? [])
            .catch((e: unknown) => {
              log(`retrain: sessions still recording are read whole this round: ${(e as Error).message}`);
              return null;
            })
        : null;
      for (const n of open?.notes ?? []) log(`retrain: ${n}`);
      const params = {
        decisionIntervalMs: o.decisionIntervalMs,
        horizonMs: o.horizonMs,
        feedLatencyMs: o.feedLatencyMs,
      };
      const given: StoreFeatures | undefined =
        live || open?.rows.length
          ? {
              featureKey: live?.featureKey ?? featureKey(params),
              rows: [...(live?.rows ?? []), ...(open?.rows ?? [])],
              identities: live?.identities ?? [],
            }
          : undefined;
      const spec = {
        dbFile: o.dbFile,
        sessionIds: o.sessionIds ?? [],
        ...params,
        // Both the training and the holdout rows of those sessions come from this one snapshot: the same rows as a
        // read of the sessions now (the caller stored every message up to now before the round).
        storeFeatures: given,
      };
      if (live)
        log(
          `retrain: the features of session ${live.rows.map((r) => r.sessionId).join(', ')} come from memory ` +
            `(${live.rows.reduce((n, r) => n + r.nRows, 0)} rows): its raw depth is not read again`,
        );
      const challengerPath = path.resolve(o.outDir, `challenger-${Math.round(now)}.onnx`);
      log(`retrain: training a challenger on data received in [${iso(from)} .. ${iso(trainTo)}]`);
      const trained = await trainModelFromDb({
        spec: { ...spec, fromTs: from, toTs: trainTo },
        settings: o.settings,
        outPath: challengerPath,
        name: path.basename(challengerPath, '.onnx'),
        createdAt: now,
        onProgress: o.onProgress,
        signal: this.abort.signal,
      });
      // Evaluation rows: decisions at or after evalFrom whose labels end by now (features may look back before
      // evalFrom: that is the past).
      const holdout = await scoreOnHoldout({
        spec,
        rowsFrom: evalFrom,
        rowsTo: now - o.horizonMs,
        models: [this.championPath, challengerPath],
        featureSet: o.featureSet,
      });
      const [champMetrics, challMetrics] = holdout.metrics;
      const nEval = holdout.n;

      const db = openDb(o.dbFile, { mustExist: true });
      try {
        const champId = this.registerChampion(db, now);
        const challId = trained.modelId as number;
        let promoted = false;
        let reason: string;
        if (nEval < MIN_EVAL_ROWS) {
          reason = `only ${nEval} evaluation samples after ${evalFrom} ms (need ${MIN_EVAL_ROWS}): the champion stays`;
        } else if (challMetrics.mse < champMetrics.mse) {
          promoted = true;
          reason = `challenger beats champion out of sample: MSE ${challMetrics.mse.toFixed(4)} < ${champMetrics.mse.toFixed(4)} (R² ${challMetrics.r2.toFixed(4)} vs ${champMetrics.r2.toFixed(4)}) on ${nEval} samples`;
        } else {
          reason = `champion holds: challenger MSE ${challMetrics.mse.toFixed(4)} >= ${champMetrics.mse.toFixed(4)} (R² ${challMetrics.r2.toFixed(4)} vs ${champMetrics.r2.toFixed(4)}) on ${nEval} samples`;
        }
        const decisionId = db.transaction(() => {
          if (promoted) setChampion(db, challId);
          else setStatus(db, challId, 'rejected');
          return recordDecision(db, {
            decidedAt: now,
            championId: champId,
            challengerId: challId,
            promoted,
            reason,
            championMetrics: { ...champMetrics, n: nEval },
            challengerMetrics: {
              ...challMetrics,
              n: nEval,
              train: trained.meta.metrics,
              trainFrom: trained.meta.training.from_ts,
              trainTo: trained.meta.training.to_ts,
            },
            evalFrom,
            evalTo: now,
          });
        })();
        const decision: RetrainDecision = {
          decisionId,
          decidedAt: now,
          promoted,
          reason,
          champion: { id: champId, path: this.championPath, metrics: champMetrics },
          challenger: { id: challId, path: challengerPath, metrics: challMetrics },
          trainFrom: trained.meta.training.from_ts,
          trainTo: trained.meta.training.to_ts,
          evalFrom,
          evalTo: now,
          nEval,
          modelPath: promoted ? challengerPath : this.championPath,
        };
        if (promoted) this.championPath = challengerPath;
        log(describeDecision(decision));
        return decision;
      } finally {
        db.close();
      }
    } finally {
      this.busy = false;
      this.abort = null;
    }
  }

  /** The running model's row in the models table, registering it (as champion) the first time. */
  private registerChampion(db: ReturnType<typeof openDb>, now: number): number {
    const known = listModels(db).find((m) => m.path === this.championPath);
    if (known) {
      if (known.status !== 'champion') setChampion(db, known.id);
      return known.id;
    }
    const meta = readModelMeta(this.championPath);
    const current = getChampion(db, meta.feature_set.version, meta.label.horizon_ms);
    if (current && getModel(db, current.id)?.path === this.championPath) return current.id;
    const id = registerModel(db, {
      path: this.championPath,
      name: meta.name,
      createdAt: meta.created_at || now,
      featureSetVersion: meta.feature_set.version,
      horizonMs: meta.label.horizon_ms,
      metrics: meta.metrics,
      params: meta.params,
    });
    setChampion(db, id);
    return id;
  }
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
const fmt = (m: EvalMetrics) =>
  `mse ${m.mse.toFixed(4)} r2 ${m.r2.toFixed(4)} ic ${m.ic.toFixed(4)} hit ${(m.hit_rate * 100).toFixed(1)}%`;

/** One log line for a decision: outcome, both models' out-of-sample metrics, and the data spans used. */
export function describeDecision(d: RetrainDecision): string {
  return (
    `retrain #${d.decisionId} at ${iso(d.decidedAt)}: ${d.promoted ? 'PROMOTED' : 'HOLD'} ` +
    `${path.basename(d.promoted ? d.challenger.path : d.champion.path)} | out of sample on ${d.nEval} samples ` +
    `[${iso(d.evalFrom)} .. ${iso(d.evalTo)}]: champion ${fmt(d.champion.metrics)}; challenger ${fmt(d.challenger.metrics)} | ` +
    `challenger trained on [${iso(d.trainFrom)} .. ${iso(d.trainTo)}] | ${d.reason}`
  );
}

/**
 * The retrainer the config asks for (retrain.every, retrain.window, model.horizon, features.decision_interval,
 * train.*, tuning.trials), or null when retrain.every is null (retraining off).
 */
export function retrainerFromConfig(
  config: Config,
  o: {
    dbFile: string;
    championPath: string;
    featureSet: FeatureSetSpec;
    outDir: string;
    sessionIds?: number[];
    liveRows?: () => StoreFeatures | null;
    log?: (line: string) => void;
    onProgress?: (p: PipelineProgress) => void;
  },
): Retrainer | null {
  if (config.retrain.every === null) return null;
  return new Retrainer({
    ...o,
    everyMs: config.retrain.every,
    windowMs: config.retrain.window,
    ...datasetParamsFromConfig(config),
    settings: settingsFromConfig(config),
  });
}
