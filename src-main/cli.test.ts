// The CLI dispatcher: a command whose output pipe closes early (`l2desk … | head`) still stops cleanly.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config/loadConfig.ts';
import { openDb } from './store/db.ts';
import { getSession } from './store/sessions.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('collect whose stdout and stderr readers are gone (EPIPE) runs to --duration and closes its session', async () => {
  const file = path.join(dir, 'pipe.db');
  const child = spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
      'collect',
      '--source',
      'sim',
      '--speed',
      '20',
      '--duration',
      '40s',
      '--db',
      file,
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  // Like `| head` exiting: the progress lines (stderr, every second) and the summary (stdout) hit a closed pipe.
  child.stdout.destroy();
  child.stderr.destroy();
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  expect(code).toBe(0);
  const db = openDb(file);
  try {
    const s = getSession(db, 1);
    expect(s?.endedAt).toEqual(expect.any(Number));
    expect(s?.messages).toBeGreaterThan(100);
  } finally {
    db.close();
  }
}, 30_000);
