// What a refused subscription says, from the exchange's own words in the shapes Bybit uses (linear: "error:handler
// not found,topic:…", spot: "Invalid symbol :[…]", or no topic at all), and which failures are not refusals.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { BybitSource } from './bybitSource.ts';
import {
  instrumentsListUrl,
  isRefusal,
  SubscriptionRefusedError,
  symbolOfTopic,
  topicsNamedIn,
} from './subscriptionRefused.ts';
import { cleanupAfterEach } from '../exchangeSim/testing/simExchangeHarness.ts';

const cleanups = cleanupAfterEach();

describe('the exchange’s words', () => {
  it.each([
    ['error:handler not found,topic:orderbook.50.ETHUSDT', ['orderbook.50.ETHUSDT']],
    [
      'error:handler not found,topic:orderbook.50.XUSDT;error:handler not found,topic:publicTrade.XUSDT',
      ['orderbook.50.XUSDT', 'publicTrade.XUSDT'],
    ],
    ['Invalid symbol :[orderbook.50.FOOUSDT]', ['orderbook.50.FOOUSDT']],
    ['Params Error', []],
    ['', []],
  ])('%j names %j', (text, topics) => {
    expect(topicsNamedIn(text)).toEqual(topics);
  });

  it('a topic’s symbol', () => {
    expect(symbolOfTopic('orderbook.200.SOLUSDT')).toBe('SOLUSDT');
    expect(symbolOfTopic('publicTrade.BTCUSDT')).toBe('BTCUSDT');
  });

  it('"already subscribed" is not a refusal; anything else is', () => {
    expect(isRefusal('error:already subscribed,topic:orderbook.50.BTCUSDT')).toBe(false);
    expect(isRefusal('error:handler not found,topic:orderbook.50.BTCUSDT')).toBe(true);
    expect(isRefusal('Params Error')).toBe(true);
  });

  it('the message names symbol, category, the exchange’s words and what to do', () => {
    const e = new SubscriptionRefusedError(['FOOUSDT'], 'spot', 'Invalid symbol :[orderbook.50.FOOUSDT]');
    expect(e.message).toBe(
      'the exchange refused the subscription to FOOUSDT on spot (Invalid symbol :[orderbook.50.FOOUSDT]): ' +
        'check the symbol and --category (linear or spot); Bybit lists symbols at ' +
        instrumentsListUrl('spot'),
    );
  });
});

describe('a refusal that names no topic', () => {
  it('is traced to its request by req_id: the symbol is named all the same', async () => {
    // A server answering every subscribe as Bybit does for malformed params: no topic in the text, req_id echoed.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on('connection', (ws) =>
      ws.on('message', (raw) => {
        const req = JSON.parse(String(raw)) as { op?: string; req_id?: string };
        if (req.op === 'subscribe')
          ws.send(
            JSON.stringify({ success: false, ret_msg: 'Params Error', op: 'subscribe', req_id: req.req_id }),
          );
      }),
    );
    const client = new BybitSource({
      symbol: 'FOOUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.01',
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v5/public/linear`,
      pingIntervalMs: 100,
      staleTimeoutMs: 2000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    cleanups.push(() => client.stop());
    await expect(client.start()).rejects.toThrow(
      /refused the subscription to FOOUSDT on linear \(Params Error\): check the symbol/,
    );
  });
});
