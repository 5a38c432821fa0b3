// The CLI dispatcher: a command whose output pipe closes early (`l2desk … | head`) still stops cleanly.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { COMMANDS } from './cli.ts';
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

it('lists every command in --help with the summary its own module gives', async () => {
  for (const [name, text] of Object.entries(COMMANDS)) {
    const mod = (await import(`./cli/${name}.ts`)) as { summary?: string };
    expect(text, name).toBe(mod.summary);
  }
  const files = fs
    .readdirSync(path.join(PROJECT_ROOT, 'src-main', 'cli'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .filter((f) =>
      /^export const summary\b/m.test(fs.readFileSync(path.join(PROJECT_ROOT, 'src-main', 'cli', f), 'utf8')),
    );
  expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual(Object.keys(COMMANDS).sort());
});
