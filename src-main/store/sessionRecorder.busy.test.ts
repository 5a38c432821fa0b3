// A recording whose database another connection locks (BEGIN EXCLUSIVE) keeps collecting in memory, retries,
// and stores everything once the lock is released; a lock held past the give-up time, or a full memory budget,
// stops it with counts equal to what the file holds and the rest reported as received but not stored.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SimMarket } from '../market/sim/simMarket.ts';
import { openDb, type Db } from './db.ts';
import { SessionRecorder, type RecordResult } from './sessionRecorder.ts';
import type { BusyEvent } from './sessionWriter.ts';
import { getSession } from './sessions.ts';

let dir: string;
let file: string;
let db: Db;
let locker: Database.Database;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2busy-'));
  file = path.join(dir, 'rec.db');
  db = openDb(file);
  locker = new Database(file);
});
afterEach(() => {
  if (locker.inTransaction) locker.exec('ROLLBACK');
  locker.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Speed 20: 20 s of simulated market in about a second of wall time, so a lock of a few hundred ms falls inside.
const sim = () =>
  new SimMarket({
    seed: 7,
    startPrice: 0.5123,
    tickSize: '0.0001',
    symbol: 'XRPUSDT',
    levels: 50,
    bookRateHz: 50,
    depth: 50,
    speed: 20,
    startMs: 1_786_000_000_000,
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the file holds for the session, read once the lock is gone. */
function stored(sessionId: number) {
  const one = (sql: string) => Number(db.prepare(sql).pluck().get(sessionId));
  return {
    book: one('SELECT count(*) FROM l2_updates WHERE session_id = ?'),
    tradeMsgs: one('SELECT count(DISTINCT msg_id) FROM trades WHERE session_id = ?'),
    trades: one('SELECT count(*) FROM trades WHERE session_id = ?'),
    gaps: one('SELECT count(*) FROM gaps WHERE session_id = ?'),
  };
}

function expectCountsMatchFile(r: RecordResult): void {
  const s = stored(r.sessionId);
  expect(r.bookMessages).toBe(s.book);
  expect(r.tradeMessages).toBe(s.tradeMsgs);
  expect(r.trades).toBe(s.trades);
  expect(r.gaps).toBe(s.gaps);
  expect(r.messages).toBe(s.book + s.tradeMsgs);
  expect(r.received - r.messages).toBe(r.notStored?.messages ?? 0);
}

/** Takes the write lock once the recording has committed something, so the lock falls mid-recording. */
async function lockWhenRecording(rec: SessionRecorder): Promise<void> {
  while (rec.progress().messages < 50) await sleep(5);
  locker.exec('BEGIN EXCLUSIVE');
}

it('waits out a lock held by another connection and stores every message received', async () => {
  const events: BusyEvent[] = [];
  const warnings: string[] = [];
  const rec = new SessionRecorder(db, sim(), {
    durationMs: 20_000,
    clock: 'message',
    depth: 50,
    busyGiveUpMs: 30_000,
    onStoreBusy: (e) => events.push(e),
    onWarning: (w) => warnings.push(w),
  });
  await rec.start();
  await lockWhenRecording(rec);
  // Hold the lock until the recording has piled up messages it could not commit.
  while (rec.progress().buffered < 200 && !rec.progress().stopReason) await sleep(10);
  expect(rec.progress().storeBusySince).not.toBeNull();
  locker.exec('COMMIT');
  const r = await rec.finished;
  expect(r.error).toBeUndefined();
  expect(r.stopReason).toBe('duration reached');
  expect(r.notStored).toBeNull();
  expect(r.messages).toBe(r.received);
  expectCountsMatchFile(r);
  expect(events.map((e) => e.state)).toEqual(['busy', 'free']);
  expect(warnings.some((w) => /locked by another process.*collecting on in memory/.test(w))).toBe(true);
  // Nothing missing in the middle: the sim's update ids are consecutive in the stored book messages.
  const us = db
    .prepare('SELECT u FROM l2_updates WHERE session_id = ? ORDER BY id')
    .pluck()
    .all(r.sessionId) as number[];
  for (let i = 1; i < us.length; i++) expect(us[i]).toBe(us[i - 1] + 1);
  expect(getSession(db, r.sessionId)?.endedAt).not.toBeNull();
});

it('gives up after store.busy_give_up and reports counts equal to what was stored', async () => {
  const rec = new SessionRecorder(db, sim(), {
    durationMs: 60_000,
    clock: 'message',
    depth: 50,
    busyGiveUpMs: 1000,
  });
  await rec.start();
  await lockWhenRecording(rec);
  const r = await rec.finished;
  expect(r.stopReason).toBe('write error');
  expect(r.error?.message).toMatch(/locked by another process: gave up after .* \(store\.busy_give_up\)/);
  expect(r.notStored?.messages).toBeGreaterThan(0);
  expect(r.notStored?.reason).toBe(r.error?.message);
  locker.exec('COMMIT');
  expectCountsMatchFile(r);
});

it('stops when the memory budget is full, with the counts of what was stored', async () => {
  const rec = new SessionRecorder(db, sim(), {
    durationMs: 60_000,
    clock: 'message',
    depth: 50,
    busyGiveUpMs: 60_000,
    busyBufferBytes: 64 * 1024,
  });
  await rec.start();
  await lockWhenRecording(rec);
  const r = await rec.finished;
  expect(r.stopReason).toBe('write error');
  expect(r.error?.message).toMatch(/0 MiB held in memory meanwhile \(store\.busy_buffer_mb\) is full/);
  locker.exec('COMMIT');
  expectCountsMatchFile(r);
  expect(r.notStored?.messages).toBeGreaterThan(0);
});
