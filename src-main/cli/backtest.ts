// `l2desk backtest`: replays a stored session through the same engine as `trade --paper` (only the source and
// the clock differ) and prints one row per threshold; --report writes the JSON or self-contained HTML report.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import {
  runBacktest,
  type BacktestReport,
  type BacktestRow,
  type InSampleSummary,
  type TradeStats,
} from '../backtest/backtest.ts';
import { renderHtmlReport } from '../backtest/htmlReport.ts';
import { endUnfinishedRuns, trackRuns } from '../backtest/runTracking.ts';
import { DEFAULT_EVERY_MS, runWalkForward, walkForwardSettingsError } from '../backtest/walkForward.ts';
import { formatWalkForwardTable } from '../backtest/walkForwardReport.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { formatCostsLine } from '../trading/executionCosts.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS } from '../features/featureSet.ts';
import { parseSweep as parseSweepInput } from '../../src-shared/inputRules.ts';
import { whyNoTrades } from '../../src-shared/noTrades.ts';
import { storedPassFacts } from '../backtest/passFacts.ts';
import { excludesZero, formatInterval } from '../model/confidence.ts';
import { Predictor } from '../model/predictor.ts';
import { datasetParamsFromConfig } from '../model/featureCache.ts';
import type { Db } from '../store/db.ts';
import { openSessionStore, type BacktestTarget } from '../store/sessionStore.ts';
import type { SessionInfo } from '../store/sessions.ts';
import { describeExecution } from '../engine/describeExecution.ts';
import { engineOptionsFromConfig } from '../engine/engine.ts';
import { Args, UsageError } from './args.ts';
import { sameDataNote } from '../backtest/sameData.ts';
import { formatHalt } from '../../src-shared/riskHalt.ts';
import { plainNumber } from '../../src-shared/plainNumber.ts';
import {
  calmarReason,
  hitRateReason,
  lossRatioReason,
  NOT_SHOWN,
  sharpeReason,
} from '../../src-shared/reliability.ts';

export const summary = 'replay a stored session through the engine and report';

const USAGE = `usage: l2desk backtest --db FILE|clickhouse://HOST:PORT/DATABASE [--session ID] [--model PATH] [--threshold X] [--sweep 0.5,1,2,4]
                       [--report FILE.json|FILE.html] [--executor market|passive] [--latency 50ms] [--config FILE] [--set key=value] [--no-record]
                       [--walk-forward [--train-window 2h] [--retrain-every 30m] [--out DIR]]
  --session    stored session to replay (default: the newest in --db)
  --model      ONNX model (default: config model.path, models/default.onnx)
  --threshold  signal threshold in the label's units (bps); default: config trading.threshold
  --sweep      one pass per threshold (comma-separated); predictions are computed once and replayed
  --report     write the report: .json (rows, equity, parameters) or .html (equity curve + metrics, opens offline)
  --no-record  do not store the runs (runs, orders, fills, equity tables) in --db
  --walk-forward   out-of-sample backtest: instead of --model, train one model per window of --retrain-every
                   (default: config retrain.every, else 30m) on the --train-window (default: config retrain.window)
                   of data before it, ending one horizon before the window; no trading before the first window
  --out        where --walk-forward writes its models (default: walkforward-<session>-<time>/ beside --db)`;

const KNOWN = [
  'set',
  'db',
  'session',
  'model',
  'threshold',
  'sweep',
  'report',
  'executor',
  'latency',
  'config',
  'no-record',
  'walk-forward',
  'train-window',
  'retrain-every',
  'out',
  'help',
];

function durationFlag(args: Args, key: string): number | undefined {
  const v = args.str(key);
  if (v === undefined) return undefined;
  if (v === 'true') throw new UsageError(`--${key} needs a duration (e.g. 30m, 2h)`);
  try {
    return parseDuration(v, 'm');
  } catch (e) {
    throw new UsageError(`--${key}: ${(e as Error).message}`);
  }
}

