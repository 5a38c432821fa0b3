// kill -9 of `l2desk trade --paper --db clickhouse://…` (a real process, a real clickhouse-server started here): the
// run and the traded feed it recorded in its working file are not lost. The next `l2desk runs` on the store saves
// them there (same predictions, fills and equity points as the file held; the feed with every message), and the
// working file is gone afterwards; a second `runs` saves nothing twice. A working file whose process is alive, or
// that belongs to another store, is left alone; one that is not a database is reported and kept.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { getSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { openDb } from '../store/db.ts';
import { l2desk } from './testing/runCli.ts';
import { newWorkingFile, saveUnsavedRuns } from '../store/clickhouse/unsavedRuns.ts';

const skip = clickhouseSkipReason();
const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');

interface RunsJson {
  runs: { id: number; kind: string }[];
}
interface ShowJson {
  predictions: number;
  fills: { total: number };
  equity_points: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a working file holds: the run's row counts and the feed's book messages. */
function counts(file: string): { predictions: number; fills: number; equity: number; feedBook: number } {
  const db = openDb(file, { mustExist: true });
  try {
    const one = (sql: string) => db.prepare(sql).pluck().get() as number;
    return {
      predictions: one('SELECT count(*) FROM predictions'),
      fills: one('SELECT count(*) FROM fills'),
      equity: one('SELECT count(*) FROM equity'),
      feedBook: one('SELECT count(*) FROM l2_updates'),
    };
  } finally {
    db.close();
  }
}

describe.skipIf(skip !== null)('kill -9 while paper trading into ClickHouse', () => {
  let server: TestServer;
  let unsaved: string;
  const before = process.env.L2DESK_UNSAVED_DIR;
  beforeAll(async () => {
    server = await startTestServer();
    unsaved = fs.mkdtempSync(path.join(os.tmpdir(), 'l2unsaved-'));
    process.env.L2DESK_UNSAVED_DIR = unsaved;
  }, 90_000);
  afterAll(async () => {
    if (before === undefined) delete process.env.L2DESK_UNSAVED_DIR;
    else process.env.L2DESK_UNSAVED_DIR = before;
    await server?.stop();
    fs.rmSync(unsaved, { recursive: true, force: true });
  }, 30_000);

  it('saves the killed run and its traded feed into the store at the next `runs`, once', async () => {
    const url = server.url('killed_trade');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'trade',
        '--paper',
        '--source',
        'sim',
        '--seed',
        '9',
        '--speed',
        '20',
        '--duration',
        '2h',
        '--db',
        url,
        '--set',
        'retrain.every=1h',
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
    );
    let out = '';
    child.stdout?.on('data', (d) => (out += String(d)));
    child.stderr?.on('data', (d) => (out += String(d)));
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    let file = '';
    try {
      // Until the working file holds a run with a few dozen decisions and fills or equity points.
      for (let t = 0; t < 600; t++) {
        await sleep(100);
        const dirs = fs.readdirSync(unsaved).filter((n) => n.startsWith('trade-'));
        if (dirs.length === 1 && fs.existsSync(path.join(unsaved, dirs[0], 'run.db'))) {
          file = path.join(unsaved, dirs[0], 'run.db');
          try {
            if (counts(file).predictions >= 30) break;
          } catch {
            // the schema is still being made
          }
        }
      }
      expect(file, out).not.toBe('');
      expect(out).toContain(file); // the path is printed when the run starts
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const left = counts(file);
    expect(left.predictions).toBeGreaterThanOrEqual(30);
    expect(left.feedBook).toBeGreaterThan(100);

    const r = await l2desk('runs', '--db', url, '--json');
    expect(r.code, r.err).toBe(0);
    const runs = (JSON.parse(r.out) as RunsJson).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0].kind).toBe('paper');
    expect(r.err).toContain(`saved run ${runs[0].id} into ${url}`);
    const sessionLine = /saved session (\d+) into/.exec(r.err);
    expect(sessionLine, r.err).not.toBeNull();
    expect(fs.readdirSync(unsaved)).toEqual([]);

    const show = await l2desk('runs', 'show', String(runs[0].id), '--db', url, '--json');
    expect(show.code, show.err).toBe(0);
    const d = JSON.parse(show.out) as ShowJson;
    expect({ predictions: d.predictions, fills: d.fills.total, equity: d.equity_points }).toEqual({
      predictions: left.predictions,
      fills: left.fills,
      equity: left.equity,
    });
    const ch = await openClickHouse(url, { mustExist: true });
    try {
      const feed = await getSession(ch, Number(sessionLine?.[1]));
      expect(feed?.bookMessages).toBe(left.feedBook);
      expect(feed?.endedAt).toBeNull(); // cut short, as a killed collector's session is
    } finally {
      await ch.close();
    }

    // Nothing is saved twice.
    const again = await l2desk('runs', '--db', url, '--json');
    expect((JSON.parse(again.out) as RunsJson).runs).toHaveLength(1);
    expect(again.err).not.toContain('saved run');
  }, 180_000);

  it('leaves alone a working file whose process is alive or of another store, and keeps one it cannot read', async () => {
    const url = server.url('other_trade');
    const ch = await openClickHouse(url);
    try {
      const mine = newWorkingFile(ch.name, Date.now()); // owned by this (live) process
      openDb(mine.file).close();
      const theirs = newWorkingFile('clickhouse://elsewhere:8123/x', Date.now());
      // A dead owner, but another store.
      const owner = path.join(theirs.dir, 'owner.json');
      fs.writeFileSync(
        owner,
        JSON.stringify({ ...JSON.parse(fs.readFileSync(owner, 'utf8')), pid: 2 ** 22 + 7 }),
      );
      openDb(theirs.file).close();
      // A dead owner on this store, but the file is not a database: reported and kept, nothing else happens.
      const broken = newWorkingFile(ch.name, Date.now());
      const brokenOwner = path.join(broken.dir, 'owner.json');
      fs.writeFileSync(
        brokenOwner,
        JSON.stringify({ ...JSON.parse(fs.readFileSync(brokenOwner, 'utf8')), pid: 2 ** 22 + 9 }),
      );
      fs.writeFileSync(broken.file, 'not a database at all, and long enough to have a header'.repeat(50));
      const lines: string[] = [];
      const report = await saveUnsavedRuns(ch, (l) => lines.push(l));
      expect(report.runs).toEqual([]);
      expect(report.sessions).toEqual([]);
      expect(report.failed.map((f) => path.basename(path.dirname(f.file)))[0]).toMatch(/^trade-/);
      expect(lines.join('\n')).toMatch(/could not save .*run\.db.*it is kept and tried again next time/);
      expect(fs.existsSync(mine.file) && fs.existsSync(theirs.file) && fs.existsSync(broken.file)).toBe(true);
      for (const d of [mine.dir, theirs.dir, broken.dir]) fs.rmSync(d, { recursive: true });
    } finally {
      await ch.close();
    }
  }, 60_000);
});
