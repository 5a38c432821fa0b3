// Notes are not warnings, end to end: the app on a real loopback exchange-sim serving an unlisted symbol (instrument
// info answered), a real SQLite file and the real WebSocket bridge. Where the tick came from reaches the page as
// app/notice, for the live feed and for Collect alike, and never as app/error (the red toasts); a page that connects
// later finds the latest notes in its snapshot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IPC_VERSION, type AppErrorEvent, type AppNoticeEvent } from '../../src-shared/ipc.ts';
import { connectBridge } from '../bridge/wsClient.ts';
import { startWsBridge } from '../bridge/wsBridge.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { startSimExchange, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { createApp } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-notices-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TICK_NOTE = /^tick size of FOOUSDT from the exchange's instrument info: 0\.00001 \(lot /;

describe('app notices', () => {
  it('says where the tick came from as a notice, live and while collecting, never as an error', async () => {
    const server = await startSimExchange(
      { seed: 9, symbol: 'FOOUSDT', startPrice: 0.15, tickSize: '0.00001' },
      { speed: 1 },
    );
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'bybit',
        symbol: 'FOOUSDT',
        'bybit.url': server.url,
        db: path.join(dir, 'n.db'),
        'model.path': path.join(dir, 'no-model.onnx'),
      },
    });
    const app = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus });
    const client = await connectBridge(bridge.wsUrl);
    const notices: AppNoticeEvent[] = [];
    const errors: AppErrorEvent[] = [];
    client.on('app/notice', (n) => notices.push(n));
    client.on('app/error', (e) => errors.push(e));
    try {
      await client.invoke('market/start', {});
      await waitFor('the live feed note', () => notices.some((n) => n.where === 'feed'), 10_000, 50);
      await waitFor('a valid book', () => app.service.status().bookValid, 10_000, 50);
      await client.invoke('collect/start', { symbol: 'FOOUSDT', depth: 50, durationMs: 60_000 });
      await waitFor('the collector note', () => notices.some((n) => n.where === 'collect'), 10_000, 50);
      await client.invoke('collect/stop', {});
      await client.invoke('market/stop', {});
      // Once per source: the live feed's and the collector's, each through its own channel.
      expect(notices.map((n) => n.where).sort()).toEqual(['collect', 'feed']);
      for (const n of notices) expect(n.message).toMatch(TICK_NOTE);
      expect(errors.filter((e) => /tick size|lot size|instrument info/.test(e.message))).toEqual([]);
      expect(errors).toEqual([]);
      // A page opened after the notes were said still gets them, in its snapshot.
      const late = await connectBridge(bridge.wsUrl);
      try {
        const snap = await late.invoke('app/hello', { version: IPC_VERSION });
        expect(snap.notices).toEqual(notices);
      } finally {
        late.close();
      }
    } finally {
      client.close();
      await bridge.close();
      await app.close();
      await server.close();
    }
  }, 30_000);
});
