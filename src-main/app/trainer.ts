// Trainer adapters. Manual: trains a candidate on stored sessions with the model pipeline (dataset and GBDT both in
// the trainer worker, so nothing blocks this thread), streaming progress, writes it as X.onnx + X.json in the models
// folder, and scores it and the running model on the candidate's validation fold (the same unseen rows for both);
// accepting it is the user's decision. Auto (retrain.every): the shared model Retrainer, which decides by itself.
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import type { EvalMetrics } from '../model/metrics.ts';
import type { RetrainDecision } from '../model/retrainer.ts';
import type { PipelineProgress, StoreFeatures } from '../model/trainPipeline.ts';
import type { Db } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { isFeedRecording } from './feedRecorder.ts';
import { needsMoreData } from './guiWording.ts';
import { readModelInfo } from './modelsCatalog.ts';
import type { Trainer } from './ports.ts';

type Progress = Parameters<Parameters<Trainer>[0]['onProgress']>[0];

export function describeProgress(p: PipelineProgress): Progress {
  if (p.phase === 'dataset')
    return {
      phase: 'dataset',
      fraction: 0.05,
      message: `reading stored data: ${p.events.toLocaleString('en-US')} events`,
      metrics: {},
    };
  const stepFrac = p.steps > 0 ? (p.step - 1 + p.round / Math.max(1, p.rounds)) / p.steps : 0;
  const frac = p.phase === 'tuning' && p.trials > 0 ? (p.trial - 1 + stepFrac) / p.trials : stepFrac;
  const metrics: Record<string, number> = {};
  if (Number.isFinite(p.trainLoss)) metrics.trainLoss = p.trainLoss;
  if (Number.isFinite(p.validLoss)) metrics.validLoss = p.validLoss;
  return {
    phase: p.phase === 'final' ? 'validating' : 'training',
    fraction: p.phase === 'final' ? 0.6 + 0.35 * Math.min(1, frac) : 0.1 + 0.5 * Math.min(1, frac),
    message: `${p.phase === 'final' ? 'final fit' : 'walk-forward'}${p.trials ? ` trial ${p.trial}/${p.trials}` : ''} · step ${p.step}/${p.steps} · round ${p.round}/${p.rounds}`,
    metrics,
  };
}

/** Holdout metrics as the UI shows them (short names; undefined values, e.g. a constant model's IC, left out). */
export function holdoutView(m: EvalMetrics, n: number): Record<string, number> {
  const v: Record<string, number> = { mse: m.mse, r2: m.r2, ic: m.ic, hitRate: m.hit_rate, holdoutRows: n };
  for (const k of Object.keys(v)) if (!Number.isFinite(v[k])) delete v[k];
  return v;
}

/** Retrain with nothing to learn from, said as the app's training refusals are (guiWording.ts). */
export function noStoredData(c: Config): Error {
  return new Error(
    `${needsMoreData(c.train.min_horizons * c.model.horizon)} (no ${c.symbol} data is stored yet)`,
  );
}