const isoMin = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** The in-sample line: a warning when decisions lie inside the model's training span, else a plain note. */
export function inSampleLine(s: InSampleSummary, walkForward: boolean): string {
  const span = s.training ? ` (${isoMin(s.training.from_ts)} – ${isoMin(s.training.to_ts)})` : '';
  if (s.share === null)
    return s.decisions === 0
      ? 'note: no decision was made, nothing to judge in- or out-of-sample'
      : 'note: the model has no training span, in-sample share unknown';
  if (s.in_sample === 0)
    return walkForward
      ? `out of sample: none of the ${s.decisions} decisions lies inside the training span of the model that made it`
      : s.other_market_overlap
        ? `out of sample: none of the ${s.decisions} decisions is on the model's training data (${s.other_market_overlap} ` +
          `fall within its training span's times${span}, but this is the simulator under another random seed: another market)`
        : `out of sample: none of the ${s.decisions} decisions lies inside the model's training span${span}`;
  const pct = Math.max(1, Math.round(s.share * 100));
  return (
    `warning: ${pct}% of decisions (${s.in_sample} of ${s.decisions}) lie inside the model's training span${span}` +
    `${s.same_data ? ` ${sameDataNote(s.same_data)}` : ''}: ` +
    'in-sample, optimistic; use --walk-forward or a later session'
  );
}

function writeReport(reportFile: string, report: BacktestReport): void {
  fs.mkdirSync(path.dirname(path.resolve(reportFile)), { recursive: true });
  const text = /\.json$/i.test(reportFile)
    ? JSON.stringify(report, null, 1) + '\n'
    : renderHtmlReport(report);
  fs.writeFileSync(reportFile, text);
  console.log(`report: ${reportFile}`);
}

