// Retention's checkpoint (pruneCheckpoint.ts) on real SQLite files: a session with one snapshot at its start (as a
// live feed records it) is pruned to the cutoff, its last book row before the cutoff becoming a snapshot of the whole
// book there; everything after it is untouched, so every later book is the one the unpruned session gives.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage, Level, MarketMessage } from '../../src-shared/market.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { openDb, type Db } from './db.ts';
import { pruneRawData, pruneRawDataGently } from './retention.ts';
import { readSession, type StoredEvent } from './sessionReader.ts';
import { getSession } from './sessions.ts';
import { SessionWriter } from './sessionWriter.ts';
import { checkSqliteStore } from './sqliteCheck.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2prunecp-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh file holding ten simulated minutes (one snapshot at the start) of a fine-tick market. */
function simFile(name: string, tickSize = '0.0001', startPrice = 0.5): { file: string; db: Db; id: number } {
  const file = path.join(dir, name);
  const db = openDb(file);
  const { sessionId } = writeSimSession(db, {
    seed: 11,
    durationMs: 10 * MIN,
    startMs: T0,
    tickSize,
    startPrice,
    bookRateHz: 20,
  });
  return { file, db, id: sessionId };
}

const all = (db: Db, id: number): StoredEvent[] => [...readSession(db, id)];

/** The whole book after folding `events` (a snapshot first). */
function bookAfter(events: StoredEvent[], tickSize: string): { bids: Level[]; asks: Level[] } {
  const sb = new SequencedBook(new TickScale(tickSize));
  for (const ev of events) if (ev.kind === 'book') expect(sb.apply(ev).status).toBe('applied');
  expect(sb.valid).toBe(true);
  const n = Number.MAX_SAFE_INTEGER;
  return { bids: sb.book.levels('bid', n), asks: sb.book.levels('ask', n) };
}

/** Index of the last book message received before `cutoff`. */
function lastBookBefore(events: StoredEvent[], cutoff: number): number {
  let k = -1;
  events.forEach((ev, i) => {
    if (ev.kind === 'book' && ev.recvTs < cutoff) k = i;
  });
  return k;
}

describe('retention checkpoint (SQLite)', () => {
  it('prunes a one-snapshot session to its cutoff; every later message and book is unchanged', () => {
    const { file, db, id } = simFile('one.db');
    const before = all(db, id);
    expect(before.filter((e) => e.kind === 'book' && e.type === 'snapshot')).toHaveLength(1);
    const cutoff = T0 + 6 * MIN + 123;
    const k = lastBookBefore(before, cutoff);
    const m = before[k] as BookMessage;

    const r = pruneRawData(db, { days: 1, now: cutoff + DAY, chunk: 997 });
    expect(r.checkpoints).toBe(1);
    expect(r.sessionsTouched).toEqual([id]);
    const after = all(db, id);
    // Everything received before the checkpoint row is gone; the row itself is the whole book as a snapshot.
    const gone = before.slice(0, k);
    expect(r.l2Deleted).toBe(gone.filter((e) => e.kind === 'book').length);
    expect(r.tradesDeleted).toBe(gone.reduce((n, e) => n + (e.kind === 'trades' ? e.trades.length : 0), 0));
    expect(after[0]).toEqual({ ...m, type: 'snapshot', ...bookAfter(before.slice(0, k + 1), '0.0001') });
    expect(after.slice(1)).toEqual(before.slice(k + 1));
    // And the book at the end is the unpruned session's.
    expect(bookAfter(after, '0.0001')).toEqual(bookAfter(before, '0.0001'));
    const s = getSession(db, id);
    expect(s?.messages).toBe(after.length);
    expect(s?.firstRecvTs).toBe(m.recvTs);
    expect(checkSqliteStore(db, file).ok).toBe(true);

    // The next prune folds only from this checkpoint, and moves it.
    const later = T0 + 8 * MIN;
    const k2 = lastBookBefore(after, later);
    const r2 = pruneRawData(db, { days: 1, now: later + DAY });
    expect(r2.checkpoints).toBe(1);
    const again = all(db, id);
    expect(again[0]).toMatchObject({
      kind: 'book',
      type: 'snapshot',
      recvTs: (after[k2] as BookMessage).recvTs,
    });
    expect(again.slice(1)).toEqual(after.slice(k2 + 1));
    expect(bookAfter(again, '0.0001')).toEqual(bookAfter(before, '0.0001'));
    db.close();
  });

  it('pruning gently (the event loop runs between steps) gives the very same file contents', async () => {
    const a = simFile('sync.db', '0.5', 65_000);
    const b = simFile('gentle.db', '0.5', 65_000);
    const opts = { days: 1, now: T0 + 5 * MIN + DAY, chunk: 500 };
    const rs = pruneRawData(a.db, opts);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const rg = await pruneRawDataGently(b.db, opts);
    clearInterval(ticker);
    expect(rg).toEqual(rs);
    expect(rs.checkpoints).toBe(1);
    expect(turns).toBeGreaterThan(0);
    expect(all(b.db, b.id)).toEqual(all(a.db, a.id));
    a.db.close();
    b.db.close();
  });

  it('a gap not resynced before the cutoff leaves no checkpoint: the last snapshot and all after it stay', () => {
    const file = path.join(dir, 'gap.db');
    const db = openDb(file);
    const id = db
      .prepare(
        `INSERT INTO sessions (source, symbol, category, depth, tick_size, started_at) VALUES ('bybit', 'BTCUSDT', 'linear', 50, '0.1', ?)`,
      )
      .run(T0).lastInsertRowid as number;
    const w = new SessionWriter(db, id, { maxRows: 10 });
    const msg = (u: number, t: number, type: 'snapshot' | 'delta'): MarketMessage => ({
      kind: 'book',
      type,
      symbol: 'BTCUSDT',
      depth: 50,
      ts: t,
      recvTs: t,
      cts: t,
      u,
      seq: u,
      bids: [[100 + (u % 5) / 10, 1]],
      asks: [[101, 2]],
    });
    let u = 1;
    for (let i = 0; i < 60; i++) {
      // u jumps once at i = 20: the book is unknown from there until a snapshot, and none comes before the cutoff.
      if (i === 20) u += 5;
      w.writeMessage(msg(u++, T0 + i * 1000, i === 0 ? 'snapshot' : 'delta'));
    }
    w.close();
    const before = all(db, id);
    const r = pruneRawData(db, { days: 1, now: T0 + 40_500 + DAY });
    expect(r.checkpoints).toBe(0);
    expect(r.l2Deleted).toBe(0);
    expect(all(db, id)).toEqual(before);
    db.close();
  });
});
