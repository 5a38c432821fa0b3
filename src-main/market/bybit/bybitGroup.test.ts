// Several symbols over one connection (BybitSource.group) against the real exchange-sim on 127.0.0.1: each symbol
// learns its own tick and lot, keeps its own book and update ids, and a skipped delta or a dropped connection is a
// gap in each symbol's feed, resynced on its own; a refused symbol stops them all with its name.
import { describe, expect, it } from 'vitest';
import type { Gap } from '../../../src-shared/market.ts';
import { ExchangeSimServer } from '../exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../exchangeSim/feeds.ts';
import { bookOf, cleanupAfterEach, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource } from './bybitSource.ts';
import { SubscriptionRefusedError } from './subscriptionRefused.ts';

const cleanups = cleanupAfterEach();
const MARKETS = [
  { symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1' },
  { symbol: 'ETHUSDT', startPrice: 3400, tickSize: '0.01' },
  { symbol: 'SOLUSDT', startPrice: 150, tickSize: '0.001' },
];

async function serve(): Promise<ExchangeSimServer> {
  const [first, ...more] = MARKETS.map((m, i) =>
    simFeed({ seed: 40 + i, ...m, levels: 60, bookRateHz: 30, startMs: Date.now() }),
  );
  const server = await ExchangeSimServer.start({ feed: first, moreFeeds: more, speed: 1 });
  cleanups.push(() => server.close());
  return server;
}

function group(server: ExchangeSimServer, symbols: string[]): BybitSource[] {
  const sources = BybitSource.group({
    symbols: symbols.map((symbol) => ({ symbol })),
    category: 'linear',
    depth: 50,
    url: server.url,
    restBase: server.restUrl,
    pingIntervalMs: 100,
    staleTimeoutMs: 1000,
    reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
  });
  cleanups.push(() => Promise.all(sources.map((s) => s.stop())));
  return sources;
}

/** Freezes the markets and waits until every client book equals its symbol's true book. */
async function expectBooksEqual(server: ExchangeSimServer, sources: BybitSource[]): Promise<void> {
  server.pause();
  for (const s of sources)
    await waitFor(
      `${s.symbol} in sync`,
      () => s.book()?.valid && s.book()?.lastU === server.trueBook(50, s.symbol).u,
    );
  for (const s of sources) {
    const truth = server.trueBook(50, s.symbol);
    expect(bookOf(s).book.levels('bid', 50), s.symbol).toEqual(truth.bids);
    expect(bookOf(s).book.levels('ask', 50), s.symbol).toEqual(truth.asks);
  }
  server.resume();
}

describe('BybitSource.group', () => {
  it('one connection, each symbol its own tick, book, gaps and resync', async () => {
    const server = await serve();
    const sources = group(
      server,
      MARKETS.map((m) => m.symbol),
    );
    const gaps = new Map<string, Gap[]>(sources.map((s) => [s.symbol, []]));
    const foreign: string[] = [];
    for (const s of sources) {
      s.on('gap', (g) => gaps.get(s.symbol)?.push(g));
      // Each source emits its own symbol's data only.
      s.on('message', (m) => m.symbol !== s.symbol && foreign.push(`${s.symbol} got ${m.symbol}`));
    }
    await Promise.all(sources.map((s) => s.start()));
    expect(server.stats.connections).toBe(1);
    expect(sources.map((s) => s.instrument.tickSize)).toEqual(MARKETS.map((m) => m.tickSize));
    await expectBooksEqual(server, sources);

    // A skipped delta on every topic: each symbol detects its own gap and resyncs from its own snapshot.
    server.inject('gap');
    for (const s of sources)
      await waitFor(`${s.symbol} sequence gap closed`, () =>
        (gaps.get(s.symbol) ?? []).some((g) => g.reason === 'sequence' && g.endTs !== null),
      );
    await expectBooksEqual(server, sources);

    // A dropped connection: one reconnect for all, a disconnect gap per symbol, all resynced.
    server.inject('drop');
    for (const s of sources)
      await waitFor(`${s.symbol} disconnect gap closed`, () =>
        (gaps.get(s.symbol) ?? []).some((g) => g.reason === 'disconnect' && g.endTs !== null),
      );
    await expectBooksEqual(server, sources);
    expect(server.stats.connections).toBe(2);
    expect(foreign).toEqual([]);
    for (const s of sources) expect(gaps.get(s.symbol)?.every((g) => g.symbol === s.symbol)).toBe(true);
  }, 30_000);

  it('a refused symbol among several rejects every start, naming only it', async () => {
    const server = await serve();
    const sources = group(server, ['BTCUSDT', 'DOGEUSDT', 'SOLUSDT']);
    const results = await Promise.allSettled(sources.map((s) => s.start()));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as Error;
      expect(e).toBeInstanceOf(SubscriptionRefusedError);
      expect(e.message).toMatch(/refused the subscription to DOGEUSDT on linear/);
    }
    for (const s of sources) expect(s.health().state).toBe('stopped');
    await waitFor('the socket closed', () => server.connectionCount === 0);
  }, 30_000);

  it('refuses a symbol listed twice', () => {
    expect(() =>
      BybitSource.group({
        symbols: [{ symbol: 'BTCUSDT' }, { symbol: 'BTCUSDT' }],
        category: 'linear',
        depth: 50,
        pingIntervalMs: 100,
        staleTimeoutMs: 1000,
        reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
      }),
    ).toThrow(/BTCUSDT is listed twice/);
  });
});

describe('a refusal after the start', () => {
  it('a resubscription refused (the symbol delisted): the feed stops, says it once, and calls onRefused', async () => {
    const server = await serve();
    const [btc, eth] = group(server, ['BTCUSDT', 'ETHUSDT']);
    const warnings: string[] = [];
    const refused: Error[] = [];
    eth.on('warning', (w) => warnings.push(w));
    btc.onRefused((e) => refused.push(e));
    await Promise.all([btc.start(), eth.start()]);
    await waitFor('both books', () => Boolean(btc.book()?.valid && eth.book()?.valid));
    server.delist('ETHUSDT');
    // A skipped delta makes each client resubscribe its book: ETHUSDT's is refused now.
    server.inject('gap');
    await waitFor('the refusal', () => refused.length > 0);
    expect(refused[0].message).toMatch(/refused the subscription to ETHUSDT on linear/);
    expect(warnings.filter((w) => /refused the subscription/.test(w))).toHaveLength(1);
    expect(btc.refusal()).toBe(refused[0]);
    for (const s of [btc, eth]) expect(s.health().state).toBe('stopped');
    await waitFor('the socket closed', () => server.connectionCount === 0);
    expect(server.stats.connections).toBe(1);
  }, 30_000);
});
