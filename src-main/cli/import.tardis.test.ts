// `import` of Tardis.dev CSV datasets: the real Bybit recording rewritten as Tardis incremental_book_L2 rows (its
// snapshot and deltas), trades rows and book_snapshot_25 rows. The stored sessions must rebuild the same book as
// the original file after every message, with the same trades; a second snapshot run resets the book (checked
// against an independent fold of the rows); bad rows and headers are reported by line; .gz input works.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BookMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt } from './book.ts';
import { datasetFromDb } from '../model/trainPipeline.ts';
import { importFiles, run as runImport } from './import.ts';

const BOOK_HEADER = 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount';
const TRADES_HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const N = 25;
const SNAP_HEADER =
  'exchange,symbol,timestamp,local_timestamp,' +
  Array.from(
    { length: N },
    (_, i) => `asks[${i}].price,asks[${i}].amount,bids[${i}].price,bids[${i}].amount`,
  ).join(',');

type Lv = [number, number];
interface Raw {
  topic: string;
  type: string;
  ts: number;
  data: { b: string[][]; a: string[][] } | { T: number; S: string; v: string; p: string; i: string }[];
}
/** One book update as Tardis rows it: exchange and receive time in ms; levels as the recording's strings. */
interface Update {
  snapshot: boolean;
  ts: number;
  local: number;
  bids: string[][];
  asks: string[][];
}

// Tardis writes plain numbers ("65114.2", not "65114.20"); sub-millisecond digits must be floored away.
const num = (s: string) => String(Number(s));
const bookRows = (us: Update[], symbol = 'BTCUSDT') =>
  us.flatMap((u) =>
    (
      [
        ['bid', u.bids],
        ['ask', u.asks],
      ] as const
    ).flatMap(([side, levels]) =>
      levels.map(
        ([p, s]) => `bybit,${symbol},${u.ts}999,${u.local}500,${u.snapshot},${side},${num(p)},${num(s)}`,
      ),
    ),
  );

