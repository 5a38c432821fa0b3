// From stored sessions to a registered model file: builds the dataset and trains, both inside the trainer worker
// (so the caller's thread, e.g. the engine's inference, never waits), then writes X.onnx + X.json and records the
// model in the models table. Used by `l2desk train`, `npm run train:default` and the Retrainer.
import type { Config } from '../../src-shared/config.ts';
import { receiveTime } from '../engine/decisionGrid.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { buildDataset, sessionSources, type Dataset, type DatasetStats } from './dataset.ts';
import { cachedDataset, type SessionRows } from './featureCache.ts';
import type { GbdtParams } from './gbdt/train.ts';
import { writeModel } from './modelFiles.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelMeta } from './modelMeta.ts';
import { registerModel } from './modelRegistry.ts';
import type { TrainJob, TrainOutcome, TrainProgress } from './trainer.ts';
import { sessionIdentity, type DataIdentity } from './dataIdentity.ts';
import { checkLabels, checkSpan, TrainingDataError } from './trainingData.ts';
import { trainInWorker } from './trainInWorker.ts';

export interface DbDatasetSpec {
  dbFile: string;
  /** Empty: every session of the newest session's symbol. */
  sessionIds: number[];
  decisionIntervalMs: number;
  horizonMs: number;
  /** config trading.feed_latency: the Engine's receive clock on data without receive stamps (default 0). */
  feedLatencyMs?: number;
  /** Only data received in [fromTs, toTs] (ms): the retraining window. */
  fromTs?: number;
  toTs?: number;
  /** Use (and fill) the per-session feature cache (featureCache.ts); default true. False: always replay raw data. */
  featureCache?: boolean;
  /**
   * Sessions of a ClickHouse store whose features came from the store's cache: dbFile (the store's temporary copy)
   * holds their records but not their raw data. Needs the feature cache on.
   */
  storeFeatures?: StoreFeatures;
}

/** Rows and identities of sessions read from a store's feature cache instead of from raw data. */
export interface StoreFeatures {
  /** featureCache.featureKey of the parameters the rows were built with: they must be the spec's. */
  featureKey: string;
  rows: SessionRows[];
  identities: DataIdentity[];
}

export interface TrainSettings {
  params: GbdtParams;
  folds: number;
  trials: number;
  ensemble: number;
  earlyStopFraction?: number;
  /** Fewest independent label horizons the data must cover (config train.min_horizons); 0: no check. */
  minHorizons?: number;
}

export interface DatasetSummary {
  nRows: number;
  sessionIds: number[];
  fromTs: number;
  toTs: number;
  names: readonly string[];
  featureSetVersion: string;
  stats: DatasetStats;
}

export type PipelineProgress = { phase: 'dataset'; events: number } | TrainProgress;

/** Smallest dataset worth training on: a few walk-forward blocks of a few dozen rows. */
export const MIN_ROWS = 200;

export function paramsFromConfig(config: Config, seed = 1): GbdtParams {
  const t = config.train;
  return {
    rounds: t.rounds,
    maxDepth: t.max_depth,
    maxLeaves: 0,
    learningRate: t.learning_rate,
    minSamplesLeaf: t.min_samples_leaf,
    l2: t.l2,
    rowSubsample: t.row_subsample,
    featureSubsample: t.feature_subsample,
    earlyStoppingRounds: t.early_stopping_rounds,
    bins: t.bins,
    seed,
  };
}

export function settingsFromConfig(config: Config, seed = 1): TrainSettings {
  return {
    params: paramsFromConfig(config, seed),
    folds: config.train.folds,
    trials: config.tuning.trials,
    ensemble: config.train.ensemble,
    minHorizons: config.train.min_horizons,
  };
}

