// `l2desk backtest`: replays a stored session through the same engine as `trade --paper` (only the source and
// the clock differ) and prints one row per threshold; --report writes the JSON or self-contained HTML report.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { runBacktest, type BacktestRow } from '../backtest/backtest.ts';
import { renderHtmlReport } from '../backtest/htmlReport.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb } from '../store/db.ts';
import { getSession, latestSession } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'replay a stored session through the engine and report';

const USAGE = `usage: l2desk backtest --db FILE [--session ID] [--model PATH] [--threshold X] [--sweep 0.5,1,2,4]
                       [--report FILE.json|FILE.html] [--executor market|passive] [--latency 50ms] [--config FILE] [--no-record]
  --session    stored session to replay (default: the newest in --db)
  --model      ONNX model (default: config model.path, models/default.onnx)
  --threshold  signal threshold in the label's units (bps); default: config trading.threshold
  --sweep      one pass per threshold (comma-separated); predictions are computed once and replayed
  --report     write the report: .json (rows, equity, parameters) or .html (equity curve + metrics, opens offline)
  --no-record  do not store the runs (runs, orders, fills, equity tables) in --db`;

const KNOWN = [
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
  'help',
];

export function parseSweep(text: string): number[] {
  const xs = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x < 0))
    throw new UsageError(`--sweep takes non-negative numbers separated by commas, got "${text}"`);
  return xs;
}

export function formatRow(r: BacktestRow): string {
  return (
    `threshold ${r.threshold.toFixed(3).padStart(8)}  net_pnl ${r.net_pnl.toFixed(2).padStart(10)}  sharpe ${r.sharpe.toFixed(2).padStart(9)}  ` +
    `max_dd ${(r.max_drawdown * 100).toFixed(2).padStart(6)}%  trades ${String(r.trades).padStart(5)}  hit_rate ${(r.hit_rate * 100).toFixed(1).padStart(5)}% (gross ${(r.hit_rate_gross * 100).toFixed(1)}%)  ` +
    `fees ${r.fees.toFixed(2).padStart(9)}  turnover ${r.turnover.toFixed(1)}x  final_equity ${r.final_equity.toFixed(4)}` +
    (r.final_position !== 0 ? ` (position ${r.final_position} marked to the last mid ${r.final_mark})` : '') +
    (r.cancelled_at_end > 0 ? `  ${r.cancelled_at_end} open order(s) cancelled at the end` : '')
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['no-record', 'help']);
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
  const config = loadConfig({ configFile: args.str('config'), overrides });
  // Default: the configured model (models/default.onnx), relative to the install, like `trade`.
  const modelPath =
    args.str('model') ??
    (path.isAbsolute(config.model.path) ? config.model.path : path.resolve(PROJECT_ROOT, config.model.path));
  const thresholds =
    args.str('sweep') !== undefined ? parseSweep(args.req('sweep')) : [config.trading.threshold];
  const reportFile = args.str('report');
  if (reportFile !== undefined && !/\.(json|html?)$/i.test(reportFile))
    throw new UsageError('--report must end in .json or .html');
  if (!fs.existsSync(dbFile)) throw new UsageError(`no database at ${dbFile}`);

  const db = openDb(dbFile);
  try {
    const sessionId = args.str('session') !== undefined ? args.num('session') : latestSession(db)?.id;
    if (sessionId === undefined)
      throw new UsageError(`no session in ${dbFile}: collect one first (l2desk collect)`);
    const s = getSession(db, sessionId);
    if (!s) throw new UsageError(`no session ${sessionId} in ${dbFile}`);
    const predictor = await Predictor.load(modelPath, FEATURE_SET);
    try {
      console.log(
        `backtest: session ${s.id} ${s.symbol} (${s.messages} messages), model ${modelPath}, ${thresholds.length} threshold(s)`,
      );
      const { report } = await runBacktest({
        db,
        sessionId,
        config,
        model: new PredictorModel(predictor),
        modelPath,
        thresholds,
        record: !args.bool('no-record'),
        onProgress: (_i, _n, row) => console.log(formatRow(row)),
      });
      console.log(
        `sharpe: equity sampled every ${report.sampling_ms} ms, annualised with ${report.annualisation}; ${report.elapsed_ms} ms`,
      );
      console.log(report.final_equity_basis);
      if (reportFile) {
        fs.mkdirSync(path.dirname(path.resolve(reportFile)), { recursive: true });
        const text = /\.json$/i.test(reportFile)
          ? JSON.stringify(report, null, 1) + '\n'
          : renderHtmlReport(report);
        fs.writeFileSync(reportFile, text);
        console.log(`report: ${reportFile}`);
      }
    } finally {
      await predictor.close();
    }
  } finally {
    db.close();
  }
  return 0;
}
