import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_VERSION, type Events } from '../../src-shared/ipc.ts';
import { createApp, type AppContext } from '../app/createApp.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { BridgeRefusedError, connectBridge } from './wsClient.ts';
import { startWsBridge, type WsBridge } from './wsBridge.ts';

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; csp: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            csp: res.headers['content-security-policy'] as string | undefined,
          }),
        );
      })
      .on('error', reject);
  });
}

describe('WebSocket bridge', () => {
  let dir: string;
  let app: AppContext;
  let bridge: WsBridge;
  let initial: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-bridge-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>ui</title>');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
    const staticDir = path.join(dir, 'web');
    fs.mkdirSync(staticDir);
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>L2 Desk</title>');
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { source: 'sim', db: path.join(dir, 't.db') },
    });
    initial = config.trading.threshold;
    app = await createApp({ config, modelsDir: path.join(dir, 'models') });
    bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus, staticDir });
  });

  afterAll(async () => {
    await bridge?.close();
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only and prints a URL with the token', () => {
    expect(bridge.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${bridge.port}/\\?token=`));
    expect(bridge.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a missing or wrong token, and a foreign origin', async () => {
    const base = `ws://127.0.0.1:${bridge.port}/ws`;
    await expect(connectBridge(base)).rejects.toMatchObject({ status: 401 });
    await expect(connectBridge(`${base}?token=nope`)).rejects.toMatchObject({ status: 401 });
    await expect(connectBridge(bridge.wsUrl, { origin: 'http://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      connectBridge(bridge.wsUrl, { origin: `http://localhost:${bridge.port + 1}` }),
    ).rejects.toBeInstanceOf(BridgeRefusedError);
    const ok = await connectBridge(bridge.wsUrl, { origin: `http://127.0.0.1:${bridge.port}` });
    ok.close();
  });

  it('answers commands, rejects bad payloads before the engine, and forwards events', async () => {
    const c = await connectBridge(bridge.wsUrl);
    try {
      const snap = await c.invoke('app/hello', { version: IPC_VERSION });
      expect(snap.status.threshold).toBe(initial);
      await expect(c.invoke('trading/setThreshold', { threshold: -1 })).rejects.toThrow(
        /bad payload for trading\/setThreshold: threshold/,
      );
      await expect(c.invoke('trading/setThreshold', { threshold: 2, extra: true } as never)).rejects.toThrow(
        /bad payload/,
      );
      await expect(c.invoke('nope/nothing' as never, {} as never)).rejects.toThrow(/unknown command/);
      expect(await c.invoke('trading/getThreshold', {})).toEqual({ threshold: initial });
      const seen = new Promise<Events['trading/threshold']>((r) => c.on('trading/threshold', r));
      expect(await c.invoke('trading/setThreshold', { threshold: 2.5 })).toEqual({ threshold: 2.5 });
      expect(await seen).toEqual({ threshold: 2.5 });
      expect(await c.invoke('trading/getThreshold', {})).toEqual({ threshold: 2.5 });
      await expect(c.invoke('backtest/run', { sessionId: 99 })).rejects.toThrow(/no stored session #99/);
      // Models are chosen by name from the catalog: a path from the page is never opened.
      await expect(c.invoke('model/use', { name: '../../etc/passwd' })).rejects.toThrow(/no model named/);
    } finally {
      c.close();
    }
  });

  it('serves the UI with a CSP and never a file outside its folder', async () => {
    const page = await get(`http://127.0.0.1:${bridge.port}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('L2 Desk');
    expect(page.csp).toContain("script-src 'self'");
    // DNS rebinding: the right address under a foreign name is refused.
    const rebound = await get(`http://127.0.0.1:${bridge.port}/`, { host: `evil.example:${bridge.port}` });
    expect(rebound.status).toBe(403);
    const escape = await get(`http://127.0.0.1:${bridge.port}/..%2fsecret.txt`);
    expect(escape.status).not.toBe(200);
    expect(escape.body).not.toContain('outside');
  });
});
