// The desktop app under Playwright's Electron driver, where an Electron binary exists. On machines without one
// (no download possible) the suite is reported as skipped, with the reason in its name.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, ROOT, electronBinary, tempDir } from './harness.ts';
import { electronSqliteBinding } from '../scripts/electronNative.mjs';

const bin = electronBinary();
const hasDisplay =
  process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const reason = !bin
  ? 'no Electron binary (node_modules/electron/dist is missing: it is downloaded at install time, which needs internet)'
  : !hasDisplay
    ? 'no display (run under xvfb-run)'
    : '';

describe.skipIf(reason !== '')(`Electron app${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let app: ElectronApplication;

  beforeAll(async () => {
    const build = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stderr}`);
    const dir = tempDir('l2desk-electron-');
    app = await electron.launch({
      executablePath: bin!,
      args: [ROOT, `--user-data-dir=${dir}`],
      cwd: ROOT,
      env: {
        ...process.env,
        L2DESK_DB: path.join(dir, 'l2desk.db'),
        XDG_CONFIG_HOME: dir,
        // SQLite through a build for Electron's ABI, as `npm start` does.
        L2DESK_SQLITE_BINDING: electronSqliteBinding(ROOT),
      },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('opens one hardened window that shows the live book', async () => {
    const win = await app.firstWindow();
    expect(await win.title()).toBe('L2 Desk');
    // Context isolation and no Node: the page sees only the preload's two functions.
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(
      await win.evaluate(() => typeof (globalThis as { l2desk?: { invoke?: unknown } }).l2desk?.invoke),
    ).toBe('function');
    expect(await win.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    // The CSP is enforced: an inline script injected into the page does not run.
    const inlineRan = await win.evaluate(() => {
      const d = (
        globalThis as unknown as {
          document: {
            createElement(t: string): { textContent: string };
            body: { appendChild(n: unknown): void };
          };
        }
      ).document;
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
    expect(app.windows()).toHaveLength(1);
    await expect
      .poll(() => win.getByRole('table', { name: 'Order book' }).locator('tr[data-side="bid"]').count(), {
        timeout: 30_000,
      })
      .toBeGreaterThan(5);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await win.screenshot({ path: path.join(ARTIFACTS, 'electron.png') });
  });
});
