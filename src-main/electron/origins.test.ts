import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  ipcSenderAllowed,
  isSameOrigin,
  originOf,
  permissionAllowed,
  rendererEntry,
  requestAllowed,
  type RendererEntry,
} from './origins.ts';

const DEV = 'http://127.0.0.1:5173';
const appEntry = rendererEntry({ isPackaged: true, devUrl: undefined });
const devEntry = rendererEntry({ isPackaged: false, devUrl: `${DEV}/` });

describe('originOf', () => {
  it.each([
    ['app://l2desk/index.html', 'app://l2desk'],
    ['app://L2DESK/assets/x.js', 'app://l2desk'],
    ['app://l2desk.evil/index.html', 'app://l2desk.evil'],
    ['app://l2desk:8080/', 'app://l2desk:8080'],
    ['http://127.0.0.1:5173/src/main.tsx', 'http://127.0.0.1:5173'],
    ['http://127.0.0.1:51730/', 'http://127.0.0.1:51730'],
    ['ws://127.0.0.1:5173/', 'ws://127.0.0.1:5173'],
    ['blob:app://l2desk/1b2c', 'app://l2desk'],
  ])('%s -> %s', (url, origin) => expect(originOf(url)).toBe(origin));

  it.each([
    'file:///',
    'file:///home/u/out/renderer/index.html',
    'devtools://devtools/bundled/inspector.html',
    'data:text/html,<script>1</script>',
    'javascript:alert(1)',
    'app:///index.html',
    'app://user:pw@l2desk/index.html',
    'http://user@127.0.0.1:5173/',
    'http://127.0.0.1:5173@evil.com/',
    // Not a URL at all (the port is not a number), though a prefix check would take it for the dev server.
    'http://127.0.0.1:5173.evil.com/',
    'not a url',
    '',
    'http://' + 'a'.repeat(9000) + '.com/',
  ])('%s has no trusted origin', (url) => expect(originOf(url)).toBeNull());

  it('never throws on non-strings', () => {
    expect(originOf(undefined)).toBeNull();
    expect(originOf(42)).toBeNull();
    expect(originOf({ toString: () => 'app://l2desk/' })).toBeNull();
  });
});

describe('isSameOrigin is equality, never a prefix match', () => {
  it.each([
    ['app://l2desk/index.html', APP_ORIGIN, true],
    ['app://l2desk', APP_ORIGIN, true],
    ['app://l2desk.evil/index.html', APP_ORIGIN, false],
    ['app://l2desk@evil/index.html', APP_ORIGIN, false],
    ['app://l2deskx/', APP_ORIGIN, false],
    ['file:///index.html', APP_ORIGIN, false],
    [`${DEV}/`, DEV, true],
    [`${DEV}.evil.com/`, DEV, false],
    [`${DEV}@evil.com/`, DEV, false],
    [`${DEV}/../@evil.com/`, DEV, true],
    ['http://127.0.0.1:51730/', DEV, false],
    ['https://127.0.0.1:5173/', DEV, false],
    ['http://localhost:5173/', DEV, false],
  ])('%s vs %s -> %s', (url, origin, same) => expect(isSameOrigin(url, origin)).toBe(same));
});

