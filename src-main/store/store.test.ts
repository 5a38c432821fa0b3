// Store against real SQLite files in a temp dir: migrations, writer/reader round trip, gaps, retention, open errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BookMessage, Gap, MarketMessage, TradeMessage } from '../../src-shared/market.ts';
import { DbError, appliedVersions, describeDbError, openDb, type Db } from './db.ts';
import { decodeLevels, encodeLevels } from './levelCodec.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { pruneRawData } from './retention.ts';
import { readSession, type StoredEvent } from './sessionReader.ts';
import { SessionWriter } from './sessionWriter.ts';
import { createSession, getSession, listSessions } from './sessions.ts';

let dir: string;
const dbs: Db[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2store-'));
});
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.open) d.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
function open(name = 'a.db'): Db {
  const d = openDb(path.join(dir, name));
  dbs.push(d);
  return d;
}

function book(u: number, recvTs: number, type: 'snapshot' | 'delta' = 'delta'): BookMessage {
  return {
    kind: 'book',
    type,
    symbol: 'XRPUSDT',
    depth: 50,
    ts: recvTs - 3,
    cts: recvTs - 5,
    recvTs,
    u,
    seq: 1000 + u,
    bids: [
      [0.5123 + u * 0.0001, 1000.5],
      [0.5122, 0],
    ],
    asks: [[0.5127, 12.25]],
  };
}
function trades(recvTs: number, n: number): TradeMessage {
  return {
    kind: 'trades',
    symbol: 'XRPUSDT',
    ts: recvTs - 1,
    recvTs,
    trades: Array.from({ length: n }, (_, i) => ({
      ts: recvTs - 2,
      side: i % 2 ? 'Sell' : 'Buy',
      price: 0.5125,
      size: 10 + i,
      id: `t${recvTs}-${i}`,
      blockTrade: i === 1,
      seq: 2000 + i,
    })),
  };
}
const newSession = (db: Db, startedAt = 1_000) =>
  createSession(db, {
    source: 'sim',
    symbol: 'XRPUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.0001',
    startedAt,
  });

