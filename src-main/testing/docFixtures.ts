// The data files the README and docs/ name in their examples, made from the real Bybit recording (../shared/data) in
// the formats a trader downloads: Bybit's order-book dump (a zip of v5 JSON lines) and trade archive (CSV), and
// Tardis.dev's incremental_book_L2 and trades CSVs. The doc test writes them into each document's fresh folder, so
// every import command shown there runs on the format it claims to read. Each is written by plain code here, not by
// the importer that reads it.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeZip } from '../cli/testing/zipWriter.ts';
import { BYBIT_RECORDING } from './bybitRecording.ts';

interface RecordedLine {
  topic: string;
  type: string;
  ts: number;
  data: { b?: [string, string][]; a?: [string, string][] } | RecordedTrade[];
}
interface RecordedTrade {
  T: number;
  s: string;
  S: 'Buy' | 'Sell';
  v: string;
  p: string;
  L?: string;
  i: string;
}

/** The recording's day, as the exchanges' file names spell it. */
export function recordingDay(lines: readonly RecordedLine[]): string {
  return new Date(lines[0].ts).toISOString().slice(0, 10);
}

/** Writes every example file into `dir` and returns their names. */
export function writeDocFixtures(dir: string): string[] {
  const text = fs.readFileSync(BYBIT_RECORDING, 'utf8');
  const raw = text.split('\n').filter((l) => l.trim() !== '');
  const lines = raw.map((l) => JSON.parse(l) as RecordedLine);
  const day = recordingDay(lines);
  const bookLines = raw.filter((_, i) => lines[i].topic.startsWith('orderbook.'));
  const trades = lines
    .filter((l) => l.topic.startsWith('publicTrade.'))
    .flatMap((l) => l.data as RecordedTrade[]);
  const files: Record<string, Buffer> = {
    'BTCUSDT-recording.jsonl': Buffer.from(text),
    'BTCUSDT-recording.jsonl.gz': zlib.gzipSync(text),
    [`${day}_BTCUSDT_ob200.data.zip`]: makeZip([
      { name: `${day}_BTCUSDT_ob200.data`, data: Buffer.from(bookLines.join('\n') + '\n') },
    ]),
    [`BTCUSDT${day}.csv.gz`]: zlib.gzipSync(bybitTradeCsv(trades)),
    [`bybit_incremental_book_L2_${day}_BTCUSDT.csv.gz`]: zlib.gzipSync(tardisBookCsv(lines)),
    [`bybit_trades_${day}_BTCUSDT.csv.gz`]: zlib.gzipSync(tardisTradesCsv(trades)),
  };
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data);
  return Object.keys(files);
}

/** Bybit's public trade archive: seconds with a fraction, newest last. */
function bybitTradeCsv(trades: readonly RecordedTrade[]): string {
  const rows = trades.map((t) =>
    [
      (t.T / 1000).toFixed(4),
      t.s,
      t.S,
      t.v,
      t.p,
      t.L ?? 'ZeroPlusTick',
      t.i,
      Math.round(Number(t.p) * Number(t.v) * 1e8),
      t.v,
      (Number(t.p) * Number(t.v)).toFixed(8),
    ].join(','),
  );
  return [
    'timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional',
    ...rows,
  ].join('\n');
}

/** Tardis incremental_book_L2: one row per level, µs times, the exchange's and (here the same) the local one. */
function tardisBookCsv(lines: readonly RecordedLine[]): string {
  const out = ['exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount'];
  for (const l of lines) {
    if (!l.topic.startsWith('orderbook.')) continue;
    const d = l.data as { b?: [string, string][]; a?: [string, string][] };
    const us = l.ts * 1000;
    const snap = l.type === 'snapshot' ? 'true' : 'false';
    for (const [side, levels] of [
      ['bid', d.b ?? []],
      ['ask', d.a ?? []],
    ] as const)
      for (const [p, q] of levels) out.push(`bybit,BTCUSDT,${us},${us},${snap},${side},${p},${q}`);
  }
  return out.join('\n');
}

function tardisTradesCsv(trades: readonly RecordedTrade[]): string {
  return [
    'exchange,symbol,timestamp,local_timestamp,id,side,price,amount',
    ...trades.map(
      (t) => `bybit,BTCUSDT,${t.T * 1000},${t.T * 1000},${t.i},${t.S.toLowerCase()},${t.p},${t.v}`,
    ),
  ].join('\n');
}
