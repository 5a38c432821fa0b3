// Leak checks of the live app that need no heap measurement (that is bench/memory.bench.ts): the real app on the
// simulated market with the feed recorder on, behind the real WS bridge, driven through repeated client reconnects
// and source switches. Whatever one cycle adds (bus listeners, bridge clients, timers, open recordings) must be
// gone by the next: steady state after the first cycle, whatever the number of cycles.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_VERSION } from '../../src-shared/ipc.ts';
import { startWsBridge, type WsBridge } from '../bridge/wsBridge.ts';
import { connectBridge } from '../bridge/wsClient.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { createApp, type AppContext } from './createApp.ts';

const CYCLES = 6;

let dir: string;
let app: AppContext;
let bridge: WsBridge;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-soak-'));
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: {
      source: 'sim',
      db: path.join(dir, 'soak.db'),
      'sim.speed': 20,
      // Turns the live feed recorder on (the auto-retrainer only runs when started, which this test never does).
      'retrain.every': '24h',
    },
  });
  app = await createApp({ config, modelsDir: path.join(dir, 'models') });
  bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus });
});

afterAll(async () => {
  await bridge?.close();
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the live app over reconnects and source switches', () => {
  it('leaves no listener, client, timer or recording behind from one cycle to the next', async () => {
    const busBefore = app.bus.listenerCount();
    const after: { bus: number; clients: number; timers: number; openSessions: number }[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const client = await connectBridge(bridge.wsUrl);
      let prices = 0;
      let books = 0;
      client.on('market/prices', () => prices++);
      client.on('market/book', () => books++);
      const snap = await client.invoke('app/hello', { version: IPC_VERSION });
      expect(snap.version).toBe(IPC_VERSION);
      expect(app.bus.listenerCount()).toBe(busBefore + 1);
      // A source switch stops the pipeline (engine, source, recorder) and starts a fresh one.
      const status = await client.invoke('market/setSource', { source: { kind: 'sim' } });
      expect(status.running).toBe(true);
      await until(() => prices >= 2 && books >= 2, 'live events');
      client.close();
      await until(() => bridge.clients() === 0, 'the bridge to drop the client');
      await until(() => app.bus.listenerCount() === busBefore, 'the bus listener to go');
      const sessions = app.service.handlers();
      const list = await sessions['sessions/list']({});
      after.push({
        bus: app.bus.listenerCount(),
        clients: bridge.clients(),
        timers: timers(),
        openSessions: list.filter((s) => s.endedAt === null).length,
      });
    }
    // Every switch recorded its feed as a session and closed the previous one: only the running one is open.
    const all = await app.service.handlers()['sessions/list']({});
    expect(all.length).toBeGreaterThanOrEqual(CYCLES);
    for (const a of after) expect(a).toEqual({ ...after[0], timers: a.timers });
    expect(after[0]).toMatchObject({ bus: busBefore, clients: 0, openSessions: 1 });
    // Timers: one pipeline's worth at most, however many cycles ran (a leak adds at least one per cycle).
    expect(Math.max(...after.map((a) => a.timers))).toBeLessThanOrEqual(after[0].timers + 1);
  });
});
