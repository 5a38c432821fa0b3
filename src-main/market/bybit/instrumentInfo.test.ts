// instruments-info: the strict parse of real-shaped Bybit replies, and the live client learning tick and lot
// from the exchange-sim's REST before its first snapshot, or falling back to inference when REST fails.
import { describe, expect, it } from 'vitest';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gap } from '../../../src-shared/market.ts';
import { loadConfig } from '../../config/loadConfig.ts';
import { createSource } from '../createSource.ts';
import { cleanupAfterEach, startSimExchange, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource } from './bybitSource.ts';
import {
  fetchInstrumentInfo,
  parseInstrumentInfo,
  restBaseForStream,
  type InstrumentInfoResult,
} from './instrumentInfo.ts';

const cleanups = cleanupAfterEach();

// Trimmed from real replies of api.bybit.com (fields we do not read left in, as Bybit sends them).
const LINEAR_BTC = {
  retCode: 0,
  retMsg: 'OK',
  result: {
    category: 'linear',
    list: [
      {
        symbol: 'BTCUSDT',
        contractType: 'LinearPerpetual',
        status: 'Trading',
        baseCoin: 'BTC',
        quoteCoin: 'USDT',
        priceScale: '2',
        leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
        priceFilter: { minPrice: '0.10', maxPrice: '1999999.80', tickSize: '0.10' },
        lotSizeFilter: {
          maxOrderQty: '1190.000',
          minOrderQty: '0.001',
          qtyStep: '0.001',
          postOnlyMaxOrderQty: '1190.000',
          maxMktOrderQty: '119.000',
          minNotionalValue: '5',
        },
        fundingInterval: 480,
        settleCoin: 'USDT',
      },
    ],
    nextPageCursor: '',
  },
  retExtInfo: {},
  time: 1732700000000,
};

const SPOT_BTC = {
  retCode: 0,
  retMsg: 'OK',
  result: {
    category: 'spot',
    list: [
      {
        symbol: 'BTCUSDT',
        baseCoin: 'BTC',
        quoteCoin: 'USDT',
        innovation: '0',
        status: 'Trading',
        marginTrading: 'utaOnly',
        lotSizeFilter: {
          basePrecision: '0.000001',
          quotePrecision: '0.00000001',
          minOrderQty: '0.000048',
          maxOrderQty: '71.73956243',
          minOrderAmt: '1',
          maxOrderAmt: '2000000',
        },
        priceFilter: { tickSize: '0.01' },
      },
    ],
  },
  retExtInfo: {},
  time: 1732700000000,
};

const withLinear = (patch: (item: Record<string, unknown>) => void): unknown => {
  const copy = structuredClone(LINEAR_BTC);
  patch(copy.result.list[0] as unknown as Record<string, unknown>);
  return copy;
};

describe('parseInstrumentInfo', () => {
  const cases: Array<[string, unknown, 'linear' | 'spot', string, InstrumentInfoResult | RegExp]> = [
    [
      'linear BTCUSDT',
      LINEAR_BTC,
      'linear',
      'BTCUSDT',
      {
        ok: true,
        info: {
          symbol: 'BTCUSDT',
          category: 'linear',
          status: 'Trading',
          tickSize: '0.10',
          qtyStep: '0.001',
          minOrderQty: '0.001',
          minNotional: '5',
        },
      },
    ],
    [
      'spot BTCUSDT (basePrecision is the lot, minOrderAmt the min notional)',
      SPOT_BTC,
      'spot',
      'BTCUSDT',
      {
        ok: true,
        info: {
          symbol: 'BTCUSDT',
          category: 'spot',
          status: 'Trading',
          tickSize: '0.01',
          qtyStep: '0.000001',
          minOrderQty: '0.000048',
          minNotional: '1',
        },
      },
    ],
    [
      'empty list (unknown symbol)',
      { ...LINEAR_BTC, result: { category: 'linear', list: [] } },
      'linear',
      'NOPEUSDT',
      /not listed/,
    ],
    ['another symbol only', LINEAR_BTC, 'linear', 'ETHUSDT', /ETHUSDT is not listed/],
    [
      'retCode error',
      { retCode: 10001, retMsg: 'params error: symbol invalid', result: {} },
      'linear',
      'BTCUSDT',
      /10001: params error/,
    ],
    ['not an object', [1, 2], 'linear', 'BTCUSDT', /not a JSON object/],
    ['no result.list', { retCode: 0, retMsg: 'OK', result: {} }, 'linear', 'BTCUSDT', /no result\.list/],
    [
      'numeric tick',
      withLinear((i) => ((i.priceFilter as Record<string, unknown>).tickSize = 0.1)),
      'linear',
      'BTCUSDT',
      /tickSize 0\.1/,
    ],
    [
      'zero tick',
      withLinear((i) => ((i.priceFilter as Record<string, unknown>).tickSize = '0')),
      'linear',
      'BTCUSDT',
      /tickSize "0"/,
    ],
    [
      'exponent qtyStep',
      withLinear((i) => ((i.lotSizeFilter as Record<string, unknown>).qtyStep = '1e-3')),
      'linear',
      'BTCUSDT',
      /qtyStep "1e-3"/,
    ],
    [
      'missing lotSizeFilter',
      withLinear((i) => delete i.lotSizeFilter),
      'linear',
      'BTCUSDT',
      /lotSizeFilter missing/,
    ],
    ['linear reply read as spot (no basePrecision)', LINEAR_BTC, 'spot', 'BTCUSDT', /basePrecision/],
  ];
  it.each(cases)('%s', (_name, body, category, symbol, want) => {
    const got = parseInstrumentInfo(body, category, symbol);
    if (want instanceof RegExp) {
      expect(got.ok).toBe(false);
      expect(got.ok ? '' : got.reason).toMatch(want);
    } else expect(got).toEqual(want);
  });

  it('omits min notional when absent', () => {
    const got = parseInstrumentInfo(
      withLinear((i) => delete (i.lotSizeFilter as Record<string, unknown>).minNotionalValue),
      'linear',
      'BTCUSDT',
    );
    expect(got.ok && got.info.minNotional).toBe(undefined);
    expect(got.ok && got.info.qtyStep).toBe('0.001');
  });
});

