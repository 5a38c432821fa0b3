// `l2desk export --format parquet`: a seeded simulated session and a hand-made one (empty delta, gap) in a real
// SQLite file, exported and read back with an independent reader (DuckDB), compared with the stored rows
// exactly; the book rebuilt from the Parquet rows equals `l2desk book --json`; and the refusals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BookMessage, Level } from '../../src-shared/market.ts';
import { writeAtomically } from '../export/exportDir.ts';
import { EXPORT_FORMAT, exportSessions, type ExportManifest } from '../export/sessionExport.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDatasetFromDb } from '../model/dataset.ts';
import { openDb, type Db } from '../store/db.ts';
import { decodeBookLevels } from '../store/tickLevelCodec.ts';
import { readSession } from '../store/sessionReader.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession, getSession } from '../store/sessions.ts';
import { UsageError } from './args.ts';
import { run as runBook } from './book.ts';
import { run as runCollect } from './collect.ts';
import { run as runExport } from './export.ts';

let dir: string;
let dbFile: string;
let out: string;
let exportLog = '';
let exportErr = '';
let duck: DuckDBConnection;
let duckDb: DuckDBInstance;
const T0 = Date.UTC(2026, 7, 9, 12);

/** Runs a command with console.log and stderr captured. */
async function capture(fn: () => Promise<number>): Promise<{ code: number; log: string; err: string }> {
  const log: string[] = [];
  const err: string[] = [];
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await fn();
    return { code, log: log.join('\n'), err: err.join('') };
  } finally {
    l.mockRestore();
    e.mockRestore();
  }
}

/** Session 2: a snapshot, a delta that changes no level, a gap, a resync snapshot and a trade, by hand. */
function writeHandMadeSession(db: Db): number {
  const id = createSession(db, {
    source: 'bybit',
    symbol: 'ETHUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.01',
    startedAt: T0,
  });
  const w = new SessionWriter(db, id);
  const book = (i: number, type: BookMessage['type'], bids: Level[], asks: Level[]): BookMessage => ({
    kind: 'book',
    type,
    symbol: 'ETHUSDT',
    depth: 50,
    ts: T0 + 100 * i,
    cts: i === 1 ? 0 : T0 + 100 * i - 3,
    recvTs: T0 + 100 * i + 20,
    u: type === 'snapshot' ? 1000 * i + 1 : 1000 + i,
    seq: 500 + i,
    bids,
    asks,
  });
  w.writeMessage(
    book(
      0,
      'snapshot',
      [
        [3000.01, 2],
        [3000, 1.5],
      ],
      [[3000.02, 0.25]],
    ),
  );
  w.writeMessage(book(1, 'delta', [], []));
  w.writeGap({
    symbol: 'ETHUSDT',
    reason: 'disconnect',
    startTs: T0 + 150,
    endTs: T0 + 290,
    detail: 'socket closed',
  });
  w.writeMessage(book(3, 'snapshot', [[2999.5, 4]], [[2999.6, 1]]));
  w.writeMessage({
    kind: 'trades',
    symbol: 'ETHUSDT',
    ts: T0 + 350,
    recvTs: T0 + 360,
    trades: [
      { ts: T0 + 349, side: 'Sell', price: 2999.5, size: 0.5, id: 't-1', blockTrade: false, seq: 504 },
      { ts: T0 + 350, side: 'Buy', price: 2999.6, size: 0.125, id: 't-2', blockTrade: true, seq: 505 },
    ],
  });
  w.close();
  return id;
}

/**
 * Session 3: session 1 again with a stored gap a third of the way in and a 45 s silence from two thirds on, so that
 * the feature export must restart and warm up again exactly where training does.
 */
