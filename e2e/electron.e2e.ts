// The desktop app under Playwright's Electron driver, on the simulated market: either this checkout (electron-vite
// build + node_modules' Electron) or, with L2DESK_ELECTRON_EXECUTABLE, a packaged app as electron-builder made it
// (the release workflow, .github/workflows/release.yml). Checks the hardening (app:// origin, CSP, no Node, no
// navigation or windows, no remote or file:// content), that a retrain runs in its worker thread and the accepted
// model loads in ONNX Runtime, and that the app collects into SQLite through its own Electron-ABI better-sqlite3.
// On machines without an Electron binary (no download possible) the suite is reported as skipped, with the reason
// in its name.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, ROOT, electronBinary, seedSimSession, tempDir } from './harness.ts';
import { electronSqliteBinding } from '../scripts/electronNative.mjs';

const packaged = process.env.L2DESK_ELECTRON_EXECUTABLE || '';
if (packaged && !fs.existsSync(packaged)) {
  // A pipeline that asked for a packaged app must not pass by skipping.
  throw new Error(`L2DESK_ELECTRON_EXECUTABLE=${packaged} does not exist`);
}
const bin = packaged || electronBinary();
const hasDisplay =
  process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const reason = !bin
  ? 'no Electron binary (node_modules/electron/dist is missing: it is downloaded at install time, which needs internet; ' +
    'or set L2DESK_ELECTRON_EXECUTABLE to a packaged app)'
  : !hasDisplay
    ? 'no display (run under xvfb-run)'
    : '';
const what = packaged ? `packaged Electron app (${path.basename(packaged)})` : 'Electron app';

type Doc = {
  createElement(t: string): { textContent: string };
  body: { appendChild(n: unknown): void };
};

describe.skipIf(reason !== '')(`${what}${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let app: ElectronApplication;
  let win: Page;
  let db: string;

  beforeAll(async () => {
    if (!packaged) {
      const build = spawnSync(
        process.execPath,
        [path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stderr}`);
    }
    const dir = tempDir('l2desk-electron-');
    db = path.join(dir, 'l2desk.db');
    // Minutes of stored data (written by the CLI under Node), so that Retrain has something to learn from at once.
    seedSimSession(db);
    // The simulated market, so that the test needs no exchange (and works where Bybit is blocked).
    fs.mkdirSync(path.join(dir, 'l2desk'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'l2desk', 'config.yaml'), 'source: sim\n');
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      L2DESK_DB: db,
      XDG_CONFIG_HOME: dir,
    };
    // The packaged app opens SQLite through the build it carries (resources/native); a checkout through the one
    // `npm start` makes for Electron's ABI.
    if (packaged) delete env.L2DESK_SQLITE_BINDING;
    else env.L2DESK_SQLITE_BINDING = electronSqliteBinding(ROOT);
    app = await electron.launch({
      executablePath: bin!,
      args: packaged ? [`--user-data-dir=${dir}`] : [ROOT, `--user-data-dir=${dir}`],
      cwd: packaged ? dir : ROOT,
      env,
    });
    win = await app.firstWindow();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves the renderer over app:// with the CSP header, and nothing from file:// or the network', async () => {
    expect(win.url()).toBe('app://l2desk/index.html');
    const probe = await win.evaluate(async () => {
      const index = await fetch('app://l2desk/index.html');
      const traversal = await fetch('app://l2desk/..%2fmain%2findex.js');
      const refused = async (url: string) =>
        fetch(url).then(
          () => false,
          () => true,
        );
      return {
        status: index.status,
        type: index.headers.get('content-type'),
        csp: index.headers.get('content-security-policy'),
        traversal: traversal.status,
        file: await refused('file:///etc/hosts'),
        remote: await refused('https://example.com/'),
      };
    });
    expect(probe).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', traversal: 400 });
    expect(probe.csp).toContain("script-src 'self'");
    expect(probe.csp).toContain("frame-ancestors 'none'");
    expect(probe.file).toBe(true);
    expect(probe.remote).toBe(true);
  });

  it('opens one hardened window that shows the live book', async () => {
    expect(await win.title()).toBe('L2 Desk');
    // Context isolation and no Node: the page sees only the preload's two functions.
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(
      await win.evaluate(() => typeof (globalThis as { l2desk?: { invoke?: unknown } }).l2desk?.invoke),
    ).toBe('function');
    expect(await win.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    // The CSP is enforced: an inline script injected into the page does not run.
    const inlineRan = await win.evaluate(() => {
      const d = (globalThis as unknown as { document: Doc }).document;
      const s = d.createElement('script');
      s.textContent = 'globalThis.__inline = 1';
      d.body.appendChild(s);
      return (globalThis as { __inline?: number }).__inline === 1;
    });
    expect(inlineRan).toBe(false);
    // Navigation away and new windows are refused.
    // A denied window.open returns null at once; checking only the window count could pass before a window appears.
    const refused = await win.evaluate(
      () => (globalThis as unknown as { open: (u: string) => unknown }).open('https://example.com') === null,
    );
    expect(refused).toBe(true);
    await win.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    expect(app.windows()).toHaveLength(1);
    await expect
      .poll(() => win.getByRole('table', { name: 'Order book' }).locator('tr[data-side="bid"]').count(), {
        timeout: 30_000,
      })
      .toBeGreaterThan(5);
    expect(win.url()).toBe('app://l2desk/index.html');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await win.screenshot({ path: path.join(ARTIFACTS, 'electron.png') });
  });

  it('retrains in a worker thread and swaps the model in on Accept (worker, SQLite and ONNX Runtime from the package)', async () => {
    await win.getByRole('button', { name: 'Retrain' }).click();
    const result = win.getByTestId('retrain-result');
    await result.waitFor({ timeout: 90_000 });
    await expect.poll(() => result.textContent()).toMatch(/ic\s*-?\d/);
    await win.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => result.getAttribute('data-status')).toBe('accepted');
    await expect.poll(() => win.getByTestId('active-model').textContent()).toMatch(/^btcusdt-/);
  });

  it('collects into SQLite through the Electron-ABI better-sqlite3 build', async () => {
    await win.getByLabel('Seconds').fill('5');
    await win.getByRole('button', { name: 'Collect', exact: true }).click();
    const status = win.getByTestId('collect-status');
    await expect.poll(() => status.getAttribute('data-done'), { timeout: 30_000 }).toBe('true');
    const sessionId = Number(/session #(\d+)/.exec((await status.textContent()) ?? '')?.[1]);
    expect(sessionId).toBeGreaterThan(0);
    // Read with the test's own (Node-ABI) build: the rows were written by the app's Electron-ABI one.
    const read = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const l2 = read.prepare('SELECT count(*) AS n FROM l2_updates WHERE session_id = ?').get(sessionId) as {
        n: number;
      };
      expect(l2.n).toBeGreaterThan(50);
    } finally {
      read.close();
    }
  });
});
