// Store layout v2 against real SQLite files: the tick/lot level codec round-trips every double bit for bit (off-grid
// values through its counted raw path), files written by layout v1 convert in place to the same messages, and a
// conversion killed part way (kill -9 of a child process) resumes on the next open with nothing lost or doubled.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BookMessage, Level, MarketMessage } from '../../src-shared/market.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { repeatedRecording } from '../testing/bybitRecording.ts';
import { openDb, type Db } from './db.ts';
import type { ConversionProgress } from './migrations/types.ts';
import { readSession, type StoredEvent } from './sessionReader.ts';
import { SessionWriter } from './sessionWriter.ts';
import { createSession, type NewSession } from './sessions.ts';
import { openV1Db, writeV1Session } from './testing/v1File.ts';
import {
  LevelBlobError,
  TickLevelEncoder,
  decodeBook,
  encodeBook,
  type StoredBook,
} from './tickLevelCodec.ts';

let dir: string;
const dbs: Db[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2store-v2-'));
});
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.open) d.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
function track(d: Db): Db {
  dbs.push(d);
  return d;
}

/** The real orderbook.200 + publicTrade recording, `reps` times over with fresh u and times. */
const recording = (reps = 1): MarketMessage[] => repeatedRecording({ reps });

const BTC: NewSession = {
  source: 'bybit',
  symbol: 'BTCUSDT',
  category: 'linear',
  depth: 200,
  tickSize: '0.1',
  startedAt: 1_786_310_818_000,
};

function synthBook(symbol: string, u: number, bids: Level[], asks: Level[]): BookMessage {
  return {
    kind: 'book',
    type: u === 1 ? 'snapshot' : 'delta',
    symbol,
    depth: 50,
    ts: 1000 + u,
    cts: 990 + u,
    recvTs: 1005 + u,
    u,
    seq: 5_000_000_000 + u,
    bids,
    asks,
  };
}

/** Levels that sit on no decimal grid, or would not survive one bit for bit. */
const OFF_GRID: Level[][] = [
  [[0.1 + 0.2, 1]],
  [[1 / 3, 2]],
  [[100, -0]],
  [[100, -1.5]],
  [[2 ** 60, 1]],
  [[1e-20, 1]],
];

/** Sessions of several grids: XRP (4 decimals), a 0.5 tick, a wrong stored tick, and off-grid values. */
function oddSessions(): { session: NewSession; events: StoredEvent[] }[] {
  const xrp: StoredEvent[] = [
    synthBook(
      'XRPUSDT',
      1,
      [
        [0.5123, 1000.5],
        [0.5122, 0.1],
      ],
      [
        [0.5127, 12.25],
        [0.5129, 7],
      ],
    ),
    synthBook('XRPUSDT', 2, [[0.5124, 3.333333]], []),
    {
      kind: 'gap',
      gap: { symbol: 'XRPUSDT', reason: 'sequence', startTs: 1010, endTs: null, detail: 'u jumped' },
    },
    synthBook('XRPUSDT', 3, [], [[0.5126, 0]]),
    ...OFF_GRID.map((l, i) => synthBook('XRPUSDT', 4 + i, l, [[0.5127, 1]])),
  ];
  const half: StoredEvent[] = [
    synthBook(
      'ETHUSDT',
      1,
      [
        [2500.5, 1.25],
        [2500, 3],
        [2499.5, 0.01],
      ],
      [
        [2501, 4],
        [2501.5, 0],
      ],
    ),
  ];
  // Stored tick "1" but prices with decimals: the encoder falls back to the grid the prices need.
  const wrongTick: StoredEvent[] = [synthBook('DOGEUSDT', 1, [[0.12345, 100]], [[0.12346, 2e6]])];
  const base = { source: 'sim', category: 'linear' as const, depth: 50, startedAt: 1000 };
  return [
    { session: { ...base, symbol: 'XRPUSDT', tickSize: '0.0001' }, events: xrp },
    { session: { ...base, symbol: 'ETHUSDT', tickSize: '0.5' }, events: half },
    { session: { ...base, symbol: 'DOGEUSDT', tickSize: '1' }, events: wrongTick },
  ];
}

