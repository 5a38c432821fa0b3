// Ctrl-C during `l2desk backtest` (a real process on a real SQLite file): it stops at the replay's next yield, exits
// with 130, keeps the passes that finished, and marks the pass cut short as cancelled (never left unfinished).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';

let dir: string;
let dbFile: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bt-int-'));
  dbFile = path.join(dir, 'bt.db');
  const db = openDb(dbFile);
  try {
    // Two simulated hours: the first pass alone replays for about a second here, time enough to interrupt it.
    writeSimSession(db, { seed: 5, durationMs: 2 * 3_600_000 });
  } finally {
    db.close();
  }
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('l2desk backtest interrupted', () => {
  it('SIGINT: exit 130, the runs it started are closed and the one cut short says cancelled', async () => {
    const sweep = Array.from({ length: 40 }, (_, i) => (0.05 * (i + 1)).toFixed(2)).join(',');
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'), 'backtest', '--db', dbFile, '--sweep', sweep],
      { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        // After the first pass's row: later passes are still to come (40 thresholds).
        if (/^threshold +0\.050 /m.test(out)) {
          clearInterval(t);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
      void exit.then(() => {
        clearInterval(t);
        reject(new Error(`exited before the interrupt: ${out}`));
      });
    });
    expect(await exit).toBe(130);
    expect(out).toMatch(/stopping the backtest/);
    expect(out).toMatch(
      /backtest interrupted: the passes that finished are stored, the one cut short is marked cancelled/,
    );
    const db = openDb(dbFile, { mustExist: true });
    try {
      const runs = db.prepare('SELECT id, ended_at, params FROM runs ORDER BY id').all() as {
        id: number;
        ended_at: number | null;
        params: string;
      }[];
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.length).toBeLessThan(40); // it did stop
      for (const r of runs) expect(r.ended_at).not.toBeNull();
      expect(JSON.parse(runs.at(-1)!.params).cancelled).toBe(true);
    } finally {
      db.close();
    }
  }, 60_000);
});