function writeGappyCopy(db: Db): number {
  const src = getSession(db, 1)!;
  const id = createSession(db, { ...src, source: 'replay', startedAt: src.startedAt });
  const w = new SessionWriter(db, id);
  const n = src.messages;
  let i = 0;
  for (const ev of readSession(db, 1)) {
    if (ev.kind === 'gap') continue;
    if (i === Math.floor(n / 3))
      w.writeGap({
        symbol: src.symbol,
        reason: 'stale',
        startTs: ev.recvTs,
        endTs: ev.recvTs,
        detail: 'made',
      });
    const shift = i >= Math.floor((2 * n) / 3) ? 45_000 : 0;
    if (ev.kind === 'book') w.writeMessage({ ...ev, ts: ev.ts + shift, recvTs: ev.recvTs + shift });
    else
      w.writeMessage({
        ...ev,
        ts: ev.ts + shift,
        recvTs: ev.recvTs + shift,
        trades: ev.trades.map((t) => ({ ...t, ts: t.ts + shift })),
      });
    i++;
  }
  w.close();
  return id;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2export-'));
  dbFile = path.join(dir, 'l2.db');
  out = path.join(dir, 'out');
  const c = await capture(() =>
    runCollect([
      '--source',
      'sim',
      '--speed',
      'max',
      '--duration',
      '4m',
      '--seed',
      '11',
      '--db',
      dbFile,
      '--quiet',
    ]),
  );
  expect(c.code).toBe(0);
  const db = openDb(dbFile);
  try {
    writeHandMadeSession(db);
    writeGappyCopy(db);
  } finally {
    db.close();
  }
  // Small row groups: the files must hold several, as a long session's would.
  const r = await capture(() =>
    runExport(['--db', dbFile, '--session', 'all', '--out', out, '--row-group', '5000']),
  );
  expect(r.code).toBe(0);
  exportLog = r.log;
  exportErr = r.err;
  duckDb = await DuckDBInstance.create(':memory:');
  duck = await duckDb.connect();
});