describe('restBaseForStream', () => {
  it.each([
    [undefined, 'https://api.bybit.com'],
    ['wss://stream.bybit.com/v5/public/linear', 'https://api.bybit.com'],
    ['wss://stream-testnet.bybit.com/v5/public/spot', 'https://api-testnet.bybit.com'],
    ['ws://127.0.0.1:4567/v5/public/linear', 'http://127.0.0.1:4567'],
    ['wss://example.com:9443/x', 'https://example.com:9443'],
    ['not a url', null],
  ])('%s → %s', (url, want) => expect(restBaseForStream(url)).toBe(want));
});

/** A DOGE-like symbol no table knows: tick 0.00001, lot 100. */
const DOGE_LIKE = { seed: 5, symbol: 'NEWDOGEUSDT', startPrice: 0.15, tickSize: '0.00001' };

/** A loopback http server answering every request with `handler`; returns its base URL. */
async function httpStub(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(
  url: string,
  restBase: string | undefined,
): { source: BybitSource; warnings: string[]; notices: string[]; gaps: Gap[] } {
  const source = new BybitSource({
    symbol: DOGE_LIKE.symbol,
    category: 'linear',
    depth: 50,
    url,
    restBase,
    restTimeoutMs: 1000,
    pingIntervalMs: 200,
    staleTimeoutMs: 1000,
    reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
  });
  cleanups.push(() => source.stop());
  const warnings: string[] = [];
  const notices: string[] = [];
  const gaps: Gap[] = [];
  source.on('warning', (w) => warnings.push(w));
  source.on('notice', (n) => notices.push(n));
  source.on('gap', (g) => gaps.push(g));
  return { source, warnings, notices, gaps };
}

describe('instruments-info from the exchange-sim', () => {
  it('serves the symbol in Bybit shape, and an empty list for another symbol or category', async () => {
    const server = await startSimExchange(DOGE_LIKE, { paused: true });
    cleanups.push(() => server.close());
    const got = await fetchInstrumentInfo({
      restBase: server.restUrl,
      category: 'linear',
      symbol: DOGE_LIKE.symbol,
    });
    expect(got).toEqual({
      ok: true,
      info: {
        symbol: DOGE_LIKE.symbol,
        category: 'linear',
        status: 'Trading',
        tickSize: '0.00001',
        qtyStep: '100',
        minOrderQty: '100',
        minNotional: '5',
      },
    });
    const other = await fetch(`${server.restUrl}/v5/market/instruments-info?category=linear&symbol=ETHUSDT`);
    const body = (await other.json()) as { retCode: number; result: { category: string; list: unknown[] } };
    expect(body.retCode).toBe(0);
    expect(body.result).toMatchObject({ category: 'linear', list: [] });
    const spot = await fetchInstrumentInfo({
      restBase: server.restUrl,
      category: 'spot',
      symbol: DOGE_LIKE.symbol,
    });
    expect(spot).toEqual({ ok: false, reason: expect.stringMatching(/not listed/) as string });
  });

  it('the client learns tick and lot before its first snapshot: no inference, no refinement gap', async () => {
    const server = await startSimExchange(DOGE_LIKE, { speed: 1 });
    cleanups.push(() => server.close());
    const c = client(server.url, server.restUrl);
    await c.source.start();
    // Known before any book message arrived: the book exists on the exchange's grid already.
    expect(c.source.instrument).toEqual({
      symbol: DOGE_LIKE.symbol,
      category: 'linear',
      tickSize: '0.00001',
      qtyStep: '100',
      minNotional: '5',
    });
    expect(c.source.book()).not.toBeNull();
    await waitFor('a valid book', () => c.source.book()?.valid);
    await waitFor('more updates', () => (c.source.book()?.lastU ?? 0) > 20);
    expect(c.source.instrument.tickSize).toBe('0.00001');
    expect(c.warnings.filter((w) => /inferred|refined|unavailable|unusable/.test(w))).toEqual([]);
    // Where the grid came from is said once, as information: a note, not a warning.
    expect(c.notices).toEqual([
      "tick size of NEWDOGEUSDT from the exchange's instrument info: 0.00001 (lot 100)",
    ]);
    expect(c.warnings.filter((w) => /instrument info|tick size/.test(w))).toEqual([]);
    expect(c.gaps).toEqual([]);
  });

  it('createSource derives the REST base from a custom --url and asks it', async () => {
    const server = await startSimExchange(DOGE_LIKE, { speed: 1 });
    cleanups.push(() => server.close());
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { symbol: DOGE_LIKE.symbol, category: 'linear', source: 'bybit' },
    });
    const source = createSource(config, { url: server.url }) as BybitSource;
    cleanups.push(() => source.stop());
    await source.start();
    expect(source.instrument.tickSize).toBe('0.00001');
    expect(source.instrument.qtyStep).toBe('100');
  });
});

