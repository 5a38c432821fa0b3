// collect against the real simulator and real SQLite files: kill -9 mid-collection leaves an intact file
// holding every committed batch; Ctrl-C stops cleanly; --speed max stores the asked simulated span.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage } from '../../src-shared/market.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession, listSessions } from '../store/sessions.ts';
import { run as runCollect } from './collect.ts';

const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startCollect(
  dbFile: string,
  speed = '1',
  duration = '5m',
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'collect',
      '--source',
      'sim',
      '--speed',
      speed,
      '--duration',
      duration,
      '--depth',
      '50',
      '--db',
      dbFile,
      '--quiet',
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const exited = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, exited };
}

/** Polls the collector's database through a second connection (WAL allows it) until enough rows are committed. */
async function waitForRows(dbFile: string, min: number, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (fs.existsSync(dbFile)) {
      try {
        const r = new Database(dbFile, { readonly: true, fileMustExist: true });
        try {
          const n = Number(r.prepare('SELECT count(*) FROM l2_updates').pluck().get());
          if (n >= min) return n;
        } finally {
          r.close();
        }
      } catch {
        // schema not created yet
      }
    }
    await sleep(100);
  }
  throw new Error(`collector did not commit ${min} rows within ${timeoutMs} ms`);
}

describe('collect', () => {
  it('kill -9 while collecting leaves a database that passes integrity_check and holds every committed batch', async () => {
    const dbFile = path.join(dir, 'killed.db');
    const { child, exited } = startCollect(dbFile);
    try {
      // At 50 book messages/s and a batch every ≤ 250 ms, 60 rows means several batches have committed.
      const seen = await waitForRows(dbFile, 60);
      // Kill while it keeps committing: wait for further batches to land (an event, not a fixed sleep).
      await waitForRows(dbFile, seen + 20);
      child.kill('SIGKILL');
      const { signal } = await exited;
      expect(signal).toBe('SIGKILL');
      const db = openDb(dbFile);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const [s] = listSessions(db);
        expect(s.endedAt).toBeNull(); // never closed: the process died
        const rows = Number(
          db.prepare('SELECT count(*) FROM l2_updates WHERE session_id = ?').pluck().get(s.id),
        );
        expect(rows).toBeGreaterThanOrEqual(seen);
        // Counters are written in the same transaction as the rows: they agree exactly.
        expect(s.bookMessages).toBe(rows);
        const events = [...readSession(db, s.id)];
        expect(events.length).toBe(s.messages + s.gaps);
        const books = events.filter((e): e is BookMessage => e.kind === 'book');
        expect(books[0].type).toBe('snapshot');
        // Everything committed is readable and in order: update ids are consecutive, no hole in the middle.
        for (let i = 1; i < books.length; i++) expect(books[i].u).toBe(books[i - 1].u + 1);
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('kill -9 during full-speed ingest (a transaction likely in flight) leaves a consistent file', async () => {
    const dbFile = path.join(dir, 'killed-max.db');
    const { child, exited } = startCollect(dbFile, 'max', '600m');
    try {
      await waitForRows(dbFile, 5000);
      child.kill('SIGKILL');
      expect((await exited).signal).toBe('SIGKILL');
      const db = openDb(dbFile);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const [s] = listSessions(db);
        expect(s.bookMessages).toBe(Number(db.prepare('SELECT count(*) FROM l2_updates').pluck().get()));
        expect(s.trades).toBe(Number(db.prepare('SELECT count(*) FROM trades').pluck().get()));
        let n = 0;
        for (const e of readSession(db, s.id)) if (e.kind !== 'gap') n++;
        expect(n).toBe(s.messages);
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('SIGINT stops cleanly: flushes, closes the session and exits 0 with a summary', async () => {
    const dbFile = path.join(dir, 'interrupted.db');
    const { child, exited } = startCollect(dbFile);
    try {
      await waitForRows(dbFile, 20);
      child.kill('SIGINT');
      const { code, out } = await exited;
      expect(code).toBe(0);
      expect(out).toMatch(/session 1: sim BTCUSDT depth 50; \d+ messages .* stopped: SIGINT/);
      const db = openDb(dbFile);
      try {
        const s = getSession(db, 1)!;
        expect(s.endedAt).not.toBeNull();
        const reported = Number(/; (\d+) messages/.exec(out)?.[1]);
        expect(s.messages).toBe(reported); // nothing left in the buffer
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('--speed max stores the requested span of simulated time', async () => {
    const dbFile = path.join(dir, 'max.db');
    const code = await runCollect([
      '--source',
      'sim',
      '--speed',
      'max',
      '--duration',
      '2',
      '--seed',
      '7',
      '--db',
      dbFile,
      '--quiet',
    ]);
    expect(code).toBe(0);
    const db = openDb(dbFile);
    try {
      const s = getSession(db, 1)!;
      expect(s.endedAt).not.toBeNull();
      const span = (s.lastRecvTs ?? 0) - (s.firstRecvTs ?? 0);
      expect(span).toBeLessThanOrEqual(120_000);
      expect(span).toBeGreaterThan(119_000);
      // ~50 book messages per simulated second
      expect(s.bookMessages).toBeGreaterThan(2 * 60 * 50 * 0.8);
      expect(s.meta).toMatchObject({ seed: 7, speed: 'max' });
    } finally {
      db.close();
    }
  });
});
