// What real Bybit does that the exchange-sim rarely shows, played by a scripted peer on 127.0.0.1: depth-1
// snapshots re-pushed with the same u, u restarting at 1, quiet markets, the pong forms, foreign and
// out-of-order trades.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Gap, MarketMessage, TradeMessage } from '../../../src-shared/market.ts';
import type { SequencedBook } from '../../book/sequencedBook.ts';
import { cleanupAfterEach, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource, type BybitSourceOptions } from './bybitSource.ts';

const cleanups = cleanupAfterEach();

const T0 = 1_786_000_000_000;
const book = (depth: number, type: string, u: number, b: string[][], a: string[][]) =>
  JSON.stringify({
    topic: `orderbook.${depth}.BTCUSDT`,
    type,
    ts: T0 + u,
    data: { s: 'BTCUSDT', b, a, u, seq: u },
    cts: T0 + u,
  });
const trades = (symbol: string, list: Array<[t: number, seq: number, price: string]>) =>
  JSON.stringify({
    topic: `publicTrade.${symbol}`,
    type: 'snapshot',
    ts: T0 + 50,
    data: list.map(([t, seq, p], i) => ({
      T: T0 + t,
      s: symbol,
      S: 'Buy',
      v: '0.001',
      p,
      L: 'PlusTick',
      i: `id-${seq}-${i}`,
      BT: false,
      seq,
    })),
  });

/** Each book subscription gets the next burst (or `every` when the script has run out). */
async function peer(opts: { bursts: string[][]; every?: string[]; pong: string }) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  const requests: string[] = [];
  let pings = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (d) => {
      const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
      if (req.op === 'ping') {
        pings++;
        return ws.send(opts.pong);
      }
      ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'c1', req_id: '', op: req.op }));
      requests.push(`${req.op} ${(req.args ?? []).join(',')}`);
      if (req.op === 'subscribe' && req.args?.some((a) => a.startsWith('orderbook.')))
        for (const f of opts.bursts.shift() ?? opts.every ?? []) ws.send(f);
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, requests, pings: () => pings };
}

function client(url: string, o: Partial<BybitSourceOptions> = {}) {
  const c = new BybitSource({
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    url,
    pingIntervalMs: 60,
    staleTimeoutMs: 300,
    reconnect: { initialMs: 30, maxMs: 200, jitter: 0 },
    ...o,
  });
  cleanups.push(() => c.stop());
  const got = {
    books: [] as number[],
    trades: [] as TradeMessage[],
    gaps: [] as Gap[],
    warnings: [] as string[],
  };
  c.on('message', (m: MarketMessage) => (m.kind === 'book' ? got.books.push(m.u) : got.trades.push(m)));
  c.on('gap', (g) => got.gaps.push(g));
  c.on('warning', (w) => got.warnings.push(w));
  return { c, got };
}

