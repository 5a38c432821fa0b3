// The app gets the same halts and reliability facts as the CLI: a backtest that loses past a tight daily loss limit
// (real worker, real SQLite, real ONNX model) reports its halt with time and reason in the IPC run report, and the
// metrics view carries what the shared reliability verdicts need (round trips, returns, span), so the panels show
// "—" for a 3-minute Sharpe exactly as the CLI does. The live portfolio view carries the halts to the Position panel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharpeReason } from '../../src-shared/reliability.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { emptyCostTotals } from '../trading/executionCosts.ts';
import { computeMetrics } from '../trading/metrics.ts';
import { makeBacktester } from './backtester.ts';
import { toPortfolioView } from './enginePipeline.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-app-halt-'));
let db: Db;
let session: number;
let modelPath: string;

beforeAll(async () => {
  db = openDb(path.join(dir, 'app.db'));
  session = writeSimSession(db, { seed: 52, durationMs: 180_000 }).sessionId;
  modelPath = (await testModelPath(db, session, dir)).path;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('risk halts and reliable figures in the app', () => {
  it('a backtest halted by the daily loss limit reports when and why', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { 'risk.max_daily_loss': 2, 'trading.threshold': 0 },
    });
    const bt = makeBacktester({ config, db, modelPath: () => modelPath, inWorker: true });
    const { runs } = await bt({ sessionId: session, thresholds: [0], onProgress: () => {} });
    const halts = (runs[0].halts ?? []).filter((h) => h.rule === 'daily_loss');
    expect(halts).toHaveLength(1);
    expect(halts[0].reason).toMatch(/^daily loss limit 0\.02% reached \(−\d+\.\d\d%, −\d+\.\d\d\)$/);
    expect(halts[0].ts).toBeGreaterThanOrEqual(runs[0].equity[0].t);
    expect(halts[0].resumedTs).toBeNull();
    const m = runs[0].metrics;
    expect(m.roundTrips).toBeGreaterThan(0);
    expect(m.returns).toBeGreaterThan(100);
    expect(m.spanMs).toBeGreaterThan(120_000);
    expect(sharpeReason(m)).toMatch(/^run too short to annualise: \d+ returns over [23]\.\d min/);
  }, 120_000);

  it('the live portfolio view carries the latest halts (at most 20)', () => {
    const m = computeMetrics(
      [{ ts: 0, equity: 100 }],
      {
        roundTrips: [],
        fills: 0,
        turnoverNotional: 0,
        fees: 0,
        costs: { totals: emptyCostTotals(), position: 0, mark: NaN },
      },
      100,
    );
    const halt = (i: number): RiskHalt => ({
      ts: i * 1000,
      rule: 'book_invalid',
      reason: 'book invalid (sequence)',
      resumedTs: i * 1000 + 500,
      resumeReason: 'a fresh snapshot',
    });
    const snap = {
      ts: 0,
      balance: 100,
      position: 0,
      entryPrice: NaN,
      realizedPnl: 0,
      unrealizedPnl: 0,
      fees: 0,
      equity: 100,
      mark: NaN,
      drawdown: 0,
    };
    const all = Array.from({ length: 25 }, (_, i) => halt(i));
    const v = toPortfolioView(snap, m, all);
    expect(v.halts).toHaveLength(20);
    expect(v.halts?.[0]).toEqual(halt(5));
    expect(toPortfolioView(snap, m).halts).toBeUndefined();
    expect(v.metrics.roundTrips).toBe(0);
  });
});
