// `collect` applies store.retention_days as it records, not only when it starts: a simulated market in real time,
// kept for a few seconds in an SQLite file, leaves a session that starts at a snapshot of its book a few seconds
// before its end, and that still replays to a valid book. On a real clickhouse-server it prunes in whole days, from
// the start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionIntervalMs } from '../store/retentionSchedule.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { eachEvent, openSessionStore } from '../store/sessionStore.ts';
import { steadyBooks, writeClickHouseSession } from '../store/testing/clickhouseSession.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { openDb } from '../store/db.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const KEEP_MS = 2000;
const DAYS = KEEP_MS / 86_400_000;

let server: TestServer | undefined;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collret-'));
  if (skip === null) server = await startTestServer();
}, 90_000);
afterAll(async () => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await server?.stop();
}, 30_000);

async function collectAndCheck(db: string): Promise<void> {
  const r = await l2desk(
    'collect',
    '--source',
    'sim',
    '--speed',
    '1',
    '--duration',
    '6s',
    '--seed',
    '5',
    '--db',
    db,
    '--set',
    `store.retention_days=${DAYS}`,
  );
  expect(r.code, r.err).toBe(0);
  expect(r.err).toMatch(/retention: pruned \d+ L2 updates and \d+ trades older than/);
  const store = await openSessionStore(db);
  try {
    const s = (await store.latest())!;
    const span = s.lastRecvTs! - s.firstRecvTs!;
    // Six seconds recorded, two kept: the last prune (at most one interval before the end, plus its own time)
    // kept from the last book message before its cutoff.
    expect(retentionIntervalMs(DAYS)).toBe(1000);
    expect(span).toBeGreaterThan(KEEP_MS - 500);
    expect(span).toBeLessThan(KEEP_MS + 1000 + 1500);
    let first: string | undefined;
    await eachEvent(store.read(s.id), (ev) => {
      first = ev.kind === 'book' ? ev.type : ev.kind;
      return false;
    });
    expect(first).toBe('snapshot');
    expect((await store.check()).ok).toBe(true);
  } finally {
    await store.close();
  }
  const book = await l2desk('book', '--db', db, '--json');
  expect(book.code, book.err).toBe(0);
  // `valid: false` and a problem only when the book is not valid.
  const b = JSON.parse(book.out) as { valid?: boolean; bids: unknown[]; asks: unknown[] };
  expect(b.valid).toBeUndefined();
  expect([b.bids.length, b.asks.length]).toEqual([10, 10]);
}

describe('collect prunes as it records (store.retention_days)', () => {
  it('into an SQLite file', async () => {
    await collectAndCheck(path.join(dir, 'ret.db'));
  }, 60_000);

  it.skipIf(skip !== null)(
    'into a ClickHouse store (real clickhouse-server): whole days, from the start',
    async () => {
      // A session recorded two days back: a collect keeping one day drops its day partitions as it starts (a store
      // partitioned by day is pruned in whole days while recording: retentionSchedule.ts).
      const url = server!.url('retention');
      const DAY = 86_400_000;
      const t0 = Date.now() - 2 * DAY - 3_600_000;
      await writeClickHouseSession(url, steadyBooks(t0, 100, 1000));
      const r = await l2desk(
        'collect',
        '--source',
        'sim',
        '--speed',
        'max',
        '--duration',
        '20s',
        '--db',
        url,
        '--set',
        'store.retention_days=1',
      );
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain('retention: pruned 100 L2 updates and 0 trades older than 1 days');
      const ss = await openSessionStore(url);
      try {
        const [old, fresh] = await ss.list();
        expect([old.messages, fresh.messages > 100]).toEqual([0, true]);
      } finally {
        await ss.close();
      }
    },
    60_000,
  );
});

describe('collect when its retention cannot prune', () => {
  it('warns, and records all the same', async () => {
    // An old session spanning the cutoff with a damaged book row in the part the prune must fold: the prune fails.
    const file = path.join(dir, 'damaged.db');
    const db = openDb(file);
    const { sessionId } = writeSimSession(db, {
      seed: 3,
      durationMs: 120_000,
      startMs: Date.now() - 86_400_000 - 60_000,
    });
    const victim = db
      .prepare('SELECT id FROM l2_updates WHERE session_id = ? ORDER BY id LIMIT 1 OFFSET 100')
      .pluck()
      .get(sessionId) as number;
    db.prepare("UPDATE l2_updates SET levels = 'not a book' WHERE id = ?").run(victim);
    db.close();
    const r = await l2desk(
      'collect',
      '--source',
      'sim',
      '--speed',
      'max',
      '--duration',
      '10s',
      '--db',
      file,
      '--set',
      'store.retention_days=1',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning: retention: the prune failed \(.+\); it is tried again later/);
    expect(r.out).toMatch(/^session 2: sim BTCUSDT/m);
  }, 60_000);
});
