// The exchange-sim answers what no Bybit client sends (a request line no URL parser takes, frames that are JSON
// but not objects, oversized frames) with an error and keeps serving: these once threw out of a handler.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawExchange, statusCodes } from '../../testing/rawHttp.ts';
import { INSTRUMENT_INFO_PATH } from '../bybit/instrumentInfo.ts';
import { cleanupAfterEach, startSimExchange } from './testing/simExchangeHarness.ts';
import type { ExchangeSimServer } from './exchangeSimServer.ts';

const cleanups = cleanupAfterEach();

async function started(): Promise<ExchangeSimServer> {
  const server = await startSimExchange({ seed: 11 }, { paused: true });
  cleanups.push(() => server.close());
  return server;
}

async function statusOf(port: number, requestLine: string, headers: string[] = []): Promise<number> {
  const text = await rawExchange(
    port,
    [requestLine, `Host: 127.0.0.1:${port}`, ...headers, 'Connection: close', '', ''].join('\r\n'),
  );
  return statusCodes(text)[0] ?? 0;
}

/** A subscriber still gets its snapshot and a ping its pong. */
async function stillServing(server: ExchangeSimServer): Promise<void> {
  expect(await statusOf(server.port, `GET ${INSTRUMENT_INFO_PATH}?category=linear HTTP/1.1`)).toBe(200);
  const ws = new WebSocket(server.url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(String(d)));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ op: 'subscribe', args: [`orderbook.50.${server.symbol}`] }));
  ws.send(JSON.stringify({ op: 'ping' }));
  await expect.poll(() => frames.some((f) => f.includes('"type":"snapshot"'))).toBe(true);
  await expect.poll(() => frames.some((f) => f.includes('"ret_msg":"pong"'))).toBe(true);
  ws.close();
}

describe('exchange-sim: malformed requests', () => {
  it('GET //[ is a 400, with or without upgrade headers', async () => {
    const server = await started();
    expect(await statusOf(server.port, 'GET //[ HTTP/1.1')).toBe(400);
    expect(
      await statusOf(server.port, 'GET //[ HTTP/1.1', [
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
      ]),
    ).toBe(400);
    await stillServing(server);
  });

  it('answers frames that are not request objects with an error and closes an oversized one', async () => {
    const server = await started();
    const ws = new WebSocket(server.url);
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(String(d)));
    await new Promise((r) => ws.once('open', r));
    const bad = ['null', '7', '"ping"', '[]', '{"op":{"toString":1}}', '{"op":"subscribe","args":null}', '{'];
    for (const f of bad) ws.send(f);
    await expect.poll(() => replies.length).toBe(bad.length);
    expect(replies.every((r) => r.includes('"success":false'))).toBe(true);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(1024 * 1024));
    expect(await closed).toBe(1009);
    await stillServing(server);
  });
});
