// Backtest on a real SQLite session with a real ONNX model: a sweep that replays recorded predictions gives the
// same rows as independent full runs, and both report formats hold what they promise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb, type Db } from '../store/db.ts';
import { runBacktest } from './backtest.ts';
import { renderHtmlReport } from './htmlReport.ts';
import { writeSimSession } from './simSession.ts';
import { testModelPath } from './testing/testModel.ts';
import { trainTinyModel } from './testing/tinyModel.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-backtest-'));
let db: Db;
let trainId: number;
let testId: number;
let predictor: Predictor;
const config = loadConfig({ ignoreUserFile: true });

beforeAll(async () => {
  db = openDb(path.join(dir, 'bt.db'));
  trainId = writeSimSession(db, { seed: 21, durationMs: 600_000 }).sessionId;
  testId = writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId;
  const m = await testModelPath(db, trainId, dir);
  predictor = await Predictor.load(m.path, FEATURE_SET);
});
afterAll(async () => {
  await predictor?.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('backtest', () => {
  it('a sweep with predictions computed once equals one full run per threshold', async () => {
    const thresholds = [0, 0.2, 0.5];
    const sweep = await runBacktest({
      db,
      sessionId: testId,
      config,
      model: new PredictorModel(predictor),
      thresholds,
      record: false,
    });
    expect(sweep.passes[0].fills.length).toBeGreaterThan(0);
    for (let i = 0; i < thresholds.length; i++) {
      const full = await runBacktest({
        db,
        sessionId: testId,
        config,
        model: new PredictorModel(predictor),
        thresholds: [thresholds[i]],
        record: false,
      });
      expect(sweep.passes[i].fills).toEqual(full.passes[0].fills);
      expect(sweep.passes[i].orders).toEqual(full.passes[0].orders);
      expect(sweep.report.rows[i]).toEqual(full.report.rows[0]);
    }
    // Different thresholds really trade differently (the comparison above is not vacuous).
    expect(new Set(sweep.report.rows.map((r) => r.trades)).size).toBeGreaterThan(1);
  });

  it('the JSON report has one row per threshold with the promised fields, and the HTML report is self-contained', async () => {
    const { report } = await runBacktest({
      db,
      sessionId: testId,
      config,
      model: new PredictorModel(predictor),
      thresholds: [0.1, 1],
      record: true,
    });
    expect(report.rows.map((r) => r.threshold)).toEqual([0.1, 1]);
    for (const r of report.rows) {
      for (const k of [
        'threshold',
        'trades',
        'fees',
        'net_pnl',
        'sharpe',
        'max_drawdown',
        'hit_rate',
        'turnover',
        'sortino',
        'avg_holding_s',
        'exposure',
        'shortfall_bps',
        'latency_bps',
        'spread_walk_bps',
        'fees_bps',
        'gross_alpha',
      ]) {
        expect(typeof (r as unknown as Record<string, unknown>)[k], k).toBe('number');
      }
      expect(r.run_id).toBeGreaterThan(0);
      expect(typeof r.final_position).toBe('number');
      expect(typeof r.cancelled_at_end).toBe('number');
      if (r.final_position !== 0) expect(r.final_mark).toBeGreaterThan(0);
      // Net P&L is after fees: the final equity says the same.
      expect(r.final_equity - config.trading.initial_balance).toBeCloseTo(r.net_pnl, 9);
      // Where it went: gross alpha at the decision mids − spread + walk − latency − fees = net P&L.
      expect(Math.abs(r.gross_alpha - r.spread_walk_cost - r.latency_cost - r.fees - r.net_pnl)).toBeLessThan(
        1e-6,
      );
    }
    expect(report.equity).toHaveLength(2);
    expect(report.equity[0].points.length).toBeGreaterThan(100);
    expect(report.sampling_ms).toBe(1000);
    const json = JSON.parse(JSON.stringify(report));
    expect(json.rows[0].threshold).toBe(0.1);

    expect(report.final_equity_basis).toMatch(/marked to the last mid/);
    const html = renderHtmlReport(report);
    expect(html).toContain('marked to the last mid');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('<polyline');
    expect(html).toContain('aria-label="Backtest metrics"');
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
  });
});

describe('spot is long-only unless risk.spot_shorts', () => {
  /** The lowest position the fills reach, from flat. */
  const lowest = (fills: readonly { side: 'Buy' | 'Sell'; qty: number }[]) => {
    let pos = 0;
    let min = 0;
    for (const f of fills) {
      pos += f.side === 'Buy' ? f.qty : -f.qty;
      min = Math.min(min, pos);
    }
    return min;
  };

  it('the same data as a spot session never goes short; with spot_shorts it does', async () => {
    // The test session again, stored as spot: same seed, same messages.
    const spotId = writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId;
    db.prepare("UPDATE sessions SET category = 'spot' WHERE id = ?").run(spotId);
    const run = (sessionId: number, c = config) =>
      runBacktest({
        db,
        sessionId,
        config: c,
        model: new PredictorModel(predictor),
        thresholds: [0],
        record: false,
      });
    const linear = (await run(testId)).passes[0].fills;
    const spot = (await run(spotId)).passes[0].fills;
    // Not vacuous: on linear the model goes short, and on spot it still trades.
    expect(lowest(linear)).toBeLessThan(0);
    expect(spot.some((f) => f.side === 'Sell')).toBe(true);
    expect(lowest(spot)).toBeGreaterThan(-1e-12);
    // With margin allowed the spot run shorts too (its fills differ from linear's in size: spot's lot is finer).
    const margin = loadConfig({ ignoreUserFile: true, overrides: { 'risk.spot_shorts': true } });
    expect(lowest((await run(spotId, margin)).passes[0].fills)).toBeLessThan(0);
  });
});

describe('in-sample share', () => {
  const share = (runId: number, from: number, to: number) => {
    const q = db.prepare('SELECT count(*) FROM predictions WHERE run_id = ? AND ts BETWEEN ? AND ?').pluck();
    const all = db.prepare('SELECT count(*) FROM predictions WHERE run_id = ?').pluck().get(runId) as number;
    return { all, inside: q.get(runId, from, to) as number };
  };

  it('a model trained on the replayed session: nearly every decision is in-sample, and every report says so', async () => {
    const p = await Predictor.load(trainTinyModel(db, testId, path.join(dir, 'own.onnx')), FEATURE_SET);
    try {
      const span = p.meta.training;
      const { report } = await runBacktest({
        db,
        sessionId: testId,
        config,
        model: new PredictorModel(p),
        thresholds: [0.2, 0.5],
        training: span,
        record: true,
      });
      const s = report.in_sample;
      expect(s.share).toBeGreaterThan(0.9);
      expect(s.training).toEqual(span);
      // Reference: the run's stored predictions inside the metadata's span.
      const ref = share(report.rows[0].run_id as number, span.from_ts, span.to_ts);
      expect(s.decisions).toBe(ref.all);
      expect(s.in_sample).toBe(ref.inside);
      expect(s.share).toBe(ref.inside / ref.all);
      expect(s.in_sample).toBeLessThan(s.decisions); // the last horizon has no label, so no training row
      for (const r of report.rows) expect(r.in_sample_share).toBe(s.share);
      const json = JSON.parse(JSON.stringify(report));
      expect(json.rows[1].in_sample_share).toBe(s.share);
      expect(json.in_sample.training.from_ts).toBe(span.from_ts);
      const html = renderHtmlReport(report);
      expect(html).toMatch(
        /role="alert">Warning: \d+ % of decisions \(\d+ of \d+\) lie inside the model's training span/,
      );
      expect(html).toContain('in-sample, hence optimistic');
    } finally {
      await p.close();
    }
  });

  it('the bundled model on a session recorded after its training span: no decision is in-sample', async () => {
    const p = await Predictor.load(path.join(PROJECT_ROOT, 'models', 'default.onnx'), FEATURE_SET);
    try {
      const s0 = db
        .prepare('SELECT min(recv_ts) FROM l2_updates WHERE session_id = ?')
        .pluck()
        .get(testId) as number;
      expect(p.meta.training.to_ts).toBeLessThan(s0);
      const { report } = await runBacktest({
        db,
        sessionId: testId,
        config,
        model: new PredictorModel(p),
        thresholds: [0.5],
        training: p.meta.training,
        record: false,
      });
      expect(report.in_sample.decisions).toBeGreaterThan(100);
      expect(report.in_sample.share).toBe(0);
      expect(report.rows[0].in_sample_share).toBe(0);
      const html = renderHtmlReport(report);
      expect(html).not.toContain('role="alert"');
      expect(html).toContain('Out of sample: none of the');
    } finally {
      await p.close();
    }
  });

  it('is unknown (null) when no training span is given', async () => {
    const { report } = await runBacktest({
      db,
      sessionId: testId,
      config,
      model: new PredictorModel(predictor),
      thresholds: [0.5],
      record: false,
    });
    expect(report.in_sample.share).toBeNull();
    expect(report.in_sample.decisions).toBeGreaterThan(100);
    expect(report.rows[0].in_sample_share).toBeNull();
  });
});
