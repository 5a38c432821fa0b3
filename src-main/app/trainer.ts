// Trainer adapter: builds the dataset from stored sessions, trains the GBDT in a worker thread (progress streams
// out per round), and writes the candidate as X.onnx + X.json in the models folder. Accepting it is the app
// service's decision, never this adapter's.
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDatasetFromDb } from '../model/dataset.ts';
import { DEFAULT_PARAMS, type GbdtParams } from '../model/gbdt/train.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelMeta } from '../model/modelMeta.ts';
import type { Db } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { readModelInfo } from './modelsCatalog.ts';
import type { Trainer } from './ports.ts';

/** Rows below this make validation metrics meaningless: ask the user to collect more instead. */
const MIN_ROWS = 200;

export function paramsFromConfig(c: Config): GbdtParams {
  const t = c.train;
  return {
    ...DEFAULT_PARAMS,
    rounds: t.rounds,
    maxDepth: t.max_depth,
    learningRate: t.learning_rate,
    minSamplesLeaf: t.min_samples_leaf,
    l2: t.l2,
    rowSubsample: t.row_subsample,
    featureSubsample: t.feature_subsample,
    earlyStoppingRounds: t.early_stopping_rounds,
    bins: t.bins,
  };
}

export function makeTrainer(o: { config: Config; db: Db }): Trainer {
  const c = o.config;
  return async ({ jobId, sessionIds, outDir, onProgress }) => {
    const ids = sessionIds && sessionIds.length ? sessionIds : listSessions(o.db).filter((s) => s.symbol === c.symbol && s.messages > 0).map((s) => s.id);
    if (ids.length === 0) throw new Error(`no stored ${c.symbol} sessions to train on: press Collect first`);
    onProgress({ phase: 'dataset', fraction: 0.02, message: `building features from ${ids.length} session(s)`, metrics: {} });
    // Yield once so the progress event goes out before the synchronous dataset pass.
    await new Promise((r) => setTimeout(r, 0));
    const ds = buildDatasetFromDb(o.db, ids, { decisionIntervalMs: c.features.decision_interval, horizonMs: c.model.horizon });
    if (ds.nRows < MIN_ROWS)
      throw new Error(`only ${ds.nRows} labelled rows in ${ids.length} session(s); collect more data (at least ~${Math.ceil((MIN_ROWS * c.features.decision_interval) / 60_000) + 1} minutes)`);
    onProgress({ phase: 'training', fraction: 0.1, message: `${ds.nRows} rows × ${ds.nFeatures} features`, metrics: { rows: ds.nRows } });
    // Loaded on first use: the ONNX writer and the worker are only needed when someone retrains.
    const [{ trainInWorker }, { writeModel }] = await Promise.all([import('../model/trainInWorker.ts'), import('../model/modelFiles.ts')]);
    const handle = trainInWorker(
      {
        X: ds.X,
        y: ds.y,
        ts: ds.ts,
        nRows: ds.nRows,
        nFeatures: ds.nFeatures,
        names: ds.names,
        horizonMs: ds.horizonMs,
        params: paramsFromConfig(c),
        folds: c.train.folds,
        trials: c.tuning.trials,
        ensemble: c.train.ensemble,
      },
      {
        progressEveryMs: 150,
        onProgress: (p) => {
          const stepFrac = p.steps > 0 ? (p.step - 1 + p.round / Math.max(1, p.rounds)) / p.steps : 0;
          const phaseFrac = p.phase === 'tuning' && p.trials > 0 ? (p.trial - 1 + stepFrac) / p.trials : stepFrac;
          onProgress({
            phase: p.phase === 'final' ? 'validating' : 'training',
            fraction: 0.1 + 0.8 * Math.min(1, phaseFrac),
            message: `${p.phase}${p.trials ? ` trial ${p.trial}/${p.trials}` : ''} step ${p.step}/${p.steps} round ${p.round}/${p.rounds}`,
            metrics: { trainLoss: p.trainLoss, validLoss: p.validLoss },
          });
        },
      },
    );
    const out = await handle.result;
    onProgress({ phase: 'exporting', fraction: 0.95, message: 'writing ONNX', metrics: {} });
    const created = Date.now();
    const name = `${c.symbol.toLowerCase()}-${new Date(created).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${jobId}`;
    const onnxPath = path.join(outDir, `${name}.onnx`);
    const meta: ModelMeta = {
      format: MODEL_FORMAT,
      format_version: MODEL_FORMAT_VERSION,
      name,
      feature_set: { version: FEATURE_SET.version, names: [...ds.names] },
      label: { kind: 'mid_log_return_bps', horizon_ms: ds.horizonMs },
      training: { from_ts: out.trainFrom, to_ts: out.trainTo, sessions: ds.sessionIds, decision_interval_ms: ds.decisionIntervalMs },
      params: { ...out.params },
      n_trees: Math.max(0, out.model.treeStart.length - 1),
      metrics: out.metrics,
      created_at: created,
    };
    writeModel(onnxPath, out.model, meta);
    const info = readModelInfo(onnxPath);
    if (!info) throw new Error(`the trained model ${onnxPath} could not be read back`);
    return { candidate: info };
  };
}