afterAll(() => {
  duck?.closeSync();
  duckDb?.closeSync();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function q(sql: string): Promise<JS[][]> {
  return (await duck.runAndReadAll(sql)).getRowsJS();
}

/** DuckDB answers BIGINT as bigint: compare everything as plain numbers. */
function plain(rows: JS[][]): unknown[][] {
  return rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

const file = (name: string) => `'${path.join(out, name).replace(/'/g, "''")}'`;

/** Arrival index of every stored message of a session: book rows and trade messages merged on their ids. */
function messageIndex(db: Db, sid: number): Map<number, number> {
  const ids = db
    .prepare(
      'SELECT id FROM l2_updates WHERE session_id = ? UNION SELECT msg_id FROM trades WHERE session_id = ? ORDER BY 1',
    )
    .pluck()
    .all(sid, sid) as number[];
  return new Map(ids.map((id, i) => [id, i]));
}

/** The book_updates rows a session should produce, straight from the SQLite tables. */
function storedBookRows(db: Db, sid: number): unknown[][] {
  const index = messageIndex(db, sid);
  const rows = db
    .prepare(
      'SELECT id, recv_ts, ts, cts, u, seq, is_snapshot, levels FROM l2_updates WHERE session_id = ? ORDER BY id',
    )
    .raw(true)
    .all(sid) as [number, number, number, number, number, number, number, string][];
  const outRows: unknown[][] = [];
  for (const [id, recv, ts, cts, u, seq, snap, blob] of rows) {
    const head = [sid, index.get(id), recv, ts, cts === 0 ? null : cts, u, seq, snap === 1];
    const { bids, asks } = decodeBookLevels(blob);
    const levels = [
      ...bids.map((l, i) => ['bid', i, l[0], l[1]]),
      ...asks.map((l, i) => ['ask', i, l[0], l[1]]),
    ];
    if (levels.length === 0) outRows.push([...head, null, null, null, null]);
    for (const l of levels) outRows.push([...head, ...l]);
  }
  return outRows;
}

/** Row for row; on a difference, shows the first differing row (a diff of 10^5 rows would be unreadable). */
function expectSameRows(got: unknown[][], want: unknown[][]): void {
  expect(got.length).toBe(want.length);
  const a = got.map((r) => JSON.stringify(r));
  const b = want.map((r) => JSON.stringify(r));
  const i = a.findIndex((x, k) => x !== b[k]);
  if (i >= 0) expect({ row: i, value: got[i] }).toEqual({ row: i, value: want[i] });
}

const BOOK_SELECT = `SELECT session_id, msg_index, epoch_ms(recv_ts), epoch_ms(ts), epoch_ms(cts), u, seq, is_snapshot,
  side, level, price, size`;
const BOOK_ORDER = `ORDER BY session_id, msg_index, side = 'ask', level`;

describe('export --format parquet, read back with DuckDB', () => {
  it('reports what it wrote, with progress on stderr, and a manifest that matches the store', () => {
    expect(exportLog).toMatch(/exported 3 sessions \(1, 2, 3\), \d+ messages, to /);
    expect(exportLog).toMatch(/book_updates\.parquet +\d+ rows/);
    expect(exportLog).toMatch(
      /features\.parquet +\d+ rows: feature set l2f-1 every 1000 ms, computed by replaying/,
    );
    expect(exportErr).toMatch(/export: (\d+)\/\1 messages \(100%\)/);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(m.format).toBe(EXPORT_FORMAT);
    expect(m.features?.featureSetVersion).toBe(FEATURE_SET.version);
    expect(m.features?.names).toEqual(FEATURE_SET.names);
    const db = openDb(dbFile, { mustExist: true });
    try {
      for (const s of m.sessions) {
        const info = getSession(db, s.id)!;
        expect(s).toMatchObject({
          symbol: info.symbol,
          category: info.category,
          tickSize: info.tickSize,
          depth: info.depth,
          seed: info.seed,
          bookMessages: info.bookMessages,
          tradeMessages: info.tradeMessages,
          trades: info.trades,
          gaps: info.gaps,
          firstRecvTs: info.firstRecvTs,
          lastRecvTs: info.lastRecvTs,
        });
      }
      expect(m.sessions[0].seed).toBe(11);
    } finally {
      db.close();
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('book_updates.parquet holds every stored level change, row for row, in several row groups', async () => {
    const db = openDb(dbFile, { mustExist: true });
    let stored: unknown[][][];
    try {
      stored = [1, 2, 3].map((sid) => storedBookRows(db, sid));
    } finally {
      db.close();
    }
    // Per session: count, exchange-time span, size total.
    const perSession = plain(
      await q(`SELECT session_id, count(*), epoch_ms(min(ts)), epoch_ms(max(ts)), sum(size)
        FROM ${file('book_updates.parquet')} GROUP BY session_id ORDER BY session_id`),
    );
    expect(perSession.map((r) => r.slice(0, 4))).toEqual(
      stored.map((rows, i) => [
        i + 1,
        rows.length,
        rows.reduce((a, r) => Math.min(a, r[3] as number), Infinity),
        rows.reduce((a, r) => Math.max(a, r[3] as number), -Infinity),
      ]),
    );
    perSession.forEach((r, i) =>
      expect(r[4] as number).toBeCloseTo(
        stored[i].reduce((a, x) => a + ((x[11] as number | null) ?? 0), 0),
        6,
      ),
    );
    // Row for row on sessions 1 and 2 (session 3 is a copy of 1: the totals above cover it).
    const expected = [...stored[0], ...stored[1]];
    const rows = plain(
      await q(`${BOOK_SELECT} FROM ${file('book_updates.parquet')} WHERE session_id <= 2 ${BOOK_ORDER}`),
    );
    expect(rows[0]).toEqual(expected[0]);
    expect(rows.at(-1)).toEqual(expected.at(-1));
    expectSameRows(rows, expected);
    // The hand-made session's level-less delta is kept as one row of nulls, so its u is not lost.
    expect(rows.filter((r) => r[0] === 2 && r[8] === null)).toEqual([
      [2, 1, T0 + 120, T0 + 100, null, 1001, 501, false, null, null, null, null],
    ]);
    const [[groups]] = plain(
      await q(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${file('book_updates.parquet')})`),
    );
    expect(groups).toBe(Math.ceil(stored.reduce((n, r) => n + r.length, 0) / 5000));
    const types = plain(
      await q(
        `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${file('book_updates.parquet')})`,
      ),
    );
    expect(Object.fromEntries(types as [string, string][])).toMatchObject({
      recv_ts: 'TIMESTAMP WITH TIME ZONE',
      ts: 'TIMESTAMP WITH TIME ZONE',
      u: 'BIGINT',
      is_snapshot: 'BOOLEAN',
      side: 'VARCHAR',
      price: 'DOUBLE',
      size: 'DOUBLE',
    });
  });

  it('trades.parquet and gaps.parquet hold every stored trade and gap', async () => {
    const db = openDb(dbFile, { mustExist: true });
    let trades: unknown[][];
    let gaps: unknown[][];
    try {
      trades = [1, 2, 3].flatMap((sid) => {
        const index = messageIndex(db, sid);
        return (
          db
            .prepare(
              `SELECT session_id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq
               FROM trades WHERE session_id = ? ORDER BY id`,
            )
            .raw(true)
            .all(sid) as unknown[][]
        ).map((r) => [r[0], index.get(r[1] as number), ...r.slice(2, 9), r[9] === 1, r[10]]);
      });
      gaps = db
        .prepare('SELECT session_id, reason, start_ts, end_ts, detail FROM gaps ORDER BY id')
        .raw(true)
        .all() as unknown[][];
    } finally {
      db.close();
    }
    expect(trades.length).toBeGreaterThan(50);
    const [[n, minTs, maxTs]] = plain(
      await q(`SELECT count(*), epoch_ms(min(ts)), epoch_ms(max(ts)) FROM ${file('trades.parquet')}`),
    );
    expect([n, minTs, maxTs]).toEqual([
      trades.length,
      trades.reduce((a, r) => Math.min(a, r[4] as number), Infinity),
      trades.reduce((a, r) => Math.max(a, r[4] as number), -Infinity),
    ]);
    const rows = plain(
      await q(`SELECT session_id, msg_index, epoch_ms(recv_ts), epoch_ms(msg_ts), epoch_ms(ts), side, price, size,
        trade_id, block_trade, seq FROM ${file('trades.parquet')} ORDER BY session_id, msg_index, seq, trade_id`),
    );
    expect(rows).toEqual(trades);
    expect(rows.filter((r) => r[0] === 2).at(-1)).toEqual([
      2,
      3,
      T0 + 360,
      T0 + 350,
      T0 + 350,
      'Buy',
      2999.6,
      0.125,
      't-2',
      true,
      505,
    ]);
    const g = plain(
      await q(`SELECT session_id, msg_index, reason, epoch_ms(start_ts), epoch_ms(end_ts), detail
        FROM ${file('gaps.parquet')} ORDER BY session_id, msg_index`),
    );
    expect(g.map((r) => [r[0], ...r.slice(2)])).toEqual(gaps);
    // The gap sits before the resync snapshot (message 2 of session 2).
    expect(g.filter((r) => r[0] === 2)).toEqual([[2, 2, 'disconnect', T0 + 150, T0 + 290, 'socket closed']]);
  });

  it.each([1, 3])(
    'features.parquet holds every row the training dataset takes, with the same values (session %i)',
    async (sid) => {
      const db = openDb(dbFile, { mustExist: true });
      let ds: ReturnType<typeof buildDatasetFromDb>;
      try {
        ds = buildDatasetFromDb(db, [sid], { decisionIntervalMs: 1000, horizonMs: 10_000 });
      } finally {
        db.close();
      }
      expect(ds.nRows).toBeGreaterThan(20);
      if (sid === 3) expect(ds.stats.storedGaps + ds.stats.silences).toBe(2);
      const cols = ['session_id', 'epoch_ms(ts)', ...FEATURE_SET.names.map((n) => `"${n}"`)].join(', ');
      const rows = plain(
        await q(`SELECT ${cols} FROM ${file('features.parquet')} WHERE session_id = ${sid} ORDER BY ts`),
      );
      const byTs = new Map(rows.map((r) => [r[1] as number, r.slice(2) as number[]]));
      for (let i = 0; i < ds.nRows; i++) {
        const got = byTs.get(ds.ts[i]);
        expect(got, `decision time ${ds.ts[i]}`).toBeDefined();
        const want = Array.from(ds.X.subarray(i * ds.nFeatures, (i + 1) * ds.nFeatures));
        expect(got!.map((v) => Math.fround(v))).toEqual(want);
      }
      // Exactly the samples training computes: those it labels plus those whose label it had to drop.
      expect(rows.length).toBe(ds.nRows + ds.stats.droppedForGap + ds.stats.droppedAtEnd);
    },
  );

  it('the book rebuilt from the Parquet rows at a time equals `l2desk book --json` then', async () => {
    const db = openDb(dbFile, { mustExist: true });
    const s = getSession(db, 1)!;
    db.close();
    const span = s.lastRecvTs! - s.firstRecvTs!;
    for (const at of [
      s.firstRecvTs! + Math.floor(span / 3),
      s.firstRecvTs! + Math.floor((2 * span) / 3),
      s.lastRecvTs!,
    ]) {
      const rows = plain(
        await q(`SELECT msg_index, is_snapshot, side, price, size FROM ${file('book_updates.parquet')}
          WHERE session_id = 1 AND epoch_ms(recv_ts) <= ${at} ${BOOK_ORDER}`),
      );
      const bids = new Map<number, number>();
      const asks = new Map<number, number>();
      let lastMsg = -1;
      for (const r of rows) {
        const [msg, snap, side, price, size] = r as [number, boolean, string | null, number, number];
        if (snap && msg !== lastMsg) {
          bids.clear();
          asks.clear();
        }
        lastMsg = msg;
        if (side === null) continue;
        const book = side === 'bid' ? bids : asks;
        if (size === 0) book.delete(price);
        else book.set(price, size);
      }
      const top = (m: Map<number, number>, desc: boolean) =>
        [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, 10);
      const r = await capture(() =>
        runBook(['--db', dbFile, '--session', '1', '--at', String(at), '--json']),
      );
      expect(r.code).toBe(0);
      const cli = JSON.parse(r.log) as { bids: Level[]; asks: Level[] };
      expect(cli.bids.length).toBe(10);
      expect({ bids: top(bids, true), asks: top(asks, false) }).toEqual({ bids: cli.bids, asks: cli.asks });
    }
  });
});

describe('export refuses what it must not do', () => {
  it('a missing session: an error naming it, and no directory', async () => {
    const dest = path.join(dir, 'missing');
    await expect(runExport(['--db', dbFile, '--session', '9', '--out', dest])).rejects.toThrow(
      /no session 9 in .*l2\.db; list sessions with `l2desk db check/,
    );
    await expect(runExport(['--db', dbFile, '--session', 'x', '--out', dest])).rejects.toThrow(UsageError);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('bad options are usage errors', async () => {
    const dest = path.join(dir, 'bad');
    await expect(runExport(['--db', dbFile, '--format', 'csv', '--out', dest])).rejects.toThrow(
      /--format must be parquet, got "csv"/,
    );
    await expect(runExport(['--db', dbFile])).rejects.toThrow(/--out is required/);
    await expect(runExport(['--db', dbFile, '--out', dest, '--row-group', '0'])).rejects.toThrow(UsageError);
    await expect(runExport(['--db', dbFile, '--out', dest, '--decision-interval', 'soon'])).rejects.toThrow(
      UsageError,
    );
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('an existing non-empty --out is refused; --force replaces a previous export only', async () => {
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    const args = ['--db', dbFile, '--session', '2', '--no-features', '--quiet'];
    await expect(runExport([...args, '--out', other])).rejects.toThrow(
      /--out .*other is not empty; .*--force/,
    );
    await expect(runExport([...args, '--out', other, '--force'])).rejects.toThrow(/holds no previous export/);
    expect(fs.readdirSync(other)).toEqual(['notes.txt']);
    const file1 = path.join(dir, 'afile');
    fs.writeFileSync(file1, 'x');
    await expect(runExport([...args, '--out', file1])).rejects.toThrow(/is a file/);

    // An empty directory is fine; a second export over it needs --force and then replaces it whole.
    const dest = path.join(dir, 'again');
    fs.mkdirSync(dest);
    expect((await capture(() => runExport([...args, '--out', dest]))).code).toBe(0);
    fs.writeFileSync(path.join(dest, 'stale.txt'), 'from before');
    await expect(runExport([...args, '--out', dest])).rejects.toThrow(/not empty/);
    const r = await capture(() => runExport([...args, '--out', dest, '--force']));
    expect(r.code).toBe(0);
    expect(r.log).toMatch(/features\.parquet +not written: --no-features/);
    expect(fs.readdirSync(dest).sort()).toEqual([
      'book_updates.parquet',
      'gaps.parquet',
      'manifest.json',
      'trades.parquet',
    ]);
  });

  it('an export cut short leaves no directory and no partial files', async () => {
    const dest = path.join(dir, 'cancelled');
    const abort = new AbortController();
    abort.abort();
    const db = openDb(dbFile, { mustExist: true });
    try {
      await expect(
        writeAtomically(dest, false, EXPORT_FORMAT, (tmp) =>
          exportSessions((id) => readSession(db, id), [getSession(db, 1)!], tmp, {
            decisionIntervalMs: 1000,
            signal: abort.signal,
          }),
        ),
      ).rejects.toThrow(/abort/i);
    } finally {
      db.close();
    }
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
