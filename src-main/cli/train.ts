// `l2desk train`: builds the dataset from stored sessions and trains the GBDT in a worker (tuning over
// walk-forward folds when --trials > 0), with a progress bar on stderr; writes X.onnx + X.json and registers the
// model in the database. --json prints the final report as one JSON object on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { loadConfig } from '../config/loadConfig.ts';
import type { NewModel } from '../model/modelRegistry.ts';
import { openDb } from '../store/db.ts';
import { openTrainingData } from '../store/trainingData.ts';
import { datasetParamsFromConfig } from '../model/featureCache.ts';
import { trainModelFromDb, settingsFromConfig, type PipelineProgress } from '../model/trainPipeline.ts';
import { excludesZero, formatInterval } from '../model/confidence.ts';
import { TrainCancelled } from '../model/trainer.ts';
import { Args, UsageError } from './args.ts';
import { writeControl } from './terminalGuard.ts';

export const summary = 'train a model on stored data and export ONNX';

const USAGE = `usage: l2desk train [--db FILE|clickhouse://HOST:PORT/DATABASE] [--session ID]... [--horizon 10s] [--trials N] [--out DIR] [--name NAME]
                    [--ensemble K] [--folds K] [--rounds N] [--seed N] [--decision-interval 1000ms] [--config FILE] [--set key=value] [--json]
  --db        SQLite file or clickhouse://HOST:PORT/DATABASE with recorded sessions (default: config db)
  --session   session id(s) to train on (default: every session of the newest session's symbol)
  --horizon   label horizon: future mid log return over this time, in bps (default: config model.horizon)
  --trials    random-search tuning trials over walk-forward folds (default: config tuning.trials); with --folds 1
              they select on an inner split of the training rows, so the validation rows only report
  --folds     walk-forward folds; the newest is the validation (holdout) block (default: config train.folds)
  --out       directory for NAME.onnx + NAME.json (default: models)
  --json      print the report (r2, ic, hit_rate with r2_ci, ic_ci, hit_rate_ci: 95% block-bootstrap intervals,
              n_train, n_valid, model, ...; on ClickHouse store_cache: sessions whose features were read from
              the store's feature cache, built from its raw data, and stored in its cache) as one JSON object
              on stdout
Training refuses data covering fewer than train.min_horizons label horizons (--set train.min_horizons=N).
On a ClickHouse store no raw data is copied to this machine: features come from the store's cache or are built
by replaying the sessions straight from the store (and stored in its cache when the session is closed).`;

const KNOWN = [
  'set',
  'db',
  'session',
  'horizon',
  'trials',
  'out',
  'name',
  'ensemble',
  'folds',
  'rounds',
  'seed',
  'decision-interval',
  'config',
  'json',
  'help',
];

function durationFlag(args: Args, key: string, bareUnit: 'ms' | 's'): number | undefined {
  const v = args.str(key);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v, bareUnit);
  } catch (e) {
    throw new UsageError(`--${key}: ${(e as Error).message}`);
  }
}

