// Ctrl-C during `l2desk export` (a real process on a real SQLite file): it stops at the next batch, exits with 130
// and leaves neither the --out directory nor the hidden one it was writing into.
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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2export-int-'));
  dbFile = path.join(dir, 'x.db');
  const db = openDb(dbFile);
  try {
    // One simulated hour: its export runs for several seconds here, time enough to interrupt it.
    writeSimSession(db, { seed: 5, durationMs: 3_600_000 });
  } finally {
    db.close();
  }
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('l2desk export interrupted', () => {
  it('SIGINT: exit 130 and nothing left behind', async () => {
    const out = path.join(dir, 'out');
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'), 'export', '--db', dbFile, '--out', out],
      { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        // The first progress line: the files are being written.
        if (/^export: \d+\/\d+ messages/m.test(text)) {
          clearInterval(t);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
      void exit.then(() => {
        clearInterval(t);
        reject(new Error(`exited before the interrupt: ${text}`));
      });
    });
    expect(await exit).toBe(130);
    expect(text).toContain(`export cancelled: nothing written to ${out}`);
    expect(fs.readdirSync(dir)).toEqual(['x.db']);
  }, 60_000);
});
