import { describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { BybitSource } from './bybit/bybitSource.ts';
import { createSource, SourceConfigError } from './createSource.ts';
import { SimMarket } from './sim/simMarket.ts';

const config = (overrides: Record<string, unknown>) => loadConfig({ ignoreUserFile: true, overrides });

describe('createSource', () => {
  it('builds the simulator from config and runs it for the asked simulated time', async () => {
    const src = createSource(config({ source: 'sim', depth: 50, 'sim.speed': 'max', 'sim.seed': 9 }), {
      durationMs: 10_000,
    });
    expect(src).toBeInstanceOf(SimMarket);
    expect(src.instrument).toEqual({ symbol: 'BTCUSDT', category: 'linear', tickSize: '0.1' });
    const got: MarketMessage[] = [];
    src.on('message', (m) => got.push(m));
    await src.start();
    await (src as SimMarket).done();
    expect(got[0]).toMatchObject({ kind: 'book', type: 'snapshot', depth: 50 });
    expect(got.length).toBeGreaterThan(400);
    expect(got[got.length - 1].ts - got[0].ts).toBeLessThanOrEqual(10_000);
  });

  it('builds the Bybit client with the URL override and the known tick size', () => {
    const src = createSource(config({ source: 'bybit', symbol: 'XRPUSDT' }), {
      url: 'ws://127.0.0.1:1/v5/public/linear',
    });
    expect(src).toBeInstanceOf(BybitSource);
    expect((src as BybitSource).url).toBe('ws://127.0.0.1:1/v5/public/linear');
    expect(src.instrument.tickSize).toBe('0.0001');
    expect((createSource(config({ source: 'bybit', category: 'spot' })) as BybitSource).url).toBe(
      'wss://stream.bybit.com/v5/public/spot',
    );
  });

  it('leaves the tick size of an unknown symbol to the source (inferred from a snapshot) unless configured', () => {
    const unknown = createSource(config({ source: 'bybit', symbol: 'NEWCOINUSDT' }));
    expect(unknown).toBeInstanceOf(BybitSource);
    expect(unknown.instrument).toEqual({ symbol: 'NEWCOINUSDT', category: 'linear', tickSize: '' });
    expect((unknown as BybitSource).book()).toBeNull();
    expect(
      createSource(config({ source: 'bybit', symbol: 'NEWCOINUSDT', tick_size: '0.001' })).instrument
        .tickSize,
    ).toBe('0.001');
    expect(() => createSource(config({ source: 'replay' }))).toThrow(SourceConfigError);
  });
});
