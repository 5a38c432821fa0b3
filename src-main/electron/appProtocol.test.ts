import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  APP_CSP,
  devCsp,
  mimeType,
  resolveAppRequest,
  serveAppRequest,
  sessionCspFor,
} from './appProtocol.ts';
import { rendererEntry } from './origins.ts';

const ROOT = path.resolve('/srv/l2desk/out/renderer');
const REPO = path.resolve(import.meta.dirname, '..', '..');

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0] !== '')
      .map(([name, ...values]) => [name, values]),
  );
}

describe('resolveAppRequest', () => {
  it.each([
    ['app://l2desk/index.html', 'index.html'],
    ['app://l2desk/', 'index.html'],
    ['app://l2desk', 'index.html'],
    ['app://l2desk/index.html?x=1#top', 'index.html'],
    ['app://L2DESK/assets/index-zja8iC0P.js', 'assets/index-zja8iC0P.js'],
    ['app://l2desk/assets/a%20b.css', 'assets/a b.css'],
    // The URL parser removes dot segments before we see the path: these stay inside the root.
    ['app://l2desk/assets/../index.html', 'index.html'],
    ['app://l2desk/../../../index.html', 'index.html'],
    ['app://l2desk/%2e%2e/index.html', 'index.html'],
  ])('%s -> %s', (url, rel) => {
    const r = resolveAppRequest(url, 'GET', ROOT);
    expect(r).toMatchObject({ ok: true, file: path.join(ROOT, rel) });
  });

  it.each([
    ['app://l2desk/..%2f..%2fmain%2findex.js', 400, 'encoded path separator'],
    ['app://l2desk/..%2F..%2Fetc/passwd', 400, 'encoded path separator'],
    ['app://l2desk/..%5c..%5cmain%5cindex.js', 400, 'encoded path separator'],
    ['app://l2desk/assets/..\\..\\main\\index.js', 400, 'encoded path separator'],
    ['app://l2desk/%2e%2e%2findex.html', 400, 'encoded path separator'],
    ['app://l2desk/%2fetc%2fpasswd.txt', 400, 'encoded path separator'],
    ['app://l2desk/index.html%00.js', 400, 'control character'],
    ['app://l2desk/%00', 400, 'control character'],
    ['app://l2desk/%0aindex.html', 400, 'control character'],
    ['app://l2desk/%E0%A4%A', 400, 'malformed percent-encoding'],
    ['app://l2desk/%', 400, 'malformed percent-encoding'],
    ['app://l2desk/C:%5cWindows%5cwin.ini', 400, 'encoded path separator'],
    ['app://l2desk/C:/Windows/win.ini', 400, 'colon (drive letter or stream)'],
    ['app://l2desk/index.html::$DATA', 400, 'colon (drive letter or stream)'],
    ['app://l2desk/assets/CON.js', 400, 'device name'],
    ['app://l2desk/nul', 400, 'device name'],
    ['app://l2desk/index.html.', 400, 'trailing dot or space'],
    ['app://l2desk/assets//index.js', 400, 'empty path segment'],
    // Absolute paths, POSIX and Windows, can never be joined onto the root as absolute.
    ['app://l2desk//etc/passwd.txt', 400, 'empty path segment'],
    ['app://l2desk/%2Fetc%2Fpasswd.txt', 400, 'encoded path separator'],
    ['app://l2desk/%5C%5Cserver%5Cshare%5Cx.js', 400, 'encoded path separator'],
    ['app://l2desk/C:', 400, 'colon (drive letter or stream)'],
    ['app://l2desk/assets/', 400, 'empty path segment'],
    ['app://l2desk.evil/index.html', 404, 'not the app origin'],
    ['app://l2desk:1/index.html', 404, 'not the app origin'],
    ['app://x@l2desk/index.html', 404, 'not the app origin'],
    ['file:///srv/l2desk/out/renderer/index.html', 404, 'not the app origin'],
    ['http://127.0.0.1:5173/index.html', 404, 'not the app origin'],
    ['app://l2desk/main/index.cjs', 404, 'file type not served'],
    ['app://l2desk/better_sqlite3.node', 404, 'file type not served'],
    ['app://l2desk/assets/index.js.map', 404, 'file type not served'],
    ['not a url', 400, 'malformed URL'],
  ])('%s -> %s %s', (url, status, reason) => {
    expect(resolveAppRequest(url, 'GET', ROOT)).toEqual({ ok: false, status, reason });
  });

  it('refuses methods other than GET and HEAD', () => {
    expect(resolveAppRequest('app://l2desk/index.html', 'HEAD', ROOT).ok).toBe(true);
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'get']) {
      expect(resolveAppRequest('app://l2desk/index.html', m, ROOT)).toMatchObject({ ok: false, status: 405 });
    }
  });

  it('keeps Windows requests under the root too', () => {
    const root = 'C:\\Program Files\\L2 Desk\\resources\\app.asar\\out\\renderer';
    expect(resolveAppRequest('app://l2desk/assets/x.js', 'GET', root, path.win32)).toMatchObject({
      ok: true,
      file: `${root}\\assets\\x.js`,
    });
    for (const url of [
      'app://l2desk/..%5c..%5cmain%5cindex.js',
      'app://l2desk/D:%5cx.js',
      'app://l2desk/D:x.js',
      'app://l2desk/aux.txt',
      'app://l2desk/index.html%20',
    ]) {
      expect(resolveAppRequest(url, 'GET', root, path.win32).ok, url).toBe(false);
    }
  });
});