export function makeTrainer(o: {
  config: Config;
  db: Db;
  /** Over a ClickHouse store's copy: sessions whose rows came from the store's feature cache (trainingCopy.ts). */
  storeFeatures?: StoreFeatures;
}): Trainer {
  const c = o.config;
  return async ({ jobId, sessionIds, currentModel, outDir, onProgress, signal }) => {
    const stored = listSessions(o.db).filter((s) => s.symbol === c.symbol && s.messages > 0);
    const ids = sessionIds && sessionIds.length ? sessionIds : stored.map((s) => s.id);
    // Said in the progress line: the app's own recorded feed counts, beside what was collected.
    const recorded = stored.filter((s) => ids.includes(s.id) && isFeedRecording(s)).length;
    const from =
      recorded > 0
        ? `the recorded feed (${recorded} recording${recorded === 1 ? '' : 's'})` +
          (ids.length > recorded ? ` and ${ids.length - recorded} other session(s)` : '')
        : `${ids.length} session(s)`;
    if (ids.length === 0) throw noStoredData(c);
    // Loaded on first use: the ONNX writer and the worker are only needed when someone retrains.
    const { trainModelFromDb, settingsFromConfig } = await import('../model/trainPipeline.ts');
    const createdAt = Date.now();
    const name = `${c.symbol.toLowerCase()}-${new Date(createdAt).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${jobId}`;
    const outPath = path.join(outDir, `${name}.onnx`);
    onProgress({
      phase: 'dataset',
      fraction: 0.02,
      message: `building features from ${from}`,
      metrics: {},
    });
    const trained = await trainModelFromDb({
      spec: {
        dbFile: o.db.name,
        sessionIds: ids,
        decisionIntervalMs: c.features.decision_interval,
        horizonMs: c.model.horizon,
        feedLatencyMs: c.trading.feed_latency,
        storeFeatures: o.storeFeatures,
      },
      settings: settingsFromConfig(c),
      outPath,
      name,
      createdAt,
      registerIn: o.db,
      signal,
      onProgress: (p) => onProgress(describeProgress(p)),
    });
    onProgress({
      phase: 'exporting',
      fraction: 0.98,
      message: `wrote ${path.basename(trained.onnxPath)}`,
      metrics: {},
    });
    const info = readModelInfo(trained.onnxPath);
    if (!info) throw new Error(`the trained model ${trained.onnxPath} could not be read back`);
    if (!currentModel) return { candidate: info };
    onProgress({
      phase: 'validating',
      fraction: 0.99,
      message: 'scoring the candidate and the running model on the same unseen rows',
      metrics: {},
    });
    try {
      const { scoreOnHoldout } = await import('../model/retrainer.ts');
      const h = await scoreOnHoldout({
        spec: {
          dbFile: o.db.name,
          sessionIds: ids,
          decisionIntervalMs: c.features.decision_interval,
          horizonMs: c.model.horizon,
          feedLatencyMs: c.trading.feed_latency,
          storeFeatures: o.storeFeatures,
        },
        rowsFrom: trained.outcome.validFrom,
        rowsTo: trained.outcome.validTo,
        models: [trained.onnxPath, currentModel],
        featureSet: FEATURE_SET,
      });
      return {
        candidate: info,
        holdout: {
          n: h.n,
          candidate: holdoutView(h.metrics[0], h.n),
          current: holdoutView(h.metrics[1], h.n),
        },
      };
    } catch {
      // The running model cannot be scored here (e.g. another feature set): the user decides on validation metrics.
      return { candidate: info };
    }
  };
}

/** What the app service needs from the live Retrainer (src-main/model/retrainer.ts). */
export interface AutoRetrainer {
  readonly currentModel: string;
  due(now: number): boolean;
  run(now: number, onProgress: (p: PipelineProgress) => void): Promise<RetrainDecision>;
  useChampion(onnxPath: string): void;
  cancel(): void;
  /** Stops what it keeps between rounds (the worker following sessions still being recorded). */
  close?(): Promise<void>;
}

/**
 * The live retrainer for the app when retrain.every is set (null otherwise): trains on the newest retrain.window of
 * the database's stored sessions, writes challengers to `modelsDir`, and stores every decision there.
 */
export async function makeAutoRetrainer(o: {
  config: Config;
  dbFile: string;
  modelsDir: string;
  championPath: string;
  /** The rows of the feed being recorded (feedRecorder.ts): rounds learn from them instead of replaying it. */
  liveRows?: () => StoreFeatures | null;
}): Promise<AutoRetrainer | null> {
  if (o.config.retrain.every === null) return null;
  const { retrainerFromConfig } = await import('../model/retrainer.ts');
  let listener: ((p: PipelineProgress) => void) | null = null;
  const r = retrainerFromConfig(o.config, {
    dbFile: o.dbFile,
    championPath: o.championPath,
    featureSet: FEATURE_SET,
    outDir: o.modelsDir,
    liveRows: o.liveRows,
    onProgress: (p) => listener?.(p),
  });
  if (!r) return null;
  return {
    get currentModel() {
      return r.currentModel;
    },
    due: (now) => r.due(now),
    run: async (now, onProgress) => {
      listener = onProgress;
      try {
        return await r.runOnce(now);
      } finally {
        listener = null;
      }
    },
    useChampion: (p) => r.useChampion(p),
    cancel: () => r.cancel(),
    close: () => r.close(),
  };
}
