// `l2desk diagnose --db FILE --model PATH [--threshold X] [--json]`: checks the database, the model against the
// running feature set, and the threshold against the prediction distribution, and says in plain words why there
// are or are not signals — most often a threshold above every prediction the model makes.
import fs from 'node:fs';
import { FEATURE_SET } from '../features/featureSet.ts';
import { ModelFileError, ModelMismatchError, Predictor, readModelMeta } from '../model/predictor.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import type { StoreCheckReport } from '../store/sessions.ts';
import { openDb, type Db } from '../store/db.ts';
import { checkSqliteStore } from '../store/sqliteCheck.ts';
import { openTrainingData } from '../store/trainingData.ts';
import { categoryFees } from '../trading/fees.ts';
import type { Category } from '../../src-shared/market.ts';
import {
  commonSetup,
  fmt,
  inSampleOfStored,
  ladderLines,
  predictStored,
  summarizePredictions,
  thresholdRow,
  type PredictionSummary,
} from './predictions.ts';

export const summary = "explain why there are or aren't signals (model, data, threshold)";

const USAGE = `usage: l2desk diagnose [--db FILE|clickhouse://HOST:PORT/DATABASE] [--model PATH] [--threshold X] [--session ID]... [--config FILE] [--set key=value] [--json]
  --threshold  the threshold to diagnose (bps; default: config trading.threshold)
  --json       print the diagnosis as one JSON object (on ClickHouse store_cache: sessions whose features were read
               from the store's feature cache, and those built from its raw data)
Exit code 0 when the diagnosis ran (whatever it found), 1 when the model or the database cannot be used.
On a ClickHouse store no raw data is copied to this machine: features come from the store's cache or are built
by replaying the sessions straight from the store.`;

export type FindingLevel = 'ok' | 'info' | 'warn' | 'error';

export interface Finding {
  level: FindingLevel;
  /** Stable identifier for scripts and tests. */
  code: string;
  message: string;
}

export interface Diagnosis {
  db: string;
  model: string;
  threshold: number;
  findings: Finding[];
  /** One paragraph: why there are or are not signals, and what to do. */
  verdict: string;
  /** The threshold to try instead, when the current one is the problem. */
  suggestedThreshold: number | null;
  signals: { buy: number; sell: number; decisions: number } | null;
  predictions: Omit<PredictionSummary, 'ladder'> | null;
  ladder: PredictionSummary['ladder'];
}

/** A readable threshold near x: two significant digits, rounded down so that it still lets signals through. */
export function niceThreshold(x: number): number {
  if (!(x > 0)) return 0;
  const e = Math.floor(Math.log10(x)) - 1;
  const f = 10 ** e;
  return Number((Math.floor(x / f) * f).toPrecision(2));
}

export interface DiagnoseOptions {
  dbFile: string;
  /** The store as the user named it, when dbFile is a local copy of it (a ClickHouse store's sessions). */
  dbName?: string;
  /**
   * The named store's own check (a ClickHouse store's `db check`), judged instead of the copy's: the copy may hold
   * only the records of sessions whose features come from the store's cache.
   */
  storeReport?: StoreCheckReport;
  /** Rows of sessions the copy holds only the records of (the store's feature cache). */
  storeFeatures?: StoreFeatures;
  modelPath: string;
  threshold: number;
  sessionIds: number[];
  decisionIntervalMs: number;
  /** config trading.feed_latency: rows on the receive clock, as `predictions` and training build them. */
  feedLatencyMs?: number;
  configHorizonMs: number;
  /**
   * A taker round trip in bps by the sessions' category (spot's fees are not linear's); over sessions of both, the
   * dearer one is the bar the edge must clear.
   */
  roundTripFeeBps: Readonly<Record<Category, number>>;
}

