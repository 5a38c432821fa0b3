// The bridge answers requests no browser would send (a NUL, bad percent-encoding, a request line no URL parser
// takes) with a 4xx and keeps serving: each of these once threw out of a handler and ended the whole process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppContext } from '../app/createApp.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { rawExchange, statusCodes } from '../testing/rawHttp.ts';
import { connectBridge } from './wsClient.ts';
import { startWsBridge, type WsBridge } from './wsBridge.ts';

describe('bridge: malformed requests', () => {
  let dir: string;
  let app: AppContext;
  let bridge: WsBridge;
  let host: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-bridge-bad-'));
    const staticDir = path.join(dir, 'web');
    fs.mkdirSync(staticDir);
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>L2 Desk</title>');
    fs.mkdirSync(path.join(staticDir, 'assets'));
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { source: 'sim', db: path.join(dir, 't.db') },
    });
    app = await createApp({ config, modelsDir: path.join(dir, 'models') });
    bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus, staticDir });
    host = `127.0.0.1:${bridge.port}`;
  });

  afterAll(async () => {
    await bridge?.close();
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** One request on its own connection; the status of its response (0 when the server answered nothing). */
  const statusOf = async (requestLine: string, headers: string[] = []): Promise<number> => {
    const text = await rawExchange(
      bridge.port,
      [requestLine, `Host: ${host}`, ...headers, 'Connection: close', '', ''].join('\r\n'),
      { until: (t) => t.startsWith('HTTP/1.1 101 ') && t.includes('\r\n\r\n') },
    );
    return statusCodes(text)[0] ?? 0;
  };

  const stillServing = async () => {
    expect(await statusOf('GET / HTTP/1.1')).toBe(200);
    const c = await connectBridge(bridge.wsUrl);
    try {
      await expect(c.invoke('trading/getThreshold', {})).resolves.toHaveProperty('threshold');
    } finally {
      c.close();
    }
  };

  const upgrade = [
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
  ];

  it('GET /%00 is a 400 (the NUL once reached fs.readFile and threw)', async () => {
    expect(await statusOf('GET /%00 HTTP/1.1')).toBe(400);
    expect(await statusOf('GET /index.html%00.js HTTP/1.1')).toBe(400);
    await stillServing();
  });

  it('GET /%E0%A4%A is a 400 (decodeURIComponent once threw a URIError)', async () => {
    expect(await statusOf('GET /%E0%A4%A HTTP/1.1')).toBe(400);
    expect(await statusOf('GET /% HTTP/1.1')).toBe(400);
    await stillServing();
  });

  it('GET //[ is a 400 with or without upgrade headers (new URL once threw before any check)', async () => {
    expect(await statusOf('GET //[ HTTP/1.1')).toBe(400);
    expect(await statusOf('GET //[ HTTP/1.1', upgrade)).toBe(400);
    expect(await statusOf(`GET //[/ws?token=${bridge.token} HTTP/1.1`, upgrade)).toBe(400);
    expect(await statusOf('GET http://evil.example/ HTTP/1.1')).toBe(400);
    await stillServing();
  });

  it('never serves a directory, a dot segment or a file outside its folder', async () => {
    expect(await statusOf('GET /assets HTTP/1.1')).toBe(404);
    expect(await statusOf('GET /..%2fsecret.txt HTTP/1.1')).toBe(400);
    // The URL parser resolves an encoded `..` itself: what is left is a name inside the folder, and missing.
    expect(await statusOf('GET /%2e%2e/secret.txt HTTP/1.1')).toBe(404);
    expect(await statusOf('GET /assets%5c..%5c..%5csecret.txt HTTP/1.1')).toBe(400);
    await stillServing();
  });

  it('tells a refused token apart from a dead server: GET /ws answers 401 for a stale token, 426 for ours', async () => {
    expect(await statusOf('GET /ws?token=from-an-earlier-run HTTP/1.1')).toBe(401);
    expect(await statusOf('GET /ws HTTP/1.1')).toBe(401);
    expect(await statusOf(`GET /ws?token=${encodeURIComponent(bridge.token)} HTTP/1.1`)).toBe(426);
    expect(await statusOf(`GET /ws?token=${encodeURIComponent(bridge.token)} HTTP/1.1`, upgrade)).toBe(101);
  });

  it('answers garbage frames with an error reply and closes an oversized one, staying up', async () => {
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(bridge.wsUrl);
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(String(d)));
    await new Promise((r) => ws.once('open', r));
    for (const f of ['null', '5', '"x"', '[]', '{"id":{"a":1},"cmd":7}', '{"cmd":"__proto__"}', 'not json'])
      ws.send(f);
    ws.send('{"id":9,"cmd":"constructor","args":null}');
    await expect.poll(() => replies.some((r) => r.includes('"id":9'))).toBe(true);
    expect(replies.filter((r) => r.includes('"ok":false')).length).toBeGreaterThanOrEqual(8);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    await stillServing();
  });
});
