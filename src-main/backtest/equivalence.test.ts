// The promise behind "backtest = the live engine fed from storage": one stored session through
// `l2desk trade --paper --source replay` (paced replay, sped-up clock) and through `l2desk backtest` gives the
// same orders, the same fills and the same final equity, and so does the backtest with the session read ahead in a
// worker thread (store.read_ahead=on). The commands run as real processes on a real SQLite
// session (written by SessionWriter from the simulator) with a real ONNX model.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { writeSimSession } from './simSession.ts';
import { testModelPath } from './testing/testModel.ts';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-equiv-'));
const dbFile = path.join(dir, 'equiv.db');
const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
let sessionId: number;
let model: string;

beforeAll(async () => {
  const db = openDb(dbFile);
  const train = writeSimSession(db, { seed: 31, durationMs: 420_000 }).sessionId;
  sessionId = writeSimSession(db, { seed: 32, durationMs: 120_000 }).sessionId;
  model = (await testModelPath(db, train, dir)).path;
  db.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function rows(db: Db, sql: string, runId: number): Record<string, unknown>[] {
  return db.prepare(sql).all(runId) as Record<string, unknown>[];
}

describe('trade --paper --source replay ≡ backtest', () => {
  for (const executor of ['market', 'passive'] as const) {
    it(`identical orders, fills and final equity (${executor} executor)`, async () => {
      const common = [
        '--db',
        dbFile,
        '--session',
        String(sessionId),
        '--model',
        model,
        '--threshold',
        '0.1',
        '--executor',
        executor,
      ];
      const env = { ...process.env, NODE_NO_WARNINGS: '1' };
      // Both at once (two processes, one WAL database): neither may disturb the other.
      const [trade, bt] = await Promise.all([
        run(process.execPath, [CLI, 'trade', '--paper', '--source', 'replay', '--speed', '200', ...common], {
          cwd: PROJECT_ROOT,
          env,
        }),
        run(process.execPath, [CLI, 'backtest', ...common], { cwd: PROJECT_ROOT, env }),
      ]);
      // And once more with the session read ahead in a worker thread (store.read_ahead): the same run again.
      const ahead = await run(
        process.execPath,
        [CLI, 'backtest', ...common, '--set', 'store.read_ahead=on'],
        { cwd: PROJECT_ROOT, env },
      );
      expect(ahead.stdout).toMatch(/threshold +0\.100 +net_pnl/);
      expect(ahead.stderr).not.toMatch(/reading the session ahead/); // the worker read it
      expect(trade.stdout).toMatch(/stopped \(end of data\)/);
      expect(trade.stdout).toMatch(/prediction [+-]\d+\.\d+ bps \(unscaled/);
      expect(bt.stdout).toMatch(/threshold +0\.100 +net_pnl/);

      const db = openDb(dbFile);
      try {
        const last = (kind: string) =>
          db.prepare('SELECT id, final FROM runs WHERE kind = ? ORDER BY id DESC LIMIT 1').get(kind) as {
            id: number;
            final: string;
          };
        const t = last('paper');
        const b = last('backtest');
        const b0 = db
          .prepare("SELECT id, final FROM runs WHERE kind = 'backtest' ORDER BY id DESC LIMIT 1 OFFSET 1")
          .get() as { id: number; final: string };
        const orderSql =
          'SELECT order_id, side, type, qty, price, reason, sent_ts, arrived_ts, status, filled_qty, avg_fill_price, fees, note, done_ts FROM orders WHERE run_id = ? ORDER BY order_id';
        const fillSql =
          'SELECT order_id, ts, side, price, qty, fee, liquidity, reason FROM fills WHERE run_id = ? ORDER BY id';
        const tradeFills = rows(db, fillSql, t.id);
        expect(tradeFills.length).toBeGreaterThan(3);
        expect(rows(db, orderSql, t.id)).toEqual(rows(db, orderSql, b.id));
        expect(tradeFills).toEqual(rows(db, fillSql, b.id));
        expect(JSON.parse(t.final).equity).toBe(JSON.parse(b.final).equity);
        expect(rows(db, orderSql, b0.id)).toEqual(rows(db, orderSql, b.id));
        expect(JSON.parse(b0.final).equity).toBe(JSON.parse(b.final).equity);
        // Neither run leaves an order pending or open behind: the end of the data cancels them.
        const stillWorking =
          "SELECT count(*) AS n FROM orders WHERE run_id = ? AND status IN ('pending', 'open')";
        for (const id of [t.id, b.id]) expect(rows(db, stillWorking, id)).toEqual([{ n: 0 }]);
        // What each command printed agrees with what it stored.
        const finalEq = JSON.parse(t.final).equity as number;
        expect(trade.stdout).toContain(`final equity ${finalEq.toFixed(4)}`);
        if (executor === 'passive') expect(tradeFills.some((f) => f.liquidity === 'maker')).toBe(true);
      } finally {
        db.close();
      }
    });
  }
});