/** What is known of the prediction distribution: from the stored data, else from the model's own validation. */
interface Distribution {
  from: 'stored data' | "the model's validation predictions";
  n: number;
  maxAbs: number;
  /** A threshold about this high lets ~5 % (stored) to ~10 % (validation quantiles) of decisions signal. */
  tail: number;
  constant: boolean;
  constantValue: number;
}

export async function diagnose(opts: DiagnoseOptions): Promise<Diagnosis> {
  const findings: Finding[] = [];
  const add = (level: FindingLevel, code: string, message: string) => findings.push({ level, code, message });
  const dbName = opts.dbName ?? opts.dbFile;
  const result: Diagnosis = {
    db: dbName,
    model: opts.modelPath,
    threshold: opts.threshold,
    findings,
    verdict: '',
    suggestedThreshold: null,
    signals: null,
    predictions: null,
    ladder: [],
  };

  // 1. The model: it alone decides whether signals can appear, live or in a backtest.
  let predictor: Predictor;
  try {
    predictor = await Predictor.load(opts.modelPath, FEATURE_SET);
  } catch (e) {
    if (e instanceof ModelMismatchError) {
      add('error', 'model_mismatch', e.message);
      result.verdict =
        `No signals because the model cannot run: it was trained on different features (${describeShort(e)}). ` +
        'Fed the wrong columns, such a model would predict nonsense, so L2 Desk refuses it. Retrain with `l2desk train`.';
      return result;
    }
    if (e instanceof ModelFileError) {
      add('error', 'model_file', e.message);
      result.verdict = `No signals because the model cannot be loaded: ${e.message}`;
      return result;
    }
    throw e;
  }
  const meta = predictor.meta;
  add(
    'ok',
    'model_features',
    `model matches feature set ${FEATURE_SET.version} (${FEATURE_SET.names.length} features)`,
  );
  const horizonMs = meta.label.horizon_ms;
  if (horizonMs !== opts.configHorizonMs) {
    add(
      'info',
      'horizon_differs',
      `model horizon ${horizonMs} ms differs from config model.horizon ${opts.configHorizonMs} ms; labels below use the model's`,
    );
  }

  let db: Db | undefined;
  try {
    // 2. The database: the stored market the predictions are judged on.
    let dataProblem: string | null = null;
    /** The categories of the sessions judged (linear until they are known). */
    let categories: Category[] = ['linear'];
    if (!fs.existsSync(opts.dbFile)) {
      add('error', 'db_missing', `no database at ${dbName}`);
      dataProblem = `${dbName} does not exist: record data with \`l2desk collect --duration 10m\` (or \`l2desk import\`)`;
    } else {
      try {
        db = openDb(opts.dbFile, { mustExist: true, migrate: false });
      } catch (e) {
        add('error', 'db_unreadable', (e as Error).message);
        dataProblem = `the database cannot be opened: ${(e as Error).message}`;
      }
    }
    if (db) {
      const report = opts.storeReport ?? checkSqliteStore(db, opts.dbFile);
      const unknown = opts.sessionIds.filter((id) => !report.sessions.some((s) => s.id === id));
      if (!report.ok) {
        add('error', 'db_integrity', `integrity check failed: ${report.integrity.slice(0, 3).join('; ')}`);
        dataProblem = `${dbName} is damaged (PRAGMA integrity_check failed): restore it or record a new one`;
      } else if (report.sessions.length === 0) {
        add('ok', 'db_integrity', 'integrity ok');
        add('error', 'no_sessions', 'the database holds no sessions');
        dataProblem = `${dbName} holds no recorded sessions: run \`l2desk collect\` first`;
      } else if (unknown.length) {
        add('error', 'no_sessions', `session(s) ${unknown.join(', ')} not in the database`);
        dataProblem = `Session(s) ${unknown.join(', ')} are not in ${dbName} (it holds ${report.sessions.map((s) => s.id).join(', ')}); see \`l2desk db check\``;
      } else {
        add('ok', 'db_integrity', `integrity ok, ${report.sessions.length} session(s)`);
        const selected = opts.sessionIds.length
          ? report.sessions.filter((s) => opts.sessionIds.includes(s.id))
          : report.sessions;
        if (selected.length) categories = [...new Set(selected.map((s) => s.category))];
        for (const s of selected) {
          const span =
            s.firstRecvTs !== null && s.lastRecvTs !== null ? (s.lastRecvTs - s.firstRecvTs) / 1000 : 0;
          add(
            s.gaps ? 'warn' : 'ok',
            'session',
            `session ${s.id}: ${s.symbol} ${span.toFixed(0)} s, ${s.bookMessages} book / ${s.tradeMessages} trade messages, ${s.gaps} gap(s)` +
              (s.openGaps ? `, ${s.openGaps} never closed` : ''),
          );
        }
      }
    }

    // 3. The prediction distribution: over the stored data when there is any, else the model's validation.
    let dist: Distribution | null = null;
    let at: ReturnType<typeof thresholdRow> | null = null;
    if (db && dataProblem === null) {
      const r = await predictStored(db, predictor, {
        sessionIds: opts.sessionIds,
        decisionIntervalMs: opts.decisionIntervalMs,
        horizonMs,
        feedLatencyMs: opts.feedLatencyMs,
        storeFeatures: opts.storeFeatures,
      });
      if (r.nRows === 0) {
        add(
          'error',
          'no_samples',
          `no decision had warm features and a clean label window (${JSON.stringify(r.stats)})`,
        );
        dataProblem =
          'no decision could be made on the stored data: the sessions are too short or too broken by gaps ' +
          `(features need 30 s of clean book after every gap, labels ${horizonMs / 1000} s more); record a longer session`;
      } else {
        const s = summarizePredictions(r.pred, r.y, opts.decisionIntervalMs, [
          { threshold: opts.threshold, source: 'diagnosed' },
        ]);
        const { ladder, ...rest } = s;
        result.predictions = rest;
        result.ladder = ladder;
        at = thresholdRow(
          r.pred,
          r.y,
          opts.threshold,
          'diagnosed',
          (r.nRows * opts.decisionIntervalMs) / 3_600_000,
        );
        result.signals = { buy: at.buy, sell: at.sell, decisions: r.nRows };
        add(
          'info',
          'prediction_distribution',
          `${r.nRows} predictions: mean ${fmt(s.mean)}, std ${fmt(s.std)}, |prediction| p50 ${fmt(s.absQuantiles.p50)}, ` +
            `p95 ${fmt(s.absQuantiles.p95)}, max ${fmt(s.maxAbs)} bps`,
        );
        const inSample = inSampleOfStored(db, r.sessionIds, r.ts, meta.training);
        if (inSample > 0) {
          add(
            'warn',
            'in_sample',
            `${inSample} of ${r.nRows} decisions lie inside the model's training span: hit rate and edge there are in-sample (optimistic)`,
          );
        }
        dist = {
          from: 'stored data',
          n: r.nRows,
          maxAbs: s.maxAbs,
          tail: s.absQuantiles.p95,
          constant: s.quantiles.min === s.quantiles.max,
          constantValue: s.mean,
        };
      }
    }
    const q = meta.metrics.pred_quantiles;
    if (!dist && q.min !== undefined && q.max !== undefined) {
      const lo = q.p05 ?? q.min;
      const hi = q.p95 ?? q.max;
      dist = {
        from: "the model's validation predictions",
        n: meta.metrics.n_valid,
        maxAbs: Math.max(Math.abs(q.min), Math.abs(q.max)),
        tail: Math.max(Math.abs(lo), Math.abs(hi)),
        constant: q.min === q.max,
        constantValue: q.min,
      };
      add(
        'info',
        'prediction_distribution',
        `judging from ${dist.from} (n ${dist.n}): |prediction| up to ${fmt(dist.maxAbs)} bps`,
      );
    }
    const dataNote = dataProblem ? ` (No stored data to check it on: ${dataProblem}.)` : '';
    if (!dist) {
      result.verdict = `Cannot judge the threshold: ${dataProblem ?? 'no predictions'}, and the model's metadata has no prediction quantiles.`;
      return result;
    }

    // 4. Why there are or are not signals.
    const suggest = niceThreshold(dist.tail);
    if (dist.constant) {
      add(
        'error',
        'constant_predictions',
        `every prediction equals ${fmt(dist.constantValue)} bps: the model learned nothing`,
      );
      result.verdict =
        `No useful signals: the model predicts the same value (${fmt(dist.constantValue)} bps) for every decision, so it has learned ` +
        'nothing (too little data, or regularisation too strong). Retrain on more data with `l2desk train`.' +
        dataNote;
      return result;
    }
    if (opts.threshold >= dist.maxAbs) {
      result.suggestedThreshold = suggest;
      add(
        'error',
        'threshold_above_all_predictions',
        `threshold ${fmt(opts.threshold)} bps is above every prediction (largest |prediction| is ${fmt(dist.maxAbs)} bps, ${dist.from})`,
      );
      result.verdict =
        `No signals because the threshold (${fmt(opts.threshold)} bps) is above every prediction the model makes: the largest ` +
        `|prediction| over ${dist.n} decisions (${dist.from}) is ${fmt(dist.maxAbs)} bps, so "prediction > threshold" can never be true. ` +
        `Try --threshold ${fmt(suggest)} (${dist.from === 'stored data' ? 'about the 95th percentile of |prediction|, ~5 %' : 'the 5 %/95 % prediction quantiles, ~10 %'} ` +
        'of decisions signal), or look at `l2desk predictions` for the whole ladder.' +
        dataNote;
      return result;
    }
    if (!at) {
      add(
        'ok',
        'threshold',
        `threshold ${fmt(opts.threshold)} is inside the prediction range (${dist.from})`,
      );
      result.verdict =
        `The threshold (${fmt(opts.threshold)} bps) is below the model's largest predictions (${fmt(dist.maxAbs)} bps, ${dist.from}), ` +
        'so signals can appear when the market gives strong predictions.' +
        dataNote;
      return result;
    }
    const signals = at.buy + at.sell;
    const n = dist.n;
    if (signals < Math.max(1, 0.005 * n)) {
      result.suggestedThreshold = suggest;
      add(
        'warn',
        'few_signals',
        `threshold ${fmt(opts.threshold)} lets only ${signals} of ${n} decisions signal`,
      );
      result.verdict =
        `Signals are rare (${signals} of ${n} decisions: ${at.buy} buy, ${at.sell} sell) because the threshold ${fmt(opts.threshold)} bps ` +
        `sits in the far tail of the predictions (|prediction| p95 ${fmt(dist.tail)}, max ${fmt(dist.maxAbs)}). Lower it toward ${fmt(suggest)} for more.`;
    } else {
      add(
        'ok',
        'signals',
        `threshold ${fmt(opts.threshold)}: ${at.buy} buy and ${at.sell} sell signals over ${n} decisions`,
      );
      result.verdict =
        `There are signals: ${at.buy} buy and ${at.sell} sell over ${n} decisions (${(100 * at.signalShare).toFixed(1)} %) at threshold ` +
        `${fmt(opts.threshold)} bps; hit rate ${Number.isFinite(at.hitRate) ? (100 * at.hitRate).toFixed(1) + ' %' : '-'}, ` +
        `mean edge ${fmt(at.meanEdgeBps, 3)} bps per signal before fees.`;
    }
    const roundTrip = Math.max(...categories.map((c) => opts.roundTripFeeBps[c]));
    const which = categories.length === 1 ? `${categories[0]} ` : '';
    if (signals > 0 && at.meanEdgeBps < roundTrip) {
      add(
        'warn',
        'edge_below_fees',
        `signals earn ${fmt(at.meanEdgeBps, 3)} bps on average, less than a ${which}taker round trip (${fmt(roundTrip, 3)} bps)`,
      );
      result.verdict += ` Note: that edge is below the ${which}taker round-trip fee (${fmt(roundTrip, 3)} bps), so trading them would lose money.`;
    }
    return result;
  } finally {
    db?.close();
    await predictor.close();
  }
}

