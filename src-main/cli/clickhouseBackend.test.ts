// The CLI over a ClickHouse store: the same seeded simulated session collected into an SQLite file and into a real
// clickhouse-server (started here) gives identical `db check` counts, identical `book --json` at several times and
// identical backtests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { ClickHouseSessionWriter } from '../store/clickhouse/writer.ts';
import { openDb } from '../store/db.ts';
import { readSession as readSqlite } from '../store/sessionReader.ts';
import { getSession as getSqliteSession } from '../store/sessions.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

interface CheckSession {
  id: number;
  source: string;
  symbol: string;
  depth: number;
  tickSize: string;
  firstRecvTs: number;
  lastRecvTs: number;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  openGaps: number;
}

describe.skipIf(skip !== null)('--db clickhouse:// on the CLI (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chcli-'));
  }, 90_000);
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('collect, db check, book --json and backtest agree with the SQLite store on the same seeded session', async () => {
    const file = path.join(dir, 'ref.db');
    const ch = server.url('cli');
    const collect = (db: string) =>
      l2desk(
        'collect',
        '--source',
        'sim',
        '--seed',
        '42',
        '--speed',
        'max',
        '--duration',
        '40s',
        '--db',
        db,
        '--quiet',
      );
    const a = await collect(file);
    expect(a.code, a.err).toBe(0);
    const b = await collect(ch);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain(`store ${ch}`);
    expect(a.out.replace(/;.*/, '')).toBe(b.out.replace(/;.*/, '')); // "session 1: sim BTCUSDT depth 50"

    const check = async (db: string) => {
      const r = await l2desk('db', 'check', '--db', db, '--json');
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { ok: boolean; tables: Record<string, number>; sessions: CheckSession[] };
    };
    const sq = await check(file);
    const cq = await check(ch);
    expect(cq.ok).toBe(true);
    for (const t of ['sessions', 'l2_updates', 'trades', 'gaps']) expect(cq.tables[t], t).toBe(sq.tables[t]);
    expect(cq.sessions).toHaveLength(1);
    const [s1] = sq.sessions;
    const [c1] = cq.sessions;
    // The simulated clock starts at each run's wall time: compare everything else, and the spans.
    const counts = (s: CheckSession) => ({
      id: s.id,
      source: s.source,
      symbol: s.symbol,
      depth: s.depth,
      tickSize: s.tickSize,
      span: s.lastRecvTs - s.firstRecvTs,
      bookMessages: s.bookMessages,
      tradeMessages: s.tradeMessages,
      trades: s.trades,
      gaps: s.gaps,
      openGaps: s.openGaps,
    });
    expect(counts(c1)).toEqual(counts(s1));
    expect(s1.bookMessages).toBeGreaterThan(1000);

    // The book at several times of the session (and at its end), on both clocks.
    const offset = c1.firstRecvTs - s1.firstRecvTs;
    const book = async (db: string, at: number | null, clock: string) => {
      const r = await l2desk(
        'book',
        '--db',
        db,
        '--json',
        '--depth',
        '20',
        '--clock',
        clock,
        ...(at === null ? [] : ['--at', String(at)]),
      );
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { ts: number; bids: number[][]; asks: number[][]; valid?: boolean };
    };
    const span = s1.lastRecvTs - s1.firstRecvTs;
    for (const f of [0.1, 0.37, 0.5, 0.81, 0.99, null]) {
      for (const clock of ['receive', 'exchange']) {
        const at = f === null ? null : s1.firstRecvTs + Math.round(span * f);
        const x = await book(file, at, clock);
        const y = await book(ch, at === null ? null : at + offset, clock);
        expect({ ...y, ts: y.ts - offset }, `${f} ${clock}`).toEqual(x);
        expect(x.bids.length).toBe(20);
      }
    }

    // A backtest replayed from each store. Decisions fall on a grid of wall-clock times, and each collect's simulated
    // clock starts at its own wall time, so the two sessions above decide at other instants: the backtest compares
    // the SQLite session with the same rows written into a second ClickHouse database through the ClickHouse writer.
    const copyUrl = server.url('cli_copy');
    const store = await openClickHouse(copyUrl);
    try {
      const ref = openDb(file, { mustExist: true });
      try {
        const info = getSqliteSession(ref, 1)!;
        const sid = await createSession(store, { ...info, meta: info.meta });
        const w = await ClickHouseSessionWriter.open(store, sid);
        for (const ev of readSqlite(ref, 1)) {
          if (ev.kind === 'gap') w.writeGap(ev.gap);
          else w.writeMessage(ev);
        }
        await w.close(info.endedAt ?? info.startedAt);
      } finally {
        ref.close();
      }
    } finally {
      await store.close();
    }
    const backtest = async (db: string, name: string) => {
      const report = path.join(dir, `${name}.json`);
      const r = await l2desk(
        'backtest',
        '--db',
        db,
        '--session',
        '1',
        '--sweep',
        '0.2,1',
        '--no-record',
        '--report',
        report,
      );
      expect(r.code, r.err).toBe(0);
      return JSON.parse(fs.readFileSync(report, 'utf8')) as {
        rows: Record<string, unknown>[];
        equity: { threshold: number; points: [number, number][] }[];
        session: { messages: number };
      };
    };
    const bs = await backtest(file, 'sqlite');
    const bc = await backtest(copyUrl, 'clickhouse');
    expect(bc.session.messages).toBe(bs.session.messages);
    expect(bc.rows).toEqual(bs.rows);
    expect(Number(bs.rows[0].trades)).toBeGreaterThan(0);
    expect(bc.equity).toEqual(bs.equity);
  }, 240_000);

  it('refuses a database that is not there and a mistyped address', async () => {
    const none = await l2desk('book', '--db', server.url('nothing_here'), '--json');
    expect(none.code).toBe(1);
    expect(none.err).toContain('no database nothing_here on the ClickHouse server');
    const bad = await l2desk('book', '--db', 'clickhouse://127.0.0.1/x');
    expect(bad.code).toBe(2); // a mistyped address is a usage error
    expect(bad.err).toContain('the port is missing; expected clickhouse://[USER@]HOST:PORT/DATABASE');
    expect(fs.existsSync('clickhouse:')).toBe(false);
  });
});
