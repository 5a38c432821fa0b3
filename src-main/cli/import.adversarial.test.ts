// Hostile and odd inputs for `import` → `book`: each must import without crashing, report its bad lines by
// number, store every good message, and rebuild the same book as an independent Map fold with Bybit's rules
// (snapshot resets, size 0 deletes, delta before any snapshot dropped, a u that is neither last+1 nor a
// repeat of last invalidates the book until the next snapshot, a crossed book is invalid).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession, listSessions } from '../store/sessions.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt } from './book.ts';
import { importFiles, run as runImport } from './import.ts';
import { run as runBook } from './book.ts';
import { makeZip } from './testing/zipWriter.ts';

type Lv = [number, number];
interface Ref {
  ts: number;
  valid: boolean;
  bids: Lv[];
  asks: Lv[];
}

/** Independent reference fold over raw lines (JSON.parse + Number only; no importer or book code). */
function refBook(lines: string[], depth: number, symbol: string): Ref | undefined {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let ts = -1;
  let valid = false;
  let hasSnap = false;
  let lastU = 0;
  for (const raw of lines) {
    let o: {
      topic?: unknown;
      type?: unknown;
      ts?: number;
      data?: { u?: number; b?: unknown[][]; a?: unknown[][] };
    };
    try {
      o = JSON.parse(raw.replace(/^\uFEFF/, ''));
    } catch {
      continue;
    }
    if (!o || typeof o.topic !== 'string' || o.topic !== `orderbook.${o.topic.split('.')[1]}.${symbol}`)
      continue;
    const d = o.data;
    if (!d || typeof d !== 'object' || typeof d.u !== 'number') continue;
    const u = d.u;
    if (o.type === 'snapshot') {
      bids.clear();
      asks.clear();
      hasSnap = true;
      valid = true;
    } else {
      if (!hasSnap || !valid) continue;
      if (u === lastU) continue; // a repeated delta: sizes are absolute, so it changes nothing
      if (u !== lastU + 1) {
        valid = false;
        ts = o.ts!;
        continue;
      }
    }
    for (const [side, lv] of [
      [bids, d.b ?? []],
      [asks, d.a ?? []],
    ] as const)
      for (const [p, s] of lv) {
        if (Number(s) === 0) side.delete(Number(p));
        else side.set(Number(p), Number(s));
      }
    lastU = u;
    ts = o.ts!;
    const bb = Math.max(...bids.keys());
    const ba = Math.min(...asks.keys());
    if (bids.size > 0 && asks.size > 0 && bb >= ba) valid = false;
  }
  if (ts < 0) return undefined;
  const top = (m: Map<number, number>, desc: boolean): Lv[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
  return { ts, valid, bids: top(bids, true), asks: top(asks, false) };
}

let T = 1_786_000_000_000;
/** One book line; prices/sizes given as they should appear in the JSON (strings or numbers). */
function ob(
  type: 'snapshot' | 'delta',
  u: number,
  b: Array<[string | number, string | number]>,
  a: Array<[string | number, string | number]>,
  opts: { symbol?: string; depth?: number; cts?: boolean; ts?: number } = {},
): string {
  const symbol = opts.symbol ?? 'BTCUSDT';
  const ts = opts.ts ?? (T += 10);
  const o: Record<string, unknown> = { topic: `orderbook.${opts.depth ?? 50}.${symbol}`, type, ts };
  if (opts.cts !== false) o.cts = ts - 1;
  o.data = { s: symbol, b, a, u, seq: 1000 + u };
  return JSON.stringify(o);
}
function trade(p: string, extra: Record<string, unknown> = {}, symbol = 'BTCUSDT'): string {
  const ts = (T += 10);
  return JSON.stringify({
    topic: `publicTrade.${symbol}`,
    type: 'snapshot',
    ts,
    data: [{ T: ts - 1, s: symbol, S: 'Buy', v: '0.5', p, i: `id${ts}`, ...extra }],
  });
}

let dir: string;
let n = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-adv-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes `content` to a file, imports it into a fresh db, and checks the stored book against the fold. */
async function importAndCompare(
  content: string | Buffer,
  opts: { ext?: string; symbol?: string; refLines?: string[]; depth?: number } = {},
) {
  const file = path.join(dir, `in${++n}${opts.ext ?? '.jsonl'}`);
  fs.writeFileSync(file, content);
  const db = openDb(path.join(dir, `in${n}.db`));
  const res = await importFiles(db, [file], { category: 'linear' });
  const symbol = opts.symbol ?? 'BTCUSDT';
  const s = listSessions(db).find((x) => x.symbol === symbol);
  const depth = opts.depth ?? 50;
  const got = s && (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, depth));
  const text = typeof content === 'string' ? content : '';
  const ref = refBook(opts.refLines ?? text.split(/\r?\n/), depth, symbol);
  if (ref) {
    expect(got, 'a book').toBeDefined();
    expect({ ts: got!.ts, valid: got!.valid, bids: got!.bids, asks: got!.asks }).toEqual(ref);
  }
  return { res, db, session: s, book: got, file };
}