function intFlag(args: Args, key: string, min: number): number | undefined {
  const v = args.num(key);
  if (v !== undefined && (!Number.isInteger(v) || v < min))
    throw new UsageError(`--${key} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** A one-line progress bar, redrawn in place on a terminal, one line every few seconds otherwise. */
class ProgressBar {
  private lastLine = -Infinity;
  private drawn = false;
  constructor(private readonly tty: boolean) {}
  update(p: PipelineProgress, now: number): void {
    let frac: number;
    let text: string;
    if (p.phase === 'dataset') {
      frac = 0;
      text = `building dataset: ${p.events.toLocaleString('en-US')} events`;
    } else {
      const stepFrac = (p.step - 1 + p.round / p.rounds) / p.steps;
      frac = p.phase === 'tuning' ? (p.trial - 1 + stepFrac) / p.trials : stepFrac;
      const what =
        p.phase === 'tuning'
          ? `tuning trial ${p.trial}/${p.trials} fold ${p.step}/${p.steps}`
          : `final model ${p.step}/${p.steps}`;
      text = `${what} round ${p.round}/${p.rounds} train ${p.trainLoss.toFixed(4)} valid ${Number.isFinite(p.validLoss) ? p.validLoss.toFixed(4) : '-'}`;
    }
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    if (this.tty) {
      // The carriage return is ours (the bar redraws in place): written around the terminal guard.
      writeControl(process.stderr, '\r');
      process.stderr.write(`[${bar}] ${text}`.padEnd(109).slice(0, 129));
      this.drawn = true;
    } else if (now - this.lastLine > 3000) {
      this.lastLine = now;
      process.stderr.write(`[${bar}] ${text}\n`);
    }
  }
  done(): void {
    if (this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const overrides: Record<string, unknown> = {};
  if (args.str('db') !== undefined) overrides.db = args.req('db');
  // Config durations take a bare number in the key's own unit: pass ms explicitly.
  const horizon = durationFlag(args, 'horizon', 's');
  if (horizon !== undefined) overrides['model.horizon'] = `${horizon}ms`;
  const every = durationFlag(args, 'decision-interval', 'ms');
  if (every !== undefined) overrides['features.decision_interval'] = `${every}ms`;
  const trials = intFlag(args, 'trials', 0);
  if (trials !== undefined) overrides['tuning.trials'] = trials;
  const ensemble = intFlag(args, 'ensemble', 1);
  if (ensemble !== undefined) overrides['train.ensemble'] = ensemble;
  const folds = intFlag(args, 'folds', 1);
  if (folds !== undefined) overrides['train.folds'] = folds;
  const rounds = intFlag(args, 'rounds', 1);
  if (rounds !== undefined) overrides['train.rounds'] = rounds;
  const seed = intFlag(args, 'seed', 0) ?? 1;
  // A dedicated flag wins over the same key given with --set.
  const config = loadConfig({ configFile: args.str('config'), overrides: { ...args.sets(), ...overrides } });
  const json = args.bool('json');
  const sessionIds = args.all('session').flatMap((v) =>
    v.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n <= 0)
        throw new UsageError(`--session takes session ids such as 3 or 3,4; got "${s}"`);
      return n;
    }),
  );
  const createdAt = Date.now();
  const stamp = new Date(createdAt).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const name = args.str('name') ?? `model-${stamp}`;
  if (!/^[\w.-]+$/.test(name))
    throw new UsageError(`--name may hold letters, digits, "_", "-" and "." only; got "${name}"`);
  const outPath = path.resolve(args.str('out') ?? 'models', `${name}.onnx`);
  // Before the dataset is built: --out names a folder (made if missing), not a file.
  if (fs.statSync(path.dirname(outPath), { throwIfNoEntry: false })?.isDirectory() === false)
    throw new UsageError(`--out ${args.str('out')} is a file: give the folder the model goes to`);

  const features = datasetParamsFromConfig(config);
  // Over a ClickHouse store no raw data is copied to this machine: a closed session's features come from the store's
  // feature cache, the others' are built by replaying them straight from the store (and stored in its cache when the
  // session is closed), and the model is registered in the store (store/trainingData.ts).
  const data = await openTrainingData(
    config.db,
    sessionIds,
    { ...features, store: true },
    {
      onStep: (st, store) => {
        if (json) return;
        if ('fromCache' in st)
          process.stderr.write(`session ${st.sessionId}: features from ${store}'s feature cache\n`);
        else if ('building' in st && (st.done || st.events % 65_536 < 4096))
          process.stderr.write(
            `session ${st.sessionId}: building its features from ${store}: ${st.events} events read${st.done ? ', done' : ''}\n`,
          );
      },
    },
  );
  const cache = data.storeCache;
  if (cache && cache.stored.length > 0 && !json)
    process.stderr.write(
      `stored the features of session(s) ${cache.stored.join(', ')} in ${data.storeName}'s feature cache: the next ` +
        'training on them reads no raw data\n',
    );
  if (cache && cache.storeError !== null)
    process.stderr.write(
      `warning: the features could not be stored in ${data.storeName}'s feature cache (the next training builds ` +
        `them again): ${cache.storeError}\n`,
    );
  // Fail fast on a bad database before starting the worker.
  openDb(data.file, { mustExist: true }).close();

  const bar = new ProgressBar(Boolean(process.stderr.isTTY));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = performance.now();
  try {
    const res = await trainModelFromDb({
      spec: {
        dbFile: data.file,
        sessionIds: data.sessionIds,
        ...features,
        storeFeatures: data.storeFeatures,
      },
      settings: settingsFromConfig(config, seed),
      outPath,
      name,
      createdAt,
      onProgress: (p) => bar.update(p, performance.now()),
      signal: abort.signal,
      // The trainer registers the model in its file unless the store keeps the registry itself.
      registerIn: data.registerModel ? null : undefined,
    });
    bar.done();
    const modelId = data.registerModel
      ? await registerInStore(data.registerModel, data.storeName, {
          path: res.onnxPath,
          name: res.meta.name,
          createdAt,
          featureSetVersion: res.meta.feature_set.version,
          horizonMs: config.model.horizon,
          metrics: res.meta.metrics,
          params: res.meta.params,
        })
      : res.modelId;
    const m = res.meta.metrics;
    const report = {
      r2: m.r2,
      r2_ci: m.r2_ci ?? null,
      ic: m.ic,
      ic_ci: m.ic_ci ?? null,
      hit_rate: m.hit_rate,
      hit_rate_ci: m.hit_rate_ci ?? null,
      n_train: m.n_train,
      n_valid: m.n_valid,
      model: res.onnxPath,
      metadata: res.jsonPath,
      model_id: modelId,
      horizon_ms: config.model.horizon,
      feature_set: res.meta.feature_set.version,
      sessions: res.dataset.sessionIds,
      n_rows: res.dataset.nRows,
      n_trees: res.meta.n_trees,
      trials: res.outcome.trials.length,
      cv: m.cv ?? null,
      params: res.meta.params,
      pred_quantiles: m.pred_quantiles,
      label_abs_quantiles: m.label_abs_quantiles,
      feature_importance: m.feature_importance,
      // ClickHouse stores: sessions whose features came from the store's cache, and those whose features were
      // stored there by this run.
      ...(cache ? { store_cache: { read: cache.read, built: cache.built, stored: cache.stored } } : {}),
      train_from: res.meta.training.from_ts,
      train_to: res.meta.training.to_ts,
      seconds: (performance.now() - t0) / 1000,
    };
    if (json) {
      console.log(JSON.stringify(report));
    } else {
      const top = Object.entries(m.feature_importance)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`);
      const q = m.pred_quantiles;
      console.log(
        [
          `model      ${res.onnxPath} (+ .json)${modelId !== null ? `, registered as #${modelId} (challenger)` : ''}`,
          `data       ${res.dataset.nRows} samples from session(s) ${res.dataset.sessionIds.join(', ')}; ${m.n_train} train, ${m.n_valid} validation (newest, embargoed)`,
          `validation R² ${m.r2.toFixed(4)} ${formatInterval(m.r2_ci, 4)}  IC ${m.ic.toFixed(4)} ${formatInterval(m.ic_ci, 4)}  ` +
            `hit rate ${(m.hit_rate * 100).toFixed(1)}% ${formatInterval(m.hit_rate_ci, 1, 100).replace(/(\d)(,|\])/g, '$1%$2')}  (${res.meta.n_trees} trees)`,
          `           [..] 95% intervals, block bootstrap over overlapping ${formatDuration(config.model.horizon)} labels` +
            (m.ic_ci && !excludesZero(m.ic_ci) ? '; IC not distinguishable from zero' : ''),
          ...(m.cv
            ? [
                `tuning     ${res.outcome.trials.length} trials, selected on ${m.cv.selected_on === 'inner_split' ? 'an inner split of the training rows' : `${m.cv.folds} earlier fold(s)`} ` +
                  `(never the validation rows above): its best R² ${m.cv.r2.toFixed(4)} IC ${m.cv.ic.toFixed(4)} (optimistic: the best of the trials)`,
              ]
            : []),
          `predictions p01 ${q.p01?.toFixed(3)}  p50 ${q.p50?.toFixed(3)}  p99 ${q.p99?.toFixed(3)} bps (trading.threshold is ${config.trading.threshold})`,
          `importance ${top.join(', ')}`,
          `took       ${formatDuration(performance.now() - t0)}`,
        ].join('\n'),
      );
    }
    return 0;
  } catch (e) {
    bar.done();
    if (e instanceof TrainCancelled) {
      console.error('l2desk train: cancelled; no model written');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    data.dispose();
  }
}

/** Registers a model in the store's registry; null (with a warning) if it cannot: the model is written all the same. */
async function registerInStore(
  register: (m: NewModel) => Promise<number>,
  store: string,
  m: NewModel,
): Promise<number | null> {
  try {
    return await register(m);
  } catch (e) {
    process.stderr.write(
      `warning: the model is written but not registered in ${store}: ${(e as Error).message}\n`,
    );
    return null;
  }
}