describe('openDb and migrations', () => {
  it('creates the schema once, is idempotent on reopen, and uses WAL', () => {
    const file = path.join(dir, 'sub', 'x.db');
    const a = openDb(file);
    expect(appliedVersions(a)).toEqual(MIGRATIONS.map((m) => m.version).sort((x, y) => x - y));
    expect(a.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(a.pragma('foreign_keys', { simple: true })).toBe(1);
    const sid = newSession(a);
    a.close();
    const b = openDb(file);
    expect(appliedVersions(b)).toEqual(MIGRATIONS.map((m) => m.version).sort((x, y) => x - y));
    expect(b.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
    expect(getSession(b, sid)?.symbol).toBe('XRPUSDT');
    b.close();
  });

  it('applies a later migration once and refuses a database from newer code', () => {
    const file = path.join(dir, 'm.db');
    const extra = { version: 150, name: 'test_extra', up: 'CREATE TABLE extra (x INTEGER);' };
    openDb(file, { migrations: [...MIGRATIONS, extra] }).close();
    const again = openDb(file, { migrations: [...MIGRATIONS, extra] });
    expect(appliedVersions(again)).toContain(150);
    again.close();
    expect(() => openDb(file)).toThrow(/migration\(s\) 150 .*newer L2 Desk/);
  });

  it('rolls back a failing migration and names it', () => {
    const file = path.join(dir, 'bad.db');
    const broken = {
      version: 151,
      name: 'broken',
      up: 'CREATE TABLE ok1 (x); CREATE TABLE nonsense syntax error;',
    };
    expect(() => openDb(file, { migrations: [...MIGRATIONS, broken] })).toThrow(DbError);
    const d = openDb(file);
    expect(appliedVersions(d)).not.toContain(151);
    expect(d.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'ok1'").pluck().get()).toBe(0);
    d.close();
  });

  it('gives a clear error naming the file for a non-SQLite file, a missing file and a directory', () => {
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(
      junk,
      'this is not a database, just some text that is long enough to fill a header page '.repeat(20),
    );
    expect(() => openDb(junk)).toThrow(
      new RegExp(`${junk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an SQLite database`),
    );
    expect(() => openDb(path.join(dir, 'none.db'), { mustExist: true })).toThrow(/no database at .*none\.db/);
    expect(() => openDb(dir)).toThrow(/is a directory/);
  });

  it('under plain Node a stray Electron binding variable is ignored; an explicit wrong binding is an error', () => {
    const was = process.env.L2DESK_SQLITE_BINDING;
    process.env.L2DESK_SQLITE_BINDING = path.join(dir, 'electron-abi', 'better_sqlite3.node');
    try {
      const db = open('env.db');
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      if (was === undefined) delete process.env.L2DESK_SQLITE_BINDING;
      else process.env.L2DESK_SQLITE_BINDING = was;
    }
    expect(() => openDb(path.join(dir, 'b.db'), { nativeBinding: path.join(dir, 'missing.node') })).toThrow();
  });

  it('reports a database locked by another process, naming the file', () => {
    const file = path.join(dir, 'lock.db');
    // A rollback-journal database held under an exclusive lock cannot even be read.
    const holder = new Database(file);
    holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      expect(() => openDb(file, { busyTimeoutMs: 50 })).toThrow(/lock\.db is locked by another process/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  // Root ignores file permissions, so this can only be checked as a normal user.
  const asRoot = process.getuid?.() === 0;
  const readOnlyCase = `reports a read-only database, naming the file${asRoot ? ' — skipped: running as root, which ignores file permissions' : ''}`;
  it.skipIf(asRoot)(readOnlyCase, () => {
    const file = path.join(dir, 'ro.db');
    open('ro.db').close();
    const d = new Database(file);
    d.pragma('journal_mode = DELETE');
    d.close();
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o555);
    try {
      expect(() => openDb(file)).toThrow(/ro\.db is read-only/);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });
});

describe('describeDbError', () => {
  it.each([
    ['SQLITE_NOTADB', 'file is not a database', /x\.db is not an SQLite database/],
    ['SQLITE_BUSY', 'database is locked', /x\.db is locked by another process/],
    ['SQLITE_READONLY', 'attempt to write a readonly database', /x\.db is read-only .*write access/],
    ['SQLITE_CORRUPT', 'database disk image is malformed', /x\.db is corrupt.*db check/],
    ['SQLITE_CANTOPEN', 'unable to open database file', /cannot open database .*x\.db/],
    ['SQLITE_FULL', 'database or disk is full', /disk full while writing .*x\.db/],
  ])('%s names the file and what to do', (code, message, expected) => {
    const e = Object.assign(new Error(message), { code });
    const d = describeDbError('/data/x.db', e);
    expect(d).toBeInstanceOf(DbError);
    expect(d.file).toBe('/data/x.db');
    expect(d.message).toMatch(expected);
  });
});

describe('levels codec', () => {
  it('round-trips doubles bit for bit, including 4-5 decimal prices', () => {
    const levels = [
      [0.51234, 1],
      [0.00001, 123456789.123],
      [65114.2, 5.974],
      [0.1 + 0.2, 0],
    ] as const;
    expect(decodeLevels(encodeLevels(levels))).toEqual(levels.map((l) => [...l]));
    // misaligned views decode too
    const b = Buffer.alloc(16 * 4 + 1);
    encodeLevels(levels).copy(b, 1);
    expect(decodeLevels(b.subarray(1))).toEqual(levels.map((l) => [...l]));
  });
});

describe('SessionWriter and readSession', () => {
  it('round-trips messages and gaps in arrival order across pages and batches', () => {
    const db = open();
    const sid = newSession(db);
    let clock = 10_000;
    const w = new SessionWriter(db, sid, { maxRows: 7, now: () => clock });
    const written: StoredEvent[] = [];
    const gapOpen: Gap = {
      symbol: 'XRPUSDT',
      reason: 'sequence',
      startTs: 10_020,
      endTs: null,
      detail: 'u 5 -> 7',
    };
    for (let u = 1; u <= 40; u++) {
      clock += 10;
      const m: MarketMessage =
        u % 5 === 0 ? trades(clock, (u % 3) + 1) : book(u, clock, u === 1 ? 'snapshot' : 'delta');
      w.writeMessage(m);
      written.push(m);
      if (u === 2) {
        w.writeGap(gapOpen);
        written.push({ kind: 'gap', gap: { ...gapOpen, endTs: 10_300 } });
      }
      if (u === 30) w.writeGap({ ...gapOpen, endTs: 10_300 });
    }
    w.close(99_000);
    const s = getSession(db, sid);
    expect(s).toMatchObject({ endedAt: 99_000, bookMessages: 32, tradeMessages: 8, messages: 40, gaps: 1 });
    for (const pageSize of [1, 3, 1000]) {
      const read = [...readSession(db, sid, { pageSize })];
      expect(read).toEqual(written);
    }
    expect(listSessions(db).map((x) => x.id)).toEqual([sid]);
  });

  it('keeps sessions apart when two writers interleave, and filters by receive time', () => {
    const db = open();
    const a = newSession(db);
    const b = newSession(db);
    const wa = new SessionWriter(db, a, { maxRows: 3 });
    const wb = new SessionWriter(db, b, { maxRows: 2 });
    for (let i = 1; i <= 20; i++) {
      wa.writeMessage(book(i, 1000 + i));
      wb.writeMessage(i % 2 ? book(i, 5000 + i) : trades(5000 + i, 2));
    }
    wa.close();
    wb.close();
    const ra = [...readSession(db, a, { pageSize: 4 })] as BookMessage[];
    expect(ra.map((m) => m.u)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const rb = [...readSession(db, b)];
    expect(rb.length).toBe(20);
    expect(rb.filter((m) => m.kind === 'trades').length).toBe(10);
    const window = [...readSession(db, a, { fromTs: 1005, toTs: 1010 })] as BookMessage[];
    expect(window.map((m) => m.recvTs)).toEqual([1005, 1006, 1007, 1008, 1009, 1010]);
    expect([...readSession(db, a, { fromTs: 9_999_999 })]).toEqual([]);
  });

  it('leaves the connection free between events: a consumer can write to the same database mid-replay', () => {
    const db = open();
    const a = newSession(db);
    const wa = new SessionWriter(db, a, { maxRows: 100 });
    for (let i = 1; i <= 5000; i++) wa.writeMessage(book(i, 1000 + i));
    wa.close();
    const b = newSession(db);
    const wb = new SessionWriter(db, b, { maxRows: 1 });
    let n = 0;
    for (const e of readSession(db, a)) {
      // An open better-sqlite3 iterator would make this throw "connection is busy".
      if (n++ % 1000 === 0) wb.writeMessage({ ...(e as BookMessage), recvTs: 9_000_000 + n });
    }
    wb.close();
    expect(n).toBe(5000);
    expect(getSession(db, b)?.messages).toBe(5);
  });

  it('commits on the batch interval without an explicit flush', async () => {
    const db = open();
    const sid = newSession(db);
    const w = new SessionWriter(db, sid, { batchIntervalMs: 20 });
    w.writeMessage(book(1, 1000, 'snapshot'));
    const other = new Database(db.name, { readonly: true });
    const committed = () => other.prepare('SELECT count(*) FROM l2_updates').pluck().get();
    expect(committed()).toBe(0);
    // Await the commit itself rather than sleeping a fixed time: nothing but the writer's timer can commit here.
    const deadline = Date.now() + 5000;
    while (committed() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(committed()).toBe(1);
    other.close();
    w.close();
  });

  it('a crash before commit loses only the pending batch; the file stays consistent', () => {
    const file = path.join(dir, 'crash.db');
    const db = openDb(file);
    const sid = newSession(db);
    const w = new SessionWriter(db, sid, { maxRows: 10 });
    for (let u = 1; u <= 25; u++) w.writeMessage(book(u, 1000 + u));
    // Abandon the writer without flush/close: 20 rows committed in two batches, 5 pending.
    db.close();
    const d2 = openDb(file);
    expect(d2.pragma('integrity_check', { simple: true })).toBe('ok');
    const read = [...readSession(d2, sid)] as BookMessage[];
    expect(read.map((m) => m.u)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(getSession(d2, sid)?.messages).toBe(20);
    d2.close();
  });
});

describe('retention', () => {
  it('prunes raw rows older than N days relative to now, keeps newer rows and sessions', () => {
    const db = open();
    const DAY = 86_400_000;
    const now = 100 * DAY;
    const sid = newSession(db);
    const w = new SessionWriter(db, sid, { maxRows: 50 });
    for (let i = 0; i < 300; i++) {
      const t = now - 10 * DAY + i * (DAY / 30); // 10 days ago .. now
      w.writeMessage(i % 4 === 0 ? trades(t, 2) : book(i + 1, t));
    }
    w.close();
    const before = [...readSession(db, sid)];
    const cutoff = now - 3 * DAY;
    const res = pruneRawData(db, { days: 3, now, chunk: 17 });
    expect(res.cutoff).toBe(cutoff);
    const after = [...readSession(db, sid)];
    expect(after).toEqual(before.filter((m) => m.kind !== 'gap' && m.recvTs >= cutoff));
    expect(res.l2Deleted + res.tradesDeleted).toBeGreaterThan(0);
    const s = getSession(db, sid);
    expect(s?.messages).toBe(after.length);
    expect(s?.firstRecvTs).toBeGreaterThanOrEqual(cutoff);
    expect(pruneRawData(db, { days: 0, now }).l2Deleted).toBe(0);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('keeps the last snapshot before the cutoff: the newer deltas build on it', () => {
    const db = open();
    const DAY = 86_400_000;
    const now = 100 * DAY;
    const sid = newSession(db);
    const w = new SessionWriter(db, sid, { maxRows: 50 });
    // One snapshot 10 days ago (a live session subscribes once), deltas since, a trade message in between.
    for (let i = 0; i < 300; i++) {
      const t = now - 10 * DAY + i * (DAY / 30);
      w.writeMessage(
        i === 0 || i === 30 ? book(i + 1, t, 'snapshot') : i % 4 === 1 ? trades(t, 1) : book(i + 1, t),
      );
    }
    w.close();
    const before = [...readSession(db, sid)];
    const snapAt = now - 10 * DAY + 30 * (DAY / 30); // the snapshot 9 days ago: the last one before the cutoff
    pruneRawData(db, { days: 3, now });
    const after = [...readSession(db, sid)];
    expect(after[0]).toMatchObject({ kind: 'book', type: 'snapshot', recvTs: snapAt });
    expect(after).toEqual(before.filter((m) => m.kind !== 'gap' && m.recvTs >= snapAt));
    expect(getSession(db, sid)?.messages).toBe(after.length);
  });

  it('a session wholly older than the cutoff loses all its raw rows, its snapshot too', () => {
    const db = open();
    const DAY = 86_400_000;
    const now = 100 * DAY;
    const old = newSession(db);
    const w = new SessionWriter(db, old);
    for (let i = 0; i < 40; i++)
      w.writeMessage(book(i + 1, now - 10 * DAY + i * 1000, i === 0 ? 'snapshot' : 'delta'));
    w.close();
    const res = pruneRawData(db, { days: 3, now });
    expect(res.l2Deleted).toBe(40);
    expect([...readSession(db, old)]).toEqual([]);
  });
});