describe('rendererEntry', () => {
  it('loads app:// when packaged, whatever ELECTRON_RENDERER_URL says', () => {
    for (const devUrl of [undefined, '', `${DEV}/`, 'https://evil.example/']) {
      const e = rendererEntry({ isPackaged: true, devUrl });
      expect(e.kind).toBe('app');
      expect(e.url).toBe(APP_ENTRY_URL);
      expect(e.origin).toBe(APP_ORIGIN);
    }
    expect(rendererEntry({ isPackaged: true, devUrl: `${DEV}/` })).toMatchObject({
      warning: 'ELECTRON_RENDERER_URL is ignored in a packaged app',
    });
  });

  it('loads a loopback http dev server only when unpackaged', () => {
    expect(devEntry).toEqual({ kind: 'dev', url: `${DEV}/`, origin: DEV });
    expect(rendererEntry({ isPackaged: false, devUrl: 'http://localhost:5174' })).toMatchObject({
      kind: 'dev',
      origin: 'http://localhost:5174',
    });
    expect(rendererEntry({ isPackaged: false, devUrl: 'http://[::1]:5173/' }).kind).toBe('dev');
    expect(rendererEntry({ isPackaged: false, devUrl: undefined }).kind).toBe('app');
  });

  it.each([
    ['https://127.0.0.1:5173/', 'it must be http://, not https://'],
    ['http://127.0.0.1.evil.com:5173/', '127.0.0.1.evil.com is not a loopback address'],
    ['http://192.168.1.5:5173/', '192.168.1.5 is not a loopback address'],
    ['http://u:p@127.0.0.1:5173/', 'it must not carry credentials'],
    ['file:///tmp/index.html', 'it must be http://, not file://'],
    ['localhost:5173', 'it must be http://, not localhost://'],
    ['127.0.0.1:5173', 'not a valid URL'],
    ['http://127.0.0.1:5173@evil.com/', 'it must not carry credentials'],
    ['::nonsense', 'not a valid URL'],
  ])('refuses dev URL %s (%s) and loads app://', (devUrl, problem) => {
    const e = rendererEntry({ isPackaged: false, devUrl });
    expect(e).toEqual({
      kind: 'app',
      url: APP_ENTRY_URL,
      origin: APP_ORIGIN,
      warning: `ELECTRON_RENDERER_URL ignored: ${problem}`,
    });
  });
});

describe('requestAllowed (no remote content)', () => {
  const cases: [string, RendererEntry, boolean, boolean][] = [
    ['app://l2desk/assets/index.js', appEntry, false, true],
    ['app://l2desk.evil/assets/index.js', appEntry, false, false],
    ['data:,', appEntry, false, true],
    ['file:///etc/passwd', appEntry, false, false],
    ['https://stream.bybit.com/', appEntry, false, false],
    ['http://127.0.0.1:5173/src/main.tsx', appEntry, false, false],
    ['devtools://devtools/bundled/inspector.html', appEntry, false, false],
    ['devtools://devtools/bundled/inspector.html', appEntry, true, true],
    ['http://127.0.0.1:5173/src/main.tsx', devEntry, true, true],
    ['ws://127.0.0.1:5173/', devEntry, true, true],
    ['ws://127.0.0.1:5174/', devEntry, true, false],
    ['http://127.0.0.1:5173.evil.com/x.js', devEntry, true, false],
    ['app://l2desk/index.html', devEntry, true, false],
    ['garbage', devEntry, true, false],
  ];
  it.each(cases)('%s (%j, devtools %s) -> %s', (url, entry, devtools, allowed) =>
    expect(requestAllowed(url, entry, devtools)).toBe(allowed),
  );
});

describe('ipcSenderAllowed', () => {
  it.each([
    [{ url: 'app://l2desk/index.html', isMainFrame: true }, appEntry, true],
    [{ url: 'app://l2desk/index.html', isMainFrame: false }, appEntry, false],
    [{ url: 'app://l2desk.evil/index.html', isMainFrame: true }, appEntry, false],
    [{ url: 'file:///out/renderer/index.html', isMainFrame: true }, appEntry, false],
    [{ url: '', isMainFrame: true }, appEntry, false],
    [{ url: 'about:blank', isMainFrame: true }, appEntry, false],
    [{ url: `${DEV}/`, isMainFrame: true }, devEntry, true],
    [{ url: `${DEV}.evil.com/`, isMainFrame: true }, devEntry, false],
    [{ url: `${DEV}@evil.com/`, isMainFrame: true }, devEntry, false],
    [{ url: `${DEV}/`, isMainFrame: true }, appEntry, false],
    [null, appEntry, false],
  ])('%j -> %s', (frame, entry, allowed) =>
    expect(ipcSenderAllowed(frame, entry as RendererEntry)).toBe(allowed),
  );
});

describe('permissionAllowed', () => {
  it.each([
    'media',
    'notifications',
    'geolocation',
    'clipboard-read',
    'clipboard-sanitized-write',
    'openExternal',
    'fullscreen',
    'hid',
    'serial',
    'usb',
  ])('denies %s, even to the app itself', (perm) => {
    expect(permissionAllowed(perm, 'app://l2desk/index.html', appEntry)).toBe(false);
    expect(permissionAllowed(perm, 'https://evil.example/', appEntry)).toBe(false);
  });
});
