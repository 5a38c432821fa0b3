// Test harness for clients run against the real exchange-sim server on 127.0.0.1: a simulated market to serve,
// cleanups undone after each test, polling for a condition, and the client's book.
import { afterEach } from 'vitest';
import type { SequencedBook } from '../../../book/sequencedBook.ts';
import type { BybitSource } from '../../bybit/bybitSource.ts';
import type { SimGeneratorOptions } from '../../sim/simGenerator.ts';
import { ExchangeSimServer, type ExchangeSimOptions } from '../exchangeSimServer.ts';
import { simFeed } from '../feeds.ts';

/**
 * Starts the exchange-sim on a simulated market: a BTC-like book (65000, tick 0.1, 200 levels, 50 book messages/s)
 * starting now, unless `feed` says otherwise. The caller closes it.
 */
export function startSimExchange(
  feed: Partial<SimGeneratorOptions> & { seed: number },
  server: Omit<ExchangeSimOptions, 'feed'> = {},
): Promise<ExchangeSimServer> {
  return ExchangeSimServer.start({
    feed: simFeed({
      startPrice: 65000,
      tickSize: '0.1',
      levels: 200,
      bookRateHz: 50,
      startMs: Date.now(),
      ...feed,
    }),
    ...server,
  });
}

/** One market of a multi-symbol exchange-sim: a small simulated book (60 levels, 20 book messages/s) from now. */
export interface SimMarketSpec {
  symbol: string;
  startPrice: number;
  tickSize: string;
  seed: number;
}

/** Starts the exchange-sim serving several markets over one server (the first is its default). The caller closes it. */
export function startSimMarkets(
  markets: readonly SimMarketSpec[],
  server: Omit<ExchangeSimOptions, 'feed' | 'moreFeeds'> = {},
): Promise<ExchangeSimServer> {
  const [first, ...more] = markets.map((m) =>
    simFeed({ ...m, levels: 60, bookRateHz: 20, startMs: Date.now() }),
  );
  return ExchangeSimServer.start({ feed: first, moreFeeds: more, ...server });
}

/** Call at the top of a test file: the returned list's entries run after each test, last pushed first. */
export function cleanupAfterEach(): Array<() => Promise<unknown> | unknown> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/** Polls `pred` every `stepMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  pred: () => boolean | undefined,
  timeoutMs = 5000,
  stepMs = 10,
): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The client's book, which exists once the tick size is known (configured, or after the first snapshot). */
export function bookOf(client: BybitSource): SequencedBook {
  const b = client.book();
  if (!b) throw new Error('the client has no book yet');
  return b;
}