function describeShort(e: ModelMismatchError): string {
  const d = e.diff;
  const parts: string[] = [];
  if (d.missing.length) parts.push(`missing ${d.missing.join(', ')}`);
  if (d.extra.length) parts.push(`extra ${d.extra.join(', ')}`);
  if (d.reordered.length) parts.push(`reordered ${d.reordered.map((r) => r.name).join(', ')}`);
  if (!parts.length) parts.push(`feature-set version ${d.versionModel} vs ${d.versionRunning}`);
  return parts.join('; ');
}

/** The model's label horizon, or null when its metadata cannot be read (diagnose then names that problem). */
function modelHorizon(modelPath: string): number | null {
  try {
    return readModelMeta(modelPath).label.horizon_ms;
  } catch {
    return null;
  }
}

const MARK: Record<FindingLevel, string> = { ok: 'ok   ', info: 'info ', warn: 'WARN ', error: 'ERROR' };

export async function run(argv: string[]): Promise<number> {
  const setup = commonSetup(argv, USAGE);
  if (!setup) return 0;
  const { args, config, dbFile, modelPath, sessionIds, threshold } = setup;
  // Over a ClickHouse store the sessions' rows for the model's horizon and this decision interval come from the
  // store's feature cache or are built straight from the store, beside a temporary file of their records, and the
  // sessions are judged on the store's own check (store/trainingData.ts). Nothing is written to the store. An SQLite
  // file is checked by diagnose itself, which names a missing or damaged one as a finding.
  // A model whose horizon cannot be read will not load either: the diagnosis stops there, whatever the rows.
  const data = await openTrainingData(
    dbFile,
    sessionIds,
    {
      decisionIntervalMs: config.features.decision_interval,
      horizonMs: modelHorizon(modelPath) ?? config.model.horizon,
      feedLatencyMs: config.trading.feed_latency,
    },
    { check: true },
  );
  const d = await diagnose({
    dbFile: data.file,
    dbName: dbFile,
    storeReport: data.storeReport,
    storeFeatures: data.storeFeatures,
    modelPath,
    threshold: threshold ?? config.trading.threshold,
    sessionIds: data.sessionIds,
    decisionIntervalMs: config.features.decision_interval,
    feedLatencyMs: config.trading.feed_latency,
    configHorizonMs: config.model.horizon,
    roundTripFeeBps: {
      linear: 2 * categoryFees(config.trading, 'linear').taker * 1e4,
      spot: 2 * categoryFees(config.trading, 'spot').taker * 1e4,
    },
  }).finally(() => data.dispose());
  const unusable = d.findings.some((f) => f.level === 'error' && /^(db_|model_|no_sessions)/.test(f.code));
  if (args.bool('json')) {
    // ClickHouse stores: sessions whose features came from the store's cache (not copied here).
    const cache = data.storeCache
      ? { store_cache: { read: data.storeCache.read, built: data.storeCache.built } }
      : {};
    console.log(JSON.stringify({ ...d, ...cache }));
    return unusable ? 1 : 0;
  }
  console.log(`diagnosing ${d.model} on ${d.db}, threshold ${fmt(d.threshold)} bps`);
  for (const f of d.findings) console.log(`  ${MARK[f.level]} ${f.message}`);
  if (d.ladder.length) {
    console.log('signals per threshold:');
    for (const line of ladderLines(d.ladder)) console.log(line);
  }
  console.log('');
  console.log(d.verdict);
  return unusable ? 1 : 0;
}
