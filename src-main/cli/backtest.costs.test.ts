// `l2desk backtest` reports where the P&L went: a costs line under each row, the cost fields of the JSON rows (their
// attribution adding up to net_pnl) and the HTML report's execution-cost table. Real session, real ONNX model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BacktestReport } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { openDb } from '../store/db.ts';
import { run } from './backtest.ts';

let dir: string;
let dbFile: string;
let model: string;
let session: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bt-costs-'));
  dbFile = path.join(dir, 'bt.db');
  const db = openDb(dbFile);
  try {
    const train = writeSimSession(db, { seed: 21, durationMs: 600_000 }).sessionId;
    session = String(writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId);
    model = (await testModelPath(db, train, dir)).path;
  } finally {
    db.close();
  }
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function backtest(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  });
  try {
    expect(await run(['--db', dbFile, '--session', session, '--model', model, '--no-record', ...args])).toBe(
      0,
    );
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n').split('\n');
}

const COSTS =
  /^ {2}costs: shortfall ([+-]?\d+\.\d{3}) bps \(latency ([+-]?\d+\.\d{3}), spread\+walk ([+-]?\d+\.\d{3})\), fees (\d+\.\d{3}) bps; alpha (-?\d+\.\d\d) → net (-?\d+\.\d\d)$/;

const num = '(–|—|-?\\d+\\.?\\d*)';
const TRADES = new RegExp(
  `^ {2}trades: profit factor ${num}, avg win ${num} / loss ${num} \\(payoff ${num}\\), expectancy ${num} \\(${num} bps\\), ` +
    `max losing streak (\\d+); calmar ${num}; sharpe on (\\d+) returns( \\(too short to annualise Sharpe or Calmar reliably\\))?$`,
);
const orNull = (x: string) => (x === '–' || x === '—' ? null : Number(x));

