// The Tardis.dev CSV readers on their own: headers told apart, exact µs → ms flooring, rows grouped into
// updates, a snapshot run (even under several timestamps) as one snapshot, a new run after deltas as a u = 1
// restart, book_snapshot_N rows as depth-N snapshots, and the trades feed reading a Tardis trades CSV.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Level, TradeMessage } from '../../src-shared/market.ts';
import { levelDiff, TardisBookReader, type TardisBad, type TardisMessage } from './tardisBook.ts';
import {
  microsToMs,
  parseTardisHeader,
  parseTardisTradeRow,
  TARDIS_INCREMENTAL_HEADER,
  TARDIS_TRADES_HEADER,
} from './tardisFormat.ts';
import { TradeCsvFeed, tradeCsvKind, type CsvBadRow } from './tradeCsv.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2tardis-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SNAP5 =
  'exchange,symbol,timestamp,local_timestamp,' +
  Array.from(
    { length: 5 },
    (_, i) => `asks[${i}].price,asks[${i}].amount,bids[${i}].price,bids[${i}].amount`,
  ).join(',');

/** Feeds lines 2.. of a file to a reader; the messages it completes and the bad rows it reports. */
function read(header: string, rows: string[]): { msgs: TardisMessage[]; bad: TardisBad[] } {
  const h = parseTardisHeader(header);
  if (!h || (h.kind !== 'incremental_book_L2' && h.kind !== 'book_snapshot'))
    throw new Error('not a book header');
  const bad: TardisBad[] = [];
  const r = new TardisBookReader(h, (b) => bad.push(b));
  const msgs: TardisMessage[] = [];
  rows.forEach((row, i) => {
    const m = r.row(row, i + 2);
    if (m) msgs.push(m);
  });
  const last = r.end(true).last;
  if (last) msgs.push(last);
  return { msgs, bad };
}

const row = (ts: number, snap: boolean, side: string, price: string, amount: string, symbol = 'BTCUSDT') =>
  `bybit,${symbol},${ts}999,${ts}500,${snap},${side},${price},${amount}`;

