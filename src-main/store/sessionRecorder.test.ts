// SessionRecorder with the real simulator source and a real SQLite file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { createSource } from '../market/createSource.ts';
import { SimMarket } from '../market/sim/simMarket.ts';
import { openDb, type Db } from './db.ts';
import { readSession } from './sessionReader.ts';
import { SessionRecorder } from './sessionRecorder.ts';
import { getSession } from './sessions.ts';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2rec-'));
  db = openDb(path.join(dir, 'rec.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sim = (seed: number) =>
  new SimMarket({
    seed,
    startPrice: 0.5123,
    tickSize: '0.0001',
    symbol: 'XRPUSDT',
    levels: 50,
    bookRateHz: 50,
    depth: 50,
    speed: 'max',
    startMs: 1_786_000_000_000,
  });

it('records a span of the source clock, closes the session, and replays exactly what it counted', async () => {
  const source = sim(3);
  const rec = new SessionRecorder(db, source, {
    durationMs: 30_000,
    clock: 'message',
    depth: 50,
    meta: { seed: 3 },
  });
  await rec.start();
  const r = await rec.finished;
  expect(r.stopReason).toBe('duration reached');
  expect(r.error).toBeUndefined();
  const s = getSession(db, rec.sessionId)!;
  expect(s).toMatchObject({
    source: 'sim',
    symbol: 'XRPUSDT',
    tickSize: '0.0001',
    depth: 50,
    messages: r.messages,
  });
  expect(s.endedAt).not.toBeNull();
  expect(r.dataSpanMs).toBeLessThan(30_000);
  expect(r.dataSpanMs).toBeGreaterThan(29_000);
  const events = [...readSession(db, rec.sessionId)];
  expect(events.length).toBe(r.messages);
  // Exact 4-decimal prices survive the trip (parsed once from the sim's strings, stored as doubles).
  for (const e of events)
    if (e.kind === 'book') for (const [p] of e.bids) expect(Number(p.toFixed(4))).toBe(p);
});

it('stop() ends an unbounded recording cleanly', async () => {
  const rec = new SessionRecorder(db, sim(4), { durationMs: Infinity, clock: 'message', depth: 50 });
  await rec.start();
  while (rec.progress().messages < 2000) await new Promise((r) => setTimeout(r, 5));
  const r = await rec.stop('user');
  expect(r.stopReason).toBe('user');
  expect(r.messages).toBeGreaterThanOrEqual(2000);
  const s = getSession(db, rec.sessionId);
  expect(s?.messages).toBe(r.messages);
  expect(s?.endedAt).not.toBeNull(); // the session row is closed, not left open as after a crash
  expect([...readSession(db, rec.sessionId)]).toHaveLength(r.messages);
});

it('a wall-clock duration beyond setTimeout’s 24.8-day limit does not end the recording at once', async () => {
  const rec = new SessionRecorder(db, sim(5), { durationMs: 30 * 86_400_000, clock: 'wall', depth: 50 });
  await rec.start();
  let ended = false;
  void rec.finished.then(() => (ended = true));
  while (!ended && rec.progress().messages < 500) await new Promise((r) => setTimeout(r, 5));
  const r = await rec.stop('user');
  expect(r.stopReason).toBe('user');
});

it('a source that cannot start (an invalid URL) is "source failed", not a write error', async () => {
  const config = loadConfig({
    overrides: { source: 'bybit', 'bybit.url': 'ws://127.0.0.1:99999/v5/public/linear' },
  });
  const rec = new SessionRecorder(db, createSource(config, {}), {
    durationMs: 5000,
    clock: 'wall',
    depth: 50,
  });
  await expect(rec.start()).rejects.toThrow(/Invalid URL/);
  const r = await rec.finished;
  expect(r.stopReason).toBe('source failed');
  expect(r.error?.message).toMatch(/Invalid URL/);
});