describe('mimeType', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['a/INDEX.HTML', 'text/html; charset=utf-8'],
    ['x.js', 'text/javascript; charset=utf-8'],
    ['x.mjs', 'text/javascript; charset=utf-8'],
    ['x.css', 'text/css; charset=utf-8'],
    ['x.svg', 'image/svg+xml'],
    ['x.woff2', 'font/woff2'],
    ['x.wasm', 'application/wasm'],
    ['x', null],
    ['x.node', null],
    ['x.map', null],
    ['x.constructor', null],
    ['x.__proto__', null],
  ])('%s -> %s', (file, mime) => expect(mimeType(file)).toBe(mime));
});

describe('CSP', () => {
  it('allows scripts, connections and everything else only from the app itself', () => {
    const d = directives(APP_CSP);
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(APP_CSP).not.toMatch(/unsafe-eval|\*|http:|https:|file:/);
  });

  it('relaxes only script-src and connect-src for the loopback dev server', () => {
    const d = directives(devCsp('http://127.0.0.1:5173'));
    expect(d.get('script-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:5173']);
    const strict = directives(APP_CSP);
    for (const [k, v] of d) if (k !== 'script-src' && k !== 'connect-src') expect(v).toEqual(strict.get(k));
  });

  it("is added by the session only to the dev server's own responses", () => {
    const dev = rendererEntry({ isPackaged: false, devUrl: 'http://127.0.0.1:5173/' });
    const app = rendererEntry({ isPackaged: false, devUrl: undefined });
    expect(sessionCspFor('http://127.0.0.1:5173/src/main.tsx', dev)).toBe(devCsp('http://127.0.0.1:5173'));
    expect(sessionCspFor('http://127.0.0.1:5173@evil.com/', dev)).toBeNull();
    expect(sessionCspFor('devtools://devtools/bundled/inspector.html', dev)).toBeNull();
    expect(sessionCspFor('app://l2desk/index.html', app)).toBeNull();
  });

  it('the page meta policy (the fallback, and the only one in web mode) is the app policy plus the bridge socket', () => {
    const html = fs.readFileSync(path.join(REPO, 'src-renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const d = directives(meta!);
    // Web mode's bridge socket is the one extra connection, on loopback only.
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*']);
    // frame-ancestors has no effect in a meta policy; the app:// header carries it.
    const expected = directives(APP_CSP);
    expected.delete('frame-ancestors');
    expected.set('connect-src', d.get('connect-src')!);
    expect(d).toEqual(expected);
  });
});

describe('serveAppRequest (real files)', () => {
  let root: string;
  let outside: string;

  beforeAll(() => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-app-'));
    root = path.join(base, 'renderer');
    fs.mkdirSync(path.join(root, 'assets', 'dir.js'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>L2 Desk</title>');
    fs.writeFileSync(path.join(root, 'assets', 'index.js'), 'console.log(1)');
    outside = path.join(base, 'secret.txt');
    fs.writeFileSync(outside, 'do not serve');
  });

  const get = (url: string, method = 'GET') => serveAppRequest(new Request(url, { method }), root);

  it('serves the renderer with its type and the CSP', async () => {
    const r = await get('app://l2desk/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toContain('<title>L2 Desk</title>');
    const js = await get('app://l2desk/assets/index.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
  });

  it('answers HEAD without a body', async () => {
    const r = await get('app://l2desk/index.html', 'HEAD');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('');
  });

  it.each([
    ['app://l2desk/..%2fsecret.txt', 400],
    ['app://l2desk/assets/..%2f..%2fsecret.txt', 400],
    ['app://l2desk/index.html%00', 400],
    ['app://l2desk/%E0%A4%A', 400],
    ['app://l2desk/missing.js', 404],
    ['app://l2desk/assets/dir.js', 404],
    ['app://l2desk/index.html/x.js', 404],
    ['app://l2desk.evil/index.html', 404],
  ])('refuses %s with %s, CSP included, and never throws', async (url, status) => {
    const r = await get(url);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(await r.text()).not.toContain('do not serve');
  });

  it('refuses an absolute path given as the URL path', async () => {
    const r = await get(`app://l2desk/${encodeURIComponent(outside)}`);
    expect(r.status).toBe(400);
    expect(await r.text()).not.toContain('do not serve');
  });

  it('refuses POST', async () => {
    expect((await get('app://l2desk/index.html', 'POST')).status).toBe(405);
  });
});