describe('instruments-info failures fall back to inference with a warning', () => {
  const failures: Array<[string, () => Promise<string>, RegExp]> = [
    ['HTTP 500', () => httpStub((_q, res) => res.writeHead(500).end('oops')), /HTTP 500/],
    ['malformed JSON', () => httpStub((_q, res) => res.writeHead(200).end('{"retCode":0,')), /not JSON/],
    [
      'empty list',
      () =>
        httpStub((_q, res) =>
          res
            .writeHead(200)
            .end(JSON.stringify({ retCode: 0, retMsg: 'OK', result: { category: 'linear', list: [] } })),
        ),
      /not listed/,
    ],
    [
      'nothing listening',
      async () => {
        // A port that was just free: bind, note, close.
        const base = await httpStub((_q, res) => res.end());
        await cleanups.pop()?.();
        return base;
      },
      /fetch failed|ECONNREFUSED/,
    ],
  ];
  it.each(failures)('%s', async (_name, makeRest, reason) => {
    const server = await startSimExchange(DOGE_LIKE, { speed: 1 });
    cleanups.push(() => server.close());
    const rest = await makeRest();
    const c = client(server.url, rest);
    await c.source.start();
    const failed = c.warnings.find((w) => w.startsWith('instrument info'));
    expect(failed).toMatch(reason);
    expect(failed).toMatch(/inferring the tick size from the data/);
    await waitFor('a valid book', () => c.source.book()?.valid);
    // Inference as before: the tick from the first snapshot (possibly refined later), no exchange lot. The failure
    // was the warning; the inferred tick itself is information.
    expect(c.notices.some((n) => /tick size of NEWDOGEUSDT inferred/.test(n))).toBe(true);
    expect(c.warnings.some((w) => /tick size of NEWDOGEUSDT inferred/.test(w))).toBe(false);
    expect(c.source.instrument.tickSize).not.toBe('');
    expect(c.source.instrument.qtyStep).toBeUndefined();
  });

  it('a REST that never answers times out instead of blocking start', async () => {
    const server = await startSimExchange(DOGE_LIKE, { speed: 1 });
    cleanups.push(() => server.close());
    const rest = await httpStub(() => {}); // accepts, never replies
    const got = await fetchInstrumentInfo({
      restBase: rest,
      category: 'linear',
      symbol: 'X',
      timeoutMs: 200,
    });
    expect(got).toEqual({ ok: false, reason: expect.stringMatching(/no reply within 200 ms/) as string });
  });
});
