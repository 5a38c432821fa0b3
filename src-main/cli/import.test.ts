// import → book against real files: the real Bybit recording (plain, .gz, .zip), synthesised XRP/DOGE-like
// symbols with 4-5 decimal prices, sequence gaps and malformed lines; books are checked against an
// independent fold of the raw JSON done here.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession, listSessions } from '../store/sessions.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt, parseAt } from './book.ts';
import { run as runDb } from './db.ts';
import { importFiles, run as runImport } from './import.ts';
import { makeZip } from './testing/zipWriter.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';

const exec = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');

type Lv = [number, number];
/** Independent reference: a Map fold of the raw JSON lines (no code shared with the importer or the book). */
function foldBook(lines: string[], depth: number, symbol?: string): { ts: number; bids: Lv[]; asks: Lv[] } {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let ts = 0;
  for (const line of lines) {
    let o: {
      topic?: string;
      type?: string;
      ts?: number;
      data?: { s?: string; b?: string[][]; a?: string[][] };
    };
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof o.topic !== 'string' || !o.topic.startsWith('orderbook.') || !o.data || !o.data.b) continue;
    if (symbol && o.data.s !== symbol) continue;
    if (o.type === 'snapshot') {
      bids.clear();
      asks.clear();
    }
    for (const [side, levels] of [
      [bids, o.data.b],
      [asks, o.data.a ?? []],
    ] as const) {
      for (const [p, s] of levels) {
        if (Number(s) === 0) side.delete(Number(p));
        else side.set(Number(p), Number(s));
      }
    }
    ts = o.ts ?? ts;
  }
  const top = (m: Map<number, number>, desc: boolean): Lv[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
  return { ts, bids: top(bids, true), asks: top(asks, false) };
}

/** An XRP/DOGE-like stream: snapshot, deltas (with one skipped u), trades, a second snapshot; prices as strings. */
function synthSymbol(symbol: string, decimals: number, base: number, t0: number): string[] {
  const step = 10 ** -decimals;
  const px = (k: number) => (base + k * step).toFixed(decimals);
  const lines: string[] = [];
  let u = 500;
  const levels = (from: number, n: number, dir: number) =>
    Array.from({ length: n }, (_, i) => [px(from + dir * i), (1000 + i * 7.5).toFixed(1)]);
  const book = (type: string, b: string[][], a: string[][], ts: number) =>
    JSON.stringify({
      topic: `orderbook.50.${symbol}`,
      type,
      ts,
      cts: ts - 2,
      data: { s: symbol, b, a, u: u++, seq: 9_000 + u },
    });
  lines.push(book('snapshot', levels(-1, 30, -1), levels(1, 30, 1), t0));
  for (let i = 1; i <= 40; i++) {
    const k = (i % 7) - 3;
    if (i === 25) u += 3; // a gap in u
    lines.push(
      book(
        'delta',
        [[px(-1 - (i % 5)), i % 4 === 0 ? '0' : (50 + i).toFixed(1)]],
        [[px(1 + (i % 6)), (70 + i).toFixed(2)]],
        t0 + i * 20,
      ),
    );
    if (i % 10 === 0)
      lines.push(
        JSON.stringify({
          topic: `publicTrade.${symbol}`,
          type: 'snapshot',
          ts: t0 + i * 20 + 1,
          data: [
            {
              T: t0 + i * 20,
              s: symbol,
              S: k > 0 ? 'Buy' : 'Sell',
              v: '12.5',
              p: px(k > 0 ? 1 : -1),
              i: `${symbol}-${i}`,
              BT: false,
              seq: 9_000 + u,
            },
          ],
        }),
      );
  }
  lines.push(book('snapshot', levels(-2, 20, -1), levels(2, 20, 1), t0 + 1000));
  lines.push(book('delta', [[px(-2), '3.3']], [[px(3), '0']], t0 + 1020));
  return lines;
}

