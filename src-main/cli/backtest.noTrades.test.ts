// `l2desk backtest` says why a pass made no trade (the app's Backtest panel says the same, src-shared/noTrades.ts),
// and refuses a sweep with entries that are not thresholds in the app's Sweep box's words. Real session, real model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { openDb } from '../store/db.ts';
import { run } from './backtest.ts';

let dir: string;
let dbFile: string;
let model: string;
let session: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bt-notrades-'));
  dbFile = path.join(dir, 'bt.db');
  const db = openDb(dbFile);
  try {
    const train = writeSimSession(db, { seed: 31, durationMs: 600_000 }).sessionId;
    session = String(writeSimSession(db, { seed: 32, durationMs: 120_000 }).sessionId);
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
    expect(await run(['--db', dbFile, '--session', session, '--model', model, ...args])).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n').split('\n');
}

describe('l2desk backtest: a pass with no trades says why', () => {
  it('names the threshold above every prediction under that row only', async () => {
    const lines = await backtest(['--sweep', '0.2,1000']);
    const why = lines.filter((l) => l.startsWith('  no trades: '));
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(
      /^ {2}no trades: the threshold 1000 bps is above every prediction \(the largest \|prediction\| of [\d,]+ was [\d.]+ bps\): lower the threshold$/,
    );
    // Under the row of threshold 1000, after the first row's lines.
    const rows = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('threshold '));
    expect(rows).toHaveLength(2);
    expect(lines.indexOf(why[0])).toBeGreaterThan(rows[1][1]);
  }, 60_000);

  it('names the minimum order value when every signal asked for a smaller order', async () => {
    // 3 USDT positions: less than one 0.001 BTC lot, and under risk.min_order_notional (5).
    const lines = await backtest(['--threshold', '0.2', '--set', 'risk.notional=3']);
    const why = lines.filter((l) => l.startsWith('  no trades: '));
    expect(why).toEqual([
      expect.stringMatching(
        /^ {2}no trades: every buy or sell signal \([\d,]+\) asked for an order worth less than the minimum order value/,
      ),
    ]);
    // With positions above the minimum the same threshold trades (the first test's sweep shows it too).
    const traded = await backtest(['--threshold', '0.2']);
    expect(traded.filter((l) => l.startsWith('  no trades: '))).toEqual([]);
  }, 60_000);

  it('refuses a sweep entry that is not a threshold, naming it', async () => {
    await expect(
      run(['--db', dbFile, '--session', session, '--model', model, '--sweep', 'abc, -1']),
    ).rejects.toThrow(
      '--sweep takes non-negative numbers (at most 1000) separated by commas, got "abc, -1": "abc", "-1" are not',
    );
  });
});