/** Builds the dataset of `spec` (synchronously: call it in the worker). */
export function datasetFromDb(spec: DbDatasetSpec, onProgress?: (events: number) => void): Dataset {
  const db = openDb(spec.dbFile, { mustExist: true });
  try {
    const { sources, sessions } = sessionSources(db, spec.sessionIds);
    const opts = {
      decisionIntervalMs: spec.decisionIntervalMs,
      horizonMs: spec.horizonMs,
      feedLatencyMs: spec.feedLatencyMs,
      onProgress,
    };
    // Whole sessions' rows from the cache (built and stored on a miss), cut to the window exactly as the windowed
    // replay below would cut them: the same rows, without replaying raw depth while features and data are unchanged.
    const given = spec.storeFeatures?.rows ?? [];
    if (spec.featureCache !== false)
      return cachedDataset(
        db,
        sessions,
        opts,
        { fromTs: spec.fromTs, toTs: spec.toTs },
        { given: spec.storeFeatures },
      ).dataset;
    if (given.length > 0)
      throw new Error(
        `sessions ${given.map((r) => r.sessionId).join(', ')} hold no raw data in ${spec.dbFile} (their features ` +
          'came from the store): they cannot be replayed with the feature cache off',
      );
    // A window is read as if from each session's start (rows before fromTs are dropped afterwards), since the
    // features' running sums carry the whole history since their last reset: the rows kept must be bit-identical
    // to a full replay's. The one cheap start with that guarantee is a resync (windowStart).
    const windowed =
      spec.toTs === undefined && spec.fromTs === undefined
        ? sources
        : sources.map((s, i) => {
            const start =
              spec.fromTs === undefined
                ? null
                : windowStart(db, s.sessionId, sessions[i].depth, spec.fromTs, spec.feedLatencyMs);
            return {
              ...s,
              clockFloor: start?.clockFloor,
              localFloor: start?.localFloor,
              events: {
                [Symbol.iterator]: () =>
                  readSession(db, s.sessionId, { toTs: spec.toTs, fromId: start?.fromId, reuseLevels: true }),
              },
            };
          });
    const ds = buildDataset(windowed, opts);
    return spec.fromTs === undefined ? ds : rowsFrom(ds, spec.fromTs);
  } finally {
    db.close();
  }
}

/**
 * Where a window's replay may start instead of the session start with the same rows at or after fromTs: the last
 * stored snapshot that is a resync (depth above 1, not the session's first snapshot, and after a stored gap or not
 * following the book row before it in sequence: buildDataset restarts the book, features and labels there, so
 * nothing before it reaches a later row) and after which no row before fromTs
 * can be taken (its local time, clamped to the largest earlier local time, is at most fromTs: rows are on the
 * Engine's receive clock, decisionGrid.ts; the exchange clock's floor is returned too). Null: none, read
 * from the start. On depths above 1 the feed carries a snapshot only at (re)subscription, so a session without
 * reconnects still replays from its start; depth 1 snapshots are no resync (buildDataset does not restart there).
 */
export function windowStart(
  db: Db,
  sessionId: number,
  depth: number,
  fromTs: number,
  feedLatencyMs = 0,
): { fromId: number; clockFloor: number; localFloor: number } | null {
  if (depth <= 1) return null;
  const snapshots = db
    .prepare(
      `SELECT id, ts, recv_ts, u FROM l2_updates WHERE session_id = ? AND is_snapshot = 1 AND recv_ts <= ?
       ORDER BY recv_ts DESC, id DESC LIMIT 8`,
    )
    .raw(true)
    .all(sessionId, fromTs) as [number, number, number, number][];
  const floor = db.prepare(
    `SELECT max(coalesce((SELECT max(ts) FROM l2_updates WHERE session_id = @sid AND id < @id), -9e18),
                coalesce((SELECT max(msg_ts) FROM trades WHERE session_id = @sid AND msg_id < @id), -9e18))`,
  );
  // Local time as decisionGrid.receiveTime has it: the receive stamp, or exchange time + feed latency.
  const localFloor = db.prepare(
    `SELECT max(coalesce((SELECT max(CASE WHEN recv_ts = ts THEN ts + @lat ELSE recv_ts END)
                          FROM l2_updates WHERE session_id = @sid AND id < @id), -9e18),
                coalesce((SELECT max(CASE WHEN recv_ts = msg_ts THEN msg_ts + @lat ELSE recv_ts END)
                          FROM trades WHERE session_id = @sid AND msg_id < @id), -9e18))`,
  );
  const earlierSnapshot = db
    .prepare('SELECT 1 FROM l2_updates WHERE session_id = ? AND is_snapshot = 1 AND id < ? LIMIT 1')
    .pluck();
  const previousU = db
    .prepare('SELECT u FROM l2_updates WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT 1')
    .pluck();
  const gapSinceSnapshot = db
    .prepare(
      `SELECT 1 FROM gaps WHERE session_id = @sid AND id < @id AND id >
         (SELECT max(id) FROM l2_updates WHERE session_id = @sid AND is_snapshot = 1 AND id < @id) LIMIT 1`,
    )
    .pluck();
  for (const [id, ts, recvTs, u] of snapshots) {
    if (earlierSnapshot.get(sessionId, id) === undefined) return null; // the first snapshot: no resync
    // A snapshot whose u follows the book row before it, with no stored gap since the snapshot before, may continue
    // the book (retention's checkpoint, a seamless resubscription: SequencedBook.continuesWith), and buildDataset
    // then reads on through it without a restart: no place to start.
    const inSequence = previousU.get(sessionId, id) === u - 1;
    if (inSequence && gapSinceSnapshot.get({ sid: sessionId, id }) === undefined) continue;
    const f = floor.pluck().get({ sid: sessionId, id }) as number;
    const lf = localFloor.pluck().get({ sid: sessionId, id, lat: feedLatencyMs }) as number;
    const local = receiveTime({ ts, recvTs }, feedLatencyMs);
    if (Math.max(lf, local) <= fromTs) return { fromId: id, clockFloor: f, localFloor: lf };
  }
  return null;
}

