// The exchange-sim server serving a stored session (the real Bybit recording stored through the real
// SQLite store), read by the real client: the client's book equals a book computed independently.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage } from '../../../src-shared/market.ts';
import { OrderBook } from '../../book/orderBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { PROJECT_ROOT } from '../../config/loadConfig.ts';
import { openDb } from '../../store/db.ts';
import { SessionWriter } from '../../store/sessionWriter.ts';
import { createSession } from '../../store/sessions.ts';
import { BybitSource } from '../bybit/bybitSource.ts';
import { parseFrame } from '../bybit/protocol.ts';
import { parseFaultSchedule, run as runExchangeSim } from '../../cli/exchange-sim.ts';
import { writeSimSession } from '../../backtest/simSession.ts';
import { readSession } from '../../store/sessionReader.ts';
import { ExchangeSimServer } from './exchangeSimServer.ts';
import { sessionFeed } from './feeds.ts';
import { fetchInstrumentInfo } from '../bybit/instrumentInfo.ts';
import { bookOf, cleanupAfterEach, waitFor } from './testing/simExchangeHarness.ts';
import { BYBIT_RECORDING as RECORDING } from '../../testing/bybitRecording.ts';

const cleanups = cleanupAfterEach();

function recording(): MarketMessage[] {
  return fs
    .readFileSync(RECORDING, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const ts = (JSON.parse(l) as { ts: number }).ts;
      const f = parseFrame(l, ts);
      if (f.type !== 'book' && f.type !== 'trades')
        throw new Error(`recording line did not parse: ${l.slice(0, 80)}`);
      return f.msg;
    });
}

