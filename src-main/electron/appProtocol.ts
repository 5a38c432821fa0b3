// The app:// protocol: serves the built renderer (out/renderer) to the desktop window, so the page has a real
// origin instead of file:// (which Chromium treats as one shared, over-privileged origin). Every response, errors
// included, carries the CSP. A request maps to a file under the renderer root or is refused: no traversal (.., %2f,
// backslashes, NUL, drive letters), GET/HEAD only, known file types only. Pure apart from reading files, and no
// 'electron' import: protocol.handle('app', ...) in main.ts passes Chromium's Request straight in.
import fs from 'node:fs/promises';
import path from 'node:path';
import { APP_ORIGIN, isSameOrigin, originOf, parseUrl, type RendererEntry } from './origins.ts';

/**
 * The policy of the packaged app. Scripts and everything else only from app://l2desk; inline styles because React
 * and the chart library set them; data: images for the favicon; no plugins, frames, forms or base rewriting.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "frame-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The policy for `electron-vite dev` (unpackaged only): the React refresh preamble is an inline module script and
 * HMR talks over a WebSocket to the dev server.
 */
export function devCsp(devOrigin: string): string {
  const ws = devOrigin.replace(/^http:/, 'ws:');
  return APP_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "connect-src 'self'",
    `connect-src 'self' ${ws}`,
  );
}

/**
 * The CSP the session adds to a response it did not serve itself: the dev policy on the dev server's own responses,
 * nothing anywhere else (app:// responses carry theirs; DevTools keeps its own).
 */
export function sessionCspFor(url: string, entry: RendererEntry): string | null {
  return entry.kind === 'dev' && isSameOrigin(url, entry.origin) ? devCsp(entry.origin) : null;
}

/** The types the renderer build emits; anything else is not served (no sniffing, no octet-stream guesses). */
const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(file: string): string | null {
  const ext = path.extname(file).toLowerCase();
  return Object.hasOwn(MIME, ext) ? MIME[ext] : null;
}

/** Headers on every app:// response. */
export function appHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': APP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
}

export type AppRequest =
  { ok: true; file: string; mime: string } | { ok: false; status: 400 | 403 | 404 | 405; reason: string };

// Windows device names open a device, not a file, whatever the folder ("assets/CON.js").
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d|conin\$|conout\$)(\.|$)/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function segmentProblem(seg: string): string | null {
  if (seg === '') return 'empty path segment';
  if (seg === '.' || seg === '..') return 'dot segment';
  if (seg.includes('/') || seg.includes('\\')) return 'encoded path separator';
  if (CONTROL.test(seg)) return 'control character';
  if (seg.includes(':')) return 'colon (drive letter or stream)';
  if (seg.endsWith('.') || seg.endsWith(' ')) return 'trailing dot or space';
  if (WINDOWS_DEVICE.test(seg)) return 'device name';
  return null;
}

/**
 * Maps an app:// request to a file under `root` (absolute), or says why not. The URL's path is split on '/'
 * before each segment is percent-decoded, so an encoded separator can never join segments; the joined path must
 * still lie under the root (checked again after path.join, whatever the platform's rules).
 */
export function resolveAppRequest(
  url: string,
  method: string,
  root: string,
  p: typeof path = path,
): AppRequest {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405, reason: 'method not allowed' };
  const u = parseUrl(url);
  if (!u) return { ok: false, status: 400, reason: 'malformed URL' };
  if (originOf(url) !== APP_ORIGIN) return { ok: false, status: 404, reason: 'not the app origin' };
  const raw = u.pathname === '' || u.pathname === '/' ? '/index.html' : u.pathname;
  const segments: string[] = [];
  for (const enc of raw.slice(1).split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(enc);
    } catch {
      return { ok: false, status: 400, reason: 'malformed percent-encoding' };
    }
    const problem = segmentProblem(seg);
    if (problem) return { ok: false, status: 400, reason: problem };
    segments.push(seg);
  }
  const file = p.join(root, ...segments);
  const rel = p.relative(root, file);
  if (rel === '' || rel.startsWith('..') || p.isAbsolute(rel)) {
    return { ok: false, status: 403, reason: 'outside the renderer folder' };
  }
  const mime = mimeType(file);
  if (!mime) return { ok: false, status: 404, reason: 'file type not served' };
  return { ok: true, file, mime };
}

/** The renderer's assets are a few MB; anything far larger is not ours. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

function refusal(status: number, reason: string): Response {
  return new Response(`${status} ${reason}\n`, { status, headers: appHeaders('text/plain; charset=utf-8') });
}

/** The protocol handler: a Response for every request, never an exception (a throw would be a net error). */
export async function serveAppRequest(request: Request, root: string): Promise<Response> {
  const r = resolveAppRequest(request.url, request.method, root);
  if (!r.ok) return refusal(r.status, r.reason);
  try {
    const st = await fs.stat(r.file);
    if (!st.isFile()) return refusal(404, 'not found');
    if (st.size > MAX_FILE_BYTES) return refusal(403, 'file too large');
    const body = request.method === 'HEAD' ? null : new Uint8Array(await fs.readFile(r.file));
    return new Response(body, { status: 200, headers: appHeaders(r.mime) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? refusal(404, 'not found') : refusal(500, 'read error');
  }
}
