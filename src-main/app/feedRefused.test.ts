// The app on a live feed whose symbol the exchange refuses (the real app, a real SQLite file, the real exchange-sim
// on 127.0.0.1): it says the refusal once, as the feed's error, with the symbol, category and what to do, and stops
// the feed instead of reconnecting forever. Watching another symbol (the source's symbol choice) clears it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppClearedEvent, AppErrorEvent } from '../../src-shared/ipc.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../market/exchangeSim/feeds.ts';
import { startSimMarkets } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { createApp } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-refused-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('the app on a refused symbol', () => {
  it('shows the refusal once as the feed error and stops the feed; watching a served symbol clears it', async () => {
    const server = await startSimMarkets([
      { symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1', seed: 1 },
      { symbol: 'SOLUSDT', startPrice: 150, tickSize: '0.001', seed: 2 },
    ]);
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'bybit',
        symbol: 'ETHUSDT',
        db: path.join(dir, 'app.db'),
        'bybit.url': server.url,
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const said: (({ kind: 'error' } & AppErrorEvent) | ({ kind: 'cleared' } & AppClearedEvent))[] = [];
    ctx.bus.on('app/error', (e) => said.push({ kind: 'error', ...e }));
    ctx.bus.on('app/cleared', (c) => said.push({ kind: 'cleared', ...c }));
    try {
      await ctx.dispatch('market/start', {});
      await until(
        'the feed to stop',
        () => said.some((x) => x.kind === 'error') && !ctx.service.status().running,
        20_000,
      );
      const errors = said.filter((x) => x.kind === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ key: 'feed' });
      expect(errors[0].kind === 'error' && errors[0].message).toMatch(
        /refused the subscription to ETHUSDT on linear \(error:handler not found,topic:orderbook\.50\.ETHUSDT.*\): check the symbol in the Symbol field \(the app streams the market set by the config file.s category key: linear or spot\); Bybit lists symbols at .*instruments-info\?category=linear/,
      );
      expect(ctx.service.status()).toMatchObject({
        running: false,
        connection: 'stopped',
        symbol: 'ETHUSDT',
      });
      // Tried once: no reconnect loop behind the banner.
      expect(server.stats.connections).toBe(1);

      // Collect on the live feed with a symbol the exchange refuses: the command fails with the same words, and no
      // empty session is left behind.
      expect(
        await ctx.dispatch('collect/start', { symbol: 'XRPUSDT', depth: 50, durationMs: 60_000 }),
      ).toMatchObject({
        ok: false,
        error: expect.stringMatching(/refused the subscription to XRPUSDT on linear .*check the symbol/),
      });
      expect(ctx.service.snapshot().sessions).toEqual([]);
      expect(ctx.service.snapshot().collect?.running ?? false).toBe(false);

      // A symbol the CLI would refuse is refused at the boundary, as --symbol refuses it.
      expect(
        await ctx.dispatch('market/setSource', { source: { kind: 'bybit', symbol: 'sol usdt' } }),
      ).toMatchObject({ ok: false, error: expect.stringMatching(/upper-case symbol/) });
      // The user picks a symbol the exchange serves: the banner goes and that book is shown.
      await ctx.dispatch('market/setSource', { source: { kind: 'bybit', symbol: 'SOLUSDT' } });
      expect(said.at(-1)).toEqual({ kind: 'cleared', key: 'feed' });
      await until('SOLUSDT subscribed', () => ctx.service.status().connection === 'subscribed', 10_000);
      expect(ctx.service.status()).toMatchObject({ symbol: 'SOLUSDT', running: true });
      await until(
        'a SOLUSDT book',
        () => ctx.service.snapshot().book !== null && ctx.service.snapshot().book!.bids.length > 0,
        10_000,
      );
      const book = ctx.service.snapshot().book!;
      expect(book).toMatchObject({ symbol: 'SOLUSDT', tickSize: '0.001' });
      expect(book.bids[0][0]).toBeGreaterThan(100);
      expect(book.bids[0][0]).toBeLessThan(200);
    } finally {
      await ctx.close();
      await server.close();
    }
  }, 60_000);

  it('stops the feed when the symbol is refused on a resubscription (delisted), and Start says so again', async () => {
    const server = await ExchangeSimServer.start({
      feed: simFeed({
        seed: 3,
        symbol: 'BTCUSDT',
        startPrice: 65000,
        tickSize: '0.1',
        levels: 60,
        bookRateHz: 20,
        startMs: Date.now(),
      }),
    });
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'bybit',
        symbol: 'BTCUSDT',
        db: path.join(dir, 'delisted.db'),
        'bybit.url': server.url,
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const errors: AppErrorEvent[] = [];
    ctx.bus.on('app/error', (e) => errors.push(e));
    try {
      await ctx.dispatch('market/start', {});
      await until('subscribed', () => ctx.service.status().connection === 'subscribed', 10_000);
      server.delist('BTCUSDT');
      server.inject('drop');
      await until('the feed to stop', () => !ctx.service.status().running, 20_000);
      expect(ctx.service.status()).toMatchObject({ running: false, connection: 'stopped' });
      expect(errors.map((e) => e.message).join('\n')).toMatch(
        /refused the subscription to BTCUSDT on linear/,
      );
      // Start tries again, and the exchange's refusal ends it the same way: the page's Start is never a silent no-op.
      const before = errors.length;
      expect(await ctx.dispatch('market/start', {})).toMatchObject({ ok: true });
      await until('the refusal again', () => !ctx.service.status().running && errors.length > before, 20_000);
      expect(errors.at(-1)?.message).toMatch(/refused the subscription to BTCUSDT on linear/);
    } finally {
      await ctx.close();
      await server.close();
    }
  }, 60_000);
});