const SNAP = ob(
  'snapshot',
  100,
  [
    ['100.0', '1'],
    ['99.9', '2'],
  ],
  [
    ['100.1', '3'],
    ['100.2', '4'],
  ],
);

describe('import: line-level oddities', () => {
  it('CRLF line endings, a UTF-8 BOM, blank lines and a trailing partial line', async () => {
    const lines = [
      SNAP,
      ob('delta', 101, [['99.8', '5']], []),
      '',
      '   ',
      ob('delta', 102, [], [['100.1', '0']]),
    ];
    const content = '\uFEFF' + lines.join('\r\n') + '\r\n' + '{"topic":"orderbook.50.BTCUSDT","ty';
    const { res, session, db } = await importAndCompare(content);
    expect(res.badLines).toBe(1);
    expect(res.listedBadLines[0].line).toBe(6);
    expect(session?.bookMessages).toBe(3);
    db.close();
  });

  it('duplicated lines: a repeated snapshot or delta keeps the book valid; a u jump invalidates it', async () => {
    const d1 = ob('delta', 101, [['99.8', '5']], []);
    const lines = [SNAP, SNAP, d1, d1, ob('delta', 102, [['99.8', '6']], [])];
    const r1 = await importAndCompare(lines.join('\n'));
    expect(r1.book?.valid).toBe(true);
    expect(r1.session?.gaps).toBe(0);
    r1.db.close();
    const jump = [...lines, ob('delta', 105, [['99.7', '1']], []), ob('delta', 106, [['99.6', '1']], [])];
    const r2 = await importAndCompare(jump.join('\n'));
    expect(r2.book?.valid).toBe(false);
    expect(r2.session?.gaps).toBe(1);
    // The next snapshot (also a u = 1 restart) heals it.
    const healed = [
      ...jump,
      ob('snapshot', 1, [['101.0', '1']], [['101.5', '1']]),
      ob('delta', 2, [['101.1', '1']], []),
    ];
    const r3 = await importAndCompare(healed.join('\n'));
    expect(r3.book?.valid).toBe(true);
    const gaps = [...readSession(r3.db, r3.session!.id)].filter((e) => e.kind === 'gap');
    expect(gaps.map((g) => (g.kind === 'gap' ? g.gap.reason : ''))).toEqual(['sequence', 'restart']);
    r3.db.close();
  });

  it('deltas before any snapshot are stored but not applied; a crossed book is reported invalid', async () => {
    const lines = [ob('delta', 50, [['1.0', '1']], []), ob('delta', 51, [], [['0.5', '1']]), SNAP];
    const r = await importAndCompare(lines.join('\n'));
    expect(r.session?.bookMessages).toBe(3);
    expect(r.book?.valid).toBe(true);
    r.db.close();
    const crossed = [SNAP, ob('delta', 101, [['100.5', '1']], [])];
    const c = await importAndCompare(crossed.join('\n'));
    expect(c.book?.valid).toBe(false);
    c.db.close();
  });

  it('size "0" for an absent price, numbers instead of strings, missing cts, exponent prices', async () => {
    const lines = [
      ob(
        'snapshot',
        7,
        [
          [0.00012, 10],
          ['0.00011', '1e3'],
        ],
        [
          ['1.3e-4', '5'],
          [0.00014, 2],
        ],
        { symbol: 'PEPEUSDT', cts: false },
      ),
      ob('delta', 8, [['0.00009', '0']], [['0.00015', 7]], { symbol: 'PEPEUSDT', cts: false }),
      ob('delta', 9, [[0.0001, '0.5']], [], { symbol: 'PEPEUSDT' }),
    ];
    const r = await importAndCompare(lines.join('\n'), { symbol: 'PEPEUSDT' });
    expect(r.res.badLines).toBe(0);
    expect(r.session?.tickSize).toBe('0.00001');
    expect(r.book?.valid).toBe(true);
    expect(r.book?.bids[0]).toEqual([0.00012, 10]);
    r.db.close();
  });

  it('a dump with every price and size a JSON number (no strings at all)', async () => {
    const lines = [
      ob(
        'snapshot',
        1,
        [
          [65000.1, 1.5],
          [65000, 2],
        ],
        [[65000.2, 0.25]],
      ),
      ob('delta', 2, [[64999.9, 3]], [[65000.2, 0]]),
      ob('delta', 3, [], [[65000.3, 1]]),
    ];
    const r = await importAndCompare(lines.join('\n'));
    expect(r.session?.tickSize).toBe('0.1');
    expect(r.book?.valid).toBe(true);
    r.db.close();
  });

  it('a snapshot listing a price twice or with size "0", and a delta touching one price twice', async () => {
    const lines = [
      ob(
        'snapshot',
        1,
        [
          ['100.0', '1'],
          ['99.9', '0'],
          ['100.0', '2'],
          ['99.8', '3'],
        ],
        [
          ['100.2', '1'],
          ['100.1', '0'],
        ],
      ),
      ob(
        'delta',
        2,
        [
          ['99.8', '0'],
          ['99.8', '4'],
          ['99.7', '5'],
          ['99.7', '0'],
        ],
        [['100.3', '0']],
      ),
    ];
    const r = await importAndCompare(lines.join('\n'));
    expect(r.book?.bids).toEqual([
      [100, 2],
      [99.8, 4],
    ]);
    expect(r.book?.asks).toEqual([[100.2, 1]]);
    r.db.close();
  });

  it('an empty first snapshot: the tick comes from the prices that follow', async () => {
    const lines = [
      ob('snapshot', 1, [], [], { symbol: 'NEWUSDT' }),
      ob('delta', 2, [['1.2345', '10']], [['1.2347', '3']], { symbol: 'NEWUSDT' }),
      ob('delta', 3, [['1.2344', '1']], [], { symbol: 'NEWUSDT' }),
    ];
    const r = await importAndCompare(lines.join('\n'), { symbol: 'NEWUSDT' });
    expect(r.session?.tickSize).toBe('0.0001');
    expect(r.book?.valid).toBe(true);
    r.db.close();
  });

  it('tick refinement: prices with more decimals than the first snapshot later in the file', async () => {
    // 40 distinct half-dollar prices look like tick 0.5; later 100.3 and 100.25 prove a finer grid.
    const b: Array<[string, string]> = Array.from({ length: 20 }, (_, i) => [
      (100 - i * 0.5).toFixed(1),
      '1',
    ]);
    const a: Array<[string, string]> = Array.from({ length: 20 }, (_, i) => [
      (101 + i * 0.5).toFixed(1),
      '1',
    ]);
    const lines = [
      ob('snapshot', 10, b, a),
      ob('delta', 11, [['100.3', '2']], []),
      trade('100.4'),
      ob('delta', 12, [['100.25', '2']], [['100.75', '9']]),
    ];
    const r = await importAndCompare(lines.join('\n'));
    expect(r.session?.tickSize).toBe('0.01');
    expect(r.book?.valid).toBe(true);
    r.db.close();
  });

  it('very large and very small prices keep exact decimals', async () => {
    const big = [
      ob('snapshot', 1, [['987654321.5', '1']], [['987654322', '1']], { symbol: 'BIGUSDT' }),
      ob('delta', 2, [['987654321', '3']], [], { symbol: 'BIGUSDT' }),
    ];
    const r = await importAndCompare(big.join('\n'), { symbol: 'BIGUSDT' });
    expect(r.book?.bids[0]).toEqual([987654321.5, 1]);
    r.db.close();
    const tiny = [
      ob('snapshot', 1, [['0.00000001', '1']], [['0.00000003', '1']], { symbol: 'TINYUSDT' }),
      ob('delta', 2, [['0.00000002', '3']], [], { symbol: 'TINYUSDT' }),
    ];
    const t = await importAndCompare(tiny.join('\n'), { symbol: 'TINYUSDT' });
    expect(t.session?.tickSize).toBe('0.00000001');
    expect(t.book?.bids[0]).toEqual([0.00000002, 3]);
    t.db.close();
  });

  it('spot messages and an orderbook.1 stream re-pushing the same u; trades with missing or extra fields', async () => {
    const lines = [
      ob('snapshot', 5, [['0.5123', '100']], [['0.5124', '50']], { symbol: 'XRPUSDT', depth: 1 }),
      ob('snapshot', 5, [['0.5123', '100']], [['0.5124', '50']], { symbol: 'XRPUSDT', depth: 1 }),
      ob('snapshot', 6, [['0.5122', '10']], [['0.5124', '40']], { symbol: 'XRPUSDT', depth: 1 }),
      trade(
        '0.5124',
        { BT: undefined, seq: undefined, L: 'PlusTick', RPI: true, extraField: { x: 1 } },
        'XRPUSDT',
      ),
      // spot trades carry no seq and no L; i is numeric in some dumps
      JSON.stringify({
        topic: 'publicTrade.XRPUSDT',
        ts: (T += 10),
        type: 'snapshot',
        data: [{ i: 123, T: T - 2, p: '0.5123', v: '3', S: 'Sell', s: 'XRPUSDT', BT: false }],
      }),
    ];
    const r = await importAndCompare(lines.join('\n'), { symbol: 'XRPUSDT', depth: 1 });
    expect(r.res.badLines).toBe(0);
    expect(r.session).toMatchObject({ depth: 1, tickSize: '0.0001', tradeMessages: 2 });
    r.db.close();
  });

  it('an empty file, a file of only trades, and a huge single line never crash', async () => {
    const empty = path.join(dir, 'empty.jsonl');
    fs.writeFileSync(empty, '');
    expect(await runImport(['--db', path.join(dir, 'empty.db'), '--quiet', empty])).toBe(1);
    const r = await importAndCompare([trade('100.5'), trade('100.6')].join('\n'));
    expect(r.session).toMatchObject({ tradeMessages: 2, bookMessages: 0 });
    expect(r.book).toBeUndefined();
    r.db.close();
    const huge = `{"topic":"orderbook.50.BTCUSDT","data":"${'x'.repeat(3_000_000)}"}`;
    const h = await importAndCompare([SNAP, huge, ob('delta', 101, [['99.8', '5']], [])].join('\n'));
    expect(h.res.listedBadLines.map((b) => b.line)).toEqual([2]);
    h.db.close();
  });
});

