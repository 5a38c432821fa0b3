// The WebSocket transport of the IPC contract for the browser UI: an HTTP server on 127.0.0.1 only that serves
// the built renderer and upgrades /ws to the bridge. A client must present the per-run token (?token=) and, when
// it is a browser, come from our own origin; anything else is refused before a socket exists.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { IPC_VERSION, type WsClientMessage, type WsServerMessage } from '../../src-shared/ipc.ts';
import type { Dispatch } from './dispatcher.ts';
import type { EventBus } from './eventBus.ts';

export const LOOPBACK = '127.0.0.1';
/** A client this far behind gets no more book frames until it drains (the book is latest-state, safe to drop). */
const MAX_BUFFERED = 4 * 1024 * 1024;

export interface WsBridgeOptions {
  /** 0 = any free port. The host is always 127.0.0.1. */
  port: number;
  dispatch: Dispatch;
  bus: EventBus;
  /** Built renderer to serve at /; when absent only the bridge is served. */
  staticDir?: string;
  /** Per-run secret; generated when absent. */
  token?: string;
}

export interface WsBridge {
  readonly port: number;
  readonly token: string;
  /** The page URL to open, token included. */
  readonly url: string;
  /** The bridge endpoint for non-browser clients, token included. */
  readonly wsUrl: string;
  clients(): number;
  close(): Promise<void>;
}

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function serveStatic(dir: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  let rel = decodeURIComponent(url.pathname);
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = path.resolve(dir, '.' + rel);
  if (!file.startsWith(path.resolve(dir) + path.sep)) {
    res.writeHead(403).end('forbidden');
    return;
  }
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        `connect-src 'self' ws://${LOOPBACK}:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    });
    res.end(data);
  });
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.write(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}\n`,
  );
  socket.destroy();
}

export async function startWsBridge(opts: WsBridgeOptions): Promise<WsBridge> {
  const token = opts.token ?? newToken();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(403).end('forbidden host');
      return;
    }
    if (opts.staticDir) serveStatic(opts.staticDir, req, res);
    else res.writeHead(404).end('no UI built');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  let port = 0;
  const allowedOrigins = () => new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);
  const allowedHosts = () => new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
    // DNS rebinding: a foreign name resolving to 127.0.0.1 still carries its own Host header.
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse(socket, 403, 'Forbidden host');
    // Browsers always send Origin: a page from another site (or another local port) must not drive the engine.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuse(socket, 403, 'Forbidden origin');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, msg: WsServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  wss.on('connection', (ws: WebSocket) => {
    send(ws, { hello: { version: IPC_VERSION } });
    const off = opts.bus.onAny((event, payload) => {
      if (event === 'market/book' && ws.bufferedAmount > MAX_BUFFERED) return;
      send(ws, { event, payload });
    });
    ws.on('message', (data) => {
      let msg: WsClientMessage;
      try {
        msg = JSON.parse(String(data)) as WsClientMessage;
      } catch {
        send(ws, { id: -1, ok: false, code: 'bad_request', error: 'message is not JSON' });
        return;
      }
      const id = typeof msg?.id === 'number' ? msg.id : -1;
      if (typeof msg?.cmd !== 'string') {
        send(ws, { id, ok: false, code: 'bad_request', error: 'message needs {id, cmd, args}' });
        return;
      }
      void opts.dispatch(msg.cmd, msg.args).then((reply) => send(ws, { id, ...reply }));
    });
    ws.on('close', off);
    ws.on('error', off);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const q = `token=${encodeURIComponent(token)}`;
  return {
    port,
    token,
    url: `http://${LOOPBACK}:${port}/?${q}`,
    wsUrl: `ws://${LOOPBACK}:${port}/ws?${q}`,
    clients: () => wss.clients.size,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