let dir: string;
let recLines: string[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-'));
  recLines = fs
    .readFileSync(REC, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const quietOpts = { category: 'linear' as const };

function onlyBookSession(db: Db, symbol: string) {
  const s = listSessions(db).filter((x) => x.symbol === symbol);
  expect(s.length).toBe(1);
  return s[0];
}

describe('import then book', () => {
  it('imports the real recording (plain, .gz, .zip) and rebuilds the exchange book exactly', async () => {
    const expected = foldBook(recLines, 10);
    expect(expected.bids[0]).toEqual([65114.2, 5.974]);
    expect(expected.asks[0]).toEqual([65114.3, 9.06]);
    const gz = path.join(dir, 'rec.jsonl.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(REC)));
    const zip = path.join(dir, '2026-08-09_BTCUSDT_ob200.data.zip');
    fs.writeFileSync(zip, makeZip([{ name: '2026-08-09_BTCUSDT_ob200.data', data: fs.readFileSync(REC) }]));
    for (const file of [REC, gz, zip]) {
      const db = openDb(path.join(dir, `${path.basename(file)}.db`));
      try {
        const res = await importFiles(db, [file], quietOpts);
        expect(res.badLines).toBe(0);
        expect(res.sessions).toHaveLength(1);
        const s = getSession(db, res.sessions[0].sessionId);
        expect(s).toMatchObject({
          symbol: 'BTCUSDT',
          depth: 200,
          tickSize: '0.1',
          bookMessages: 414,
          tradeMessages: 16,
          trades: 56,
          gaps: 0,
        });
        const b = await bookAt(sqliteSessionStore(db, 'test.db'), s!, undefined, 10);
        expect(b?.valid).toBe(true);
        expect({ ts: b?.ts, bids: b?.bids, asks: b?.asks }).toEqual(expected);
        // Arrival order is the file's order: trades interleave with book messages where they were.
        const kinds = [...readSession(db, s!.id)].map((e) => e.kind);
        const fileKinds = recLines.map((l) => (l.includes('"publicTrade.') ? 'trades' : 'book'));
        expect(kinds).toEqual(fileKinds);
      } finally {
        db.close();
      }
    }
  });

  it('book at an earlier time equals the fold of the lines up to that time', async () => {
    const db = openDb(path.join(dir, 'at.db'));
    try {
      const res = await importFiles(db, [REC], quietOpts);
      const s = getSession(db, res.sessions[0].sessionId)!;
      const at = JSON.parse(recLines[200]).ts as number;
      expect(parseAt(String(at))).toBe(at);
      expect(parseAt(new Date(at).toISOString())).toBe(at);
      expect(() => parseAt('yesterday-ish')).toThrow(/ms since epoch or an ISO time/);
      const upTo = recLines.filter((l) => (JSON.parse(l).ts as number) <= at);
      const b = await bookAt(sqliteSessionStore(db, 'test.db'), s, at, 25);
      expect({ ts: b?.ts, bids: b?.bids, asks: b?.asks }).toEqual(foldBook(upTo, 25));
    } finally {
      db.close();
    }
  });

  it('any symbol and tick size: XRP-like (4 decimals) and DOGE-like (5 decimals) round-trip exact prices; u gaps are recorded', async () => {
    const xrp = synthSymbol('XRPUSDT', 4, 0.5123, 1_786_000_000_000);
    const doge = synthSymbol('DOGEUSDT', 5, 0.16543, 1_786_000_000_005);
    // Two symbols interleaved in one file → one session each.
    const mixed: string[] = [];
    for (let i = 0; i < Math.max(xrp.length, doge.length); i++) {
      if (xrp[i]) mixed.push(xrp[i]);
      if (doge[i]) mixed.push(doge[i]);
    }
    const file = path.join(dir, 'alts.jsonl');
    fs.writeFileSync(file, mixed.join('\n') + '\n');
    const db = openDb(path.join(dir, 'alts.db'));
    try {
      const res = await importFiles(db, [file], quietOpts);
      expect(res.badLines).toBe(0);
      for (const [sym, lines, tick] of [
        ['XRPUSDT', xrp, '0.0001'],
        ['DOGEUSDT', doge, '0.00001'],
      ] as const) {
        const s = onlyBookSession(db, sym);
        expect(s.tickSize).toBe(tick);
        expect(s.gaps).toBe(1);
        const b = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 10))!;
        const exp = foldBook(lines, 10);
        expect({ ts: b.ts, bids: b.bids, asks: b.asks }).toEqual(exp);
        // Exact decimals: every printed price has at most the tick's decimals.
        for (const [p] of [...b.bids, ...b.asks])
          expect(String(p).split('.')[1]?.length ?? 0).toBeLessThanOrEqual(tick.length - 2);
        const gaps = [...readSession(db, s.id)].filter((e) => e.kind === 'gap');
        expect(gaps).toHaveLength(1);
        expect(gaps[0]).toMatchObject({
          gap: { reason: 'sequence', endTs: JSON.parse(lines[lines.length - 2]).ts },
        });
      }
    } finally {
      db.close();
    }
  });

  it('reports malformed lines with their numbers, skips them and never crashes', async () => {
    const good = recLines.slice(0, 30);
    const bad = [
      '{"topic":"orderbook.200.BTCUSDT","type":"delta"', // truncated
      'not json at all',
      '{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1786310818140,"data":{"s":"BTCUSDT","b":[["abc","1"]],"a":[],"u":5,"seq":1}}',
      '{"topic":"tickers.BTCUSDT","ts":1,"data":{}}',
      '[1,2,3]',
      'null',
      '\u0000\u0001\u0002binary',
      '{"op":"pong"}', // not bad: a heartbeat reply is skipped silently
    ];
    const lines = [...good.slice(0, 3), ...bad, ...good.slice(3)];
    for (let i = 0; i < 20; i++) lines.push(`garbage ${i}`);
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, lines.join('\n'));
    const db = openDb(path.join(dir, 'bad.db'));
    try {
      const res = await importFiles(db, [file], quietOpts);
      expect(res.badLines).toBe(7 + 20);
      expect(res.listedBadLines).toHaveLength(20);
      expect(res.listedBadLines.slice(0, 7).map((b) => b.line)).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(res.listedBadLines[2].reason).toMatch(/bad price/);
      const s = onlyBookSession(db, 'BTCUSDT');
      expect(s.messages).toBe(30);
    } finally {
      db.close();
    }
    // Nothing importable → exit 1; a missing file is reported, not thrown.
    const junk = path.join(dir, 'junk.jsonl');
    fs.writeFileSync(junk, 'x\ny\n');
    expect(
      await runImport(['--db', path.join(dir, 'junk.db'), '--quiet', junk, path.join(dir, 'missing.jsonl')]),
    ).toBe(1);
  });

  it('the CLI end to end: import (.gz + a file with bad lines) then book --json equals the independent fold', async () => {
    const gz = path.join(dir, 'cli.jsonl.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(REC)));
    const badFile = path.join(dir, 'cli-bad.jsonl');
    fs.writeFileSync(badFile, ['{"broken', ...Array.from({ length: 24 }, (_, i) => `bad ${i}`)].join('\n'));
    const dbFile = path.join(dir, 'cli.db');
    const imp = await exec(process.execPath, [CLI, 'import', '--db', dbFile, gz, badFile], {
      cwd: PROJECT_ROOT,
    });
    expect(imp.stdout).toMatch(
      /session 1: BTCUSDT .*depth 200, tick 0\.1, 414 book \+ 16 trade messages, 0 gaps/,
    );
    expect(imp.stderr).toMatch(/25 bad lines skipped/);
    expect(imp.stderr).toMatch(/cli-bad\.jsonl:1: invalid JSON/);
    expect(imp.stderr).toMatch(/\.\.\. and 5 more/);
    const out = await exec(process.execPath, [CLI, 'book', '--db', dbFile, '--depth', '10', '--json'], {
      cwd: PROJECT_ROOT,
    });
    const printed = JSON.parse(out.stdout);
    expect(printed).toEqual(foldBook(recLines, 10));
    expect(printed.bids[0]).toEqual([65114.2, 5.974]);
    expect(printed.asks[0]).toEqual([65114.3, 9.06]);
  });
});

describe('db check', () => {
  it('passes a good database and gives a clear error for a corrupt or foreign file', async () => {
    const good = path.join(dir, 'good.db');
    const db = openDb(good);
    await importFiles(db, [REC], quietOpts);
    db.close();
    expect(await runDb(['check', '--db', good, '--json'])).toBe(0);
    const junk = path.join(dir, 'notsqlite.db');
    fs.writeFileSync(junk, Buffer.alloc(8192, 0x5a));
    await expect(runDb(['check', '--db', junk])).rejects.toThrow(/notsqlite\.db is not an SQLite database/);
    // Damage a copy in the middle: b-tree pages overwritten with noise.
    const bad = path.join(dir, 'damaged.db');
    const bytes = fs.readFileSync(good);
    for (let i = 4096 * 3; i < Math.min(bytes.length, 4096 * 12); i += 7) bytes[i] = (i * 31) & 0xff;
    fs.writeFileSync(bad, bytes);
    // Either the open fails with a message naming the file, or the check runs and reports failure.
    const outcome = await runDb(['check', '--db', bad, '--json']).catch((e: Error) => e.message);
    if (typeof outcome === 'string') expect(outcome).toMatch(/damaged\.db/);
    else expect(outcome).toBe(1);
  });
});