/** The app's Sweep box has the same rule and words (src-shared/inputRules.ts). */
export function parseSweep(text: string): number[] {
  try {
    return parseSweepInput(text, '--sweep');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** "\n  no trades: …" when the row made no trade (src-shared/noTrades.ts: the app's Backtest panel says the same). */
export function noTradesLine(
  db: Db,
  s: Pick<SessionInfo, 'firstRecvTs' | 'lastRecvTs'>,
  r: Pick<BacktestRow, 'trades' | 'predictions' | 'threshold' | 'run_id' | 'halts'>,
): string {
  if (r.trades > 0) return '';
  const stored = r.run_id === null ? null : storedPassFacts(db)(r.run_id);
  const why = whyNoTrades({
    fills: r.trades,
    predictions: r.predictions,
    threshold: r.threshold,
    maxAbsPrediction: stored?.maxAbsPrediction ?? null,
    ...(stored ? { tradeSignals: stored.tradeSignals, belowMinimum: stored.belowMinimum } : {}),
    halts: (r.halts ?? []).map((h) => h.reason),
    dataSpanMs: s.firstRecvTs !== null && s.lastRecvTs !== null ? s.lastRecvTs - s.firstRecvTs : null,
    warmupMs: MAX_LOOKBACK_MS,
  });
  return why ? `\n  ${why}` : '';
}

/** The reliability basis of a row (see src-shared/reliability.ts). */
const basisOf = (r: Pick<BacktestRow, 'sharpe_samples' | 'sharpe_reliable' | 'span_ms'>) => ({
  returns: r.sharpe_samples,
  spanMs: r.span_ms,
  sharpeReliable: r.sharpe_reliable,
});

/** Why figures of the row are shown as "—": one note naming each, or '' when every figure stands. */
export function notShownLine(r: BacktestRow): string {
  const why = new Map<string, string[]>();
  const add = (name: string, reason: string | null) => {
    if (reason !== null) why.set(reason, [...(why.get(reason) ?? []), name]);
  };
  add('sharpe', sharpeReason({ sharpe: r.sharpe, ...basisOf(r) }));
  add('calmar', calmarReason(r.calmar, basisOf(r)));
  add('hit rate', hitRateReason(r.round_trips));
  add('profit factor', lossRatioReason(r.profit_factor, r.round_trips));
  add('payoff', lossRatioReason(r.payoff_ratio, r.round_trips));
  if (why.size === 0) return '';
  return `not shown (${NOT_SHOWN}): ${[...why].map(([reason, names]) => `${names.join(', ')}: ${reason}`).join('; ')}`;
}

/** The row's risk halts, one line each: "halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, …)". */
export function haltLines(r: Pick<BacktestRow, 'halts'>): string[] {
  return (r.halts ?? []).map((h) => formatHalt(h));
}

const shown = (reason: string | null, text: string, width: number) =>
  (reason === null ? text : NOT_SHOWN).padStart(width);

/** One row per threshold, then its costs line (shortfall against the decision mids, fees, alpha → net), its
 * round-trip statistics line, its net P&L with a 95% interval (is it distinguishable from zero?), why any figure is
 * shown as "—", and when the risk rules halted trading. */
export function formatRow(r: BacktestRow): string {
  const trips = hitRateReason(r.round_trips);
  const notes = notShownLine(r);
  return (
    `threshold ${r.threshold.toFixed(3).padStart(8)}  net_pnl ${r.net_pnl.toFixed(2).padStart(10)}  ` +
    `sharpe ${shown(sharpeReason({ sharpe: r.sharpe, ...basisOf(r) }), r.sharpe.toFixed(2), 9)}  ` +
    `max_dd ${(r.max_drawdown * 100).toFixed(2).padStart(6)}%  trades ${String(r.trades).padStart(5)}  round_trips ${String(r.round_trips).padStart(4)}  ` +
    `hit_rate ${shown(trips, `${(r.hit_rate * 100).toFixed(1)}%`, 6)} (before fees ${trips === null ? `${(r.hit_rate_gross * 100).toFixed(1)}%` : NOT_SHOWN})  ` +
    `fees ${r.fees.toFixed(2).padStart(9)}  turnover ${r.turnover.toFixed(1)}x  final_equity ${r.final_equity.toFixed(4)}` +
    (r.final_position !== 0
      ? ` (position ${plainNumber(r.final_position)} marked to the last mid ${plainNumber(r.final_mark)})`
      : '') +
    (r.cancelled_at_end > 0 ? `  ${r.cancelled_at_end} open order(s) cancelled at the end` : '') +
    `\n  ${costsLine(r)}` +
    `\n  ${tradesLine(r)}` +
    `\n  ${pnlLine(r)}` +
    (notes ? `\n  ${notes}` : '') +
    haltLines(r)
      .map((h) => `\n  ${h}`)
      .join('')
  );
}

/** The net P&L with its 95% interval, and whether the run tells it apart from zero. */
export function pnlLine(r: Pick<BacktestRow, 'net_pnl' | 'net_pnl_ci'>): string {
  const ci = r.net_pnl_ci;
  if (!ci) return `net P&L ${r.net_pnl.toFixed(2)}: too short a run for a confidence interval`;
  return (
    `net P&L ${r.net_pnl.toFixed(2)}, 95% interval ${formatInterval(ci, 2)} (block bootstrap of the equity changes): ` +
    (excludesZero(ci)
      ? `distinguishable from zero (${ci[0] > 0 ? 'a gain' : 'a loss'})`
      : 'not distinguishable from zero')
  );
}

const fixed = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));

/** Round-trip statistics after fees, and how many returns the Sharpe rests on (see TRADE_STATS_BASIS). A figure that
 * is not reliable (no losing trip, a run too short to annualise) is "—"; notShownLine says why. */
export function tradesLine(r: TradeStats & Pick<BacktestRow, 'round_trips' | 'span_ms'>): string {
  const pf = lossRatioReason(r.profit_factor, r.round_trips);
  const payoff = lossRatioReason(r.payoff_ratio, r.round_trips);
  const calmar = calmarReason(r.calmar, basisOf(r));
  return (
    `trades: profit factor ${pf === null ? fixed(r.profit_factor) : NOT_SHOWN}, avg win ${fixed(r.avg_win)} / loss ${fixed(r.avg_loss)} ` +
    `(payoff ${payoff === null ? fixed(r.payoff_ratio) : NOT_SHOWN}), expectancy ${fixed(r.expectancy, 4)} (${fixed(r.expectancy_bps, 2)} bps), ` +
    `max losing streak ${fixed(r.max_consecutive_losses, 0)}; calmar ${calmar === null ? fixed(r.calmar) : NOT_SHOWN}; ` +
    `sharpe on ${fixed(r.sharpe_samples, 0)} returns` +
    (r.sharpe_reliable ? '' : ' (too short to annualise Sharpe or Calmar reliably)')
  );
}

/** How Sharpe was computed, and how long the backtest took to run (wall clock, not the data's span). */
export function sharpeBasisLine(
  r: Pick<BacktestReport, 'sampling_ms' | 'annualisation' | 'elapsed_ms'>,
): string {
  return (
    `sharpe: equity sampled every ${formatDuration(r.sampling_ms)}, annualised with ${r.annualisation}; ` +
    `backtest ran in ${formatDuration(r.elapsed_ms)} (wall clock)`
  );
}

export function costsLine(r: BacktestRow): string {
  return formatCostsLine({
    shortfallBps: r.shortfall_bps,
    latencyBps: r.latency_bps,
    spreadWalkBps: r.spread_walk_bps,
    feesBps: r.fees_bps,
    grossAlpha: r.gross_alpha,
    netPnl: r.net_pnl,
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['no-record', 'walk-forward', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const dbFile = args.req('db');
  const overrides: Record<string, unknown> = {};
  if (args.str('threshold') !== undefined) overrides['trading.threshold'] = args.num('threshold');
  if (args.str('executor') !== undefined) overrides['trading.executor'] = args.str('executor');
  if (args.str('latency') !== undefined) overrides['trading.latency'] = args.str('latency');
  // A dedicated flag wins over the same key given with --set.
  const config = loadConfig({ configFile: args.str('config'), overrides: { ...args.sets(), ...overrides } });
  // Default: the configured model (models/default.onnx), relative to the install, like `trade`.
  const modelPath =
    args.str('model') ??
    (path.isAbsolute(config.model.path) ? config.model.path : path.resolve(PROJECT_ROOT, config.model.path));
  const thresholds =
    args.str('sweep') !== undefined ? parseSweep(args.req('sweep')) : [config.trading.threshold];
  const reportFile = args.str('report');
  if (reportFile !== undefined && !/\.(json|html?)$/i.test(reportFile))
    throw new UsageError('--report must end in .json or .html');
  const walkForward = args.bool('walk-forward');
  if (!walkForward)
    for (const k of ['train-window', 'retrain-every', 'out'])
      if (args.has(k)) throw new UsageError(`--${k} only goes with --walk-forward`);
  if (walkForward && args.has('model'))
    throw new UsageError('--walk-forward trains its own models: leave out --model');
  const trainWindowMs = durationFlag(args, 'train-window') ?? config.retrain.window;
  const everyMs = durationFlag(args, 'retrain-every') ?? config.retrain.every ?? DEFAULT_EVERY_MS;
  if (walkForward) {
    const err = walkForwardSettingsError({
      trainWindowMs,
      everyMs,
      horizonMs: config.model.horizon,
      decisionIntervalMs: config.features.decision_interval,
      minHorizons: config.train.min_horizons,
    });
    if (err) throw new UsageError(`--walk-forward: ${err}`);
    if (args.str('out') === 'true') throw new UsageError('--out needs a directory');
  }
  // The store (an SQLite file or ClickHouse) names the session; its backtest target says where the runs are recorded
  // (the file itself; for ClickHouse an in-memory database, or for --walk-forward a temporary file of the session's
  // record beside its rows from the store's feature cache, saved into the store at the end) and how the session is
  // read. No raw data is copied to this machine.
  const store = await openSessionStore(dbFile);
  const record = !args.bool('no-record');
  let target: BacktestTarget;
  let s: SessionInfo;
  try {
    const sessionId = args.str('session') !== undefined ? args.num('session') : (await store.latest())?.id;
    if (sessionId === undefined)
      throw new UsageError(`no session in ${store.name}: collect one first (l2desk collect)`);
    const found = await store.get(sessionId);
    if (!found) throw new UsageError(`no session ${sessionId} in ${store.name}`);
    s = found;
    target = await store.backtestTarget(s, {
      record,
      features: walkForward ? { ...datasetParamsFromConfig(config), store: true } : undefined,
      onStep: (st, name) => {
        if ('fromCache' in st) console.log(`session ${st.sessionId}: features from ${name}'s feature cache`);
        else if ('building' in st && st.done)
          console.log(`session ${st.sessionId}: features built from ${name} (${st.events} events read)`);
      },
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const db = target.db;
  const sessionId = s.id;
  const data = target.data;
  /** Saves the runs into the store when they were recorded elsewhere; their ids there replace the report's. */
  const saveToStore = async (report?: BacktestReport) => {
    const ids = await target.save();
    if (report) for (const r of report.rows) if (r.run_id !== null) r.run_id = ids.get(r.run_id) ?? r.run_id;
    if (ids.size > 0) console.log(`runs ${[...ids.values()].join(', ')} stored in ${store.name}`);
  };
  // Ctrl-C stops the replay (or the walk-forward training) at its next yield; the passes already done stay stored and
  // the one cut short is marked cancelled, never left looking unfinished.
  if (record) trackRuns(db);
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) {
      console.error('second interrupt: exiting now');
      process.exit(130);
    }
    console.error('stopping the backtest (Ctrl-C again to force)…');
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const execution = `execution: ${describeExecution(
      engineOptionsFromConfig(config, { symbol: s.symbol, category: s.category, tickSize: s.tickSize }),
    )}`;
    if (walkForward) {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
      // Beside an SQLite --db; in the working directory for a ClickHouse store.
      const outDir = path.resolve(
        args.str('out') ??
          path.join(
            store.kind === 'sqlite' ? path.dirname(path.resolve(dbFile)) : '.',
            `walkforward-${s.id}-${stamp}`,
          ),
      );
      console.log(
        `backtest --walk-forward: session ${s.id} ${s.symbol} (${s.messages} messages), train window ${formatDuration(trainWindowMs)}, ` +
          `retrain every ${formatDuration(everyMs)}, ${thresholds.length} threshold(s); models in ${outDir}`,
      );
      console.log(execution);
      const { report } = await runWalkForward({
        db,
        dbFile: target.file,
        storeFeatures: target.storeFeatures,
        data,
        sessionId,
        config,
        thresholds,
        trainWindowMs,
        everyMs,
        outDir,
        createdAt: Date.now(),
        record,
        signal: abort.signal,
        onWindow: (w, row, total) =>
          console.log(
            `window ${w.index} (${w.index + 1} of ${total}): ` +
              (row.trained
                ? `trained on ${row.rows} rows (validation r2 ${row.r2?.toFixed(3) ?? '–'}, ic ${row.ic?.toFixed(3) ?? '–'})`
                : row.note),
          ),
        onProgress: (_i, _n, row) => console.log(formatRow(row) + noTradesLine(db, s, row)),
      });
      await saveToStore(report);
      if (report.walk_forward)
        for (const line of formatWalkForwardTable(report.walk_forward)) console.log(line);
      console.log(inSampleLine(report.in_sample, true));
      console.log(sharpeBasisLine(report));
      console.log(report.final_equity_basis);
      if (reportFile) writeReport(reportFile, report);
      return 0;
    }
    const predictor = await Predictor.load(modelPath, FEATURE_SET);
    try {
      console.log(
        `backtest: session ${s.id} ${s.symbol} (${s.messages} messages), model ${modelPath}, ${thresholds.length} threshold(s)`,
      );
      console.log(execution);
      const { report } = await runBacktest({
        db,
        sessionId,
        data,
        // What the session is, from the store (over ClickHouse `db` holds only its record): the in-sample check
        // recognises the model's own training data on another clock by it.
        identity: predictor.meta.training.data?.length ? await store.identity(s.id) : undefined,
        config,
        model: new PredictorModel(predictor),
        modelPath,
        thresholds,
        record,
        signal: abort.signal,
        training: predictor.meta.training,
        onProgress: (_i, _n, row) => console.log(formatRow(row) + noTradesLine(db, s, row)),
      });
      await saveToStore(report);
      console.log(inSampleLine(report.in_sample, false));
      console.log(sharpeBasisLine(report));
      console.log(report.final_equity_basis);
      if (reportFile) writeReport(reportFile, report);
    } finally {
      await predictor.close();
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
    if (record) endUnfinishedRuns(db, true);
    await saveToStore();
    console.error(
      `backtest interrupted${record ? ': the passes that finished are stored, the one cut short is marked cancelled' : ''}`,
    );
    return 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    target.dispose();
    await store.close();
  }
  return 0;
}