describe('BybitSource and real-Bybit behaviour', () => {
  it('takes depth-1 snapshots re-pushed with the same u as no-ops, and answers only snapshots on depth 1', async () => {
    const p = await peer({
      pong: '{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"","op":"ping"}',
      bursts: [
        [
          book(1, 'snapshot', 500, [['65000.0', '1']], [['65000.1', '2']]),
          book(1, 'snapshot', 500, [['65000.0', '1']], [['65000.1', '2']]), // 3 s without change: re-pushed
          book(1, 'snapshot', 501, [['65000.0', '3']], [['65000.1', '2']]),
          book(1, 'snapshot', 501, [['65000.0', '3']], [['65000.1', '2']]),
        ],
      ],
    });
    const { c, got } = client(p.url, { depth: 1 });
    await c.start();
    await waitFor('four snapshots', () => got.books.length === 4);
    expect(got.books).toEqual([500, 500, 501, 501]);
    expect(got.gaps).toEqual([]);
    expect((c.book() as SequencedBook).book.levels('bid', 1)).toEqual([[65000, 3]]);
    expect(c.health()).toMatchObject({ malformed: 0, unknown: 0, gaps: 0 });
  });

  it('restarts the sequence at u = 1 (restart gap, no sequence gap) and carries on from u = 2', async () => {
    const p = await peer({
      pong: '{"success":true,"ret_msg":"pong","conn_id":"c1","op":"ping"}',
      bursts: [
        [
          book(50, 'snapshot', 900, [['100.0', '1']], [['100.2', '1']]),
          book(50, 'delta', 901, [['100.1', '2']], []),
          book(50, 'snapshot', 1, [['99.0', '5']], [['99.5', '6']]),
          book(50, 'delta', 2, [['99.1', '1']], []),
          book(50, 'snapshot', 1, [['99.0', '5']], [['99.5', '6']]), // u = 1 again: a second restart
          book(50, 'delta', 2, [], [['99.4', '7']]),
          book(50, 'delta', 3, [], [['99.3', '8']]),
        ],
      ],
    });
    const { c, got } = client(p.url);
    await c.start();
    await waitFor('all book messages', () => got.books.length === 7);
    expect(got.books).toEqual([900, 901, 1, 2, 1, 2, 3]);
    expect(got.gaps.map((g) => g.reason)).toEqual(['restart', 'restart']);
    expect((c.book() as SequencedBook).book.levels('ask', 3)).toEqual([
      [99.3, 8],
      [99.4, 7],
      [99.5, 6],
    ]);
    expect(c.book()?.lastU).toBe(3);
  });

  it('keeps a quiet market (pongs, no data) on the same connection by resubscribing; the private pong form counts', async () => {
    const snap = book(50, 'snapshot', 42, [['100.0', '1']], [['100.1', '1']]);
    const p = await peer({
      pong: '{"req_id":"","op":"pong","args":["1786000000000"],"conn_id":"c1"}',
      bursts: [],
      every: [snap],
    });
    const { c, got } = client(p.url);
    await c.start();
    await waitFor('two quiet-market probes', () => got.books.length >= 3, 5000);
    expect(c.health()).toMatchObject({ reconnects: 0, gaps: 0, state: 'subscribed' });
    expect(got.gaps).toEqual([]);
    expect(p.pings()).toBeGreaterThan(0);
    expect(p.requests.slice(0, 3)).toEqual([
      'subscribe orderbook.50.BTCUSDT,publicTrade.BTCUSDT',
      'unsubscribe orderbook.50.BTCUSDT',
      'subscribe orderbook.50.BTCUSDT',
    ]);
  });

  it('drops trades of an unsubscribed symbol and puts a message of out-of-order trades in time order', async () => {
    const p = await peer({
      pong: '{"success":true,"ret_msg":"pong","conn_id":"c1","op":"ping"}',
      bursts: [
        [
          book(50, 'snapshot', 10, [['100.0', '1']], [['100.1', '1']]),
          trades('ETHUSDT', [[1, 1, '3000.00']]),
          trades('BTCUSDT', [
            [5, 7, '100.1'],
            [3, 5, '100.0'],
            [5, 6, '100.1'],
          ]),
          trades('BTCUSDT', [[9, 8, '100.1']]),
        ],
      ],
    });
    const { c, got } = client(p.url, { staleTimeoutMs: 3000 });
    await c.start();
    await waitFor('both BTCUSDT trade messages', () => got.trades.length === 2);
    expect(got.trades.every((m) => m.symbol === 'BTCUSDT')).toBe(true);
    expect(got.trades[0].trades.map((t) => [t.ts - T0, t.seq])).toEqual([
      [3, 5],
      [5, 6],
      [5, 7],
    ]);
    expect(c.health()).toMatchObject({ unknown: 1, messages: 3 });
    expect(got.warnings.join('\n')).toMatch(/trades for an unsubscribed symbol ETHUSDT/);
  });
});
