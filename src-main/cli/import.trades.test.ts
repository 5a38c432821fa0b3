// `import BOOK_FILE --trades TRADES_CSV`: the real recording's publicTrade messages rewritten as Bybit's trade
// archive CSV, merged into its book lines (trade lines removed). The session must replay the same trades in
// time order among the book messages, and the features computed over it must equal the original file's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { featureIndex } from '../features/featureSet.ts';
import { buildDataset } from '../model/dataset.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { importFiles, run as runImport } from './import.ts';

interface RawTrade {
  T: number;
  s: string;
  S: string;
  v: string;
  p: string;
  L: string;
  i: string;
}
const HEADER =
  'timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional';

/** One archive row: timestamp in seconds with a fraction, as public.bybit.com/trading writes it. */
const csvRow = (t: RawTrade, ts = t.T) =>
  [
    (ts / 1000).toFixed(4),
    t.s,
    t.S,
    t.v,
    t.p,
    t.L,
    t.i,
    Math.round(Number(t.p) * Number(t.v) * 1e8),
    t.v,
    (Number(t.p) * Number(t.v)).toFixed(8),
  ].join(',');

let dir: string;
let rec: string[];
let bookLines: string[];
let trades: RawTrade[];
let firstTs: number;
let lastTs: number;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-trades-'));
  rec = fs
    .readFileSync(REC, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  bookLines = rec.filter((l) => !l.includes('"publicTrade.'));
  trades = rec
    .filter((l) => l.includes('"publicTrade.'))
    .flatMap((l) => (JSON.parse(l) as { data: RawTrade[] }).data);
  firstTs = (JSON.parse(bookLines[0]) as { ts: number }).ts;
  lastTs = (JSON.parse(bookLines[bookLines.length - 1]) as { ts: number }).ts;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: string[], gz = false): string {
  const file = path.join(dir, name);
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(file, gz ? zlib.gzipSync(text) : text);
  return file;
}

/** Events in a comparable form: trades by what the exchange said of them (message stamps aside). */
function comparable(db: Db, sid: number) {
  return [...readSession(db, sid)].map((e: StoredEvent) =>
    e.kind === 'trades'
      ? {
          kind: e.kind,
          trades: e.trades.map((t) => ({ ts: t.ts, id: t.id, price: t.price, size: t.size, side: t.side })),
        }
      : e,
  );
}

function dataset(db: Db, sid: number) {
  const s = getSession(db, sid)!;
  return buildDataset([{ sessionId: sid, tickSize: s.tickSize, events: readSession(db, sid) }], {
    decisionIntervalMs: 100,
    horizonMs: 1000,
  });
}

