// Fuzz: ≥ 10,000 random and mutated request lines, headers and WebSocket frames against a real exchange-sim on
// 127.0.0.1 playing the simulated market. It must stay up and keep serving REST and subscriptions throughout.
// Reproduce a failure with L2DESK_FUZZ_SEED=<the seed in the test name>.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  FuzzRng,
  fuzzRawHttp,
  fuzzWsFrames,
  mutate,
  randomJson,
  type HttpFuzzTarget,
} from '../../testing/protocolFuzz.ts';
import { rawExchange, statusCodes } from '../../testing/rawHttp.ts';
import { INSTRUMENT_INFO_PATH } from '../bybit/instrumentInfo.ts';
import { MAX_REQUEST_FRAME, type ExchangeSimServer } from './exchangeSimServer.ts';
import { cleanupAfterEach, startSimExchange } from './testing/simExchangeHarness.ts';

const SEED = Number(process.env.L2DESK_FUZZ_SEED ?? 20261202);
const ROUNDS = 10;
const cleanups = cleanupAfterEach();

function requestText(rng: FuzzRng, symbol: string): string {
  const topics = [
    `orderbook.1.${symbol}`,
    `orderbook.50.${symbol}`,
    `publicTrade.${symbol}`,
    `orderbook.500.${symbol}`,
    'orderbook.50.ETHUSDT',
    `tickers.${symbol}`,
    '',
  ];
  const k = rng.int(4);
  if (k === 0) return JSON.stringify(randomJson(rng));
  if (k === 1)
    return JSON.stringify({
      op: rng.pick(['subscribe', 'unsubscribe', 'ping', 'pong', 'auth', '', rng.text(5)]),
      args: rng.chance(0.7)
        ? Array.from({ length: rng.int(12) }, () => (rng.chance(0.8) ? rng.pick(topics) : randomJson(rng, 1)))
        : randomJson(rng),
      req_id: randomJson(rng, 1),
    });
  if (k === 2)
    return mutate(
      rng,
      Buffer.from(JSON.stringify({ op: 'subscribe', args: [rng.pick(topics)], req_id: 'r1' })),
    ).toString('latin1');
  return rng.text(rng.int(80));
}

async function stillServing(server: ExchangeSimServer): Promise<void> {
  const rest = await rawExchange(
    server.port,
    `GET ${INSTRUMENT_INFO_PATH}?category=linear&symbol=${server.symbol} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
  );
  expect(statusCodes(rest)).toEqual([200]);
  expect(rest).toContain('"retCode":0');
  const ws = new WebSocket(server.url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(String(d)));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ op: 'subscribe', args: [`orderbook.50.${server.symbol}`] }));
  await expect.poll(() => frames.some((f) => f.includes('"type":"snapshot"'))).toBe(true);
  ws.close();
}

describe(`exchange-sim fuzz (seed ${SEED})`, () => {
  it('stays up and keeps serving through ≥ 10,000 random and mutated requests and frames', async () => {
    const server = await startSimExchange({ seed: SEED });
    cleanups.push(() => server.close());
    const rng = new FuzzRng(SEED);
    const frameText = (r: FuzzRng) => requestText(r, server.symbol);
    const target: HttpFuzzTarget = {
      port: server.port,
      paths: [
        `${INSTRUMENT_INFO_PATH}?category=linear&symbol=${server.symbol}`,
        `${INSTRUMENT_INFO_PATH}?category=spot`,
        `${INSTRUMENT_INFO_PATH}?category=%ff`,
        '/',
      ],
      wsPaths: ['/v5/public/linear', '/v5/public/spot', '/'],
      frameText,
    };
    const statuses = new Map<number, number>();
    let cases = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await fuzzRawHttp(rng, target, 1500);
      cases += raw.cases;
      for (const [s, n] of raw.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
      cases += await fuzzWsFrames(
        rng,
        {
          url: server.url,
          probe: { text: '{"op":"ping","req_id":"probe"}', isAnswer: (f) => f.includes('"req_id":"probe"') },
          frameText,
          maxPayload: MAX_REQUEST_FRAME,
        },
        500,
      );
      await stillServing(server);
    }
    expect(cases).toBeGreaterThanOrEqual(10_000);
    const seen = [...statuses.entries()].sort((a, b) => a[0] - b[0]);
    console.log(`exchange-sim fuzz: ${cases} cases, statuses ${JSON.stringify(seen)}`);
    expect(
      seen.filter(([s]) => s >= 500),
      `statuses seen: ${JSON.stringify(seen)}`,
    ).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(101) ?? 0).toBeGreaterThan(10);
  });
});
