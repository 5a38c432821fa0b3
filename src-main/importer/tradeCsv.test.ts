// The Bybit trade CSV reader on its own: exact timestamps, header forms, rows in either time order (a
// descending file reversed through several temporary runs), grouping by fill time, and a CSV inside a zip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradeMessage } from '../../src-shared/market.ts';
import { makeZip } from '../cli/testing/zipWriter.ts';
import {
  parseCsvTimestamp,
  parseTradeHeader,
  parseTradeRow,
  TRADE_CSV_HEADER,
  TradeCsvFeed,
  type CsvBadRow,
} from './tradeCsv.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2tradecsv-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 40 trades over 20 fill times (two per time), as archive rows in ascending order. */
const rows = Array.from({ length: 40 }, (_, i) => {
  const ts = 1704067200000 + Math.floor(i / 2) * 250;
  const sec = `${Math.floor(ts / 1000)}.${String(ts % 1000).padStart(3, '0')}${i % 3 === 0 ? '0' : ''}`;
  return `${sec},BTCUSDT,${i % 2 ? 'Sell' : 'Buy'},0.00${i + 1},42000.${i % 10},PlusTick,id-${i},1,0.001,42`;
});

async function readAll(feed: TradeCsvFeed): Promise<TradeMessage[]> {
  const out: TradeMessage[] = [];
  while (!feed.drainBefore(Infinity, true, (m) => out.push(m))) await feed.fill();
  await feed.close();
  return out;
}

describe('trade CSV parsing', () => {
  it('timestamps in seconds with a fraction become exact ms', () => {
    expect(parseCsvTimestamp('1704067200.1234')).toBe(1704067200123); // whole ms, like the live feed's T
    expect(parseCsvTimestamp('1704067200.9999')).toBe(1704067200999);
    expect(parseCsvTimestamp('1704067200.123')).toBe(1704067200123);
    expect(parseCsvTimestamp('1704067200.1')).toBe(1704067200100);
    expect(parseCsvTimestamp('1704067200')).toBe(1704067200000);
    for (const bad of ['', 'x', '1.2.3', '-5', '1e9']) expect(parseCsvTimestamp(bad)).toBeUndefined();
  });

  it('headers: the archive one, reordered or extra columns, a BOM; wrong ones name what is missing', () => {
    expect(typeof parseTradeHeader(TRADE_CSV_HEADER)).toBe('object');
    const re = parseTradeHeader('\uFEFFsymbol,timestamp,price,size,side,trdMatchID,extra');
    expect(re).toMatchObject({
      symbol: 0,
      timestamp: 1,
      price: 2,
      size: 3,
      side: 4,
      trdMatchID: 5,
      count: 7,
    });
    if (typeof re === 'string') throw new Error(re);
    expect(parseTradeRow('BTCUSDT,1704067200.5,42000.5,0.25,Sell,abc,zz', re)).toEqual({
      symbol: 'BTCUSDT',
      trade: {
        ts: 1704067200500,
        side: 'Sell',
        price: 42000.5,
        size: 0.25,
        id: 'abc',
        blockTrade: false,
        seq: 0,
      },
    });
    expect(parseTradeHeader('time,price,qty')).toMatch(/missing timestamp, symbol, side, size, trdMatchID/);
  });
});

describe('TradeCsvFeed', () => {
  it('groups trades of one fill time into one message, in file order', async () => {
    const file = path.join(dir, 'asc.csv');
    fs.writeFileSync(file, [TRADE_CSV_HEADER, ...rows].join('\r\n') + '\r\n');
    const bad: CsvBadRow[] = [];
    const feed = (await TradeCsvFeed.open(file, (b) => bad.push(b)))!;
    expect(feed.order).toBe('ascending');
    const msgs = await readAll(feed);
    expect(bad).toEqual([]);
    expect(msgs).toHaveLength(20);
    expect(msgs.flatMap((m) => m.trades.map((t) => t.id))).toEqual(rows.map((_, i) => `id-${i}`));
    expect(msgs.every((m) => m.trades.every((t) => t.ts === m.ts))).toBe(true);
  });

  it('a descending file comes out ascending, also when reversed through several runs, from a .gz or a .zip', async () => {
    const text = [TRADE_CSV_HEADER, ...[...rows].reverse()].join('\n');
    const plain = path.join(dir, 'desc.csv');
    fs.writeFileSync(plain, text);
    const zip = path.join(dir, 'desc.csv.zip');
    fs.writeFileSync(zip, makeZip([{ name: 'BTCUSDT2024-01-01.csv', data: Buffer.from(text) }]));
    for (const [file, runRows] of [
      [plain, 7],
      [plain, 1000],
      [zip, 3],
    ] as const) {
      const feed = (await TradeCsvFeed.open(file, () => {}, { runRows }))!;
      expect(feed.order).toBe('descending');
      const tmp = feed.tempDir!;
      // Every run but the last (kept in memory) went to a file.
      expect(fs.readdirSync(tmp)).toHaveLength(Math.ceil(40 / runRows) - 1);
      const msgs = await readAll(feed);
      expect(fs.existsSync(tmp)).toBe(false);
      expect(msgs.flatMap((m) => m.trades.map((t) => t.id))).toEqual(rows.map((_, i) => `id-${i}`));
      expect(feed.rows).toBe(40);
    }
  });

  it('drainBefore hands over only what is due, a fill time equal to the bound only when inclusive', async () => {
    const file = path.join(dir, 'due.csv');
    fs.writeFileSync(file, [TRADE_CSV_HEADER, ...rows].join('\n'));
    const feed = (await TradeCsvFeed.open(file, () => {}))!;
    const got: TradeMessage[] = [];
    const t3 = 1704067200000 + 3 * 250;
    while (!feed.drainBefore(t3, false, (m) => got.push(m))) await feed.fill();
    expect(got.map((m) => m.ts)).toEqual([0, 1, 2].map((k) => 1704067200000 + k * 250));
    while (!feed.drainBefore(t3, true, (m) => got.push(m))) await feed.fill();
    expect(got).toHaveLength(4);
    expect(feed.done).toBe(false);
    await feed.close();
  });

  it('an empty file or one without the header is refused with line 1', async () => {
    for (const [name, text] of [
      ['empty.csv', ''],
      ['noheader.csv', rows.join('\n')],
    ]) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      const bad: CsvBadRow[] = [];
      expect(await TradeCsvFeed.open(file, (b) => bad.push(b))).toBeNull();
      expect(bad).toEqual([{ source: file, line: 1, reason: expect.stringMatching(/header/) }]);
    }
  });

  it('a .gz that cannot be read before its header is refused too, naming the read error', async () => {
    const file = path.join(dir, 'garbage.csv.gz');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    const bad: CsvBadRow[] = [];
    expect(await TradeCsvFeed.open(file, (b) => bad.push(b))).toBeNull();
    expect(bad).toEqual([
      { source: file, line: 1, reason: expect.stringMatching(/cannot read past line 0: /) },
    ]);
  });
});
