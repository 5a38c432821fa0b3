// A risk halt is an event with its time and reason, everywhere a run is read: a real backtest of a simulated session
// that loses past a tight daily loss limit (fees alone take it there) prints the halt under its row, stores it with
// the run (`runs show`, --json), marks it on the HTML report's equity curve, and `trade --paper` prints it too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BacktestReport } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { openDb } from '../store/db.ts';
import { hhmmss } from '../../src-shared/riskHalt.ts';
import { run as backtest } from './backtest.ts';
import { run as runs, type RunDetail } from './runs.ts';
import { run as trade } from './trade.ts';

let dir: string;
let dbFile: string;
let model: string;
let session: string;

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

// 10 000 USDT of equity, 1 000 USDT positions at threshold 0: the taker fees of the first trades pass a 0.02% limit.
const LOSING = ['--threshold', '0', '--set', 'risk.max_daily_loss=2', '--set', 'risk.notional=1000'];
const HALT_LINE = /halted at (\d\d:\d\d:\d\d): daily loss limit 0\.02% reached \(−\d+\.\d\d%, −\d+\.\d\d\)/;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2halt-'));
  dbFile = path.join(dir, 'halt.db');
  const db = openDb(dbFile);
  try {
    session = String(writeSimSession(db, { seed: 22, durationMs: 240_000 }).sessionId);
    model = (await testModelPath(db, Number(session), dir)).path;
  } finally {
    db.close();
  }
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('risk halts', () => {
  it('backtest: printed under the row, stored with the run (runs show), marked on the HTML equity curve', async () => {
    const common = ['--db', dbFile, '--session', session, '--model', model, ...LOSING];
    const jsonFile = path.join(dir, 'bt.json');
    const out = await capture(() => backtest([...common, '--report', jsonFile]));
    const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as BacktestReport;
    const row = report.rows[0];
    const halts = (row.halts ?? []).filter((h) => h.rule === 'daily_loss');
    expect(halts, out.join('\n')).toHaveLength(1);
    const h = halts[0];
    // The limit was passed when it halted: the reason's loss is at least the limit, and its time is the halt's.
    expect(h.reason).toMatch(/^daily loss limit 0\.02% reached/);
    expect(h.resumedTs).toBeNull(); // four minutes of one UTC day: no new day resumes it
    const line = out.find((l) => HALT_LINE.test(l));
    expect(line, out.join('\n')).toBeDefined();
    expect(HALT_LINE.exec(line as string)?.[1]).toBe(hhmmss(h.ts));
    expect(line).toContain('still halted at the end');

    // Stored with the run: `runs show` prints it, --json carries it.
    const shown = await capture(() => runs(['show', String(row.run_id), '--db', dbFile]));
    const stored = shown.find((l) => l.startsWith('  risk halt  '));
    expect(stored, shown.join('\n')).toMatch(HALT_LINE);
    expect(stored).toContain(`halted at ${hhmmss(h.ts)}`);
    const detail = JSON.parse(
      (await capture(() => runs(['show', String(row.run_id), '--db', dbFile, '--json']))).join('\n'),
    ) as RunDetail;
    expect(detail.halts.filter((x) => x.rule === 'daily_loss')).toEqual([h]);

    // The HTML report of the stored run: a marked line on the equity curve with the reason, and the halts section.
    const html = path.join(dir, 'run.html');
    await capture(() => runs(['report', String(row.run_id), '--db', dbFile, '--out', html]));
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toMatch(/<g class="halt"><title>halted at \d\d:\d\d:\d\d: daily loss limit 0\.02% reached/);
    expect(page).toContain('class="halt-line"');
    expect(page).toMatch(
      /<li class="halt-item">halted at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: daily loss limit/,
    );
  }, 120_000);

  it('backtest: a max drawdown halt, stored and printed like the daily loss', async () => {
    const jsonFile = path.join(dir, 'dd.json');
    const out = await capture(() =>
      backtest([
        ...['--db', dbFile, '--session', session, '--model', model, '--threshold', '0'],
        ...['--set', 'risk.max_daily_loss=0', '--set', 'risk.max_drawdown=0.0002', '--report', jsonFile],
      ]),
    );
    const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as BacktestReport;
    const h = (report.rows[0].halts ?? []).find((x) => x.rule === 'max_drawdown');
    expect(h?.reason, out.join('\n')).toMatch(
      /^max drawdown 0\.02% reached \(−0\.\d\d% from the peak \d+\.\d\d\)$/,
    );
    expect(out).toContain(`  halted at ${hhmmss(h?.ts ?? NaN)}: ${h?.reason}; still halted at the end`);
  }, 120_000);

  it('trade --paper: the halt as it happens and in the summary', async () => {
    const out = await capture(() =>
      trade([
        '--paper',
        '--source',
        'replay',
        '--db',
        dbFile,
        '--session',
        session,
        '--model',
        model,
        '--speed',
        '400',
        ...LOSING,
      ]),
    );
    expect(
      out.some((l) => / HALT daily loss limit 0\.02% reached/.test(l)),
      out.join('\n'),
    ).toBe(true);
    const summary = out.find((l) => l.startsWith('risk halt: '));
    expect(summary, out.join('\n')).toMatch(HALT_LINE);
  }, 120_000);
});
