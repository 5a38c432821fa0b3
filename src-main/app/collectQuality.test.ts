// Data quality in the app, through the real WebSocket bridge and a real SQLite file: after Collect stops, the
// progress event carries the collected session's quality; `sessions/quality` reports any stored session, here the
// real Bybit recording imported with one delta cut out; a bad payload is an error reply.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CollectProgress } from '../../src-shared/ipc.ts';
import { connectBridge } from '../bridge/wsClient.ts';
import { startWsBridge } from '../bridge/wsBridge.ts';
import { importFiles } from '../cli/import.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { openDb } from '../store/db.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { createApp } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-quality-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('data quality in the app', () => {
  it('follows a collection, and answers for any stored session', async () => {
    const dbFile = path.join(dir, 'q.db');
    // A stored session with a sequence break: the real recording minus one delta.
    const lines = fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n').filter(Boolean);
    const deltas = lines.flatMap((l, i) => (l.includes('"type":"delta"') ? [i] : []));
    const cutFile = path.join(dir, 'cut.jsonl');
    fs.writeFileSync(cutFile, lines.filter((_, i) => i !== deltas[100]).join('\n') + '\n');
    const db = openDb(dbFile);
    const imported = await importFiles(db, [cutFile], { category: 'linear' });
    db.close();
    const brokenId = imported.sessions[0].sessionId;

    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { source: 'sim', db: dbFile, 'model.path': path.join(dir, 'no-model.onnx') },
    });
    const app = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus });
    const client = await connectBridge(bridge.wsUrl);
    const progress: CollectProgress[] = [];
    client.on('collect/progress', (p) => progress.push(p));
    try {
      await client.invoke('collect/start', { symbol: 'BTCUSDT', depth: 50, durationMs: 60_000 });
      await waitFor('messages collected', () => (progress.at(-1)?.messages ?? 0) > 50, 15_000, 50);
      const stopped = await client.invoke('collect/stop', {});
      expect(stopped.done).toBe(true);
      await waitFor('the quality report', () => progress.some((p) => p.quality), 15_000, 50);
      const q = progress.find((p) => p.quality)?.quality;
      expect(q).toMatchObject({ sessionId: stopped.sessionId, replayGaps: 0, findings: [] });
      expect(q?.messages).toBe(stopped.messages);

      const broken = await client.invoke('sessions/quality', { sessionId: brokenId });
      expect(broken.replayGaps).toBe(1);
      expect(broken.findings.join('\n')).toMatch(/invalid .* of the time \(1 sequence break/);
      await expect(client.invoke('sessions/quality', { sessionId: -1 })).rejects.toThrow(/bad payload/);
      await expect(client.invoke('sessions/quality', { sessionId: 999 })).rejects.toThrow(
        /no stored session #999/,
      );
    } finally {
      client.close();
      await bridge.close();
      await app.close();
    }
  }, 40_000);
});