describe('exchange-sim serving a stored session', () => {
  it('plays the real recording from SQLite; the client ends with the independently computed book', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-exsim-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDb(path.join(dir, 'rec.db'));
    cleanups.push(() => void db.close());
    const msgs = recording();
    const sessionId = createSession(db, {
      source: 'import',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
    });
    const writer = new SessionWriter(db, sessionId);
    for (const m of msgs) writer.writeMessage(m);
    writer.close();

    // Independent expectation: the recording applied to a plain OrderBook.
    const expected = new OrderBook(new TickScale('0.1'));
    for (const m of msgs) {
      if (m.kind !== 'book') continue;
      if (m.type === 'snapshot') expected.applySnapshot(m.bids, m.asks);
      else expected.applyDelta(m.bids, m.asks);
    }
    expect([expected.bestBid(), expected.bestBidSize(), expected.bestAsk(), expected.bestAskSize()]).toEqual([
      65114.2, 5.974, 65114.3, 9.06,
    ]);

    // Paused until the client is subscribed, then 43 s of recording at 100x.
    const server = await ExchangeSimServer.start({
      feed: sessionFeed(db, sessionId),
      speed: 100,
      paused: true,
    });
    cleanups.push(() => server.close());
    const client = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      url: server.url,
      pingIntervalMs: 100,
      staleTimeoutMs: 3000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    cleanups.push(() => client.stop());
    const trades: MarketMessage[] = [];
    const books: BookMessage[] = [];
    client.on('message', (m) => (m.kind === 'trades' ? trades.push(m) : books.push(m)));
    await client.start();
    await waitFor('snapshot', () => client.book()?.valid, 8000);
    server.resume();
    await server.whenEnded();
    await waitFor('client caught up', () => client.book()?.lastU === server.trueBook(50).u, 8000);
    expect(client.book()?.valid).toBe(true);
    expect(bookOf(client).book.levels('bid', 50)).toEqual(expected.levels('bid', 50));
    expect(bookOf(client).book.levels('ask', 50)).toEqual(expected.levels('ask', 50));
    expect(server.trueBook(50).bids).toEqual(expected.levels('bid', 50));
    expect(client.health()).toMatchObject({ malformed: 0, unknown: 0, gaps: 0, reconnects: 0 });
    expect(trades).toHaveLength(16);
    // Depth 50 sees fewer deltas than depth 200: only changes inside the top 50 are sent.
    expect(books.length).toBeGreaterThan(100);
    expect(books.length).toBeLessThanOrEqual(414);
  });

  it('refuses an unknown session with a message naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-exsim-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDb(path.join(dir, 'empty.db'));
    cleanups.push(() => void db.close());
    expect(() => sessionFeed(db, 99)).toThrow(/no session 99/);
  });

  it('serves a session recorded live with the lot and minimum order value the exchange answered then', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-exsim-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDb(path.join(dir, 'rules.db'));
    cleanups.push(() => void db.close());
    const msgs = recording().slice(0, 50);
    const sessionId = createSession(db, {
      source: 'bybit',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
      meta: { instrument: { qtyStep: '0.0001', minNotional: '7' } }, // the sizes alone show 0.001
    });
    const writer = new SessionWriter(db, sessionId);
    for (const m of msgs) writer.writeMessage(m);
    writer.close();
    const server = await ExchangeSimServer.start({
      feed: sessionFeed(db, sessionId),
      speed: 100,
      paused: true,
    });
    cleanups.push(() => server.close());
    const r = await fetchInstrumentInfo({ restBase: server.restUrl, category: 'linear', symbol: 'BTCUSDT' });
    expect(r.ok && r.info).toMatchObject({ tickSize: '0.1', qtyStep: '0.0001', minNotional: '7' });
  });

  it('runs as `l2desk exchange-sim` with a scheduled fault, serves a client, and stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
        'exchange-sim',
        '--port',
        '0',
        '--seed',
        '3',
        '--fault',
        'gap@1',
      ],
      {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(() => void child.kill('SIGKILL'));
    await waitFor('the server URL', () => /ws:\/\/127\.0\.0\.1:\d+\/v5\/public\/linear/.test(out), 15_000);
    const url = (/ws:\/\/127\.0\.0\.1:\d+\/v5\/public\/linear/.exec(out) as RegExpExecArray)[0];
    const client = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      url,
      pingIntervalMs: 100,
      staleTimeoutMs: 2000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    cleanups.push(() => client.stop());
    const gaps: string[] = [];
    client.on('gap', (g) => gaps.push(`${g.reason}:${g.endTs === null ? 'open' : 'closed'}`));
    await client.start();
    await waitFor('the scheduled gap and its resync', () => gaps.includes('sequence:closed'), 10_000);
    expect(client.book()?.valid).toBe(true);
    await client.stop();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/fault: gap/);
    expect(out).toMatch(/stopped after 1 connection/);
  });

  it('serves another symbol and tick size (`--symbol XRPUSDT --tick-size 0.0001 --start-price 0.52`) to a client given no tick', async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
        'exchange-sim',
        '--port',
        '0',
        '--symbol',
        'XRPUSDT',
        '--tick-size',
        '0.0001',
        '--start-price',
        '0.52',
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(() => void child.kill('SIGKILL'));
    const URL_RE = /ws:\/\/127\.0\.0\.1:\d+\/v5\/public\/linear/;
    await waitFor('the server URL', () => URL_RE.test(out), 15_000);
    const client = new BybitSource({
      symbol: 'XRPUSDT',
      category: 'linear',
      depth: 50,
      url: (URL_RE.exec(out) as RegExpExecArray)[0],
      pingIntervalMs: 100,
      staleTimeoutMs: 2000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    cleanups.push(() => client.stop());
    const books: BookMessage[] = [];
    client.on('message', (m) => m.kind === 'book' && books.push(m));
    await client.start();
    await waitFor('some deltas', () => books.length > 20, 10_000);
    expect(client.instrument.tickSize).toBe('0.0001');
    expect(client.book()?.valid).toBe(true);
    expect(client.health()).toMatchObject({ malformed: 0, gaps: 0 });
    const levels = [...bookOf(client).book.levels('bid', 50), ...bookOf(client).book.levels('ask', 50)];
    expect(levels).toHaveLength(100);
    for (const [p, size] of levels) {
      expect(Number(p.toFixed(4))).toBe(p);
      expect(p).toBeGreaterThan(0.4);
      expect(p).toBeLessThan(0.65);
      expect(Number.isInteger(size / 100)).toBe(true);
    }
    await client.stop();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/topics: orderbook\.\{1,50,200,1000\}\.XRPUSDT/);
  });

  it('refuses a start price with no room for the book on its tick grid', async () => {
    await expect(runExchangeSim(['--tick-size', '0.0001', '--start-price', '0.01'])).rejects.toThrow(
      /only 100 ticks of 0\.0001/,
    );
  });

  it('a port in use is a clear usage error, not an unhandled error event', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as net.AddressInfo;
    try {
      await expect(runExchangeSim(['--port', String(port)])).rejects.toThrow(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`),
      );
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('parses the CLI fault schedule and rejects unknown faults', () => {
    expect(parseFaultSchedule(['gap@10', 'drop@2.5s'])).toEqual([
      { fault: 'gap', atMs: 10_000 },
      { fault: 'drop', atMs: 2500 },
    ]);
    expect(() => parseFaultSchedule(['explode@1'])).toThrow(/KIND@SECONDS/);
    expect(() => parseFaultSchedule(['gap'])).toThrow(/KIND@SECONDS/);
    expect(() => parseFaultSchedule(['drop@3000000'])).toThrow(/at most 2147483 s/);
  });
});

describe('exchange-sim serving a session stored without a tick size', () => {
  /** A copy of `events` as a session of `symbol` whose tick was unknown when it was stored (''). */
  function storeUnknownTick(db: ReturnType<typeof openDb>, symbol: string, events: MarketMessage[]): number {
    const id = createSession(db, {
      source: 'import',
      symbol,
      category: 'linear',
      depth: 50,
      tickSize: '',
      startedAt: events[0].recvTs,
    });
    const w = new SessionWriter(db, id, { now: () => 0, maxRows: 100_000 });
    for (const m of events) w.writeMessage(m);
    w.close(0);
    return id;
  }

  it.each([
    // case, symbol, tick the feed must serve
    ['the real BTC recording', 'BTCUSDT', '0.1'],
    ['a DOGE-like market under a symbol nobody knows', 'ADAUSDT', '0.00001'],
    ['a first snapshot that looks coarser than the deltas', 'ADAUSDT', '0.00001'],
  ] as const)(
    '%s: tick %s inferred from its snapshots; a client given no tick trades on it',
    async (name, symbol, tick) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-exsim-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      const db = openDb(path.join(dir, 'notick.db'));
      cleanups.push(() => void db.close());
      let events: MarketMessage[];
      if (symbol === 'BTCUSDT') events = recording();
      else {
        const simId = writeSimSession(db, {
          seed: 5,
          durationMs: 20_000,
          symbol,
          startPrice: 0.15,
          tickSize: tick,
        }).sessionId;
        events = [...readSession(db, simId)].filter((e): e is MarketMessage => e.kind !== 'gap');
        if (name.startsWith('a first snapshot')) {
          // Only the levels on the 0.0001 grid in the first snapshot: the deltas then prove the finer tick.
          const coarse = new TickScale('0.0001');
          const on = (l: readonly [number, number]) => Number.isFinite(coarse.tryToTicks(l[0]));
          const first = events.findIndex((e) => e.kind === 'book' && e.type === 'snapshot');
          const s0 = events[first] as BookMessage;
          events[first] = { ...s0, bids: s0.bids.filter(on), asks: s0.asks.filter(on) };
        }
      }
      const feed = sessionFeed(db, storeUnknownTick(db, symbol, events));
      expect(feed.tickSize).toBe(tick);
      expect(feed.description).toContain(`tick ${tick} inferred`);
      const server = await ExchangeSimServer.start({ feed, speed: 100 });
      cleanups.push(() => server.close());
      expect(server.scale.tickSize).toBe(tick);
      const client = new BybitSource({
        symbol,
        category: 'linear',
        depth: 50,
        url: server.url,
        pingIntervalMs: 100,
        staleTimeoutMs: 3000,
        reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
      });
      cleanups.push(() => client.stop());
      await client.start();
      await waitFor('a valid book', () => client.book()?.valid, 8000);
      expect(client.book()?.book.scale.tickSize).toBe(tick);
      expect(client.health()).toMatchObject({ malformed: 0 });
    },
  );

  it('a session with no tick and no snapshot with prices is refused with a message saying so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-exsim-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDb(path.join(dir, 'empty.db'));
    cleanups.push(() => void db.close());
    const id = createSession(db, {
      source: 'import',
      symbol: 'ADAUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '',
      startedAt: 0,
    });
    expect(() => sessionFeed(db, id)).toThrow(/no tick size and no snapshot with prices/);
  });
});