function readAll(db: Db, sid: number, reuseLevels = false): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (const e of readSession(db, sid, { pageSize: 97, reuseLevels }))
    out.push(
      e.kind === 'book'
        ? { ...e, bids: e.bids.map((l) => [l[0], l[1]]), asks: e.asks.map((l) => [l[0], l[1]]) }
        : e,
    );
  return out;
}

/** A real orderbook.200 message's stamps. */
const stamps = {
  type: 'delta' as const,
  ts: 1_786_310_818_129,
  recvTs: 1_786_310_818_161,
  cts: 1_786_310_818_127,
  u: 10_000_021,
  seq: 498_120_338_121,
};

describe('tick/lot level codec', () => {
  const cases: [string, Level[], Level[], string | null][] = [
    [
      'BTC 0.1 tick',
      [
        [65114.2, 6.054],
        [65114.1, 0.002],
        [65000, 0],
      ],
      [
        [65114.3, 1.2],
        [65120.7, 0.001],
      ],
      '0.1',
    ],
    ['XRP 4 decimals', [[0.5123, 1000.5]], [[0.5127, 12.25]], '0.0001'],
    ['DOGE 5 decimals, no tick known', [[0.12345, 100]], [[0.12346, 2e6]], null],
    [
      'a 0.5 tick',
      [
        [2500.5, 1.25],
        [2500, 3],
      ],
      [[2501, 4]],
      '0.5',
    ],
    ['empty sides', [], [], '0.1'],
    ['one empty side', [], [[1.5, 0]], '0.1'],
    [
      'prices far apart',
      [
        [1e9, 1],
        [0.1, 1],
      ],
      [[2e9, 1e9]],
      '0.1',
    ],
    ...OFF_GRID.map((l, i): [string, Level[], Level[], string | null] => [
      `off grid ${i}`,
      l,
      [[1, 1]],
      '0.1',
    ]),
    ['NaN and Infinity', [[NaN, 1]], [[Infinity, 1]], '0.1'],
  ];
  it.each(cases)('round-trips %s bit for bit', (_name, bids, asks, tick) => {
    const m = { ...stamps, bids, asks };
    const back = decodeBook(encodeBook(m, tick));
    // toEqual compares numbers with Object.is, so -0 and NaN are checked exactly too.
    expect(back).toEqual(m);
  });

  const stampCases: [string, StoredBook][] = [
    ['real Bybit stamps', { ...stamps, bids: [], asks: [] }],
    ['a snapshot', { ...stamps, type: 'snapshot', bids: [[1, 1]], asks: [] }],
    [
      'cts absent (0) and receive before exchange time',
      { ...stamps, cts: 0, recvTs: stamps.ts - 7, bids: [], asks: [] },
    ],
    [
      'stamps that are no safe integers',
      { ...stamps, ts: 1.5, recvTs: -3, u: 2 ** 60, seq: -1, bids: [[1, 1]], asks: [] },
    ],
  ];
  it.each(stampCases)('round-trips the stamps of %s', (_name, m) => {
    expect(decodeBook(encodeBook(m, '0.1'))).toEqual(m);
  });

  it('counts each message it had to store as raw doubles, and only those', () => {
    const e = new TickLevelEncoder('0.1');
    e.encode({ ...stamps, bids: [[65114.2, 6.054]], asks: [[65114.3, 0.002]] });
    expect(e.rawMessages).toBe(0);
    for (const l of OFF_GRID) e.encode({ ...stamps, bids: l, asks: [] });
    expect(e.rawMessages).toBe(OFF_GRID.length);
  });

  it('stores a real orderbook.200 message in a fraction of v1’s 16 bytes per level', () => {
    const books = recording().filter((m): m is BookMessage => m.kind === 'book');
    const e = new TickLevelEncoder('0.1');
    let v2 = 0;
    let levels = 0;
    for (const m of books) {
      v2 += e.encode(m).length;
      levels += m.bids.length + m.asks.length;
    }
    expect(e.rawMessages).toBe(0);
    expect(v2 / (levels * 16)).toBeLessThan(0.35);
  });

  it('refuses a damaged BLOB with an error that says so', () => {
    const good = encodeBook({ ...stamps, bids: [[65114.2, 6.054]], asks: [[65114.3, 0.002]] }, '0.1');
    expect(() => decodeBook(good.slice(0, -1))).toThrow(LevelBlobError);
    expect(() => decodeBook('\x01\x01\x01')).toThrow(/unknown level format 1/);
    expect(() => decodeBook(`${good}\x01`)).toThrow(/units left/);
    expect(() => decodeBook(good.replace(/.$/, '\x00'))).toThrow(/unit 0 at/);
  });
});