/** The rows of `ds` with decision time >= fromTs (copies). */
export function rowsFrom(ds: Dataset, fromTs: number): Dataset {
  const keep: number[] = [];
  for (let i = 0; i < ds.nRows; i++) if (ds.ts[i] >= fromTs) keep.push(i);
  const nf = ds.nFeatures;
  const X = new Float32Array(keep.length * nf);
  keep.forEach((r, k) => X.set(ds.X.subarray(r * nf, r * nf + nf), k * nf));
  return {
    ...ds,
    X,
    y: Float32Array.from(keep, (r) => ds.y[r]),
    ts: Float64Array.from(keep, (r) => ds.ts[r]),
    session: Int32Array.from(keep, (r) => ds.session[r]),
    labelRecvTs: Float64Array.from(keep, (r) => ds.labelRecvTs[r]),
    nRows: keep.length,
  };
}

export function summarize(ds: Dataset): DatasetSummary {
  let fromTs = Infinity;
  let toTs = -Infinity;
  for (let i = 0; i < ds.nRows; i++) {
    fromTs = Math.min(fromTs, ds.ts[i]);
    toTs = Math.max(toTs, ds.ts[i]);
  }
  return {
    nRows: ds.nRows,
    sessionIds: ds.sessionIds,
    fromTs,
    toTs,
    names: ds.names,
    featureSetVersion: ds.featureSetVersion,
    stats: ds.stats,
  };
}

/** "session 3", "sessions 3, 4", "the 9 sessions": what the user picked, for messages. */
function sessionsText(ids: readonly number[]): string {
  if (ids.length === 0) return 'the stored data';
  if (ids.length === 1) return `session ${ids[0]}`;
  return ids.length <= 4 ? `sessions ${ids.join(', ')}` : `the ${ids.length} sessions`;
}

/** Refuses a dataset training cannot learn from (TrainingDataError, in words for the app's user), else its job. */
export function jobFromDataset(ds: Dataset, s: TrainSettings): TrainJob {
  const what = sessionsText(ds.sessionIds);
  // Time first: a short recording is the usual cause of few rows too, and time is what the user can add.
  if (s.minHorizons) checkSpan(ds.ts, ds.horizonMs, s.minHorizons, what);
  if (ds.nRows < MIN_ROWS) {
    throw new TrainingDataError(
      `${what} gives ${ds.nRows} training samples (${ds.stats.events} events read, ${ds.stats.notWarm} decision ` +
        `times before the features were ready, ${ds.stats.droppedForGap} dropped at data gaps); at least ${MIN_ROWS} ` +
        'are needed: collect more data, then train again',
      'too_few_rows',
    );
  }
  checkLabels(ds.y, ds.ts);
  return {
    X: ds.X,
    y: ds.y,
    ts: ds.ts,
    nRows: ds.nRows,
    nFeatures: ds.nFeatures,
    names: ds.names,
    horizonMs: ds.horizonMs,
    params: s.params,
    folds: s.folds,
    trials: s.trials,
    ensemble: s.ensemble,
    earlyStopFraction: s.earlyStopFraction,
    minHorizons: s.minHorizons,
    decisionIntervalMs: ds.decisionIntervalMs,
  };
}