describe('l2desk backtest: execution costs', () => {
  it('prints a costs line under every row; the JSON rows and the HTML report carry the attribution', async () => {
    const json = path.join(dir, 'r.json');
    const out = await backtest(['--sweep', '0,0.5', '--latency', '200ms', '--report', json]);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as BacktestReport;
    const rows = out.flatMap((l, i) => (l.startsWith('threshold ') ? [i] : []));
    expect(rows).toHaveLength(2);
    for (let k = 0; k < rows.length; k++) {
      const m = COSTS.exec(out[rows[k] + 1]);
      expect(m, out[rows[k] + 1]).not.toBeNull();
      const r = report.rows[k];
      const [shortfall, latency, spread, fees, alpha, net] = (m as RegExpExecArray).slice(1).map(Number);
      expect(shortfall).toBeCloseTo(r.shortfall_bps, 3);
      expect(latency).toBeCloseTo(r.latency_bps, 3);
      expect(spread).toBeCloseTo(r.spread_walk_bps, 3);
      expect(fees).toBeCloseTo(r.fees_bps, 3);
      expect(alpha).toBeCloseTo(r.gross_alpha, 2);
      expect(net).toBeCloseTo(r.net_pnl, 2);
      // the round-trip statistics line under it agrees with the JSON row
      const t = TRADES.exec(out[rows[k] + 2]);
      expect(t, out[rows[k] + 2]).not.toBeNull();
      const [pf, win, loss, payoff, exp, expBps, streak, calmar, samples] = (t as RegExpExecArray)
        .slice(1, 10)
        .map(orNull);
      for (const [got, want, d] of [
        [pf, r.profit_factor, 2],
        [win, r.avg_win, 2],
        [loss, r.avg_loss, 2],
        [payoff, r.payoff_ratio, 2],
        [exp, r.expectancy, 4],
        [expBps, r.expectancy_bps, 2],
        // an annualised Calmar of a 4-minute run is not shown ("—"), whatever it computes to
        [calmar, r.sharpe_reliable ? r.calmar : null, 2],
      ] as const)
        if (want === null) expect(got).toBeNull();
        else expect(got).toBeCloseTo(want, d);
      expect(streak).toBe(r.max_consecutive_losses);
      expect(samples).toBe(r.sharpe_samples);
      // a 4-minute session: far too short for an annualised Sharpe
      expect(r.sharpe_reliable).toBe(false);
      expect(t?.[10]).toBeDefined();
      // then the net P&L with its 95% interval, and whether the run tells it apart from zero
      const ci = r.net_pnl_ci;
      expect(ci).toHaveLength(2);
      expect(ci?.[0]).toBeLessThanOrEqual(r.net_pnl);
      expect(ci?.[1]).toBeGreaterThanOrEqual(r.net_pnl);
      const verdict =
        ci && (ci[0] > 0 || ci[1] < 0) ? 'distinguishable from zero' : 'not distinguishable from zero';
      expect(out[rows[k] + 3]).toContain(
        `net P&L ${r.net_pnl.toFixed(2)}, 95% interval [${ci?.[0].toFixed(2)}, ${ci?.[1].toFixed(2)}]`,
      );
      expect(out[rows[k] + 3]).toMatch(new RegExp(`: ${verdict}`));
    }
    for (const r of report.rows) {
      // The attribution adds up to the net P&L (after fees, open position at the last mid).
      expect(Math.abs(r.gross_alpha - r.spread_walk_cost - r.latency_cost - r.fees - r.net_pnl)).toBeLessThan(
        1e-6,
      );
      expect(r.latency_bps + r.spread_walk_bps).toBeCloseTo(r.shortfall_bps, 9);
      if (r.trades > 0) {
        // market orders (the default executor) pay the taker fee on their notional, and cross the spread
        expect(r.fees_bps).toBeGreaterThan(5.4);
        expect(r.fees_bps).toBeLessThan(5.6);
        expect(r.spread_walk_cost).toBeGreaterThan(0);
      }
    }
    expect(report.rows.some((r) => r.trades > 0 && r.latency_cost !== 0)).toBe(true);
    for (const r of report.rows) {
      expect(r.sharpe_samples).toBeGreaterThan(30); // 1 s grid on a 4-minute session
      if (r.round_trips === 0) continue;
      // every trip closed: the trips' net P&L is the run's
      if (r.final_position === 0) expect(r.expectancy * r.round_trips).toBeCloseTo(r.net_pnl, 6);
      expect(r.avg_win).toBeGreaterThanOrEqual(0);
      expect(r.avg_loss).toBeLessThanOrEqual(0);
      if (r.payoff_ratio !== null) expect(r.payoff_ratio).toBeCloseTo(r.avg_win / -r.avg_loss, 9);
      expect(r.max_consecutive_losses).toBeLessThanOrEqual(r.round_trips);
    }
    expect(report.rows.some((r) => r.round_trips > 0)).toBe(true);
    expect(report.trade_stats_basis).toMatch(/profit factor = sum of wins/);
    expect(report.costs_basis).toMatch(/gross alpha − spread \+ walk − latency − fees = net P&L/);

    const html = path.join(dir, 'r.html');
    await backtest(['--threshold', '0', '--report', html]);
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toContain('aria-label="Execution costs"');
    expect(page).toMatch(
      /<th>Gross alpha<\/th>.*<th>− Spread \+ walk<\/th>.*<th>− Latency<\/th>.*<th>− Fees<\/th>/,
    );
    expect(page).toContain('decision mid');
    expect(page).toContain('aria-label="Round trips"');
    expect(page).toMatch(/<th>Profit factor<\/th>.*<th>Expectancy bps<\/th>.*<th>Calmar<\/th>/);
  }, 120_000);
});

describe('l2desk backtest --set key=value', () => {
  const params = async (args: string[]) => {
    const rep = path.join(dir, `set-${Math.random().toString(36).slice(2)}.json`);
    await backtest([...args, '--report', rep]);
    return (JSON.parse(fs.readFileSync(rep, 'utf8')) as BacktestReport).params as {
      trading: { latency: number; queue_model: string };
    };
  };

  it('sets any config key for the run; a dedicated flag wins over --set; a bad key or value is refused', async () => {
    const p = await params(['--set', 'trading.latency=400ms', '--set', 'trading.queue_model=risk_averse']);
    expect(p.trading).toMatchObject({ latency: 400, queue_model: 'risk_averse' });
    expect((await params(['--set', 'trading.latency=400ms', '--latency', '10ms'])).trading.latency).toBe(10);
    // The execution assumptions are named before any P&L.
    const lines = await backtest([
      '--set',
      'trading.queue_model=power',
      '--set',
      'trading.liquidity=unlimited',
    ]);
    expect(lines[1]).toMatch(
      /^execution: executor market, latency 50 ms, power queue \(n 2\), liquidity unlimited, /,
    );
    await expect(run(['--db', dbFile, '--set', 'trading.queue_model=fifo'])).rejects.toThrow(
      /trading\.queue_model: must be one of/,
    );
    await expect(run(['--db', dbFile, '--set', 'trading.bogus=1'])).rejects.toThrow(
      /unknown config key bogus/,
    );
    await expect(run(['--db', dbFile, '--set', 'latency'])).rejects.toThrow(/--set takes key=value/);
  });
});