describe('layout v2 writer and reader', () => {
  it('round-trips grid and off-grid messages exactly and counts the off-grid ones', () => {
    const db = track(openDb(path.join(dir, 'v2.db')));
    for (const { session, events } of oddSessions()) {
      const sid = createSession(db, session);
      const w = new SessionWriter(db, sid, { now: () => 1000 });
      for (const ev of events) {
        if (ev.kind === 'gap') w.writeGap(ev.gap);
        else w.writeMessage(ev);
      }
      w.flush();
      const offGrid = session.symbol === 'XRPUSDT' ? OFF_GRID.length : 0;
      expect(w.stats().offGridMessages).toBe(offGrid);
      w.close(2000);
      expect(readAll(db, sid)).toEqual(events);
    }
  });

  it('with reuseLevels gives the same values without new level tuples per message', () => {
    const db = track(openDb(path.join(dir, 'reuse.db')));
    const msgs = recording();
    const sid = createSession(db, BTC);
    const w = new SessionWriter(db, sid, { now: () => BTC.startedAt });
    for (const m of msgs) w.writeMessage(m);
    w.close(BTC.startedAt + 1);
    expect(readAll(db, sid, true)).toEqual(readAll(db, sid, false));
    expect(readAll(db, sid)).toEqual(msgs);
    const seen = new Set<Level>();
    let books = 0;
    for (const e of readSession(db, sid, { reuseLevels: true }))
      if (e.kind === 'book') {
        books++;
        for (const l of e.bids) seen.add(l);
      }
    const maxBids = Math.max(...msgs.map((m) => (m.kind === 'book' ? m.bids.length : 0)));
    expect(books).toBeGreaterThan(100);
    expect(seen.size).toBe(maxBids);
  });

  it('drops the (session, ts) indexes and every store query still finds its rows without a full scan', () => {
    const db = track(openDb(path.join(dir, 'plan.db')));
    const idx = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
      .pluck()
      .all();
    expect(idx).not.toContain('l2_updates_session_ts');
    expect(idx).not.toContain('trades_session_ts');
    expect(idx).toContain('l2_updates_session_recv');
    const plans = [
      'SELECT max(recv_ts) FROM l2_updates WHERE session_id = 1 AND is_snapshot = 1 AND recv_ts <= 5',
      'SELECT max(ts) FROM l2_updates WHERE session_id = 1 AND id < 5',
      'SELECT 1 FROM l2_updates WHERE session_id = 1 AND is_snapshot = 1 AND id < 5 LIMIT 1',
      'SELECT max(msg_ts) FROM trades WHERE session_id = 1 AND msg_id < 5',
      'SELECT count(DISTINCT msg_id) FROM trades WHERE session_id = 1',
    ].map((q) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all() as { detail: string }[]).map((r) => r.detail).join('; '),
    );
    for (const p of plans) expect(p).toMatch(/SEARCH/);
  });
});

