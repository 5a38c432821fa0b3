// The live client against the real exchange-sim server on 127.0.0.1: one test per fault, each ending with
// the client's book equal to the server's true book and the right gap recorded.
import { describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Gap, MarketMessage } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { ExchangeSimServer, type Fault } from '../exchangeSim/exchangeSimServer.ts';
import { backoffDelay } from './backoff.ts';
import { BybitSource } from './bybitSource.ts';
import { subscribeRequests, TopicError } from './protocol.ts';
import { SubscriptionRefusedError } from './subscriptionRefused.ts';
import {
  bookOf,
  cleanupAfterEach,
  startSimExchange,
  waitFor,
} from '../exchangeSim/testing/simExchangeHarness.ts';

const DEPTH = 50;
const cleanups = cleanupAfterEach();

async function startPair(opts: { category?: 'linear' | 'spot'; seed?: number } = {}) {
  const server = await startSimExchange({ seed: opts.seed ?? 11 }, { category: opts.category, speed: 1 });
  cleanups.push(() => server.close());
  const client = new BybitSource({
    symbol: 'BTCUSDT',
    category: opts.category ?? 'linear',
    depth: DEPTH,
    tickSize: '0.1',
    url: server.url,
    pingIntervalMs: 100,
    staleTimeoutMs: 400,
    reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
  });
  cleanups.push(() => client.stop());
  const gaps: Gap[] = [];
  const warnings: string[] = [];
  // A consumer rebuilding the book from the emitted messages only (what the collector stores).
  const consumer = new SequencedBook(new TickScale('0.1'));
  const consumerProblems: string[] = [];
  const messages: MarketMessage[] = [];
  client.on('gap', (g) => gaps.push(g));
  client.on('warning', (w) => warnings.push(w));
  client.on('message', (m) => {
    messages.push(m);
    if (m.kind !== 'book') return;
    const r = consumer.apply(m);
    if (r.status !== 'applied') consumerProblems.push(JSON.stringify(r));
  });
  await client.start();
  await waitFor('first snapshot', () => client.book()?.valid);
  return { server, client, gaps, warnings, consumer, consumerProblems, messages };
}

type Pair = Awaited<ReturnType<typeof startPair>>;

/** Freezes the market, waits for the client to catch up, and compares top 50 on both sides. */
async function expectBooksEqual(p: Pair): Promise<void> {
  p.server.pause();
  await waitFor(
    'client in sync with the server',
    () => p.client.book()?.valid && p.client.book()?.lastU === p.server.trueBook(DEPTH).u,
  );
  const truth = p.server.trueBook(DEPTH);
  const book = bookOf(p.client).book;
  expect(truth.bids.length).toBe(DEPTH);
  expect(book.levels('bid', DEPTH)).toEqual(truth.bids);
  expect(book.levels('ask', DEPTH)).toEqual(truth.asks);
  expect(p.consumer.book.levels('bid', DEPTH)).toEqual(truth.bids);
  expect(p.consumer.book.levels('ask', DEPTH)).toEqual(truth.asks);
  expect(p.consumerProblems).toEqual([]);
  p.server.resume();
}

const closed = (gaps: Gap[], reason: Gap['reason']) =>
  gaps.filter((g) => g.reason === reason && g.endTs !== null);

/** Waits (for the event, not a fixed time) until the client's valid book has taken `n` more updates. */
async function moreUpdates(p: Pair, n: number): Promise<void> {
  const u0 = bookOf(p.client).lastU;
  await waitFor(`${n} more updates after u=${u0}`, () => {
    const b = p.client.book();
    return b?.valid && b.lastU >= u0 + n;
  });
}

/** Lets the market run for a while, injects the fault, and waits until the book has been restored. */
async function injectAndRecover(p: Pair, fault: Fault, recovered: () => boolean): Promise<void> {
  await moreUpdates(p, 5);
  await expectBooksEqual(p);
  p.server.inject(fault);
  await waitFor(`recovery from ${fault}`, recovered);
  await moreUpdates(p, 5); // some deltas after the recovery
  await expectBooksEqual(p);
}

