// `l2desk book --at T --clock receive|exchange` on a live-style session whose receive times lag the exchange's stamps
// by a varying amount (network delay), in a real SQLite file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BookMessage } from '../../src-shared/market.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession, getSession } from '../store/sessions.ts';
import { UsageError } from './args.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt, run } from './book.ts';

const T0 = Date.UTC(2026, 7, 9, 12);

/** Message i: exchange time T0 + 100 i, received 50 ms (even i) or 90 ms (odd i) later; best bid moves up by i ticks. */
function msg(i: number): BookMessage {
  const bid = 100 + i / 10;
  return {
    kind: 'book',
    type: i === 0 ? 'snapshot' : 'delta',
    symbol: 'BTCUSDT',
    depth: 50,
    ts: T0 + 100 * i,
    cts: 0,
    recvTs: T0 + 100 * i + (i % 2 === 0 ? 50 : 90),
    u: i + 1,
    seq: 0,
    bids: [[Number(bid.toFixed(1)), 1]],
    asks: i === 0 ? [[200, 1]] : [],
  };
}

let dir: string;
let dbFile: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2book-'));
  dbFile = path.join(dir, 'b.db');
  const db = openDb(dbFile);
  const id = createSession(db, {
    source: 'bybit',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: T0,
  });
  const w = new SessionWriter(db, id);
  for (let i = 0; i < 10; i++) w.writeMessage(msg(i));
  w.close();
  db.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('book --at on the receive or the exchange clock', () => {
  it.each([
    // at (offset from T0), clock, last message applied
    [320, 'receive', 2], // message 3 (ts 300) was received at 390: not yet there on our clock
    [320, 'exchange', 3],
    [560, 'receive', 4],
    [560, 'exchange', 5],
    [0, 'exchange', 0],
  ] as const)('at T0+%i on the %s clock the book holds message %i', async (at, clock, last) => {
    const db = openDb(dbFile, { mustExist: true });
    try {
      const b = (await bookAt(sqliteSessionStore(db, 'test.db'), getSession(db, 1)!, T0 + at, 5, clock))!;
      expect(b.ts).toBe(msg(last).ts);
      expect(b.bids[0][0]).toBe(msg(last).bids[0][0]);
    } finally {
      db.close();
    }
  });

  it('the CLI takes --clock and refuses anything else', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const at = String(T0 + 320);
      expect(await run(['--db', dbFile, '--at', at, '--clock', 'exchange', '--json'])).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)?.[0])).ts).toBe(msg(3).ts);
      expect(await run(['--db', dbFile, '--at', at, '--json'])).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)?.[0])).ts).toBe(msg(2).ts);
    } finally {
      log.mockRestore();
    }
    await expect(run(['--db', dbFile, '--clock', 'wall'])).rejects.toThrow(UsageError);
  });
});

describe('book prints prices with the tick decimals', () => {
  it('a 0.0000001 tick: no exponent notation, every level to the tick, the spread as a price', async () => {
    const file = path.join(dir, 'pepe.db');
    const db = openDb(file);
    const id = createSession(db, {
      source: 'bybit',
      symbol: '1000PEPEUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.0000001',
      startedAt: T0,
    });
    const w = new SessionWriter(db, id);
    w.writeMessage({
      ...msg(0),
      symbol: '1000PEPEUSDT',
      bids: [
        [0.01239, 4707000],
        [0.0000009, 1000],
      ],
      asks: [[0.0123901, 507000]],
    });
    w.close();
    db.close();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await run(['--db', file, '--depth', '2'])).toBe(0);
      const out = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(out).toMatch(/^\s+0\.0123901\s+507000\s+ask$/m);
      expect(out).toMatch(/spread 0\.0000001 \(1 tick\)/);
      // 0.01239 is shown to the tick, as the ladder's other prices; 9e-7 is not written 9e-7.
      expect(out).toMatch(/^\s+0\.0123900\s+4707000\s+bid$/m);
      expect(out).toMatch(/^\s+0\.0000009\s+1000\s+bid$/m);
      expect(out).not.toMatch(/e-\d/);
    } finally {
      log.mockRestore();
    }
  });
});
