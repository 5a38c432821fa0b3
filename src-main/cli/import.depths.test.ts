// One file holding two depths of one symbol (the real recording rewritten as orderbook.200 and a shifted
// orderbook.50 stream, interleaved or one after the other): each (symbol, depth) becomes its own session with
// its own sequence checking, rebuilding its own book; trades go to every session of their symbol.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt } from './book.ts';
import { importFiles, run as runImport } from './import.ts';

type Lv = [number, number];
interface Raw {
  topic: string;
  type: string;
  ts: number;
  data: { s: string; b: string[][]; a: string[][]; u: number; seq: number };
}

/**
 * Independent reference: a Map fold of the lines of exactly `topic` (no importer or book code); a u that does not
 * follow the last one stops the fold until the next snapshot (the book is held as it was, stamped with that time).
 */
function fold(lines: string[], topic: string, depth: number): { ts: number; bids: Lv[]; asks: Lv[] } {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let ts = 0;
  let lastU = -1;
  let broken = false;
  for (const line of lines) {
    const o = JSON.parse(line) as Raw;
    if (o.topic !== topic) continue;
    if (o.type === 'snapshot') {
      bids.clear();
      asks.clear();
      broken = false;
    } else if (broken) continue;
    else if (o.data.u !== lastU + 1) {
      broken = true;
      ts = o.ts;
      continue;
    }
    lastU = o.data.u;
    for (const [side, levels] of [
      [bids, o.data.b],
      [asks, o.data.a],
    ] as const)
      for (const [p, s] of levels) {
        if (Number(s) === 0) side.delete(Number(p));
        else side.set(Number(p), Number(s));
      }
    ts = o.ts;
  }
  const top = (m: Map<number, number>, desc: boolean): Lv[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
  return { ts, bids: top(bids, true), asks: top(asks, false) };
}

let dir: string;
let rec: string[];
let d200: string[];
let d50: string[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-depths-'));
  rec = fs
    .readFileSync(REC, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  d200 = rec;
  // The orderbook.50 stream: the recording's book lines 1000.0 higher, with their own u numbers, one delta
  // missing (a sequence gap in this stream only) and without the trades (those come once, from d200's lines).
  const books = rec.filter((l) => l.includes('"orderbook.200.'));
  const shift = (lv: string[][]) => lv.map(([p, s]) => [(Number(p) + 1000).toFixed(2), s]);
  d50 = books
    .filter((_, i) => i !== 150)
    .slice(0, 300)
    .map((l) => {
      const o = JSON.parse(l) as Raw;
      o.topic = 'orderbook.50.BTCUSDT';
      // At most 50 levels in a depth-50 snapshot and 100 in a delta, as Bybit sends (more is refused).
      const max = o.type === 'snapshot' ? 50 : 100;
      o.data.b = shift(o.data.b).slice(0, max);
      o.data.a = shift(o.data.a).slice(0, max);
      o.data.u += 7_000_000;
      return JSON.stringify(o);
    });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tradeLines = () => rec.filter((l) => l.includes('"publicTrade.'));

describe('import: several depths of one symbol in one file', () => {
  for (const layout of ['interleaved', 'one after the other'] as const) {
    it(`${layout}: one session per depth, each rebuilding its own book; trades in both`, async () => {
      const lines: string[] = [];
      if (layout === 'interleaved')
        for (let i = 0; i < Math.max(d200.length, d50.length); i++) {
          if (d200[i]) lines.push(d200[i]);
          if (d50[i]) lines.push(d50[i]);
        }
      else lines.push(...d200, ...d50);
      const file = path.join(dir, `${layout.replace(/ /g, '-')}.jsonl`);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      const db = openDb(path.join(dir, `${layout.replace(/ /g, '-')}.db`));
      try {
        const res = await importFiles(db, [file], { category: 'linear' });
        expect(res.badLines).toBe(0);
        expect(res.sessions.map((s) => [s.symbol, s.depth])).toEqual([
          ['BTCUSDT', 200],
          ['BTCUSDT', 50],
        ]);
        const [s200, s50] = res.sessions.map((s) => getSession(db, s.sessionId)!);
        expect(s200).toMatchObject({ depth: 200, tickSize: '0.1', bookMessages: 414, trades: 56, gaps: 0 });
        expect(s50).toMatchObject({ depth: 50, tickSize: '0.1', bookMessages: 300, gaps: 1 });
        // Interleaved, every trade line falls within the depth-50 stream's life; after it, none does.
        expect(s50.trades).toBe(layout === 'interleaved' ? 56 : 0);
        for (const [s, topic] of [
          [s200, 'orderbook.200.BTCUSDT'],
          [s50, 'orderbook.50.BTCUSDT'],
        ] as const) {
          const b = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 10))!;
          const exp = fold(lines, topic, 10);
          expect({ ts: b.ts, bids: b.bids, asks: b.asks }).toEqual(exp);
        }
        // The depth-200 book is valid; the depth-50 one broke at its missing delta and never resynced.
        expect((await bookAt(sqliteSessionStore(db, 'test.db'), s200, undefined, 10))!.valid).toBe(true);
        expect((await bookAt(sqliteSessionStore(db, 'test.db'), s50, undefined, 10))!.valid).toBe(false);
        const gaps = [...readSession(db, s50.id)].filter((e) => e.kind === 'gap');
        expect(gaps).toHaveLength(1);
        // The trades each session holds are the recording's, in file order.
        const ids = (sid: number) =>
          [...readSession(db, sid)].flatMap((e) => (e.kind === 'trades' ? e.trades.map((t) => t.id) : []));
        const all = tradeLines().flatMap((l) =>
          (JSON.parse(l) as { data: Array<{ i: string }> }).data.map((t) => t.i),
        );
        expect(ids(s200.id)).toEqual(all);
        const got50 = ids(s50.id);
        expect(got50).toEqual(all.slice(0, got50.length));
      } finally {
        db.close();
      }
    });
  }

  it('trades before any book message open a session that takes the first depth; the CLI prints a line per session', async () => {
    const trades = tradeLines();
    const lines = [
      trades[0],
      ...d50.slice(0, 40),
      ...d200.filter((l) => !l.includes('"publicTrade.')).slice(0, 60),
    ];
    const file = path.join(dir, 'trades-first.jsonl');
    fs.writeFileSync(file, lines.join('\n'));
    const dbFile = path.join(dir, 'trades-first.db');
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    try {
      expect(await runImport(['--db', dbFile, '--quiet', file])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(
      /^session 1: BTCUSDT from trades-first\.jsonl: depth 50, tick 0\.1, 40 book \+ 1 trade messages, 0 gaps$/,
    );
    expect(out[1]).toMatch(
      /^session 2: BTCUSDT from trades-first\.jsonl: depth 200, tick 0\.1, 60 book \+ 0 trade messages, 0 gaps$/,
    );
  });
});
