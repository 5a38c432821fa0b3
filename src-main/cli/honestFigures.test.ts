// Honest headline numbers, end to end on a real 4-minute backtest: figures that cannot be trusted (an annualised
// Sharpe or Calmar of minutes, a hit rate without a round trip) are "—" with the reason (a note in the CLI, on hover
// in the HTML report), every figure is labelled, and the report's header gives the span of the data, not when the
// (fast, simulated) collection ran.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BacktestReport } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { openDb } from '../store/db.ts';
import { formatDuration } from '../../src-shared/duration.ts';
import { run as backtest } from './backtest.ts';
import { run as runs } from './runs.ts';

let dir: string;
let dbFile: string;
let model: string;
let session: string;
// The collection ran for 18 s of wall clock (a simulated session is written much faster than its data spans).
const COLLECTED = Date.UTC(2026, 11, 2, 9, 0, 0);

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

let out: string[];
let report: BacktestReport;
let html: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2honest-'));
  dbFile = path.join(dir, 'h.db');
  const db = openDb(dbFile);
  try {
    session = String(writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId);
    db.prepare('UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?').run(
      COLLECTED,
      COLLECTED + 18_000,
      Number(session),
    );
    model = (await testModelPath(db, Number(session), dir)).path;
  } finally {
    db.close();
  }
  const common = ['--db', dbFile, '--session', session, '--model', model];
  // Threshold 0 trades; 1000 bps never does (no round trip).
  out = await capture(() => backtest([...common, '--sweep', '0,1000', '--report', path.join(dir, 'r.json')]));
  report = JSON.parse(fs.readFileSync(path.join(dir, 'r.json'), 'utf8')) as BacktestReport;
  await capture(() =>
    backtest([...common, '--sweep', '0,1000', '--no-record', '--report', path.join(dir, 'r.html')]),
  );
  html = fs.readFileSync(path.join(dir, 'r.html'), 'utf8');
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('honest headline numbers', () => {
  it('CLI: no hit rate without a round trip, no annualised Sharpe of minutes; each "—" says why', () => {
    const rows = out.filter((l) => l.startsWith('threshold '));
    expect(rows).toHaveLength(2);
    const [trading, idle] = rows;
    expect(report.rows[1].round_trips).toBe(0);
    expect(idle).toMatch(/round_trips {4}0 {2}hit_rate {6}— \(before fees —\)/);
    expect(idle).not.toMatch(/hit_rate +0\.0%/);
    for (const r of rows) expect(r).toMatch(/sharpe {9}—/);
    expect(trading).toMatch(/round_trips +[1-9]\d* {2}hit_rate +\d+\.\d%/);
    const notes = out.filter((l) => l.startsWith('  not shown (—): '));
    expect(notes).toHaveLength(2);
    expect(notes[1]).toMatch(/hit rate, profit factor, payoff: no round trip/);
    const short =
      /run too short to annualise: \d+ returns over [34]\.\d min \(needs at least 30 returns and 24 h of equity\)/;
    expect(notes[0]).toMatch(new RegExp(`sharpe, calmar: ${short.source}`));
    // no trade, no drawdown: Calmar has nothing to divide by
    expect(notes[1]).toMatch(new RegExp(`sharpe: ${short.source}; calmar: no drawdown to divide by`));
  });

  it('CLI: every figure is labelled (the run time says what it is)', () => {
    const basis = out.find((l) => l.startsWith('sharpe: equity sampled every '));
    expect(basis).toMatch(
      /^sharpe: equity sampled every 1s, .*; backtest ran in \d+(\.\d+)?m?s \(wall clock\)$/,
    );
    for (const l of out) expect(l).not.toMatch(/; \d+ ms$/);
  });

  it('runs show: a huge Calmar or a 0.0% hit rate of no round trip never prints', async () => {
    const idle = report.rows[1];
    const shown = (await capture(() => runs(['show', String(idle.run_id), '--db', dbFile]))).join('\n');
    expect(shown).toContain('hit rate — (no round trip), hit rate before fees — (no round trip)');
    expect(shown).toMatch(/calmar —;/);
    expect(shown).toMatch(/sharpe — \(run too short to annualise/);
    expect(shown).toContain('risk halts: none');
    expect(shown).toMatch(/\(\d+\.\d s wall clock\)/);
    // the list: no Sharpe of a 4-minute run either, and a note says why
    const list = await capture(() => runs(['--db', dbFile]));
    const row = list.find((l) => l.trim().startsWith(`${idle.run_id} `));
    expect(row).toMatch(/ +— +0\.00%$/);
    expect(list.at(-1)).toBe('(sharpe —: run too short to annualise; l2desk runs show ID says why)');
  });

  it('HTML: "—" with the reason on hover, the data span in the header, tick labels with seconds', () => {
    expect(html).toMatch(
      /<td data-figure="sharpe"><span class="muted" title="Not shown: run too short to annualise: \d+ returns over [34]\.\d min[^"]*">—<\/span><\/td>/,
    );
    expect(html).toMatch(/<td data-figure="calmar"><span class="muted" title="Not shown: /);
    expect(html).toContain(
      '<td data-figure="hit-rate"><span class="muted" title="Not shown: no round trip">—</span></td>',
    );
    // the row that never traded: no "0.0 %" hit rate (the trading row's 0.0 % of its round trips is a real figure)
    expect(html).not.toMatch(/<td>1000\.000<\/td>.*<td data-figure="hit-rate">0\.0 %<\/td>/);
    // The header: the data's span (about 4 minutes), then when and how fast it was collected.
    const s = report.session;
    expect(s.data_from).toBeTypeOf('number');
    const span = formatDuration((s.data_to as number) - (s.data_from as number));
    expect(span).toMatch(/^[34]m\d\d(\.\d+)?s$/);
    expect(html).toContain(
      `(<span data-figure="data-span">${span}</span>); collected 2026-12-02 09:00:00 UTC in 18s`,
    );
    expect(html).not.toContain('2026-12-02 09:00:00 UTC – 2026-12-02 09:00:18 UTC');
    // A 4-minute curve: five time labels, all different, with seconds.
    const ticks = [...html.matchAll(/class="tick">([^<]+)</g)].map((m) => m[1]);
    expect(ticks).toHaveLength(5);
    expect(new Set(ticks).size).toBe(5);
    for (const t of ticks) expect(t).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(html).toMatch(/the backtest took \d+(\.\d+)?m?s to run \(wall clock\)/);
  });
});
