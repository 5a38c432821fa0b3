// The engine on a live source: BybitSource (the real WebSocket client) against the local Bybit-compatible
// exchange simulator on 127.0.0.1, wall clock. A sequence gap injected by the server must pause decisions until
// the client has resynced from a fresh snapshot and the features have warmed up again; trading goes on after.
import { afterEach, describe, expect, it } from 'vitest';
import { featureIndex } from '../features/featureSet.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../market/exchangeSim/feeds.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { RealClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig } from './engine.ts';
import type { GapEvent } from './events.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const IMB = featureIndex('imb_l5');

describe('Engine on a live WebSocket source', () => {
  it('trades on the wall clock, pauses on a feed gap and resumes after the resync snapshot and warm-up', async () => {
    // Market time runs 25x faster than wall time: the 30 s warm-up takes ~1.2 s.
    const server = await ExchangeSimServer.start({
      feed: simFeed({
        seed: 5,
        startPrice: 65_000,
        tickSize: '0.1',
        levels: 200,
        bookRateHz: 50,
        startMs: Date.UTC(2026, 0, 5),
      }),
      speed: 25,
    });
    cleanups.push(() => server.close());
    const source = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      url: server.url,
      pingIntervalMs: 500,
      staleTimeoutMs: 5000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
    });
    const config = loadConfig({ ignoreUserFile: true, overrides: { 'trading.threshold': 0.2 } });
    const calls: number[] = [];
    const model: DecisionModel = {
      needsFeatures: true,
      predict: (row, ts) => {
        calls.push(ts);
        return Promise.resolve(3 * row[IMB]);
      },
    };
    const engine = new Engine(engineOptionsFromConfig(config, source.instrument), {
      source,
      clock: new RealClock(),
      model,
    });
    cleanups.push(() => engine.stop());
    const gaps: GapEvent[] = [];
    let fills = 0;
    let lastBookTs = 0;
    engine.on('gap', (g) => gaps.push(g));
    engine.on('fill', () => fills++);
    engine.on('book', (b) => (lastBookTs = b.ts));
    await engine.start();

    const until = async (what: string, cond: () => boolean, ms = 15_000) => {
      const t0 = Date.now();
      while (!cond()) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('the first predictions', () => calls.length >= 5);
    const before = calls.length;
    server.inject('gap');
    await until('the gap', () => gaps.some((g) => g.gap.endTs === null));
    const opened = lastBookTs;
    await until('the resync', () => gaps.some((g) => g.gap.endTs !== null));
    const resynced = lastBookTs;
    await until('predictions after the resync', () => calls.some((t) => t > resynced + 30_000));
    expect(gaps.map((g) => [g.origin, g.gap.reason])).toEqual([
      ['source', 'sequence'],
      ['source', 'sequence'],
    ]);
    // No decision saw data across the gap: none between the break and 30 s (market time) after the snapshot.
    expect(calls.filter((t) => t > opened && t < resynced + 29_000)).toEqual([]);
    expect(before).toBeGreaterThan(0);
    expect(engine.health().bookValid).toBe(true);
    // And it trades: paper fills from the live book.
    await until('a fill', () => fills > 0);
  }, 40_000);
});
