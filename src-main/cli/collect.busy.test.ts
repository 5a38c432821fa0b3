// `l2desk collect` while another process holds the database's write lock (BEGIN EXCLUSIVE in a second node
// process): a lock shorter than store.busy_give_up loses nothing and the printed counts are the stored ones; a
// longer one stops the collection, and the printed counts still equal `SELECT count(*)`, with the messages
// received but not stored said apart.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';

const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-busy-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], onLine?: (line: string) => void): Promise<Exit> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
    for (const l of String(d).split('\n')) if (l) onLine?.(l);
  });
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A second process that takes the write lock once the collector has stored rows, holds it, then commits. */
function holdLock(dbFile: string, holdMs: number): { locked: Promise<void>; done: Promise<Exit> } {
  const script = `
    const Database = require('better-sqlite3');
    const file = ${JSON.stringify(dbFile)};
    const fs = require('node:fs');
    const wait = () => {
      try {
        if (fs.existsSync(file)) {
          const db = new Database(file, { timeout: 10000 });
          const n = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'l2_updates'").pluck().get()
            ? db.prepare('SELECT count(*) FROM l2_updates').pluck().get() : 0;
          if (n >= 50) {
            db.exec('BEGIN EXCLUSIVE');
            console.log('locked');
            setTimeout(() => { db.exec('COMMIT'); db.close(); console.log('released'); }, ${holdMs});
            return;
          }
          db.close();
        }
      } catch {}
      setTimeout(wait, 50);
    };
    wait();`;
  let onLocked: () => void = () => {};
  const locked = new Promise<void>((r) => (onLocked = r));
  const done = runNode(['-e', script], (l) => l === 'locked' && onLocked());
  return { locked, done };
}

function collect(dbFile: string, giveUp: string): Promise<Exit> {
  return runNode([
    CLI,
    'collect',
    '--source',
    'sim',
    '--speed',
    '5',
    '--duration',
    '40s',
    '--db',
    dbFile,
    '--set',
    `store.busy_give_up=${giveUp}`,
  ]);
}

/** The summary line's counts: "N messages (B book, T trade messages, K trades), G gaps". */
function printed(stdout: string) {
  const m = /(\d+) messages \((\d+) book, (\d+) trade messages, (\d+) trades\), (\d+) gaps?/.exec(stdout);
  if (!m) throw new Error(`no summary in: ${stdout}`);
  const [messages, book, tradeMsgs, trades, gaps] = m.slice(1).map(Number);
  return { messages, book, tradeMsgs, trades, gaps };
}

function storedCounts(dbFile: string) {
  const db = new Database(dbFile, { readonly: true });
  try {
    const one = (sql: string) => Number(db.prepare(sql).pluck().get());
    const book = one('SELECT count(*) FROM l2_updates');
    const tradeMsgs = one('SELECT count(DISTINCT msg_id) FROM trades');
    return {
      messages: book + tradeMsgs,
      book,
      tradeMsgs,
      trades: one('SELECT count(*) FROM trades'),
      gaps: one('SELECT count(*) FROM gaps'),
      us: db.prepare('SELECT u FROM l2_updates ORDER BY id').pluck().all() as number[],
    };
  } finally {
    db.close();
  }
}

describe('collect with the database locked by another process', () => {
  it('holds messages in memory while locked, then stores them all; the summary is what was stored', async () => {
    const dbFile = path.join(dir, 'short-lock.db');
    const lock = holdLock(dbFile, 2500);
    const run = collect(dbFile, '60s');
    const [c, l] = await Promise.all([run, lock.done]);
    expect(l.stdout).toContain('released');
    expect(c.stderr).toMatch(/warning: the database is locked by another process .*collecting on in memory/);
    expect(c.stderr).toMatch(/note: the database is free again after .*rows held in memory are stored/);
    expect(c.stderr).not.toMatch(/not stored/);
    expect(c.code).toBe(0);
    const { us, ...stored } = storedCounts(dbFile);
    expect(printed(c.stdout)).toEqual(stored);
    // No hole: every book message the simulator sent is there (update ids consecutive).
    for (let i = 1; i < us.length; i++) expect(us[i]).toBe(us[i - 1] + 1);
  }, 120_000);

  it('gives up after store.busy_give_up; the summary equals what was stored and names what was not', async () => {
    const dbFile = path.join(dir, 'long-lock.db');
    const lock = holdLock(dbFile, 7000);
    const c = await collect(dbFile, '1s');
    await lock.done; // read the counts once the other process has let go
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/stopped: write error/);
    expect(c.stderr).toMatch(/gave up after .* \(store\.busy_give_up\)/);
    const shown = printed(c.stdout);
    const { us: _us, ...stored } = storedCounts(dbFile);
    expect(shown).toEqual(stored);
    const m = /not stored: (\d+) of (\d+) messages received/.exec(c.stderr);
    expect(m).not.toBeNull();
    expect(Number(m![2]) - Number(m![1])).toBe(stored.messages);
    expect(Number(m![1])).toBeGreaterThan(0);
  }, 120_000);
});