/** Builds a v1 file holding the real recording (reps times) and the odd sessions; returns each session's events as v1 reads them. */
function v1File(file: string, reps: number): Map<number, StoredEvent[]> {
  const db = openV1Db(file);
  const cols = db.prepare("SELECT name FROM pragma_table_info('l2_updates')").pluck().all();
  expect(cols).toContain('bids');
  const sessions = [{ session: BTC, events: recording(reps) as StoredEvent[] }, ...oddSessions()];
  const expected = new Map<number, StoredEvent[]>();
  for (const { session, events } of sessions) {
    const sid = writeV1Session(db, session, events);
    const read = readAll(db, sid);
    expect(read).toEqual(events);
    expected.set(sid, read);
  }
  db.close();
  return expected;
}

function expectConverted(
  file: string,
  expected: Map<number, StoredEvent[]>,
  progress: ConversionProgress[] = [],
): void {
  const db = track(openDb(file, { onProgress: (p) => progress.push(p) }));
  expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'l2_updates_v1'").get()).toBeUndefined();
  expect(db.prepare("SELECT name FROM pragma_table_info('l2_updates')").pluck().all()).toContain('levels');
  for (const [sid, events] of expected) expect(readAll(db, sid)).toEqual(events);
  const books = [...expected.values()].flat().filter((e) => e.kind === 'book').length;
  expect(db.prepare('SELECT count(*) FROM l2_updates').pluck().get()).toBe(books);
  expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
}

function counts(file: string): { v1: number; v2: number } {
  const db = openDb(file, { migrate: false });
  try {
    const n = (t: string) => Number(db.prepare(`SELECT count(*) FROM ${t}`).pluck().get());
    return { v1: n('l2_updates_v1'), v2: n('l2_updates') };
  } finally {
    db.close();
  }
}

describe('migration 260: v1 files convert in place', () => {
  it('converts every message of every session to the same values, reporting progress', () => {
    const file = path.join(dir, 'v1.db');
    const expected = v1File(file, 2);
    const progress: ConversionProgress[] = [];
    expectConverted(file, expected, progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ finished: true, what: 'book messages to store layout v2' });
    expect(progress.at(-1)?.done).toBe(progress.at(-1)?.total);
    // Reopening has nothing left to do and reports nothing.
    const again: ConversionProgress[] = [];
    expectConverted(file, expected, again);
    expect(again).toEqual([]);
  });

  it('a conversion stopped between batches continues on the next open, nothing lost or doubled', () => {
    const file = path.join(dir, 'v1.db');
    const expected = v1File(file, 6);
    let batches = 0;
    const stop = (p: ConversionProgress) => {
      if (!p.finished && ++batches === 1) throw new Error('stopped');
    };
    expect(() => openDb(file, { onProgress: stop })).toThrow(/stopped/);
    const mid = counts(file);
    expect(mid.v1).toBeGreaterThan(0);
    expect(mid.v2).toBeGreaterThan(0);
    // Mid-conversion, a reader that did not migrate refuses the file rather than showing half of it.
    const raw = track(openDb(file, { migrate: false }));
    expect(() => readAll(raw, 1)).toThrow(/part way through its conversion to store layout v2/);
    raw.close();
    expectConverted(file, expected);
  });

  it('kill -9 of the converting process part way: the next open finishes it, nothing lost or doubled', async () => {
    const file = path.join(dir, 'v1.db');
    const expected = v1File(file, 8);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join('src-main', 'store', 'testing', 'convertChild.ts'), file, '25'],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += String(d);
        if (out.split('\n').length > 6) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`child exited before the kill: ${out} ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('finished');
    const mid = counts(file);
    expect(mid.v1).toBeGreaterThan(0);
    expect(mid.v2).toBeGreaterThan(0);
    const progress: ConversionProgress[] = [];
    expectConverted(file, expected, progress);
    // It resumed: the first report already counts the rows the killed process converted.
    expect(progress[0].done).toBeGreaterThan(mid.v2);
  }, 60_000);
});
