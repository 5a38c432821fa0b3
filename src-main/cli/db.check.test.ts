// `l2desk db check` on a real SQLite file: a book message whose values sit on no decimal grid is stored exactly (as
// doubles) and counted per session, in the text and the JSON report; a clean session says nothing of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { BookMessage } from '../../src-shared/market.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { run } from './db.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2check-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const book = (i: number, bids: [number, number][]): BookMessage => ({
  kind: 'book',
  type: i === 0 ? 'snapshot' : 'delta',
  symbol: 'BTCUSDT',
  depth: 50,
  ts: 1_000 + i,
  recvTs: 1_010 + i,
  cts: 1_000 + i,
  u: i + 1,
  seq: i + 1,
  bids,
  asks: [[101, 1]],
});

async function check(file: string, json: boolean): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    expect(await run(['check', '--db', file, ...(json ? ['--json'] : [])])).toBe(0);
    return log.mock.calls.map((c) => String(c[0])).join('\n');
  } finally {
    log.mockRestore();
  }
}

it('counts the book messages stored off any decimal grid, per session', async () => {
  const file = path.join(dir, 'x.db');
  const db = openDb(file);
  const session = (symbol: string) =>
    createSession(db, {
      source: 'bybit',
      symbol,
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: 1_000,
      meta: {},
    });
  const clean = session('BTCUSDT');
  const odd = session('ETHUSDT');
  const w1 = new SessionWriter(db, clean);
  for (let i = 0; i < 5; i++) w1.writeMessage(book(i, [[100 + i / 10, 2]]));
  w1.close(2_000);
  const w2 = new SessionWriter(db, odd);
  // A third of a unit and a size with a binary tail: no decimal grid holds either exactly.
  const third = 100 + 1 / 3;
  for (let i = 0; i < 5; i++)
    w2.writeMessage(book(i, [[i === 2 || i === 4 ? third : 100, i === 3 ? 0.1 + 0.2 : 1]]));
  w2.close(2_000);
  expect(w2.stats().offGridMessages).toBe(3);
  // Kept exactly.
  const back = [...readSession(db, odd)].filter((e) => e.kind === 'book') as BookMessage[];
  expect(back[2].bids[0][0]).toBe(third);
  expect(back[3].bids[0][1]).toBe(0.1 + 0.2);
  db.close();
  const report = JSON.parse(await check(file, true)) as {
    sessions: { id: number; offGridMessages: number }[];
  };
  expect(report.sessions.map((s) => [s.id, s.offGridMessages])).toEqual([
    [clean, 0],
    [odd, 3],
  ]);
  const text = await check(file, false);
  expect(text).toMatch(
    new RegExp(`session ${odd}: .*; 3 book msgs off any decimal grid \\(kept exact as doubles`),
  );
  expect(text).not.toMatch(new RegExp(`session ${clean}: .*off any decimal grid`));
});
