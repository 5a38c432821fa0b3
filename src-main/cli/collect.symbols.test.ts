// collect --source bybit against the real exchange-sim on 127.0.0.1: a symbol the exchange refuses (unknown, or
// listed on the other category) ends the command at once with exit code 1, its message, and no session; several
// symbols (--symbol A,B,C) are collected over one connection into one session each, whose books rebuilt from the
// database (`l2desk book --json`) equal the exchange's, with the subscribe requests split to the category's limit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Category } from '../../src-shared/market.ts';
import { MAX_ARGS_PER_REQUEST } from '../market/bybit/protocol.ts';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed, type MarketFeed } from '../market/exchangeSim/feeds.ts';
import { cleanupAfterEach, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { openDb } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { run as runBook } from './book.ts';
import { UsageError } from './args.ts';
import { parseSymbols, run as runCollect } from './collect.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-symbols-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const cleanups = cleanupAfterEach();

/** Three markets with different grids, as on Bybit. */
const MARKETS = [
  { symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1' },
  { symbol: 'ETHUSDT', startPrice: 3400, tickSize: '0.01' },
  { symbol: 'SOLUSDT', startPrice: 150, tickSize: '0.001' },
];

function feed(m: { symbol: string; startPrice: number; tickSize: string }, seed: number): MarketFeed {
  return simFeed({ seed, ...m, levels: 60, bookRateHz: 20, startMs: Date.now() });
}

async function exchange(
  markets: typeof MARKETS,
  opts: { category?: Category; listings?: Record<string, Category[]> } = {},
): Promise<ExchangeSimServer> {
  const [first, ...more] = markets.map((m, i) => feed(m, 100 + i));
  const server = await ExchangeSimServer.start({ feed: first, moreFeeds: more, speed: 1, ...opts });
  cleanups.push(() => server.close());
  return server;
}

/** Runs collect with stdout/stderr captured; `until` decides when to stop it (else it runs its --duration). */
async function collect(argv: string[], until?: () => boolean): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const push = (...a: unknown[]) => void out.push(`${a.map(String).join(' ')}\n`);
  const spies = [
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
      out.push(String(c));
      return true;
    }),
    vi.spyOn(console, 'error').mockImplementation(push),
    vi.spyOn(console, 'log').mockImplementation(push),
  ];
  try {
    const ctl = new AbortController();
    const running = runCollect(argv, { signal: ctl.signal });
    if (until) {
      await Promise.race([waitFor('the collection to get far enough', until, 20_000, 50), running]);
      ctl.abort();
    }
    return { code: await running, out: out.join('') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

function sessionsIn(file: string) {
  if (!fs.existsSync(file)) return [];
  const db = openDb(file);
  try {
    return listSessions(db);
  } finally {
    db.close();
  }
}

describe('--symbol A,B,C', () => {
  it('takes upper-case symbols separated by commas, each once', () => {
    expect(parseSymbols('BTCUSDT')).toEqual(['BTCUSDT']);
    expect(parseSymbols('BTCUSDT, ETHUSDT,SOLUSDT')).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(parseSymbols(undefined)).toBeUndefined();
    expect(() => parseSymbols('BTCUSDT,ethusdt')).toThrow(/"ethusdt" is not a symbol/);
    expect(() => parseSymbols('BTCUSDT,,ETHUSDT')).toThrow(/"" is not a symbol/);
    expect(() => parseSymbols('BTCUSDT,BTCUSDT')).toThrow(/BTCUSDT is listed twice/);
  });

  it('several symbols come from the live feed only: the simulator makes one market', async () => {
    const argv = ['--source', 'sim', '--symbol', 'BTCUSDT,ETHUSDT', '--db', path.join(dir, 'sim.db')];
    await expect(runCollect(argv)).rejects.toThrow(UsageError);
    await expect(runCollect(argv)).rejects.toThrow(/run one collect per symbol/);
    expect(fs.existsSync(path.join(dir, 'sim.db'))).toBe(false);
  });
});

describe('a refused subscription', () => {
  it('an unknown symbol: exit 1 at once (not after --duration), the message, and no session', async () => {
    const server = await exchange(MARKETS.slice(0, 1));
    const dbFile = path.join(dir, 'unknown.db');
    // --duration 60m: only the refusal can end it within the test's time.
    const { code, out } = await collect([
      '--source',
      'bybit',
      '--symbol',
      'ETHUSDT',
      '--url',
      server.url,
      '--duration',
      '60m',
      '--db',
      dbFile,
    ]);
    expect(code).toBe(1);
    expect(out).toMatch(
      /collect: the exchange refused the subscription to ETHUSDT on linear \(error:handler not found,topic:orderbook\.50\.ETHUSDT.*\): check the symbol and --category \(linear or spot\); Bybit lists symbols at https:\/\/api\.bybit\.com\/v5\/market\/instruments-info\?category=linear; nothing was stored/,
    );
    expect(out).not.toMatch(/reconnecting|subscribed|no market data/);
    expect(sessionsIn(dbFile)).toEqual([]);
    // Tried once, not again and again.
    expect(server.stats.connections).toBe(1);
  }, 30_000);

  it('a spot-only symbol on linear: the same, naming the category', async () => {
    const server = await exchange(MARKETS.slice(0, 2), { listings: { ETHUSDT: ['spot'] } });
    const dbFile = path.join(dir, 'category.db');
    const { code, out } = await collect([
      '--source',
      'bybit',
      '--symbol',
      'ETHUSDT',
      '--category',
      'linear',
      '--url',
      server.urlFor('linear'),
      '--duration',
      '60m',
      '--db',
      dbFile,
    ]);
    expect(code).toBe(1);
    expect(out).toMatch(/refused the subscription to ETHUSDT on linear .*check the symbol and --category/);
    expect(sessionsIn(dbFile)).toEqual([]);
  }, 30_000);

  it('one refused symbol among several fails the whole command: no session for the others either', async () => {
    const server = await exchange(MARKETS.slice(0, 2));
    const dbFile = path.join(dir, 'several.db');
    const { code, out } = await collect([
      '--source',
      'bybit',
      '--symbol',
      'BTCUSDT,XRPUSDT,ETHUSDT',
      '--url',
      server.url,
      '--duration',
      '60m',
      '--db',
      dbFile,
    ]);
    expect(code).toBe(1);
    expect(out).toMatch(/refused the subscription to XRPUSDT on linear/);
    expect(out).not.toMatch(/refused the subscription to (BTCUSDT|ETHUSDT)/);
    expect(sessionsIn(dbFile)).toEqual([]);
  }, 30_000);
});

describe('a refusal while collecting', () => {
  it('a symbol delisted mid-run: the collection stops with exit 1, saying it once; what was stored is kept', async () => {
    const server = await exchange(MARKETS.slice(0, 2));
    const dbFile = path.join(dir, 'delisted.db');
    let delisted = false;
    const { code, out } = await collect(
      [
        '--source',
        'bybit',
        '--symbol',
        'BTCUSDT,ETHUSDT',
        '--url',
        server.url,
        '--duration',
        '60m',
        '--db',
        dbFile,
      ],
      () => {
        if (!delisted && sessionsIn(dbFile).length === 2 && sessionsIn(dbFile).every((s) => s.messages > 5)) {
          delisted = true;
          server.delist('ETHUSDT');
          server.inject('gap'); // each client resubscribes its book: ETHUSDT's is refused now
        }
        return false; // only the refusal ends it
      },
    );
    expect(code, out).toBe(1);
    expect(out.match(/the exchange refused the subscription to ETHUSDT on linear/g)).toHaveLength(1);
    expect(out).toMatch(/^collect stopped: the exchange refused the subscription to ETHUSDT/m);
    const sessions = sessionsIn(dbFile);
    expect(sessions.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (const s of sessions) {
      expect(s.messages).toBeGreaterThan(5);
      expect(s.endedAt).not.toBeNull();
    }
  }, 60_000);
});

describe('several symbols over one connection', () => {
  it('three symbols: one session each, each book equal to the exchange’s, one connection', async () => {
    const server = await exchange(MARKETS);
    const dbFile = path.join(dir, 'three.db');
    const { code, out } = await collect(
      [
        '--source',
        'bybit',
        '--symbol',
        'BTCUSDT,ETHUSDT,SOLUSDT',
        '--url',
        server.url,
        '--duration',
        '60m',
        '--db',
        dbFile,
        '--quiet',
      ],
      () => {
        if (server.stats.stepsPlayed < 120) return false;
        // Freeze the markets so the collector's last messages are the exchange's current state; give the last
        // frames time to be stored (the poll runs again until the counts stop moving).
        server.pause();
        return settled(dbFile, server);
      },
    );
    expect(code, out).toBe(0);
    expect(server.stats.connections).toBe(1);
    const sessions = sessionsIn(dbFile);
    expect(sessions.map((s) => [s.symbol, s.tickSize])).toEqual(MARKETS.map((m) => [m.symbol, m.tickSize]));
    for (const s of sessions) {
      expect(s.messages).toBeGreaterThan(10);
      expect(out).toContain(`session ${s.id}: bybit ${s.symbol} depth 50;`);
      const book = await bookJson(dbFile, s.id);
      const truth = server.trueBook(50, s.symbol);
      expect(book.valid, `${s.symbol} book valid`).not.toBe(false);
      expect(book.bids, s.symbol).toEqual(truth.bids.slice(0, 10));
      expect(book.asks, s.symbol).toEqual(truth.asks.slice(0, 10));
    }
  }, 60_000);

  it('spot: the subscribe requests are split to at most 10 topics each (six symbols, twelve topics)', async () => {
    const six = [
      ...MARKETS,
      { symbol: 'XRPUSDT', startPrice: 0.52, tickSize: '0.0001' },
      { symbol: 'DOGEUSDT', startPrice: 0.15, tickSize: '0.00001' },
      { symbol: 'ADAUSDT', startPrice: 0.45, tickSize: '0.0001' },
    ];
    const server = await exchange(six, { category: 'spot' });
    const dbFile = path.join(dir, 'six.db');
    const { code, out } = await collect(
      [
        '--source',
        'bybit',
        '--category',
        'spot',
        '--symbol',
        six.map((m) => m.symbol).join(','),
        '--url',
        server.urlFor('spot'),
        '--duration',
        '60m',
        '--db',
        dbFile,
        '--quiet',
      ],
      () => sessionsIn(dbFile).length === 6 && sessionsIn(dbFile).every((s) => s.messages > 3),
    );
    expect(code, out).toBe(0);
    const requests = server.stats.subscribeArgs;
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const args of requests) expect(args.length).toBeLessThanOrEqual(MAX_ARGS_PER_REQUEST.spot);
    const topics = requests.flat();
    for (const m of six) {
      expect(topics).toContain(`orderbook.50.${m.symbol}`);
      expect(topics).toContain(`publicTrade.${m.symbol}`);
    }
    expect(sessionsIn(dbFile).map((s) => s.symbol)).toEqual(six.map((m) => m.symbol));
  }, 60_000);
});

let lastCounts = '';
let countsSince = 0;
/** True once every session exists and its stored counts have not moved for a few write batches. */
function settled(file: string, server: ExchangeSimServer): boolean {
  const s = sessionsIn(file);
  if (s.length !== server.symbols.length) return false;
  const counts = s.map((x) => x.messages).join(',');
  if (counts !== lastCounts) {
    lastCounts = counts;
    countsSince = Date.now();
  }
  return s.every((x) => x.messages > 10) && Date.now() - countsSince > 1500;
}

async function bookJson(
  file: string,
  session: number,
): Promise<{ bids: number[][]; asks: number[][]; valid?: boolean }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    expect(await runBook(['--db', file, '--session', String(session), '--json'])).toBe(0);
    return JSON.parse(String(log.mock.calls.at(-1)?.[0])) as {
      bids: number[][];
      asks: number[][];
      valid?: boolean;
    };
  } finally {
    log.mockRestore();
  }
}
