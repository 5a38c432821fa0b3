// collect --source bybit against exchange-sim with the faults collect.bybit.test.ts does not cover (half-open,
// restart, malformed, stall), all in one session: each leaves its stored trace, and the book rebuilt from
// the database at the end equals the server's true book.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../market/exchangeSim/feeds.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { listSessions } from '../store/sessions.ts';
import { bookAt } from './book.ts';
import { run as runCollect } from './collect.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-faults-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Gaps and message count committed so far, read through a second connection (WAL) while collect runs. */
function stored(file: string): { gaps: Array<{ reason: string; end_ts: number | null }>; l2: number } {
  if (!fs.existsSync(file)) return { gaps: [], l2: 0 };
  const r = new Database(file, { readonly: true });
  try {
    return {
      gaps: r.prepare('SELECT reason, end_ts FROM gaps ORDER BY id').all() as Array<{
        reason: string;
        end_ts: number | null;
      }>,
      l2: (r.prepare('SELECT count(*) AS n FROM l2_updates').get() as { n: number }).n,
    };
  } catch {
    return { gaps: [], l2: 0 };
  } finally {
    r.close();
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(40);
  }
}

it('half-open, restart, malformed and stall: the stored session rebuilds the exchange book', async () => {
  const server = await ExchangeSimServer.start({
    feed: simFeed({
      seed: 5,
      symbol: 'ABCUSDT',
      startPrice: 0.5123,
      tickSize: '0.0001',
      levels: 200,
      bookRateHz: 50,
      startMs: Date.now(),
    }),
    speed: 1,
  });
  const dbFile = path.join(dir, 'faults.db');
  const cfg = path.join(dir, 'fast.yaml');
  // A symbol outside the tick table with no tick configured: inferred from the first snapshot.
  fs.writeFileSync(
    cfg,
    'bybit:\n  ping_interval: 150ms\n  stale_timeout: 600ms\n  reconnect_initial: 30ms\n  reconnect_max: 200ms\n',
  );
  const closedCount = (reason: string) =>
    stored(dbFile).gaps.filter((g) => g.reason === reason && g.end_ts !== null).length;
  try {
    const printed = vi.spyOn(console, 'log');
    const ctl = new AbortController();
    const collecting = runCollect(
      [
        '--source',
        'bybit',
        '--symbol',
        'ABCUSDT',
        '--url',
        server.url,
        '--duration',
        '60s',
        '--depth',
        '50',
      ].concat(['--db', dbFile, '--config', cfg, '--quiet']),
      { signal: ctl.signal },
    );
    await until(() => server.stats.stepsPlayed > 20 && stored(dbFile).l2 > 5, 'a subscribed client');
    server.inject('halfopen');
    await until(() => closedCount('stale') === 1, 'the half-open socket to be replaced');
    server.inject('restart');
    await until(() => closedCount('restart') === 1, 'the restart to be stored');
    const before = stored(dbFile).l2;
    server.inject('malformed');
    await until(() => stored(dbFile).l2 > before + 20, 'data after the malformed frames');
    server.inject('stall');
    await until(() => closedCount('stale') === 2, 'the stalled feed to be replaced');
    await sleep(300);
    server.pause();
    await sleep(400);
    ctl.abort();
    expect(await collecting).toBe(0);
    const summary = printed.mock.calls.map((c) => String(c[0])).join('\n');
    printed.mockRestore();

    const db = openDb(dbFile);
    try {
      const [s] = listSessions(db);
      expect(s).toMatchObject({ symbol: 'ABCUSDT', tickSize: '0.0001' });
      const reasons = [...readSession(db, s.id)].flatMap((e) => (e.kind === 'gap' ? [e.gap.reason] : []));
      expect(reasons.filter((r) => r === 'stale')).toHaveLength(2);
      expect(reasons).toContain('restart');
      expect(reasons).not.toContain('sequence');
      // The summary counts every stored gap, the instant restart one included.
      expect(summary).toContain(`, ${reasons.length} gaps;`);
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