describe('Tardis formats', () => {
  it('tells the datasets apart by their header', () => {
    expect(parseTardisHeader(TARDIS_INCREMENTAL_HEADER)?.kind).toBe('incremental_book_L2');
    expect(parseTardisHeader(`\uFEFF${TARDIS_INCREMENTAL_HEADER}\r`)?.kind).toBe('incremental_book_L2');
    expect(parseTardisHeader(TARDIS_TRADES_HEADER)?.kind).toBe('trades');
    expect(parseTardisHeader(SNAP5)).toMatchObject({ kind: 'book_snapshot', depth: 5 });
    const snap = parseTardisHeader(SNAP5);
    if (snap?.kind !== 'book_snapshot') throw new Error('expected a snapshot header');
    expect(snap.cols.asks[0]).toEqual([4, 5]);
    expect(snap.cols.bids[4]).toEqual([22, 23]);
    expect(
      parseTardisHeader(
        'exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount',
      ),
    ).toMatchObject({ kind: 'unsupported', reason: expect.stringMatching(/other than incremental_book_L2/) });
    expect(parseTardisHeader('timestamp,symbol,side,size,price')).toBeUndefined();
    expect(parseTardisHeader('{"topic":"orderbook.200.BTCUSDT"}')).toBeUndefined();
  });

  it('floors microseconds to whole ms exactly and rejects anything else', () => {
    expect(microsToMs('1786310818129999')).toBe(1786310818129);
    expect(microsToMs('1786310818129000')).toBe(1786310818129);
    expect(microsToMs('9007199254740991')).toBe(9007199254740);
    for (const bad of ['', '-1786310818129000', '1786310818129.5', '1e15', '0000', 'abc'])
      expect(microsToMs(bad)).toBeUndefined();
  });

  it('groups the rows of one update; a snapshot run is one snapshot; a run after deltas restarts at u = 1', () => {
    const { msgs, bad } = read(TARDIS_INCREMENTAL_HEADER, [
      row(1000, false, 'bid', '99', '1'), // before any snapshot: skipped, reported once
      row(1001, false, 'bid', '99', '2'),
      row(1002, true, 'bid', '100', '1'),
      row(1002, true, 'ask', '101', '2'),
      row(1002, true, 'bid', '99.5', '3'),
      row(1003, true, 'ask', '102', '4'), // the same run under a later timestamp: continues the snapshot
      row(1004, false, 'ask', '101', '0'),
      row(1004, false, 'bid', '100.5', '1.5'),
      row(1005, false, 'bid', '100', '0'),
      row(1006, true, 'bid', '98', '1'), // a new run after deltas: a new snapshot
      row(1006, true, 'ask', '103', '1'),
      row(1007, false, 'ask', '103', '2'),
    ]);
    expect(bad).toEqual([
      { line: 2, reason: expect.stringMatching(/BTCUSDT before its first snapshot skipped/) },
    ]);
    const brief = msgs.map(({ msg: m, line }) => [
      line,
      m.type,
      m.u,
      m.depth,
      m.ts,
      m.recvTs,
      m.bids,
      m.asks,
    ]);
    expect(brief).toEqual([
      [
        4,
        'snapshot',
        1,
        2,
        1002,
        1002,
        [
          [100, 1],
          [99.5, 3],
        ],
        [[101, 2]],
      ],
      [7, 'delta', 2, 2, 1003, 1003, [], [[102, 4]]],
      [8, 'delta', 3, 2, 1004, 1004, [[100.5, 1.5]], [[101, 0]]],
      [10, 'delta', 4, 2, 1005, 1005, [[100, 0]], []],
      [11, 'snapshot', 1, 2, 1006, 1006, [[98, 1]], [[103, 1]]],
      [13, 'delta', 2, 2, 1007, 1007, [], [[103, 2]]],
    ]);
    expect(msgs.every((m) => m.msg.cts === 0 && m.msg.seq === 0 && m.msg.symbol === 'BTCUSDT')).toBe(true);
  });

  it('keeps symbols apart, reports bad rows and a second exchange by line, drops a cut last update', () => {
    const rows = [
      row(2000, true, 'bid', '10', '1', 'ETHUSDT'),
      row(2000, true, 'ask', '11', '1', 'ETHUSDT'),
      row(2000, true, 'bid', '100', '1'),
      row(2000, true, 'ask', '101', '1'),
      row(2001, false, 'bid', '10', '5', 'ETHUSDT'),
      row(2001, false, 'hold', '10', '5', 'ETHUSDT'),
      row(2001, false, 'bid', '-10', '5', 'ETHUSDT'),
      row(2001, 'maybe' as unknown as boolean, 'bid', '10', '5', 'ETHUSDT'),
      row(2001, false, 'bid', '10', 'x', 'ETHUSDT'),
      'bybit,ETHUSDT,soon,2001500,false,bid,10,5',
      'bybit,ETHUSDT,2001999',
      TARDIS_INCREMENTAL_HEADER,
      row(2001, false, 'bid', '10', '5', 'ETHUSDT').replace('bybit', 'binance'),
      row(2002, false, 'ask', '101', '3'),
    ];
    const { msgs, bad } = read(TARDIS_INCREMENTAL_HEADER, rows);
    expect(bad.map((b) => [b.line, b.reason.split(' ').slice(0, 2).join(' ')])).toEqual([
      [7, 'bad side'],
      [8, 'bad price'],
      [9, 'bad is_snapshot'],
      [10, 'bad amount'],
      [11, 'bad timestamp'],
      [12, 'expected 8'],
      [13, 'a header'],
      [14, 'exchange "binance"'],
    ]);
    expect(
      msgs.map((m) => [m.msg.symbol, m.msg.type, m.msg.u, m.msg.bids.length + m.msg.asks.length]),
    ).toEqual([
      ['ETHUSDT', 'snapshot', 1, 2],
      ['BTCUSDT', 'snapshot', 1, 2],
      ['ETHUSDT', 'delta', 2, 1],
      ['BTCUSDT', 'delta', 2, 1],
    ]);
    // The input broke off: the last update may be incomplete, so it is dropped and its line named.
    const h = parseTardisHeader(TARDIS_INCREMENTAL_HEADER);
    if (h?.kind !== 'incremental_book_L2') throw new Error('expected a book header');
    const r = new TardisBookReader(h, () => undefined);
    r.row(row(3000, true, 'bid', '1', '1'), 2);
    expect(r.row(row(3001, false, 'bid', '1', '2'), 3)?.msg.type).toBe('snapshot');
    expect(r.end(false)).toEqual({ dropped: 3 });
  });

  it('book_snapshot_N rows: the first a depth-N snapshot, the next the delta from it; consecutive ids; empty levels are absent', () => {
    const lv = (i: number) => `${100.5 + i},${i + 1},${100 - i},${(i + 1) * 2}`;
    const full = Array.from({ length: 5 }, (_, i) => lv(i)).join(',');
    const short = [lv(0), lv(1), ',,99,6', ',,,', ',,,'].join(',');
    const { msgs, bad } = read(SNAP5, [
      `bybit,BTCUSDT,1000000123,1000000999,${full}`,
      `bybit,BTCUSDT,1000001000,1000001500,${short}`,
      `bybit,BTCUSDT,1000002000,1000002500,${full.replace('101.5', 'x')}`,
    ]);
    expect(bad).toEqual([{ line: 4, reason: expect.stringMatching(/^bad asks\[1\] level "x","2"/) }]);
    expect(msgs.map((m) => m.msg)).toMatchObject([
      {
        type: 'snapshot',
        depth: 5,
        u: 1,
        ts: 1000000,
        recvTs: 1000000,
        asks: [
          [100.5, 1],
          [101.5, 2],
          [102.5, 3],
          [103.5, 4],
          [104.5, 5],
        ],
        bids: [
          [100, 2],
          [99, 4],
          [98, 6],
          [97, 8],
          [96, 10],
        ],
      },
      {
        // Later rows: the delta from the row before (a snapshot per row would be a resync per row).
        type: 'delta',
        depth: 5,
        u: 2,
        ts: 1000001,
        asks: [
          [102.5, 0],
          [103.5, 0],
          [104.5, 0],
        ],
        bids: [
          [99, 6],
          [98, 0],
          [97, 0],
          [96, 0],
        ],
      },
    ]);
  });

  it.each([
    ['unchanged', [[1, 1]], [[1, 1]], []],
    ['resized', [[1, 1]], [[1, 2]], [[1, 2]]],
    [
      'vanished',
      [
        [1, 1],
        [2, 1],
      ],
      [[1, 1]],
      [[2, 0]],
    ],
    [
      'new',
      [[1, 1]],
      [
        [1, 1],
        [0.5, 3],
      ],
      [[0.5, 3]],
    ],
    ['from empty', [], [[1, 1]], [[1, 1]]],
    ['to empty', [[1, 1]], [], [[1, 0]]],
  ] as [string, Level[], Level[], Level[]][])('levelDiff: %s', (_n, from, to, want) => {
    expect(levelDiff(from, to)).toEqual(want);
  });

  it('reads a Tardis trades CSV as the trade feed: local_timestamp order, unknown sides skipped', async () => {
    const trade = (n: number, side: string, local = n) =>
      `bybit,BTCUSDT,${1000 + n}123456,${1000 + local}900999,id-${n},${side},6500${n}.5,0.00${n + 1}`;
    const file = path.join(dir, 'bybit_trades_2026-08-09_BTCUSDT.csv');
    fs.writeFileSync(
      file,
      [
        TARDIS_TRADES_HEADER,
        trade(0, 'buy'),
        trade(1, 'sell'),
        trade(2, 'unknown'),
        trade(3, 'sell', 1), // exchange time later, received with the one before: one message per (time, receipt)
        trade(4, 'hold'),
        trade(5, 'buy', 0), // received before the previous rows: out of order
        trade(6, 'buy'),
      ].join('\n') + '\n',
    );
    expect(await tradeCsvKind(file)).toBe('tardis');
    const bad: CsvBadRow[] = [];
    const feed = await TradeCsvFeed.open(file, (b) => bad.push(b));
    if (!feed) throw new Error('feed refused');
    const msgs: TradeMessage[] = [];
    while (!feed.drainBefore(Infinity, true, (m) => msgs.push(m))) await feed.fill();
    await feed.close();
    expect(bad.map((b) => [b.line, b.reason.split(' ').slice(0, 2).join(' ')])).toEqual([
      [6, 'bad side'],
      [7, 'local_timestamp 1000.9'],
    ]);
    expect(feed.unknownSide).toBe(1);
    expect(
      msgs.map((m) => [m.ts, m.recvTs, m.trades.map((t) => [t.id, t.side, t.price, t.size, t.ts])]),
    ).toEqual([
      [1000123, 1000900, [['id-0', 'Buy', 65000.5, 0.001, 1000123]]],
      [1001123, 1001900, [['id-1', 'Sell', 65001.5, 0.002, 1001123]]],
      [1003123, 1001900, [['id-3', 'Sell', 65003.5, 0.004, 1003123]]],
      [1006123, 1006900, [['id-6', 'Buy', 65006.5, 0.007, 1006123]]],
    ]);
    // An empty id (some exchanges): time and line stand in.
    const cols = parseTardisHeader(TARDIS_TRADES_HEADER);
    if (cols?.kind !== 'trades') throw new Error('expected a trades header');
    expect(parseTardisTradeRow('bybit,BTCUSDT,1000123456,1000123999,,buy,1.5,2', cols.cols, 9)).toMatchObject(
      {
        trade: { id: '1000123456-9', ts: 1000123 },
        recvTs: 1000123,
      },
    );
    // A book dataset or liquidations given as trades is refused at its header.
    const liq = path.join(dir, 'bybit_liquidations_2026-08-09_BTCUSDT.csv');
    fs.writeFileSync(liq, `${TARDIS_TRADES_HEADER}\n${trade(0, 'buy')}\n`);
    const book = path.join(dir, 'book.csv');
    fs.writeFileSync(book, `${TARDIS_INCREMENTAL_HEADER}\n${row(1, true, 'bid', '1', '1')}\n`);
    for (const [f, why] of [
      [liq, /liquidations CSV, not trades/],
      [book, /a Tardis incremental_book_L2 CSV, not trades/],
    ] as const) {
      const errs: CsvBadRow[] = [];
      expect(await TradeCsvFeed.open(f, (b) => errs.push(b))).toBeNull();
      expect(errs).toEqual([{ source: f, line: 1, reason: expect.stringMatching(why) }]);
    }
    expect(await tradeCsvKind(book)).toBeUndefined();
  });
});
