// The WebSocket transport of the IPC contract for the browser UI: an HTTP server on 127.0.0.1 only that serves
// the built renderer and upgrades /ws to the bridge. A client must present the per-run token (?token=) and, when
// it is a browser, come from our own origin; anything else is refused before a socket exists. Whatever a client
// sends (a malformed request line, a NUL in the path, garbage frames) is answered with a 4xx or an error reply and
// never throws out of a handler: the engine, feed and recorder live in this process. `GET /ws?token=` without an
// upgrade tells a page whether its token is still accepted (401: the server was restarted with a new one).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { IPC_VERSION, type WsClientMessage, type WsServerMessage } from '../../src-shared/ipc.ts';
import type { Dispatch } from './dispatcher.ts';
import type { EventBus } from './eventBus.ts';
import { parseRequestTarget, staticFilePath } from './requestTarget.ts';

export const LOOPBACK = '127.0.0.1';
/** A client this far behind gets no more book frames until it drains (the book is latest-state, safe to drop). */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** The largest command frame accepted (commands are small JSON objects); bigger ones close the socket (1009). */
export const MAX_FRAME = 256 * 1024;
const WS_PATH = '/ws';

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

const SECURITY_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    `connect-src 'self' ws://${LOOPBACK}:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
};

function plain(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
}

/** Serves one file of the built renderer; any name that is not a plain file inside `dir` is a 4xx, never a throw. */
async function serveStatic(dir: string, pathname: string, res: http.ServerResponse): Promise<void> {
  const rel = staticFilePath(pathname);
  if (rel === null) return plain(res, 400, 'bad path');
  const root = path.resolve(dir);
  const file = path.resolve(root, '.' + rel);
  if (!file.startsWith(root + path.sep)) return plain(res, 403, 'forbidden');
  let data: Buffer;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) return plain(res, 404, 'not found');
    data = await fs.promises.readFile(file);
  } catch {
    return plain(res, 404, 'not found');
  }
  if (res.destroyed) return;
  res.writeHead(200, {
    'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
    ...SECURITY_HEADERS,
  });
  res.end(data);
}

function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}\n`,
    );
  socket.destroy();
}

export async function startWsBridge(opts: WsBridgeOptions): Promise<WsBridge> {
  const token = opts.token ?? newToken();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  let port = 0;
  const allowedOrigins = () => new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);
  const allowedHosts = () => new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);

  const onRequest = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
    const target = parseRequestTarget(req.url);
    if (!target) return plain(res, 400, 'bad request target');
    if (!allowedHosts().has(req.headers.host ?? '')) return plain(res, 403, 'forbidden host');
    if (target.pathname === WS_PATH) {
      // The page's question after a refused socket (browsers hide the upgrade's status): is my token still good?
      // 401 means this server runs with another token (it was restarted); 426 means the token is fine.
      if (!tokenMatches(target.searchParams.get('token'), token)) return plain(res, 401, 'unauthorized');
      return plain(res, 426, 'upgrade required');
    }
    if (opts.staticDir) return serveStatic(opts.staticDir, target.pathname, res);
    plain(res, 404, 'no UI built');
  };
  const server = http.createServer((req, res) => {
    // Nothing a client sends may throw out of here: the engine, feed and recorder share this process.
    onRequest(req, res).catch(() => plain(res, 400, 'bad request'));
  });
  // A socket error after a response began (client reset) is the client's business, not a reason to exit.
  server.on('error', () => {});
  wss.on('error', () => {});

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const target = parseRequestTarget(req.url);
    if (!target) return refuse(socket, 400, 'Bad Request');
    if (target.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found');
    // DNS rebinding: a foreign name resolving to 127.0.0.1 still carries its own Host header.
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse(socket, 403, 'Forbidden host');
    // Browsers always send Origin: a page from another site (or another local port) must not drive the engine.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuse(socket, 403, 'Forbidden origin');
    if (!tokenMatches(target.searchParams.get('token'), token)) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from an upgraded socket: a reset while we refuse would be uncaught.
    socket.on('error', () => socket.destroy());
    try {
      onUpgrade(req, socket, head);
    } catch {
      refuse(socket, 400, 'Bad Request');
    }
  });

  const send = (ws: WebSocket, msg: WsServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(JSON.stringify(msg));
    } catch {
      // A payload that cannot be serialised is dropped rather than taking the bridge down.
    }
  };

  const onMessage = (ws: WebSocket, data: unknown): void => {
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      send(ws, { id: -1, ok: false, code: 'bad_request', error: 'message is not JSON' });
      return;
    }
    const m = (typeof msg === 'object' && msg !== null ? msg : {}) as Partial<WsClientMessage>;
    const id = typeof m.id === 'number' && Number.isFinite(m.id) ? m.id : -1;
    if (typeof m.cmd !== 'string') {
      send(ws, { id, ok: false, code: 'bad_request', error: 'message needs {id, cmd, args}' });
      return;
    }
    void opts
      .dispatch(m.cmd, m.args)
      .catch((e: unknown) => ({ ok: false as const, code: 'failed' as const, error: String(e) }))
      .then((reply) => send(ws, { id, ...reply }));
  };

  wss.on('connection', (ws: WebSocket) => {
    send(ws, { hello: { version: IPC_VERSION } });
    const off = opts.bus.onAny((event, payload) => {
      if (event === 'market/book' && ws.bufferedAmount > MAX_BUFFERED) return;
      send(ws, { event, payload });
    });
    ws.on('message', (data) => {
      try {
        onMessage(ws, data);
      } catch {
        send(ws, { id: -1, ok: false, code: 'bad_request', error: 'message could not be read' });
      }
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