export interface TrainModelOptions {
  spec: DbDatasetSpec;
  settings: TrainSettings;
  /** Where to write X.onnx (X.json goes beside it). */
  outPath: string;
  name?: string;
  /** Creation time (ms) for the metadata and the registry (the caller's clock). */
  createdAt: number;
  onProgress?: (p: PipelineProgress) => void;
  /** Aborting cancels the worker at its next round. */
  signal?: AbortSignal;
  /** Register the model in this database (default: the spec's database). null: do not register. */
  registerIn?: Db | null;
}

export interface TrainedModel {
  onnxPath: string;
  jsonPath: string;
  meta: ModelMeta;
  outcome: TrainOutcome;
  dataset: DatasetSummary;
  modelId: number | null;
}

export function buildMeta(
  name: string,
  outcome: TrainOutcome,
  ds: DatasetSummary,
  spec: DbDatasetSpec,
  settings: TrainSettings,
  createdAt: number,
): ModelMeta {
  return {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    name,
    feature_set: { version: ds.featureSetVersion, names: [...ds.names] },
    label: { kind: 'mid_log_return_bps', horizon_ms: spec.horizonMs },
    training: {
      from_ts: outcome.trainFrom,
      to_ts: outcome.trainTo,
      sessions: ds.sessionIds,
      decision_interval_ms: spec.decisionIntervalMs,
    },
    params: {
      ...outcome.params,
      folds: settings.folds,
      trials: settings.trials,
      ensemble: settings.ensemble,
    },
    n_trees: outcome.model.treeStart.length - 1,
    metrics: outcome.metrics,
    created_at: createdAt,
  };
}

/** What each training session is (metadata training.data): backtests recognise this data on any clock. */
function trainingIdentities(
  dbFile: string,
  sessionIds: readonly number[],
  known: readonly DataIdentity[] = [],
): DataIdentity[] {
  const db = openDb(dbFile, { mustExist: true });
  try {
    return sessionIds
      .map((id) => known.find((k) => k.session === id) ?? sessionIdentity(db, id))
      .filter((x): x is DataIdentity => x !== null);
  } finally {
    db.close();
  }
}

export async function trainModelFromDb(o: TrainModelOptions): Promise<TrainedModel> {
  const handle = trainInWorker(
    { kind: 'db', spec: o.spec, settings: o.settings },
    { onProgress: o.onProgress },
  );
  const onAbort = () => handle.cancel();
  o.signal?.addEventListener('abort', onAbort);
  let res: Awaited<typeof handle.result>;
  try {
    res = await handle.result;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  const ds = res.dataset as DatasetSummary;
  if (ds.featureSetVersion !== FEATURE_SET.version)
    throw new Error(
      `dataset built with feature set ${ds.featureSetVersion}, this build runs ${FEATURE_SET.version}`,
    );
  const name = o.name ?? o.outPath.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
  const meta = buildMeta(name, res.outcome, ds, o.spec, o.settings, o.createdAt);
  meta.training.data = trainingIdentities(o.spec.dbFile, ds.sessionIds, o.spec.storeFeatures?.identities);
  const jsonPath = writeModel(o.outPath, res.outcome.model, meta);
  let modelId: number | null = null;
  if (o.registerIn !== null) {
    const db = o.registerIn ?? openDb(o.spec.dbFile, { mustExist: true });
    try {
      modelId = registerModel(db, {
        path: o.outPath,
        name,
        createdAt: o.createdAt,
        featureSetVersion: ds.featureSetVersion,
        horizonMs: o.spec.horizonMs,
        metrics: meta.metrics,
        params: meta.params,
      });
    } finally {
      if (!o.registerIn) db.close();
    }
  }
  return { onnxPath: o.outPath, jsonPath, meta, outcome: res.outcome, dataset: ds, modelId };
}
