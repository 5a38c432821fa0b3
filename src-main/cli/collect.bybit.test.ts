// collect --source bybit against the real exchange-sim WebSocket server on 127.0.0.1, with a skipped u and
// a dropped connection: both gaps are stored with their reasons and spans, and the book rebuilt from the
// database at the end equals the server's true book.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../market/exchangeSim/feeds.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { listSessions } from '../store/sessions.ts';
import { bookAt } from './book.ts';
import { run as runCollect } from './collect.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-bybit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the collector's gaps through a second connection (WAL) while it runs. */
function storedGaps(file: string): Array<{ reason: string; end_ts: number | null }> {
  if (!fs.existsSync(file)) return [];
  const r = new Database(file, { readonly: true });
  try {
    return r.prepare('SELECT reason, end_ts FROM gaps ORDER BY id').all() as Array<{
      reason: string;
      end_ts: number | null;
    }>;
  } catch {
    return [];
  } finally {
    r.close();
  }
}

/** The update id of the last book message the collector has committed. */
function lastStoredU(file: string): number | undefined {
  const r = new Database(file, { readonly: true });
  try {
    return r.prepare('SELECT u FROM l2_updates ORDER BY id DESC LIMIT 1').pluck().get() as number | undefined;
  } finally {
    r.close();
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

it('stores a live-protocol session with its gaps, and the stored book ends equal to the exchange book', async () => {
  const server = await ExchangeSimServer.start({
    feed: simFeed({
      seed: 11,
      startPrice: 65000,
      tickSize: '0.1',
      levels: 200,
      bookRateHz: 50,
      startMs: Date.now(),
    }),
    speed: 1,
  });
  const dbFile = path.join(dir, 'live.db');
  try {
    const ctl = new AbortController();
    const collecting = runCollect(
      [
        '--source',
        'bybit',
        '--url',
        server.url,
        '--duration',
        '60s',
        '--depth',
        '50',
        '--db',
        dbFile,
        '--quiet',
      ],
      { signal: ctl.signal },
    );
    await until(() => server.connectionCount > 0 && server.stats.stepsPlayed > 20, 'a subscribed client');
    await sleep(500);
    server.inject('gap');
    await until(
      () => storedGaps(dbFile).some((g) => g.reason === 'sequence' && g.end_ts !== null),
      'the sequence gap to close',
    );
    server.inject('drop');
    await until(() => {
      const g = storedGaps(dbFile);
      return g.some((x) => x.reason === 'disconnect') && g.every((x) => x.end_ts !== null);
    }, 'the reconnect to close the disconnect gap');
    // Freeze the market so the collector's last messages are the exchange's current state.
    server.pause();
    // Await the collector committing the exchange's last update (not a fixed sleep), then stop it.
    const lastU = server.trueBook(50).u;
    await until(() => lastStoredU(dbFile) === lastU, `the collector to store u=${lastU}`);
    ctl.abort();
    expect(await collecting).toBe(0);

    const db = openDb(dbFile);
    try {
      const [s] = listSessions(db);
      expect(s).toMatchObject({ source: 'bybit', symbol: 'BTCUSDT', depth: 50, tickSize: '0.1' });
      expect(s.endedAt).not.toBeNull();
      const gaps = [...readSession(db, s.id)].filter((e) => e.kind === 'gap');
      const reasons = gaps.map((g) => (g.kind === 'gap' ? g.gap.reason : ''));
      expect(reasons).toContain('sequence');
      expect(reasons).toContain('disconnect');
      for (const g of gaps) if (g.kind === 'gap') expect(g.gap.endTs).toBeGreaterThanOrEqual(g.gap.startTs);
      const b = bookAt(db, s, undefined, 50)!;
      expect(b.valid).toBe(true);
      const truth = server.trueBook(50);
      expect(b.bids).toEqual(truth.bids);
      expect(b.asks).toEqual(truth.asks);
    } finally {
      db.close();
    }
  } finally {
    await server.close();
  }
});