describe('BybitSource against the exchange-sim server', () => {
  it('survives a dropped connection: reconnects, resubscribes, records a disconnect gap', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'drop', () => closed(p.gaps, 'disconnect').length === 1);
    const g = closed(p.gaps, 'disconnect')[0];
    expect(g.endTs as number).toBeGreaterThanOrEqual(g.startTs);
    expect(g.detail).toMatch(/closed|error/);
    expect(p.client.health()).toMatchObject({ reconnects: 1, state: 'subscribed' });
    expect(p.server.stats.connections).toBe(2);
  });

  it('detects a half-open connection (no pong) and reconnects', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'halfopen', () => closed(p.gaps, 'stale').length === 1);
    expect(closed(p.gaps, 'stale')[0].detail).toMatch(/no pong/);
    expect(p.client.health().reconnects).toBe(1);
    expect(p.server.stats.connections).toBe(2);
    // The new connection is live: the server answers its pings (the first is due 100 ms after it opened, which a
    // loaded machine may not have reached by the time the deltas above arrived).
    await waitFor('a pong on the new connection', () => p.server.stats.pongs > 0);
  });

  it('detects a skipped u, resubscribes on the same connection and resyncs from a fresh snapshot', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'gap', () => closed(p.gaps, 'sequence').length === 1);
    expect(closed(p.gaps, 'sequence')[0].detail).toMatch(/expected u=\d+, got u=\d+/);
    expect(p.client.health().reconnects).toBe(0);
    expect(p.server.stats.connections).toBe(1);
    expect(p.gaps.filter((g) => g.reason !== 'sequence')).toEqual([]);
  });

  it('takes a restart snapshot (u = 1) as a reset and records a restart', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'restart', () => closed(p.gaps, 'restart').length === 1);
    const g = closed(p.gaps, 'restart')[0];
    expect(g.endTs).toBe(g.startTs);
    expect(p.server.trueBook(DEPTH).u).toBeLessThan(1000);
    expect(p.client.health().reconnects).toBe(0);
    expect(p.client.book()?.valid).toBe(true);
  });

  it('counts malformed frames and keeps going with the book intact', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'malformed', () => p.client.health().malformed === 2);
    expect(p.gaps).toEqual([]);
    expect(p.warnings.filter((w) => w.startsWith('malformed'))).toHaveLength(2);
    expect(p.warnings.join('\n')).toMatch(/invalid JSON/);
    expect(p.warnings.join('\n')).toMatch(/bad price/);
    expect(p.client.health().reconnects).toBe(0);
  });

  it('detects a stalled feed (socket open, no data) and reconnects', async () => {
    const p = await startPair();
    await injectAndRecover(p, 'stall', () => closed(p.gaps, 'stale').length === 1);
    expect(closed(p.gaps, 'stale')[0].detail).toMatch(/no data/);
    expect(p.client.health().reconnects).toBe(1);
  });

  it('drops deltas before the first snapshot, and resubscribes on a crossed book', async () => {
    // A scripted peer: each subscribe to the book gets the next scripted burst.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const book = (type: string, u: number, b: string[][], a: string[][]) =>
      JSON.stringify({
        topic: 'orderbook.50.BTCUSDT',
        type,
        ts: 1_700_000_000_000 + u,
        data: { s: 'BTCUSDT', b, a, u, seq: u },
        cts: 1_700_000_000_000 + u,
      });
    const bursts = [
      [
        book('delta', 5, [['100.0', '1']], []),
        book(
          'snapshot',
          10,
          [
            ['100.0', '1'],
            ['99.9', '2'],
          ],
          [['100.1', '3']],
        ),
        book('delta', 11, [['100.2', '1']], []),
      ],
      [book('snapshot', 20, [['100.0', '4']], [['100.2', '5']]), book('delta', 21, [], [['100.3', '6']])],
    ];
    const subs: string[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (d) => {
        const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
        if (req.op === 'ping') return ws.send('{"success":true,"ret_msg":"pong","op":"ping"}');
        ws.send(JSON.stringify({ success: true, ret_msg: '', op: req.op }));
        subs.push(`${req.op} ${(req.args ?? []).join(',')}`);
        if (req.op === 'subscribe' && req.args?.includes('orderbook.50.BTCUSDT'))
          for (const f of bursts.shift() ?? []) ws.send(f);
      });
    });
    const port = (wss.address() as AddressInfo).port;
    const client = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      url: `ws://127.0.0.1:${port}`,
      pingIntervalMs: 100,
      staleTimeoutMs: 2000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0 },
    });
    cleanups.push(() => client.stop());
    const emitted: number[] = [];
    const gaps: Gap[] = [];
    client.on('message', (m) => m.kind === 'book' && emitted.push(m.u));
    client.on('gap', (g) => gaps.push(g));
    await client.start();
    await waitFor('resync after the crossed book', () => emitted.includes(21));
    expect(emitted).toEqual([10, 20, 21]);
    expect(gaps.map((g) => [g.reason, g.endTs === null])).toEqual([
      ['crossed', true],
      ['crossed', false],
    ]);
    expect(subs).toEqual([
      'subscribe orderbook.50.BTCUSDT,publicTrade.BTCUSDT',
      'unsubscribe orderbook.50.BTCUSDT',
      'subscribe orderbook.50.BTCUSDT',
    ]);
    expect(bookOf(client).book.levels('bid', 5)).toEqual([[100.0, 4]]);
    expect(bookOf(client).book.levels('ask', 5)).toEqual([
      [100.2, 5],
      [100.3, 6],
    ]);
  });

  it('stops at once on a refused subscription (an unknown symbol) with an error naming the symbol and category', async () => {
    const server = await startSimExchange({ seed: 3 });
    cleanups.push(() => server.close());
    const client = new BybitSource({
      symbol: 'ETHUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.01',
      url: server.url,
      pingIntervalMs: 100,
      staleTimeoutMs: 5000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    cleanups.push(() => client.stop());
    const warnings: string[] = [];
    client.on('warning', (w) => warnings.push(w));
    const refused: Error[] = [];
    client.onRefused((e) => refused.push(e));
    const err = await client.start().then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(SubscriptionRefusedError);
    expect(err?.message).toMatch(/refused the subscription to ETHUSDT on linear/);
    expect(err?.message).toMatch(/error:handler not found,topic:orderbook\.50\.ETHUSDT/);
    expect(err?.message).toMatch(/check the symbol and --category/);
    expect(refused).toEqual([err]);
    // Said once, by the rejection: not again as a warning, and no reconnect.
    expect(warnings).toEqual([]);
    expect(client.health()).toMatchObject({ state: 'stopped', reconnects: 0 });
    await waitFor('the socket closed', () => server.connectionCount === 0);
    expect(server.stats.connections).toBe(1);
    // A later start does not try again: the refusal stands.
    await expect(client.start()).rejects.toBe(err);
  });

  it('rejects depth 500 on linear with a clear message', () => {
    const make = () =>
      new BybitSource({
        symbol: 'BTCUSDT',
        category: 'linear',
        depth: 500,
        tickSize: '0.1',
        pingIntervalMs: 1,
        staleTimeoutMs: 1,
        reconnect: { initialMs: 1, maxMs: 1, jitter: 0 },
      });
    expect(make).toThrow(TopicError);
    expect(make).toThrow(/500 is no longer served/);
  });
});

