// `l2desk backtest --walk-forward` end to end through the real CLI: a simulated session in a real SQLite file, one
// model trained per window by the real trainer worker, one replay through onnxruntime. Checks the plan's spans, that
// nothing trades before the first window and each decision is its window's model's, determinism, the sweep, the
// in-sample verdicts (0 here; a warning for a model replayed over its own training data) and the usage errors.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '../backtest/backtest.ts';
import { renderHtmlReport } from '../backtest/htmlReport.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { runWalkForward } from '../backtest/walkForward.ts';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { readRunFeatures } from '../engine/runFeatures.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb } from '../store/db.ts';
import { UsageError } from './args.ts';
import { run } from './backtest.ts';

const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
const M = 60_000;
const H = 10_000; // config model.horizon
let dir: string;
let dbFile: string;
let cfg: string;
let session: string;
let start: number;
let end: number;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const readReport = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as BacktestReport;
const withoutRunIds = (r: BacktestReport) => r.rows.map((x) => ({ ...x, run_id: null }));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2wf-'));
  dbFile = path.join(dir, 'sim.db');
  const db = openDb(dbFile);
  session = String(writeSimSession(db, { seed: 31, durationMs: 30 * M }).sessionId);
  const s = db.prepare('SELECT min(recv_ts) AS a, max(recv_ts) AS b FROM l2_updates').get() as {
    a: number;
    b: number;
  };
  start = s.a;
  end = s.b;
  db.close();
  // Small models: a few dozen rounds on two folds keep each window's training well under a second. An 8 min window
  // covers about 45 horizons of 10 s, below the default minimum (200, 34 min of data): 20 here.
  cfg = path.join(dir, 'small.yaml');
  fs.writeFileSync(
    cfg,
    'train:\n  rounds: 30\n  folds: 2\n  early_stopping_rounds: 10\n  min_horizons: 20\n',
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const WF = ['--walk-forward', '--train-window', '8m', '--retrain-every', '5m'];

describe('l2desk backtest --walk-forward', () => {
  let report: BacktestReport;
  const out1 = () => path.join(dir, 'wf1');

  it('trains each window on data ending one horizon before it and trades each window with that model only', async () => {
    const rep = path.join(dir, 'wf1.json');
    const r = await cli([
      'backtest',
      '--db',
      dbFile,
      '--session',
      session,
      ...WF,
      '--config',
      cfg,
      '--sweep',
      '0.2,0.5',
      '--out',
      out1(),
      '--report',
      rep,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^walk-forward: train window 8m00s, retrain every 5m00s, embargo 10s/m);
    expect(r.stdout).toMatch(/out of sample: none of the \d+ decisions lies inside the training span/);
    report = readReport(rep);
    const wf = report.walk_forward;
    if (!wf) throw new Error('no walk_forward section');
    expect(wf).toMatchObject({ train_window_ms: 8 * M, every_ms: 5 * M, horizon_ms: H, embargo_ms: H });
    // The plan: t_0 = start + 8 min, then every 5 min while before the end; the windows tile the rest.
    const starts = wf.models.map((m) => m.trade_from);
    expect(starts).toEqual([8, 13, 18, 23, 28].map((k) => start + k * M));
    expect(wf.first_trade_ts).toBe(start + 8 * M);
    expect(wf.models[wf.models.length - 1].trade_to).toBeGreaterThanOrEqual(end);
    for (const [k, m] of wf.models.entries()) {
      if (k > 0) expect(m.trade_from).toBe(wf.models[k - 1].trade_to);
      expect(m.trained, m.note).toBe(true);
      expect(m.train_from).toBe(m.trade_from - 8 * M);
      expect(m.train_to).toBe(m.trade_from - H);
      // The model's own span (its metadata): inside its data window, so every label ends before the window.
      const meta = JSON.parse(fs.readFileSync(String(m.model).replace(/\.onnx$/, '.json'), 'utf8'));
      expect(meta.training.from_ts).toBe(m.training?.from_ts);
      expect(meta.training.to_ts).toBe(m.training?.to_ts);
      expect(meta.training.from_ts).toBeGreaterThanOrEqual(m.train_from);
      expect(meta.training.to_ts + H).toBeLessThanOrEqual(m.trade_from - H);
      expect(m.rows).toBeGreaterThanOrEqual(200);
      expect(Number.isFinite(m.r2) && Number.isFinite(m.ic)).toBe(true);
      // The last window holds the session's last 2 minutes only.
      expect(m.decisions).toBeGreaterThan(k < 4 ? 280 : 100);
      expect(m.in_sample).toBe(0);
      expect(m.oos_n).toBeGreaterThan(m.decisions - H / 1000 - 1);
      // 95% intervals beside the IC at training time and out of sample, around their point values
      for (const [v, ci] of [
        [m.ic, m.ic_ci],
        [m.oos_ic, m.oos_ic_ci],
        [m.oos_hit_rate, m.oos_hit_rate_ci],
      ] as const) {
        expect(ci).toHaveLength(2);
        expect(ci?.[0]).toBeLessThanOrEqual(v as number);
        expect(ci?.[1]).toBeGreaterThanOrEqual(v as number);
      }
    }
    expect(r.stdout).toMatch(/oos_ic +-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]/);
    // the net P&L's interval and the verdict on it
    expect(r.stdout).toMatch(
      /net P&L -?\d+\.\d\d, 95% interval \[-?\d+\.\d\d, -?\d+\.\d\d\] .*: (not )?distinguishable from zero/,
    );
    expect(fs.existsSync(path.join(out1(), 'walkforward.json'))).toBe(true);
    // Nothing is in-sample, by the run's own count.
    expect(report.in_sample.share).toBe(0);
    expect(report.in_sample.decisions).toBe(wf.models.reduce((a, m) => a + m.decisions, 0));
    for (const row of report.rows) expect(row.in_sample_share).toBe(0);
    // The sweep replays the same predictions at both thresholds, and they trade differently.
    expect(report.rows.map((x) => x.threshold)).toEqual([0.2, 0.5]);
    expect(report.rows[0].predictions).toBe(report.rows[1].predictions);
    expect(report.rows[0].trades).not.toBe(report.rows[1].trades);
    expect(report.rows[0].trades).toBeGreaterThan(0);

    const db = openDb(dbFile);
    const predictors = await Promise.all(wf.models.map((m) => Predictor.load(String(m.model), FEATURE_SET)));
    try {
      const runId = report.rows[0].run_id as number;
      const stored = db
        .prepare('SELECT ts, value FROM predictions WHERE run_id = ? ORDER BY ts')
        .raw()
        .all(runId) as [number, number][];
      expect(stored.length).toBe(report.in_sample.decisions);
      expect(stored[0][0]).toBeGreaterThanOrEqual(wf.first_trade_ts); // no prediction before t_0
      // The second threshold's run stored the same predictions.
      const second = db
        .prepare('SELECT ts, value FROM predictions WHERE run_id = ? ORDER BY ts')
        .raw()
        .all(report.rows[1].run_id) as [number, number][];
      expect(second).toEqual(stored);
      // The model swaps are stored with the run, one per window.
      const swaps = db
        .prepare('SELECT from_ts, model FROM run_models WHERE run_id = ? ORDER BY from_ts')
        .raw()
        .all(runId);
      expect(swaps).toEqual(wf.models.map((m) => [m.trade_from, m.model]));
      // Each decision's stored prediction is its window's model's on the stored feature row, and not its neighbour's.
      const f = readRunFeatures(db, runId);
      expect(Array.from(f.ts)).toEqual(stored.map((x) => x[0]));
      const nf = FEATURE_SET.names.length;
      let differs = 0;
      for (const [k, m] of wf.models.entries()) {
        const idx = stored.flatMap(([ts], i) => (ts >= m.trade_from && ts < m.trade_to ? [i] : []));
        expect(idx.length).toBe(m.decisions);
        const X = new Float32Array(idx.length * nf);
        idx.forEach((r, j) => X.set(f.X.subarray(r * nf, r * nf + nf), j * nf));
        const own = await predictors[k].predictBatch(X, idx.length);
        const other = await predictors[(k + 1) % predictors.length].predictBatch(X, idx.length);
        idx.forEach((r, j) => {
          expect(stored[r][1]).toBeCloseTo(own[j], 5);
          if (Math.abs(other[j] - own[j]) > 1e-4) differs++;
        });
      }
      expect(differs).toBeGreaterThan(stored.length / 2);
    } finally {
      for (const p of predictors) await p.close();
      db.close();
    }

    const html = renderHtmlReport(report);
    expect(html).toContain('<h2>Walk-forward</h2>');
    expect(html).toContain('aria-label="Walk-forward windows"');
    expect(html).toContain('wf-04.onnx');
    expect(html).toContain('Out of sample: none of the');
    expect(html).toContain('<th>OOS IC 95% interval</th>');
    expect(html).toMatch(/<th>Net P&L 95% interval<\/th>/);
    expect(html).toMatch(/(not )?distinguishable from zero/);
  });

  it('is deterministic: a second run trains the same models and gives the same rows', async () => {
    const rep = path.join(dir, 'wf2.json');
    const out2 = path.join(dir, 'wf2');
    const r = await cli([
      'backtest',
      '--db',
      dbFile,
      '--session',
      session,
      ...WF,
      '--config',
      cfg,
      '--sweep',
      '0.2,0.5',
      '--out',
      out2,
      '--report',
      rep,
      '--no-record',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const again = readReport(rep);
    expect(withoutRunIds(again)).toEqual(withoutRunIds(report));
    const models = (x: BacktestReport) => x.walk_forward?.models.map((m) => ({ ...m, model: null }));
    expect(models(again)).toEqual(models(report));
    for (const m of report.walk_forward?.models ?? []) {
      const name = path.basename(String(m.model));
      expect(fs.readFileSync(path.join(out2, name))).toEqual(fs.readFileSync(String(m.model)));
    }
  });

  it('a window with too little data to train is reported, and without an earlier model nothing trades', async () => {
    const rep = path.join(dir, 'short.json');
    const r = await cli([
      'backtest',
      '--db',
      dbFile,
      '--session',
      session,
      '--walk-forward',
      '--train-window',
      '3m',
      '--retrain-every',
      '10m',
      '--config',
      cfg,
      // 3 min cover enough horizons for this minimum, but give fewer than 200 rows
      '--set',
      'train.min_horizons=12',
      '--out',
      path.join(dir, 'short'),
      '--report',
      rep,
      '--no-record',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /window 0 \(1 of 3\): not trained: session \d+ gives 1\d\d training samples .*; at least 200 are needed: collect more data, then train again; no model yet, no trading/,
    );
    const x = readReport(rep);
    expect(x.walk_forward?.models.map((m) => [m.trained, m.model, m.decisions])).toEqual([
      [false, null, 0],
      [false, null, 0],
      [false, null, 0],
    ]);
    expect(x.rows[0]).toMatchObject({ trades: 0, predictions: 0, in_sample_share: null });
  });

  it('a window that cannot train keeps the previous window trading with its model', async () => {
    // A second session with its data from 9 to 15 min cut out: the book breaks there (no later snapshot), so from
    // the third window on no window holds enough rows to train.
    const db = openDb(dbFile);
    try {
      const id = writeSimSession(db, { seed: 32, durationMs: 20 * M }).sessionId;
      const s0 = db.prepare('SELECT first_recv_ts FROM sessions WHERE id = ?').pluck().get(id) as number;
      for (const t of ['l2_updates', 'trades'])
        db.prepare(`DELETE FROM ${t} WHERE session_id = ? AND recv_ts >= ? AND recv_ts < ?`).run(
          id,
          s0 + 9 * M,
          s0 + 15 * M,
        );
      const config = loadConfig({
        ignoreUserFile: true,
        overrides: {
          'train.rounds': 30,
          'train.folds': 2,
          'train.early_stopping_rounds': 10,
          'train.min_horizons': 20,
        },
      });
      const { report: x } = await runWalkForward({
        db,
        dbFile,
        sessionId: id,
        config,
        thresholds: [0.2],
        trainWindowMs: 5 * M,
        everyMs: 3 * M,
        outDir: path.join(dir, 'carry'),
        createdAt: 0,
      });
      const ms = x.walk_forward?.models ?? [];
      expect(ms.length).toBeGreaterThanOrEqual(4);
      expect(ms.slice(0, 2).map((m) => m.trained)).toEqual([true, true]);
      for (const m of ms.slice(2)) {
        expect(m).toMatchObject({ trained: false, model: ms[1].model, training: ms[1].training, rows: 0 });
        expect(m.note).toMatch(
          /^not trained: training needs at least 4 minutes of data \(20 independent 10 s horizons\); session \d+ covers .*; window 1's model kept trading$/,
        );
      }
      // Only the trained models were swapped in.
      const swaps = db
        .prepare('SELECT from_ts, model FROM run_models WHERE run_id = ? ORDER BY from_ts')
        .raw()
        .all(x.rows[0].run_id);
      expect(swaps).toEqual(ms.slice(0, 2).map((m) => [m.trade_from, m.model]));
      expect(x.rows[0].predictions).toBeGreaterThan(0);
      expect(x.in_sample.share).toBe(0);
    } finally {
      db.close();
    }
  });

  it('a plain backtest of a model over its own training data warns that it is in-sample', async () => {
    // wf-00 learned from [start, start + 8 min - H]: replaying the whole session puts those decisions in-sample.
    const model = path.join(out1(), 'wf-00.onnx');
    const rep = path.join(dir, 'plain.json');
    const r = await cli([
      'backtest',
      '--db',
      dbFile,
      '--session',
      session,
      '--model',
      model,
      '--report',
      rep,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const x = readReport(rep);
    const span = JSON.parse(fs.readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8')).training;
    const db = openDb(dbFile);
    try {
      const q = 'SELECT count(*) FROM predictions WHERE run_id = ?';
      const all = db.prepare(q).pluck().get(x.rows[0].run_id) as number;
      const inside = db
        .prepare(q + ' AND ts BETWEEN ? AND ?')
        .pluck()
        .get(x.rows[0].run_id, span.from_ts, span.to_ts) as number;
      expect(inside).toBeGreaterThan(100);
      expect(x.rows[0].in_sample_share).toBe(inside / all);
      const pct = Math.round((inside / all) * 100);
      expect(r.stdout).toContain(
        `warning: ${pct}% of decisions (${inside} of ${all}) lie inside the model's training span (`,
      );
      expect(r.stdout).toContain('in-sample, optimistic; use --walk-forward or a later session');
    } finally {
      db.close();
    }
  });

  it.each([
    [['--walk-forward', '--retrain-every', '0'], /retraining period must be > 0/],
    [['--walk-forward', '--retrain-every', 'soon'], /--retrain-every: "soon" is not a duration/],
    [['--walk-forward', '--train-window', '90s'], /at least 10 horizons/],
    [
      ['--walk-forward', '--train-window', '20m'],
      /the train window \(20m00s\) is too short for training, which needs data covering 200 label horizons \(train\.min_horizons\).* at least 34m00s/,
    ],
    [['--walk-forward', '--train-window'], /--train-window needs a duration/],
    [['--train-window', '2h'], /--train-window only goes with --walk-forward/],
    [['--out', 'x'], /--out only goes with --walk-forward/],
    [['--walk-forward', '--model', 'models/default.onnx'], /trains its own models/],
  ])('%j is a usage error', async (args, re) => {
    const p = run(['--db', dbFile, ...args]);
    await expect(p).rejects.toThrow(UsageError);
    await expect(p).rejects.toThrow(re);
  });

  it('a usage error exits with code 2 and says why', async () => {
    const r = await cli(['backtest', '--db', dbFile, '--walk-forward', '--retrain-every', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/l2desk backtest: --walk-forward: the retraining period must be > 0/);
  });
});
