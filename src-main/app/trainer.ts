// Trainer adapter: trains a candidate on stored sessions with the model pipeline (dataset and GBDT both in the
// trainer worker, so nothing blocks this thread), streaming progress, and writes it as X.onnx + X.json in the
// models folder. Accepting it is the app service's decision (the user's), never this adapter's.
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import type { PipelineProgress } from '../model/trainPipeline.ts';
import type { Db } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
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

export function makeTrainer(o: { config: Config; db: Db }): Trainer {
  const c = o.config;
  return async ({ jobId, sessionIds, outDir, onProgress }) => {
    const ids =
      sessionIds && sessionIds.length
        ? sessionIds
        : listSessions(o.db)
            .filter((s) => s.symbol === c.symbol && s.messages > 0)
            .map((s) => s.id);
    if (ids.length === 0) throw new Error(`no stored ${c.symbol} sessions to train on: press Collect first`);
    // Loaded on first use: the ONNX writer and the worker are only needed when someone retrains.
    const { trainModelFromDb, settingsFromConfig } = await import('../model/trainPipeline.ts');
    const createdAt = Date.now();
    const name = `${c.symbol.toLowerCase()}-${new Date(createdAt).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${jobId}`;
    const outPath = path.join(outDir, `${name}.onnx`);
    onProgress({
      phase: 'dataset',
      fraction: 0.02,
      message: `building features from ${ids.length} session(s)`,
      metrics: {},
    });
    const trained = await trainModelFromDb({
      spec: {
        dbFile: o.db.name,
        sessionIds: ids,
        decisionIntervalMs: c.features.decision_interval,
        horizonMs: c.model.horizon,
      },
      settings: settingsFromConfig(c),
      outPath,
      name,
      createdAt,
      registerIn: o.db,
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
    return { candidate: info };
  };
}