let dir: string;
let raws: Raw[];
let updates: Update[];
let tradeRows: string[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-tardis-'));
  raws = fs
    .readFileSync(REC, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Raw);
  updates = [];
  tradeRows = [];
  for (const r of raws) {
    if (r.topic.startsWith('orderbook.')) {
      const d = r.data as { b: string[][]; a: string[][] };
      updates.push({ snapshot: r.type === 'snapshot', ts: r.ts, local: r.ts, bids: d.b, asks: d.a });
    } else
      for (const t of r.data as { T: number; S: string; v: string; p: string; i: string }[])
        tradeRows.push(
          `bybit,BTCUSDT,${t.T}123,${r.ts}456,${t.i},${t.S.toLowerCase()},${num(t.p)},${num(t.v)}`,
        );
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: string[], gz = name.endsWith('.gz')): string {
  const file = path.join(dir, name);
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(file, gz ? zlib.gzipSync(text) : text);
  return file;
}

/** A session replayed through the book: after each book message its kind, times and top N; trades by content. */
function replay(db: Db, sid: number) {
  const s = getSession(db, sid)!;
  const seq = new SequencedBook(new TickScale(s.tickSize));
  const out: unknown[] = [];
  for (const e of readSession(db, sid)) {
    if (e.kind === 'gap') out.push({ gap: e.gap.reason });
    else if (e.kind === 'trades')
      out.push({ trades: e.trades.map((t) => [t.ts, t.id, t.side, t.price, t.size]) });
    else {
      const r = seq.apply(e);
      out.push({
        type: e.type,
        ts: e.ts,
        recvTs: e.recvTs,
        status: r.status,
        valid: seq.valid,
        bids: seq.book.levels('bid', N),
        asks: seq.book.levels('ask', N),
      });
    }
  }
  return out;
}

const books = (db: Db, sid: number) =>
  [...readSession(db, sid)].filter((e): e is BookMessage => e.kind === 'book');

/** Independent reference: a Map fold of the updates (a snapshot run after deltas clears); top N after each. */
function fold(us: Update[]): { bids: Lv[]; asks: Lv[] }[] {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let inSnapshot = false;
  const top = (m: Map<number, number>, desc: boolean): Lv[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, N);
  return us.map((u) => {
    if (u.snapshot && !inSnapshot) {
      bids.clear();
      asks.clear();
    }
    inSnapshot = u.snapshot;
    for (const [m, levels] of [
      [bids, u.bids],
      [asks, u.asks],
    ] as const)
      for (const [p, s] of levels) {
        if (Number(s) === 0) m.delete(Number(p));
        else m.set(Number(p), Number(s));
      }
    return { bids: top(bids, true), asks: top(asks, false) };
  });
}

describe('import of Tardis.dev CSV datasets', () => {
  it('incremental_book_L2 (.gz) + trades rebuild the same book after every message, with the same trades', async () => {
    const book = write('bybit_incremental_book_L2_2026-08-09_BTCUSDT.csv.gz', [
      BOOK_HEADER,
      ...bookRows(updates),
    ]);
    const trades = write('bybit_trades_2026-08-09_BTCUSDT.csv', [TRADES_HEADER, ...tradeRows]);
    const db = openDb(path.join(dir, 'same.db'));
    try {
      const orig = (await importFiles(db, [REC], { category: 'spot' })).sessions[0].sessionId;
      const res = await importFiles(db, [book], { category: 'spot', trades });
      expect(res.badLines).toBe(0);
      expect(res.trades).toEqual({
        file: trades,
        rows: 56,
        badRows: 0,
        order: 'ascending',
        merged: 56,
        outsideSpan: 0,
        otherSymbols: {},
        bookFileTradeMessages: 0,
      });
      expect(res.sessions).toHaveLength(1);
      const sid = res.sessions[0].sessionId;
      const s = getSession(db, sid)!;
      // The exchange id says linear (bybit), whatever the default category.
      expect(s).toMatchObject({
        symbol: 'BTCUSDT',
        category: 'linear',
        depth: 200,
        tickSize: '0.1',
        bookMessages: 414,
        trades: 56,
        gaps: 0,
      });
      expect(s.meta).toMatchObject({
        format: 'tardis incremental_book_L2',
        exchange: 'bybit',
        importedFrom: book,
      });
      const a = replay(db, orig);
      const b = replay(db, sid);
      expect(a.filter((e) => (e as { status?: string }).status === 'applied')).toHaveLength(414);
      expect(b).toEqual(a);
      // Synthetic update ids: a snapshot at 1, then consecutive.
      expect(books(db, sid).map((m) => m.u)).toEqual(Array.from({ length: 414 }, (_, i) => i + 1));
      const end = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 1))!;
      expect([end.bids[0], end.asks[0]]).toEqual([
        [65114.2, 5.974],
        [65114.3, 9.06],
      ]);
    } finally {
      db.close();
    }
  });

  it('a second snapshot run mid-file (under two timestamps) resets the book and is stored as a restart', async () => {
    const k = 200;
    const before = fold(updates.slice(0, k));
    const last = before[before.length - 1];
    // The recorder reconnected: a fresh snapshot of a different book (some levels gone, one size changed), sent
    // as two runs of rows with later timestamps; the deltas then go on.
    const t = updates[k].ts;
    const snapBids = last.bids.slice(3).map(([p, s], i) => [String(p), String(i === 0 ? s + 1 : s)]);
    const snapAsks = last.asks.slice(0, 20).map(([p, s]) => [String(p), String(s)]);
    const us: Update[] = [
      ...updates.slice(0, k),
      { snapshot: true, ts: t, local: t, bids: snapBids, asks: [] },
      { snapshot: true, ts: t + 1, local: t + 1, bids: [], asks: snapAsks },
      ...updates.slice(k).map((u) => ({ ...u, ts: u.ts + 1, local: u.local + 1 })),
    ];
    const file = write('restart.csv', [BOOK_HEADER, ...bookRows(us)]);
    const db = openDb(path.join(dir, 'restart.db'));
    try {
      const res = await importFiles(db, [file], { category: 'linear' });
      expect(res.badLines).toBe(0);
      const sid = res.sessions[0].sessionId;
      expect(getSession(db, sid)).toMatchObject({ bookMessages: us.length, gaps: 1 });
      const ev = replay(db, sid) as {
        gap?: string;
        bids?: Lv[];
        asks?: Lv[];
        valid?: boolean;
        type?: string;
      }[];
      // The restart is stored where the new snapshot arrived, with the line its first row was on.
      expect(ev[k]).toEqual({ gap: 'restart' });
      const gap = [...readSession(db, sid)].find((e) => e.kind === 'gap');
      const line = 2 + bookRows(updates.slice(0, k)).length;
      expect(gap).toMatchObject({
        gap: {
          reason: 'restart',
          detail: `new snapshot after ${k - 1} updates (line ${line}): the recorder reconnected`,
        },
      });
      const bookEv = ev.filter((e) => !e.gap);
      const ref = fold(us);
      expect(bookEv.map((e) => ({ bids: e.bids, asks: e.asks }))).toEqual(ref);
      expect(bookEv.every((e) => e.valid)).toBe(true);
      // The reset dropped the best three bids; the book after it is the snapshot's.
      expect(bookEv[k].type).toBe('snapshot');
      expect(bookEv[k + 1].bids).toEqual(snapBids.slice(0, N).map(([p, s]) => [Number(p), Number(s)]));
      expect(bookEv[k + 1].asks).toEqual(snapAsks.map(([p, s]) => [Number(p), Number(s)]));
      expect(bookEv[k - 1].bids?.[0]).toEqual(last.bids[0]);
      expect(bookEv[k + 1].bids?.[0]).toEqual(last.bids[3].map((x, i) => (i === 1 ? x + 1 : x)));
    } finally {
      db.close();
    }
  });

  it('book_snapshot_25 rows: a snapshot, then the delta from each row to the next, rebuilding every row exactly; one session per symbol', async () => {
    // The top 25 of the real book after each message, as book_snapshot_25 rows; interleaved with a second symbol.
    const tops = fold(updates);
    const row = (i: number, symbol: string) =>
      [
        'bybit',
        symbol,
        `${updates[i].ts}250`,
        `${updates[i].local}750`,
        ...Array.from({ length: N }, (_, j) => [
          tops[i].asks[j]?.[0] ?? '',
          tops[i].asks[j]?.[1] ?? '',
          tops[i].bids[j]?.[0] ?? '',
          tops[i].bids[j]?.[1] ?? '',
        ]).flat(),
      ].join(',');
    const rows = updates.flatMap((_, i) => [row(i, 'BTCUSDT'), ...(i % 2 === 0 ? [row(i, 'BTCPERP')] : [])]);
    const file = write('bybit_book_snapshot_25_2026-08-09.csv', [SNAP_HEADER, ...rows]);
    const db = openDb(path.join(dir, 'snap.db'));
    try {
      const res = await importFiles(db, [file], { category: 'linear' });
      expect(res.badLines).toBe(0);
      expect(res.sessions.map((s) => [s.symbol, s.depth, s.tickSize, s.bookMessages, s.gaps])).toEqual([
        ['BTCUSDT', 25, '0.1', 414, 0],
        ['BTCPERP', 25, '0.1', 207, 0],
      ]);
      // The book after each stored message is that row's top 25: a snapshot, then deltas (a snapshot per row would
      // be a resync per row, leaving the dataset builder and the engine nothing to warm up on).
      const replay = (sid: number) => {
        const msgs = books(db, sid);
        const sb = new SequencedBook(new TickScale('0.1'));
        const got = msgs.map((m) => {
          expect(sb.apply(m).status).toBe('applied');
          expect(sb.valid).toBe(true);
          return { bids: sb.book.levels('bid', N), asks: sb.book.levels('ask', N) };
        });
        return { msgs, got };
      };
      const main = replay(res.sessions[0].sessionId);
      expect(main.msgs.map((m) => m.type)).toEqual(['snapshot', ...Array(413).fill('delta')]);
      expect(main.msgs.every((m) => m.depth === 25)).toBe(true);
      expect(main.msgs.map((m) => m.u)).toEqual(Array.from({ length: 414 }, (_, i) => i + 1));
      expect(main.got).toEqual(tops);
      expect(main.msgs.map((m) => m.ts)).toEqual(updates.map((u) => u.ts));
      expect(replay(res.sessions[1].sessionId).got).toEqual(tops.filter((_, i) => i % 2 === 0));
      expect(getSession(db, res.sessions[1].sessionId)!.meta).toMatchObject({
        format: 'tardis book_snapshot_25',
      });
    } finally {
      db.close();
    }
    // Train and backtest can use it: the dataset builder finds samples (it restarts its warm-up at every snapshot).
    const ds = datasetFromDb({
      dbFile: path.join(dir, 'snap.db'),
      sessionIds: [1],
      decisionIntervalMs: 100,
      horizonMs: 1000,
    });
    expect(ds.nRows).toBeGreaterThan(50);
  });

  it('a file of several symbols gives one session per symbol, each rebuilding its own book', async () => {
    // Updates of two symbols interleaved (each update's rows stay together), the second a little later in time.
    const perp = updates.map((u) => ({ ...u, ts: u.ts + 3, local: u.local + 3 }));
    const rows = updates.flatMap((u, i) => [...bookRows([u]), ...bookRows([perp[i]], 'BTCPERP')]);
    const file = write('two.csv', [BOOK_HEADER, ...rows]);
    const db = openDb(path.join(dir, 'two.db'));
    try {
      const orig = (await importFiles(db, [REC], { category: 'linear' })).sessions[0].sessionId;
      const res = await importFiles(db, [file], { category: 'linear' });
      expect(res.badLines).toBe(0);
      expect(res.sessions.map((s) => [s.symbol, s.depth, s.bookMessages, s.gaps])).toEqual([
        ['BTCUSDT', 200, 414, 0],
        ['BTCPERP', 200, 414, 0],
      ]);
      const want = replay(db, orig).filter((e) => !(e as { trades?: unknown }).trades);
      expect(replay(db, res.sessions[0].sessionId)).toEqual(want);
      const shifted = want.map((e) => ({
        ...(e as object),
        ts: (e as { ts: number }).ts + 3,
        recvTs: (e as { recvTs: number }).recvTs + 3,
      }));
      expect(replay(db, res.sessions[1].sessionId)).toEqual(shifted);
    } finally {
      db.close();
    }
  });

  it('reports bad rows with their line numbers and skips them; the book is unharmed; a cut .gz drops its last update', async () => {
    const rows = bookRows(updates);
    const bad = [
      'bybit,BTCUSDT,1786310818140999,1786310818140500,false,bid,abc,1',
      'bybit,BTCUSDT,1786310818140999,1786310818140500,no,bid,65000.1,1',
      'bybit,BTCUSDT,1786310818140999',
      'okx,BTCUSDT,1786310818140999,1786310818140500,false,bid,65000.1,1',
      BOOK_HEADER,
    ];
    // After the snapshot (rows 2-401) and the first delta: every bad row lies between two updates.
    const firstDelta = 400 + updates[1].bids.length + updates[1].asks.length;
    const withBad = [...rows.slice(0, firstDelta), ...bad, ...rows.slice(firstDelta)];
    const file = write('bad.csv', [BOOK_HEADER, ...withBad]);
    const db = openDb(path.join(dir, 'bad.db'));
    try {
      const orig = (await importFiles(db, [REC], { category: 'linear' })).sessions[0].sessionId;
      const res = await importFiles(db, [file], { category: 'linear' });
      const at = firstDelta + 2;
      expect(res.listedBadLines.map((b) => [b.line, b.reason.split(' ').slice(0, 2).join(' ')])).toEqual([
        [at, 'bad price'],
        [at + 1, 'bad is_snapshot'],
        [at + 2, 'expected 8'],
        [at + 3, 'exchange "okx"'],
        [at + 4, 'a header'],
      ]);
      expect(res.listedBadLines.every((b) => b.source === file)).toBe(true);
      const strip = (ev: unknown[]) => ev.filter((e) => !(e as { trades?: unknown }).trades);
      expect(replay(db, res.sessions[0].sessionId)).toEqual(strip(replay(db, orig)));

      // A .gz cut short: whole rows before the cut are kept, the update they may belong to is dropped.
      const gz = zlib.gzipSync([BOOK_HEADER, ...rows].join('\n') + '\n');
      const cut = write('cut.csv.gz', [], false);
      fs.writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.6)));
      const r2 = await importFiles(db, [cut], { category: 'linear' });
      const s2 = r2.sessions[0];
      expect(s2.bookMessages).toBeGreaterThan(1);
      expect(s2.bookMessages).toBeLessThan(414);
      expect(r2.listedBadLines).toEqual([
        {
          source: cut,
          line: expect.any(Number),
          reason: expect.stringMatching(
            /^cannot read past line \d+: .*\(the update from line \d+ on was dropped/,
          ),
        },
      ]);
      expect(replay(db, s2.sessionId)).toEqual(strip(replay(db, orig)).slice(0, s2.bookMessages));
    } finally {
      db.close();
    }
  });

  it('refuses other Tardis datasets and trades given alone; the CLI imports and reports a Tardis pair', async () => {
    const db = openDb(path.join(dir, 'refuse.db'));
    try {
      const quotes = write('quotes.csv', [
        'exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount',
        'bybit,BTCUSDT,1786310818140999,1786310818140500,1,65000.2,65000.1,2',
      ]);
      const asBook = write('trades.txt', [TRADES_HEADER, ...tradeRows]);
      const res = await importFiles(db, [quotes, asBook], { category: 'linear' });
      expect(res.sessions).toEqual([]);
      expect(res.listedBadLines).toEqual([
        {
          source: quotes,
          line: 1,
          reason: expect.stringMatching(/other than incremental_book_L2.*not imported$/),
        },
        { source: asBook, line: 1, reason: expect.stringMatching(/Tardis trades CSV: .*--trades/) },
      ]);
    } finally {
      db.close();
    }
    const dbFile = path.join(dir, 'cli.db');
    const trades = write('t.csv.gz', [
      TRADES_HEADER,
      ...tradeRows,
      tradeRows[55].replace(/,(buy|sell),/, ',unknown,'),
    ]);
    await expect(runImport(['--db', dbFile, trades])).rejects.toThrow(
      /looks like a Tardis trades CSV.*--trades/,
    );
    const book = write('b.csv.gz', [BOOK_HEADER, ...bookRows(updates)]);
    const out: string[] = [];
    const errs: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    const err = vi.spyOn(console, 'error').mockImplementation((s: string) => void errs.push(s));
    try {
      expect(await runImport(['--db', dbFile, '--quiet', book, '--trades', trades])).toBe(0);
      expect(await runImport(['--db', dbFile, '--quiet', book, '--trades', book])).toBe(1);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(out[0]).toMatch(
      /BTCUSDT from b\.csv\.gz: depth 200, tick 0\.1, 414 book \+ \d+ trade messages, 0 gaps/,
    );
    expect(errs.join('\n')).toMatch(/56 trades merged, .*1 trade of unknown side skipped/);
    expect(errs.join('\n')).toMatch(/a Tardis incremental_book_L2 CSV, not trades/);
  });
});