describe('reconnect backoff', () => {
  const policy = { initialMs: 500, maxMs: 30_000, jitter: 0.3 };
  it.each([
    [0, 500],
    [1, 1000],
    [3, 4000],
    [6, 30_000],
    [40, 30_000],
  ])('attempt %i stays within [0.7, 1] × %i ms', (attempt, base) => {
    expect(backoffDelay(attempt, policy, () => 0)).toBe(base);
    expect(backoffDelay(attempt, policy, () => 0.999999)).toBeCloseTo(base * 0.7, 0);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, policy);
      expect(d).toBeGreaterThanOrEqual(base * 0.7);
      expect(d).toBeLessThanOrEqual(base);
    }
  });
  it('spreads delays with jitter and none without', () => {
    const ds = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(2, policy))));
    expect(ds.size).toBeGreaterThan(10);
    expect(backoffDelay(2, { ...policy, jitter: 0 })).toBe(2000);
  });
});

describe('exchange-sim protocol', () => {
  async function raw(
    server: ExchangeSimServer,
  ): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
    const ws = new WebSocket(server.url);
    const queue: Record<string, unknown>[] = [];
    const waiters: Array<(m: Record<string, unknown>) => void> = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    cleanups.push(async () => void ws.terminate());
    return {
      ws,
      next: () =>
        queue.length
          ? Promise.resolve(queue.shift() as Record<string, unknown>)
          : new Promise((r) => waiters.push(r)),
    };
  }

  it('answers pings, refuses bad topics, and enforces the spot limit of 10 args (chunked requests pass)', async () => {
    const server = await startSimExchange({ seed: 4 }, { category: 'spot', paused: true });
    cleanups.push(() => server.close());
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v5\/public\/spot$/);
    const { ws, next } = await raw(server);
    ws.send('{"op":"ping"}');
    expect(await next()).toMatchObject({ success: true, ret_msg: 'pong', op: 'ping' });
    ws.send('{"op":"subscribe","args":["orderbook.500.BTCUSDT"]}');
    expect(await next()).toMatchObject({
      success: false,
      ret_msg: 'error:handler not found,topic:orderbook.500.BTCUSDT',
      op: 'subscribe',
    });
    const topics = ['publicTrade.BTCUSDT', ...Array.from({ length: 10 }, (_, i) => `publicTrade.X${i}USDT`)];
    ws.send(JSON.stringify({ op: 'subscribe', args: topics }));
    expect(await next()).toMatchObject({ success: false, ret_msg: 'error:args size >10' });
    const reqs = subscribeRequests('spot', topics);
    expect(reqs).toHaveLength(2);
    for (const r of reqs) ws.send(r);
    // Both chunks pass the size limit; only the made-up symbols are refused, each by name, and BTCUSDT is served.
    const replies = [await next(), await next()].map((m) => String(m.ret_msg));
    expect(replies.join(';')).not.toMatch(/args size/);
    const refused = replies.join(';').match(/topic:[\w.]+/g) ?? [];
    expect(refused).toEqual(topics.slice(1).map((t) => `topic:${t}`));
    ws.send('{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}');
    expect(await next()).toMatchObject({ success: true, op: 'subscribe' });
    const snap = await next();
    expect(snap).toMatchObject({ topic: 'orderbook.50.BTCUSDT', type: 'snapshot' });
    server.step(5);
    let m = await next();
    while (m.topic === 'publicTrade.BTCUSDT') m = await next();
    expect(m).toMatchObject({ topic: 'orderbook.50.BTCUSDT', type: 'delta' });
  });
});
