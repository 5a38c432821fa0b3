// Backtest on a real SQLite session with a real ONNX model: a sweep that replays recorded predictions gives the
// same rows as independent full runs, and both report formats hold what they promise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb, type Db } from '../store/db.ts';
import { runBacktest } from './backtest.ts';
import { renderHtmlReport } from './htmlReport.ts';
import { writeSimSession } from './simSession.ts';
import { testModelPath } from './testing/testModel.ts';

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
      ]) {
        expect(typeof (r as unknown as Record<string, unknown>)[k], k).toBe('number');
      }
      expect(r.run_id).toBeGreaterThan(0);
      expect(typeof r.final_position).toBe('number');
      expect(typeof r.cancelled_at_end).toBe('number');
      if (r.final_position !== 0) expect(r.final_mark).toBeGreaterThan(0);
      // Net P&L is after fees: the final equity says the same.
      expect(r.final_equity - config.trading.initial_balance).toBeCloseTo(r.net_pnl, 9);
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
