// Collect of several symbols in the app (the real app behind the WebSocket bridge, a real SQLite file, the real exchange-sim on 127.0.0.1 serving
// two markets): "BTCUSDT,ETHUSDT" records one session per symbol over one connection, the progress names both
// sessions, each session's data quality follows the stop, and both are in the session list (to replay or backtest);
// a malformed list is refused before anything starts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectBridge } from '../bridge/wsClient.ts';
import { startWsBridge } from '../bridge/wsBridge.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { startSimMarkets, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { createApp } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-several-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Collect of several symbols in the app', () => {
  it('records one session per symbol and reports the quality of each', async () => {
    const server = await startSimMarkets([
      { symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1', seed: 1 },
      { symbol: 'ETHUSDT', startPrice: 3400, tickSize: '0.01', seed: 2 },
    ]);
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { source: 'bybit', db: path.join(dir, 'app.db'), 'bybit.url': server.url },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const bridge = await startWsBridge({ port: 0, dispatch: ctx.dispatch, bus: ctx.bus });
    const client = await connectBridge(bridge.wsUrl);
    try {
      await expect(
        client.invoke('collect/start', { symbol: 'BTCUSDT,ethusdt', depth: 50, durationMs: 60_000 }),
      ).rejects.toThrow(/bad payload/);
      await expect(
        client.invoke('collect/start', { symbol: 'BTCUSDT,BTCUSDT', depth: 50, durationMs: 60_000 }),
      ).rejects.toThrow(/symbol: BTCUSDT is listed twice/);
      const started = await client.invoke('collect/start', {
        symbol: 'BTCUSDT,ETHUSDT',
        depth: 50,
        durationMs: 60_000,
      });
      expect(started.sessionIds).toHaveLength(2);
      expect(started.sessionId).toBe(started.sessionIds?.[0]);
      await waitFor(
        'both symbols collected',
        () => (ctx.service.snapshot().collect?.messages ?? 0) > 120,
        20_000,
        50,
      );
      const stopped = await client.invoke('collect/stop', {});
      expect(stopped.done).toBe(true);
      expect(stopped.error).toBeNull();
      await waitFor(
        'both quality reports',
        () => (ctx.service.snapshot().collect?.qualities ?? []).every((q) => q.quality !== null),
        20_000,
        50,
      );
      const done = ctx.service.snapshot().collect;
      expect(done?.qualities?.map((q) => [q.symbol, q.sessionId])).toEqual([
        ['BTCUSDT', started.sessionIds?.[0]],
        ['ETHUSDT', started.sessionIds?.[1]],
      ]);
      const messages = done?.qualities?.map((q) => q.quality?.messages ?? 0) ?? [];
      expect(messages.every((n) => n > 20)).toBe(true);
      expect(messages[0] + messages[1]).toBe(stopped.messages);
      expect(done?.qualities?.every((q) => q.quality?.replayGaps === 0)).toBe(true);
      const sessions = await client.invoke('sessions/list', {});
      for (const [i, symbol] of ['BTCUSDT', 'ETHUSDT'].entries())
        expect(sessions.find((s) => s.id === started.sessionIds?.[i])?.symbol).toBe(symbol);
    } finally {
      client.close();
      await bridge.close();
      await ctx.close();
      await server.close();
    }
  }, 60_000);
});