describe('import: broken containers', () => {
  it('a line over the 64 MB limit (binary junk without newlines) is skipped in linear time', async () => {
    // Compresses to ~70 KB; rescanning the held text per chunk made this take ~20 s.
    const junk = Buffer.alloc(70 * 1048576, 0x78);
    const good = [SNAP, ob('delta', 101, [['99.8', '5']], [])].join('\n');
    const gz = zlib.gzipSync(Buffer.concat([Buffer.from(good + '\n'), junk, Buffer.from('\n' + good)]));
    const file = path.join(dir, 'junk.jsonl.gz');
    fs.writeFileSync(file, gz);
    const db = openDb(path.join(dir, 'junk.db'));
    const res = await importFiles(db, [file], { category: 'linear' });
    expect(res.listedBadLines.map((b) => [b.line, b.reason])).toEqual([
      [3, 'line longer than 64 MB, skipped'],
    ]);
    expect(res.lines).toBe(5);
    expect(listSessions(db)[0].messages).toBe(4);
    db.close();
  }, 15_000);

  it('a truncated gzip stores everything before the break and reports it', async () => {
    const lines = [SNAP];
    for (let i = 1; i <= 3000; i++)
      lines.push(ob('delta', 100 + i, [[(99 - (i % 50) / 10).toFixed(1), String(i)]], []));
    const gz = zlib.gzipSync(lines.join('\n') + '\n');
    const file = path.join(dir, 'trunc.jsonl.gz');
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const db = openDb(path.join(dir, 'trunc.db'));
    const res = await importFiles(db, [file], { category: 'linear' });
    expect(res.badLines).toBeGreaterThanOrEqual(1);
    expect(res.listedBadLines.some((b) => /cannot read|unexpected end|truncated/i.test(b.reason))).toBe(true);
    const [s] = listSessions(db);
    expect(s).toBeDefined();
    expect(s.endedAt).not.toBeNull();
    const stored = s.messages;
    expect(stored).toBeGreaterThan(100);
    // Whatever was stored is exactly the file's first `stored` lines, and the book is their fold.
    const b = (await bookAt(sqliteSessionStore(db, 'test.db'), getSession(db, s.id)!, undefined, 50))!;
    const ref = refBook(lines.slice(0, stored), 50, 'BTCUSDT')!;
    expect({ ts: b.ts, valid: b.valid, bids: b.bids, asks: b.asks }).toEqual(ref);
    db.close();
  });

  it('a truncated single-entry zip (an interrupted download of a dump) keeps its entry up to the cut', async () => {
    const lines = [SNAP];
    for (let i = 1; i <= 3000; i++)
      lines.push(ob('delta', 100 + i, [[(99 - (i % 50) / 10).toFixed(1), String(i)]], []));
    const zip = makeZip([{ name: '2026-01-01_BTCUSDT_ob200.data', data: Buffer.from(lines.join('\n')) }]);
    const file = path.join(dir, '2026-01-01_BTCUSDT_ob200.data.zip');
    fs.writeFileSync(file, zip.subarray(0, Math.floor(zip.length * 0.5)));
    const db = openDb(path.join(dir, 'trunczip.db'));
    const res = await importFiles(db, [file], { category: 'linear' });
    expect(res.listedBadLines[0]).toMatchObject({ line: 0, reason: expect.stringMatching(/truncated zip/) });
    const [s] = listSessions(db);
    expect(s.messages).toBeGreaterThan(100);
    const b = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 50))!;
    const ref = refBook(lines.slice(0, s.messages), 50, 'BTCUSDT')!;
    expect({ ts: b.ts, valid: b.valid, bids: b.bids, asks: b.asks }).toEqual(ref);
    db.close();
  });

  it('a zip with several entries (one not JSON), and a corrupt zip', async () => {
    const e1 = [SNAP, ob('delta', 101, [['99.8', '5']], [])].join('\n');
    const e2 = [ob('snapshot', 1, [['0.5', '1']], [['0.6', '1']], { symbol: 'XRPUSDT' })].join('\n');
    const zip = makeZip([
      { name: 'a/2026-01-01_BTCUSDT_ob200.data', data: Buffer.from(e1) },
      { name: 'README.pdf', data: Buffer.from([0x25, 0x50, 0x44, 0x46, 0, 1, 2, 255, 10, 0, 0, 10]) },
      { name: 'b.data', data: Buffer.from(e2) },
    ]);
    const file = path.join(dir, 'multi.zip');
    fs.writeFileSync(file, zip);
    const db = openDb(path.join(dir, 'multi.db'));
    const res = await importFiles(db, [file], { category: 'linear' });
    expect(res.sessions.map((s) => s.symbol)).toEqual(['BTCUSDT', 'XRPUSDT']);
    expect(res.badLines).toBe(2);
    expect(res.listedBadLines.every((b) => b.source.includes('README.pdf'))).toBe(true);
    const s = listSessions(db).find((x) => x.symbol === 'BTCUSDT')!;
    const b = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 50))!;
    expect(b.bids).toEqual(refBook(e1.split('\n'), 50, 'BTCUSDT')!.bids);
    db.close();

    const corrupt = path.join(dir, 'corrupt.zip');
    const bytes = Buffer.from(zip);
    for (let i = 40; i < 120; i++) bytes[i] ^= 0x5a; // damage the first entry's compressed data
    fs.writeFileSync(corrupt, bytes);
    const db2 = openDb(path.join(dir, 'corrupt.db'));
    const res2 = await importFiles(db2, [corrupt], { category: 'linear' });
    expect(res2.listedBadLines[0]).toMatchObject({ line: 0, reason: expect.stringMatching(/cannot read/) });
    // The damaged entry does not stop the entries after it.
    expect(res2.sessions.map((x) => x.symbol)).toEqual(['XRPUSDT']);
    db2.close();
    const notZip = path.join(dir, 'nozip.zip');
    fs.writeFileSync(notZip, 'hello');
    const db3 = openDb(path.join(dir, 'nozip.db'));
    const res3 = await importFiles(db3, [notZip], { category: 'linear' });
    expect(res3.listedBadLines[0]).toMatchObject({ line: 0 });
    db3.close();
  });
});

describe('book on an invalid book', () => {
  it('prints the held book with "valid":false and the problem in --json, and warns on stderr', async () => {
    const lines = [SNAP, ob('delta', 101, [['99.8', '5']], []), ob('delta', 103, [['99.7', '5']], [])];
    const r = await importAndCompare(lines.join('\n'));
    r.db.close();
    const dbFile = path.join(dir, `in${n}.db`);
    const out: string[] = [];
    const log = console.log;
    const err = console.error;
    const errs: string[] = [];
    console.log = (s: string) => out.push(s);
    console.error = (s: string) => errs.push(s);
    try {
      expect(await runBook(['--db', dbFile, '--json'])).toBe(0);
    } finally {
      console.log = log;
      console.error = err;
    }
    const printed = JSON.parse(out[0]);
    expect(printed).toMatchObject({ valid: false, bids: refBook(lines, 10, 'BTCUSDT')!.bids });
    expect(printed.problem).toMatch(/sequence/);
    expect(errs.join('\n')).toMatch(/not valid/);
  });
});