describe('import --trades: a Bybit trade CSV merged into an order-book file', () => {
  it('replays the same trades, in time order among the book messages, with equal features', async () => {
    const book = write('book.jsonl', bookLines);
    const csv = write('BTCUSDT2026-08-09.csv', [HEADER, ...trades.map((t) => csvRow(t))]);
    const db = openDb(path.join(dir, 'merge.db'));
    try {
      const orig = (await importFiles(db, [REC], { category: 'linear' })).sessions[0].sessionId;
      const bare = (await importFiles(db, [book], { category: 'linear' })).sessions[0].sessionId;
      const res = await importFiles(db, [book], { category: 'linear', trades: csv });
      expect(res.badLines).toBe(0);
      expect(res.trades).toEqual({
        file: csv,
        rows: 56,
        badRows: 0,
        order: 'ascending',
        merged: 56,
        outsideSpan: 0,
        otherSymbols: {},
        bookFileTradeMessages: 0,
      });
      const merged = res.sessions[0].sessionId;
      expect(getSession(db, merged)).toMatchObject({ bookMessages: 414, trades: 56, gaps: 0 });
      expect(getSession(db, merged)!.meta).toMatchObject({ tradesImportedFrom: csv });

      // Same events in the same order: trades with their ids, prices, sizes, sides and fill times.
      expect(comparable(db, merged)).toEqual(comparable(db, orig));
      // And in an order consistent with time: each trade after the book messages up to its fill time, before later ones.
      const ev = [...readSession(db, merged)].filter((e): e is MarketMessage => e.kind !== 'gap');
      ev.forEach((e, i) => {
        if (e.kind !== 'trades') return;
        const T = e.trades[0].ts;
        expect(e.ts).toBe(T);
        const prev = ev
          .slice(0, i)
          .reverse()
          .find((x) => x.kind === 'book');
        const next = ev.slice(i + 1).find((x) => x.kind === 'book');
        if (prev) expect(prev.ts).toBeLessThanOrEqual(T);
        if (next) expect(next.ts).toBeGreaterThan(T);
      });

      // Features over the merged session equal the original's; without the trades they do not.
      const a = dataset(db, orig);
      const b = dataset(db, merged);
      const c = dataset(db, bare);
      expect(a.nRows).toBeGreaterThan(50);
      expect(b.nRows).toBe(a.nRows);
      expect(b.ts).toEqual(a.ts);
      expect(b.y).toEqual(a.y);
      expect(b.X).toEqual(a.X);
      const rate = featureIndex('trade_rate_30s');
      expect(Array.from({ length: a.nRows }, (_, r) => a.X[r * a.nFeatures + rate]).some((v) => v > 0)).toBe(
        true,
      );
      expect(c.X).not.toEqual(a.X);
    } finally {
      db.close();
    }
  });

  it('drops and counts trades outside the book span and of other symbols; bad rows by line; either time order; .gz', async () => {
    const t = (i: number) => csvRow(trades[i]);
    const eth = (i: number) => csvRow({ ...trades[i], s: 'ETHUSDT', i: `eth-${i}` });
    const rows = [
      csvRow(trades[0], firstTs - 2000), // before the book data: dropped
      ...trades.slice(0, 10).map((_, i) => t(i)),
      eth(10),
      ...trades.slice(10, 30).map((_, i) => t(10 + i)),
      eth(30),
      eth(31),
      ...trades.slice(30).map((_, i) => t(30 + i)),
      csvRow(trades[55], lastTs + 3000), // after it: dropped
    ];
    const bad = [
      `${(trades[20].T / 1000).toFixed(3)},BTCUSDT,Hold,0.1,65000.1,ZeroPlusTick,bad-side,1,0.1,6500`,
      `soon,BTCUSDT,Buy,0.1,65000.1,ZeroPlusTick,bad-ts,1,0.1,6500`,
      `${(trades[20].T / 1000).toFixed(3)},BTCUSDT,Buy,0.1,-3,ZeroPlusTick,bad-price,1,0.1,6500`,
      `${(trades[20].T / 1000).toFixed(3)},BTCUSDT,Buy`,
    ];
    // Bad rows sit after the 21st data row: file lines 23-26 (the header is line 1, the dropped row line 2).
    const withBad = [...rows.slice(0, 21), ...bad, ...rows.slice(21)];
    const asc = write('asc.csv', [HEADER, ...withBad]);
    const desc = write('desc.csv.gz', [HEADER, ...[...withBad].reverse()], true);
    // The book file keeps its own trade lines: with --trades they are ignored, not doubled.
    const db = openDb(path.join(dir, 'drops.db'));
    try {
      const sessions: number[] = [];
      for (const file of [asc, desc]) {
        const res = await importFiles(db, [REC], { category: 'linear', trades: file });
        expect(res.trades).toMatchObject({
          order: file === asc ? 'ascending' : 'descending',
          rows: 56 + 2 + 3,
          badRows: 4,
          merged: 56,
          outsideSpan: 2,
          otherSymbols: { ETHUSDT: 3 },
          bookFileTradeMessages: 16,
        });
        const lines = res.listedBadLines.map((b) => [b.line, b.reason.split(' ').slice(0, 2).join(' ')]);
        const n = withBad.length + 1;
        // Descending: the same rows, counted from the other end of the file.
        const at = (l: number) => (file === asc ? l : n + 2 - l);
        expect(lines).toEqual(
          expect.arrayContaining([
            [at(23), 'bad side'],
            [at(24), 'bad timestamp'],
            [at(25), 'bad price'],
            [at(26), 'expected 10'],
          ]),
        );
        expect(res.listedBadLines.every((b) => b.source.startsWith(file))).toBe(true);
        const sid = res.sessions[0].sessionId;
        expect(getSession(db, sid)).toMatchObject({ bookMessages: 414, trades: 56 });
        sessions.push(sid);
      }
      expect(comparable(db, sessions[1])).toEqual(comparable(db, sessions[0]));
    } finally {
      db.close();
    }
  });

  it('a row out of the file time order is reported and skipped', async () => {
    const rows = trades.map((t) => csvRow(t));
    rows.splice(40, 0, csvRow(trades[3], trades[3].T)); // an early trade again, out of order (a new id below)
    rows[40] = rows[40].replace(trades[3].i, 'late-row');
    const csv = write('order.csv', [HEADER, ...rows]);
    const db = openDb(path.join(dir, 'order.db'));
    try {
      const res = await importFiles(db, [write('b2.jsonl', bookLines)], { category: 'linear', trades: csv });
      expect(res.listedBadLines).toEqual([
        { source: csv, line: 42, reason: expect.stringMatching(/out of the file's ascending time order/) },
      ]);
      expect(res.trades).toMatchObject({ merged: 56, badRows: 1 });
    } finally {
      db.close();
    }
  });

  it('refuses a CSV with a wrong header, or given without its book file; the CLI reports the merge', async () => {
    const db = openDb(path.join(dir, 'refuse.db'));
    const wrong = write('wrong.csv', ['time,sym,side,qty,px', '1786310819.68,BTCUSDT,Buy,0.1,65000']);
    try {
      const res = await importFiles(db, [REC], { category: 'linear', trades: wrong });
      expect(res.sessions).toEqual([]);
      expect(res.tradesRejected).toMatch(/not a Bybit trade CSV/);
      expect(res.listedBadLines).toEqual([
        {
          source: wrong,
          line: 1,
          reason: expect.stringMatching(/^not a Bybit trade CSV header \(missing timestamp/),
        },
      ]);
    } finally {
      db.close();
    }
    const csv = write('cli.csv.gz', [HEADER, ...trades.map((t) => csvRow(t))], true);
    const dbFile = path.join(dir, 'cli.db');
    await expect(runImport(['--db', dbFile, '--trades', csv])).rejects.toThrow(
      /--trades .*needs the order-book file to merge into: l2desk import BOOK_FILE --trades/,
    );
    await expect(runImport(['--db', dbFile, csv])).rejects.toThrow(/looks like a Bybit trade CSV.*--trades/);
    // A CSV under another name is caught at its first line instead of 56 bad lines.
    const disguised = write('trades.txt', [HEADER, ...trades.map((t) => csvRow(t))]);
    const db2 = openDb(path.join(dir, 'disguised.db'));
    try {
      const res = await importFiles(db2, [disguised], { category: 'linear' });
      expect(res.listedBadLines).toEqual([
        { source: disguised, line: 1, reason: expect.stringMatching(/--trades/) },
      ]);
    } finally {
      db2.close();
    }
    const out: string[] = [];
    const errs: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    const err = vi.spyOn(console, 'error').mockImplementation((s: string) => void errs.push(s));
    try {
      expect(
        await runImport(['--db', dbFile, '--quiet', write('cli-book.jsonl', bookLines), '--trades', csv]),
      ).toBe(0);
      expect(await runImport(['--db', dbFile, '--quiet', REC, '--trades', wrong])).toBe(1);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(out[0]).toMatch(/depth 200, tick 0\.1, 414 book \+ 16 trade messages, 0 gaps/);
    expect(errs.join('\n')).toMatch(
      /trades from cli\.csv\.gz \(ascending\): 56 trades merged, 0 outside the book data's time span dropped/,
    );
    expect(errs.join('\n')).toMatch(/--trades .*wrong\.csv: .*not a Bybit trade CSV; nothing imported/);
  });
});
