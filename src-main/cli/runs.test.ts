// `l2desk runs`: real runs recorded by `l2desk backtest` (a sweep) and `l2desk trade --paper --source replay` on a
// sim session in a temp SQLite file, then listed, shown and re-rendered as the backtest report without replaying.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BacktestReport } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { RunRecorder } from '../engine/runRecorder.ts';
import { openDb } from '../store/db.ts';
import { UsageError } from './args.ts';
import { run as backtest } from './backtest.ts';
import { run, type RunDetail, type RunListItem } from './runs.ts';
import { run as trade } from './trade.ts';

let dir: string;
let dbFile: string;
let model: string;
let session: string;
let report: BacktestReport;

async function capture(f: () => Promise<number>): Promise<string[]> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  });
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(await f()).toBe(0);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return lines.join('\n').split('\n');
}
const runs = (args: string[]) => capture(() => run(args));
const json = async <T>(args: string[]) => JSON.parse((await runs([...args, '--json'])).join('\n')) as T;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2runs-'));
  dbFile = path.join(dir, 'runs.db');
  const db = openDb(dbFile);
  try {
    session = String(writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId);
    model = (await testModelPath(db, Number(session), dir)).path;
  } finally {
    db.close();
  }
  const reportFile = path.join(dir, 'bt.json');
  const common = ['--db', dbFile, '--session', session, '--model', model];
  await capture(() =>
    backtest([...common, '--sweep', '0,0.5', '--latency', '200ms', '--report', reportFile]),
  );
  report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as BacktestReport;
  // A paper run of the same session, 4 minutes replayed at 400× (the live code path, recorded as kind paper).
  await capture(() =>
    trade(['--paper', '--source', 'replay', ...common, '--threshold', '0.5', '--speed', '400']),
  );
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('l2desk runs', () => {
  it('lists the stored runs newest first with their results; --kind and --limit filter', async () => {
    const l = await json<{ runs: RunListItem[]; total: number }>(['--db', dbFile]);
    expect(l.total).toBe(3);
    expect(l.runs.map((r) => r.kind)).toEqual(['paper', 'backtest', 'backtest']);
    expect(l.runs.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    const bt = l.runs.filter((r) => r.kind === 'backtest');
    expect(bt.map((r) => r.threshold)).toEqual([0.5, 0]);
    for (const r of bt) {
      const row = report.rows.find((x) => x.run_id === r.id);
      expect(row, `run ${r.id}`).toBeDefined();
      expect(r).toMatchObject({
        session_id: Number(session),
        model,
        trades: row?.trades,
        round_trips: row?.round_trips,
        net_pnl: row?.net_pnl,
        sharpe: row?.sharpe,
        max_drawdown: row?.max_drawdown,
      });
      expect(r.ended_at).toBeGreaterThanOrEqual(r.started_at);
    }
    expect(l.runs[0].trades).toBeGreaterThan(0);

    const paper = await json<{ runs: RunListItem[]; total: number }>(['--db', dbFile, '--kind', 'paper']);
    expect(paper.runs.map((r) => r.id)).toEqual([l.runs[0].id]);
    const text = await runs(['--db', dbFile, '--limit', '2']);
    expect(text[0]).toMatch(
      /^ +id +kind +status +session +model +threshold +started +duration +trades +net_pnl +sharpe +max_dd$/,
    );
    expect(text.slice(1, 3).map((x) => x.trim().split(/ +/).slice(0, 3))).toEqual([
      [String(l.runs[0].id), 'paper', 'done'],
      [String(l.runs[1].id), 'backtest', 'done'],
    ]);
    expect(text[3]).toBe('(1 older run(s) not shown: --limit N)');
  });

  it('show: parameters, metrics with round-trip statistics, orders, fills and costs, equal to the backtest row', async () => {
    const row = report.rows[1];
    const d = await json<RunDetail>(['show', String(row.run_id), '--db', dbFile]);
    expect(d.run).toMatchObject({ kind: 'backtest', status: 'done', threshold: 0.5, model });
    expect(d.metrics_source).toBe('stored');
    expect(d.params).toMatchObject({ threshold: 0.5, latencyMs: 200, executor: 'market' });
    // The row rebuilt from storage is the row the backtest printed (same JSON); the in-sample share is the report's.
    expect(d.row.in_sample_share).toBeNull();
    expect({ ...d.row, in_sample_share: row.in_sample_share }).toEqual(row);
    expect(d.fills.total).toBe(row.trades);
    expect(d.fills.fees).toBeCloseTo(row.fees, 9);
    expect(d.fills.maker + d.fills.taker).toBe(d.fills.total);
    expect(d.orders.total).toBeGreaterThanOrEqual(d.fills.total > 0 ? 1 : 0);
    expect(d.orders.by_status.filled).toBeGreaterThan(0);
    expect(d.predictions).toBe(row.predictions);
    expect(d.signals).toBe(row.signals);
    expect(d.model_swaps).toEqual([]);
    expect(d.metrics.sharpeReliable).toBe(false);

    const text = (await runs(['show', String(row.run_id), '--db', dbFile])).join('\n');
    expect(text).toMatch(new RegExp(`^run ${row.run_id}: backtest, done; replay session ${session} BTCUSDT`));
    expect(text).toMatch(/params +.*latencyMs=200/);
    expect(text).toMatch(/ {2}trades: profit factor .* max losing streak \d+; calmar/);
    expect(text).toMatch(/ {2}costs: shortfall [+-]?\d+\.\d{3} bps/);
    expect(text).toContain('model swaps: none');
    expect(text).toMatch(new RegExp(`fills ${row.trades} \\(maker \\d+, taker \\d+\\)`));
  });

  it('report: the backtest report rebuilt from the stored runs equals the one the backtest wrote', async () => {
    const ids = report.rows.map((r) => r.run_id).join(',');
    const out = path.join(dir, 'again.json');
    expect(await runs(['report', ids, '--db', dbFile, '--out', out])).toEqual([
      `report of run(s) ${ids.replace(',', ', ')}: ${out}`,
    ]);
    const again = JSON.parse(fs.readFileSync(out, 'utf8')) as BacktestReport;
    expect(again.rows).toEqual(report.rows);
    expect(again.equity).toEqual(report.equity);
    expect(again.in_sample).toEqual(report.in_sample);
    expect(again.session).toEqual(report.session);
    expect(again).toMatchObject({
      model: report.model,
      sampling_ms: report.sampling_ms,
      annualisation: report.annualisation,
      trade_stats_basis: report.trade_stats_basis,
    });

    const html = path.join(dir, 'again.html');
    await runs(['report', ids, '--db', dbFile, '--out', html]);
    const page = fs.readFileSync(html, 'utf8');
    expect(page.match(/<polyline /g)).toHaveLength(2);
    expect(page).toContain('aria-label="Round trips"');
    expect(page).toContain(`>${report.rows[0].net_pnl.toFixed(2)}</td>`);
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  it('status of cancelled, failed and unfinished runs; an unfinished run gets metrics from its fills and equity', async () => {
    const copy = path.join(dir, 'copy.db');
    const [r0, r1] = report.rows;
    const paper = (await json<{ runs: RunListItem[] }>(['--db', dbFile, '--kind', 'paper'])).runs[0];
    const storedPaper = await json<RunDetail>(['show', String(paper.id), '--db', dbFile]);
    {
      const db = openDb(dbFile);
      db.exec(`VACUUM INTO '${copy}'`);
      db.close();
    }
    const db = openDb(copy);
    let openRun: number;
    try {
      // As the app's backtest worker flags a cancelled and a failed run (endUnfinishedRuns).
      db.prepare(`UPDATE runs SET params = json_set(params, '$.cancelled', json('true')) WHERE id = ?`).run(
        r0.run_id,
      );
      db.prepare(`UPDATE runs SET params = json_set(params, '$.failed', json('true')) WHERE id = ?`).run(
        r1.run_id,
      );
      // A paper run whose process died: its rows were flushed, close() (end, metrics, final) never ran.
      db.prepare('UPDATE runs SET ended_at = NULL, metrics = NULL, final = NULL WHERE id = ?').run(paper.id);
      // A live run still open that swapped its model (live retraining).
      const rec = new RunRecorder(db, {
        kind: 'paper',
        source: 'sim',
        sessionId: null,
        symbol: 'BTCUSDT',
        model: 'models/a.onnx',
        threshold: 1,
        params: { initialBalance: 5000, samplingMs: 60_000 },
        startedAt: Date.now() + 1000,
      });
      rec.modelChanged(1_700_000_000_000, 'models/b.onnx', 'models/a.onnx');
      rec.flush();
      openRun = rec.runId;
    } finally {
      db.close();
    }
    const l = await json<{ runs: RunListItem[] }>(['--db', copy]);
    const status = Object.fromEntries(l.runs.map((r) => [r.id, r.status]));
    expect(status).toEqual({
      [openRun]: 'unfinished',
      [paper.id]: 'unfinished',
      [r0.run_id as number]: 'cancelled',
      [r1.run_id as number]: 'failed',
    });
    expect(l.runs.find((r) => r.id === paper.id)).toMatchObject({
      net_pnl: null,
      trades: null,
      sharpe: null,
    });
    expect((await runs(['--db', copy])).join('\n')).toMatch(/ paper +unfinished /);

    const crashed = await json<RunDetail>(['show', String(paper.id), '--db', copy]);
    expect(crashed.metrics_source).toBe('recomputed');
    expect(crashed.final).toBeNull();
    const a = crashed.metrics;
    const b = storedPaper.metrics;
    expect(a.trades).toBe(b.trades);
    expect(a.roundTrips).toBe(b.roundTrips);
    expect(a.maxConsecutiveLosses).toBe(b.maxConsecutiveLosses);
    for (const k of [
      'fees',
      'hitRate',
      'avgWin',
      'avgLoss',
      'expectancy',
      'expectancyBps',
      'turnover',
    ] as const)
      expect(a[k], k).toBeCloseTo(b[k], 9);
    expect(a.netPnl).toBeCloseTo(b.netPnl, 6);
    expect(a.profitFactor === null).toBe(b.profitFactor === null);
    expect(a.costs.shortfallBps).toBeCloseTo(b.costs.shortfallBps, 9);

    const open = await json<RunDetail>(['show', String(openRun), '--db', copy]);
    expect(open.run.status).toBe('unfinished');
    expect(open.metrics).toMatchObject({ trades: 0, roundTrips: 0, profitFactor: null, initialEquity: 5000 });
    expect(open.model_swaps).toEqual([
      {
        from_ts: 1_700_000_000_000,
        model: 'models/b.onnx',
        previous: 'models/a.onnx',
        swapped_at: expect.any(Number),
      },
    ]);
    const text = (await runs(['show', String(openRun), '--db', copy])).join('\n');
    expect(text).toContain('model swap at 2023-11-14 22:13:20 UTC: a.onnx → b.onnx');
    expect(text).toContain('(recomputed from the stored fills and equity)');
  });

  it('clear errors: unknown ids, an empty database, a missing file, bad arguments', async () => {
    await expect(run(['show', '999', '--db', dbFile])).rejects.toThrow(
      /^no run 999 in .*runs\.db; it holds 3 run\(s\), ids 1–3 \(l2desk runs --db /,
    );
    await expect(run(['report', '1,999', '--db', dbFile, '--out', path.join(dir, 'x.html')])).rejects.toThrow(
      /no run 999/,
    );
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false);
    const empty = path.join(dir, 'empty.db');
    openDb(empty).close();
    expect(await runs(['--db', empty])).toEqual([
      `no runs in ${empty} (l2desk backtest and l2desk trade --paper record them)`,
    ]);
    expect(await json<{ runs: RunListItem[]; total: number }>(['--db', empty])).toEqual({
      runs: [],
      total: 0,
    });
    await expect(run(['show', '1', '--db', empty])).rejects.toThrow(/it holds no runs/);
    await expect(run(['--db', path.join(dir, 'nope.db')])).rejects.toThrow(/no database at/);
    await expect(run(['show', 'abc', '--db', dbFile])).rejects.toThrow(UsageError);
    await expect(run(['show', '--db', dbFile])).rejects.toThrow(/which run/);
    await expect(run(['report', '1', '--db', dbFile])).rejects.toThrow(/--out is required/);
    await expect(run(['report', '1', '--db', dbFile, '--out', 'x.txt'])).rejects.toThrow(/\.json or \.html/);
    await expect(run(['--db', dbFile, '--kind', 'live'])).rejects.toThrow(/--kind is paper or backtest/);
    await expect(run(['list', '--db', dbFile])).rejects.toThrow(/unknown subcommand "list"/);
    await expect(run(['--db', dbFile, '--session', '1'])).rejects.toThrow(/unknown option --session/);
  });
});
