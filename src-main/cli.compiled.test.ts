// The compiled CLI (scripts/buildCli.mjs → out/cli): what users run. Built into a temporary folder so that it never
// races a CLI that another test is running from out/cli; the same exit codes as from the sources.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config/loadConfig.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2cli-compiled-'));
// Inside the project (out/ is ignored by git), so that the build's bare imports resolve from node_modules.
fs.mkdirSync(path.join(PROJECT_ROOT, 'out'), { recursive: true });
const out = fs.mkdtempSync(path.join(PROJECT_ROOT, 'out', 'cli-test-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

beforeAll(() => {
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildCli.mjs'), '--outdir', out], {
    cwd: PROJECT_ROOT,
    stdio: 'pipe',
  });
}, 60_000);

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  // What bin/l2desk.mjs does with a fresh build: import out/cli/cli.js and exit with main()'s code.
  const runner = `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'cli.js')).href)});
process.exitCode = await main(process.argv.slice(1));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', runner, '--', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('compiled CLI', () => {
  it('is plain JavaScript with the worker entries beside its chunks', () => {
    const files = fs.readdirSync(out);
    expect(files).toContain('cli.js');
    expect(files).toContain('trainerWorker.js');
    expect(files).toContain('backtestWorker.js');
    expect(files).toContain('sessionPrefetchWorker.js');
    expect(files).toContain('openSessionRowsWorker.js');
    expect(files.some((f) => f.endsWith('.ts'))).toBe(false);
    // --help must not load the commands: the entry imports no command chunk statically.
    const entry = fs.readFileSync(path.join(out, 'cli.js'), 'utf8');
    expect(entry).not.toMatch(/from "zod"|from "yaml"|better-sqlite3/);
  });

  it('prints help and its version', () => {
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: l2desk <command>/);
    const version = cli('--version');
    expect(version.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(`l2desk ${pkg.version}`);
  });

  it('runs a command end to end: collect from the simulator, then read the book back', () => {
    const db = path.join(dir, 'c.db');
    const collect = cli(
      'collect',
      '--source',
      'sim',
      '--duration',
      '20s',
      '--speed',
      '40',
      '--db',
      db,
      '--quiet',
    );
    // stderr holds only notes (the simulator's random seed), never an error.
    expect(collect.stderr).not.toMatch(/error|warning/i);
    expect(collect.code).toBe(0);
    const book = cli('book', '--db', db, '--json');
    expect(book.code).toBe(0);
    expect(JSON.parse(book.stdout)).toHaveProperty('bids');
  });

  it('starts its open-sessions worker from the built entry (retraining follows a session still recording)', async () => {
    const db = path.join(dir, 'open.db');
    const collect = cli(
      'collect',
      '--source',
      'sim',
      '--duration',
      '60s',
      '--speed',
      'max',
      '--db',
      db,
      '--quiet',
    );
    expect(collect.code, collect.stderr).toBe(0);
    // The collected session, as it was while still recording.
    const { default: Database } = await import('better-sqlite3');
    const d = new Database(db);
    d.prepare('UPDATE sessions SET ended_at = NULL').run();
    d.close();
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(path.join(out, 'openSessionRowsWorker.js'), {
      workerData: { dbFile: db, opts: { decisionIntervalMs: 1000, horizonMs: 5000 } },
    });
    try {
      const reply = await new Promise<{ rows?: { nRows: number }[]; notes?: string[]; error?: string }>(
        (resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage({ req: 1, sessionIds: [], exclude: [] });
        },
      );
      expect(reply.error).toBeUndefined();
      expect(reply.rows?.[0].nRows).toBeGreaterThan(0);
      expect(reply.notes?.[0]).toMatch(/^session 1 \(still recording\): \d+ new events read/);
    } finally {
      await w.terminate();
    }
  });

  it.each([
    [['frobnicate'], 2],
    [['toString'], 2],
    [['collect', '--bogus'], 2],
    [['book', '--db', 'nope.db'], 1],
    [['backtest', '--db', 'nope.db'], 1],
    [['runs', '--db', 'nope.db'], 1],
  ])('l2desk %j exits %i', (args, code) => {
    expect(cli(...args).code).toBe(code);
  });
});
