// Which URL the desktop window loads, and which URLs count as the app's own: exact origin equality on parsed
// URLs, never string prefixes ("http://127.0.0.1:5173@evil.com/" starts with "http://127.0.0.1:5173" and is
// evil.com). Pure (no 'electron' import) so that every decision is tested under plain Node; hardening.ts wires it in.

/** The custom scheme the packaged renderer is served from (appProtocol.ts); never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'l2desk';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Longer than any URL this app produces; a longer one is refused before it is parsed. */
const MAX_URL_LENGTH = 8192;

/** A URL parsed with no exception escaping, or null for anything unparsable or absurdly long. */
export function parseUrl(url: unknown): URL | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL_LENGTH) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * The origin of a URL as Chromium sees it, or null when it has none worth trusting. Node's URL gives "null" for
 * non-special schemes, so app: is composed by hand (Chromium treats it as a standard scheme: host lowercased).
 * Credentials in a URL are never ours: such URLs get no origin.
 */
export function originOf(url: unknown): string | null {
  const u = parseUrl(url);
  if (!u || u.username !== '' || u.password !== '') return null;
  switch (u.protocol) {
    case 'http:':
    case 'https:':
    case 'ws:':
    case 'wss:':
      return u.origin;
    case `${APP_SCHEME}:`:
      if (u.host === '') return null;
      return `${APP_SCHEME}://${u.host.toLowerCase()}`;
    case 'blob:':
      // blob:<origin>/<uuid> belongs to the origin that created it.
      return originOf(u.pathname);
    default:
      return null;
  }
}

/** True only when `url` parses and its origin equals `origin` exactly. */
export function isSameOrigin(url: unknown, origin: string): boolean {
  const o = originOf(url);
  return o !== null && o === origin;
}

/** What the window loads: the bundled renderer over app://, or (unpackaged only) a loopback dev server. */
export type RendererEntry =
  | { kind: 'app'; url: string; origin: string; warning?: string }
  | { kind: 'dev'; url: string; origin: string };

/**
 * The dev server (ELECTRON_RENDERER_URL, set by `electron-vite dev`) is honoured only in an unpackaged build and
 * only when it is plain http on a loopback address: a packaged app never loads code from anywhere but its asar,
 * whatever its environment says.
 */
export function rendererEntry(opts: { isPackaged: boolean; devUrl: string | undefined }): RendererEntry {
  const app = { kind: 'app', url: APP_ENTRY_URL, origin: APP_ORIGIN } as const;
  if (opts.devUrl === undefined || opts.devUrl === '') return app;
  if (opts.isPackaged) return { ...app, warning: 'ELECTRON_RENDERER_URL is ignored in a packaged app' };
  const problem = devUrlProblem(opts.devUrl);
  if (problem) return { ...app, warning: `ELECTRON_RENDERER_URL ignored: ${problem}` };
  const u = new URL(opts.devUrl);
  return { kind: 'dev', url: u.href, origin: u.origin };
}

function devUrlProblem(devUrl: string): string | null {
  const u = parseUrl(devUrl);
  if (!u) return 'not a valid URL';
  if (u.protocol !== 'http:') return `it must be http://, not ${u.protocol}//`;
  if (u.username !== '' || u.password !== '') return 'it must not carry credentials';
  if (!LOOPBACK_HOSTS.has(u.hostname)) return `${u.hostname} is not a loopback address`;
  return null;
}

/**
 * Whether the session lets a request through (webRequest.onBeforeRequest): the page's own origin; data: (the
 * CSP's img-src allows it); in dev, the dev server's HMR socket on the same host and port; devtools: only when
 * DevTools exist (unpackaged). Everything else, remote content above all, is cancelled.
 */
export function requestAllowed(url: string, entry: RendererEntry, devtools: boolean): boolean {
  const u = parseUrl(url);
  if (!u) return false;
  if (u.protocol === 'data:') return true;
  if (u.protocol === 'devtools:') return devtools;
  const origin = originOf(url);
  if (origin === null) return false;
  if (origin === entry.origin) return true;
  if (entry.kind === 'dev' && u.protocol === 'ws:') return origin === entry.origin.replace(/^http:/, 'ws:');
  return false;
}

/** IPC is answered only for the window's main frame showing the app's own origin. */
export function ipcSenderAllowed(
  frame: { url: string; isMainFrame: boolean } | null,
  entry: RendererEntry,
): boolean {
  return frame !== null && frame.isMainFrame && isSameOrigin(frame.url, entry.origin);
}

/**
 * Permissions the page may use (camera, notifications, clipboard, geolocation, ...): none. A trading desk needs
 * no device access; the allow-list is empty on purpose and any entry added here still needs the app's origin.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set<string>();

export function permissionAllowed(permission: string, requestingUrl: string, entry: RendererEntry): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isSameOrigin(requestingUrl, entry.origin);
}
