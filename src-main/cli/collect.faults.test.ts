// collect --source bybit against exchange-sim with the faults collect.bybit.test.ts does not cover (half-open,
// restart, malformed, stall), all in one session: each leaves its stored trace, and the book rebuilt from
// the database at the end equals the server's true book.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { listSessions } from '../store/sessions.ts';
import { startSimExchange, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { run as runCollect } from './collect.ts';
import {
  expectStoredBookIsExchangeBook,
  lastStoredU,
  storedBookCount,
  storedGaps,
} from './testing/collectProbe.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-faults-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Gaps and message count committed so far, read while collect runs. */
const stored = (file: string) => ({ gaps: storedGaps(file), l2: storedBookCount(file) });

const until = (cond: () => boolean, what: string) => waitFor(what, cond, 8000, 40);

it('half-open, restart, malformed and stall: the stored session rebuilds the exchange book', async () => {
  const server = await startSimExchange(
    { seed: 5, symbol: 'ABCUSDT', startPrice: 0.5123, tickSize: '0.0001' },
    { speed: 1 },
  );
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
    const resumed = stored(dbFile).l2;
    await until(() => stored(dbFile).l2 > resumed + 5, 'data after the resubscription');
    // Freeze the market, then stop once the collector has committed the exchange's last update (not after a
    // fixed sleep, which a loaded machine can outlast).
    server.pause();
    const lastU = server.trueBook(50).u;
    await until(() => lastStoredU(dbFile) === lastU, `the collector to store u=${lastU}`);
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
      expectStoredBookIsExchangeBook(db, s, server);
    } finally {
      db.close();
    }
  } finally {
    await server.close();
  }
});
