// Web mode's token in a real browser (Debian Chromium via playwright-core): it leaves the address bar at load and
// survives a reload (sessionStorage); a drop of the server is retried quietly, but once `l2desk web` is back with
// a new token the tab says it was restarted and what to open, instead of retrying forever.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, chromiumAvailable, launchChromium, startWeb, type WebServer } from './harness.ts';

// Page-side expressions as strings: this file is compiled without the DOM library.
const STORED_TOKEN = "window.sessionStorage.getItem('l2desk.token')";

const noChromium = !chromiumAvailable();
const suite = `web mode token and server restarts${noChromium ? ' — skipped: no Chromium (install the Debian package chromium or set CHROMIUM_PATH)' : ''}`;

describe.skipIf(noChromium)(suite, () => {
  let web: WebServer;
  let browser: Browser;
  let page: Page;
  let port: number;

  const loaded = (p: Page) => p.locator('.app .topbar').waitFor({ timeout: 30_000 });

  beforeAll(async () => {
    web = await startWeb({ args: ['--no-start'] });
    port = Number(new URL(web.url).port);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('moves the token out of the address bar at load, into this tab only', async () => {
    await page.goto(web.url);
    await loaded(page);
    expect(page.url()).toBe(`${web.origin}/`);
    expect(await page.evaluate('window.location.search')).toBe('');
    expect(await page.evaluate(STORED_TOKEN)).toBe(web.token);
    // The replaced history entry no longer carries it either: going back leaves the app, not to the token URL.
    expect(await page.evaluate('window.history.length')).toBe(2); // about:blank, then the page (no token)
  });

  it('a reload keeps working from sessionStorage', async () => {
    await page.reload();
    await loaded(page);
    expect(page.url()).toBe(`${web.origin}/`);
    await expect.poll(() => page.locator('.banner').count()).toBe(0);
    // Another tab opened on the bare address has no token and says how to get one.
    const other = await browser.newPage();
    await other.goto(`${web.origin}/`);
    await expect.poll(() => other.textContent('body')).toContain('access token');
    await other.close();
  });

  it('retries a dropped server quietly, and after a restart with a new token says what to open', async () => {
    await web.stop();
    // While nothing answers, it is a network drop: the app stays, says it reconnects, and never claims a restart.
    await expect.poll(() => page.textContent('body')).toContain('reconnecting');
    await page.waitForTimeout(2000);
    expect(await page.getByTestId('server-restarted').count()).toBe(0);

    web = await startWeb({ dir: web.dir, args: ['--no-start', '--port', String(port)] });
    expect(web.token).not.toBe(await page.evaluate(STORED_TOKEN));
    const notice = page.getByTestId('server-restarted');
    await expect.poll(() => notice.count(), { timeout: 20_000 }).toBe(1);
    expect(await notice.textContent()).toContain('The L2 Desk server was restarted');
    expect(await notice.textContent()).toContain('Open the new address it printed in the terminal');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'server-restarted.png') });
    // Refused is final: no more reconnect attempts, so the notice stays.
    await page.waitForTimeout(6000);
    expect(await notice.count()).toBe(1);

    // Opening the new address in the same tab works again, and takes the new token out of the address bar.
    await page.goto(web.url);
    await loaded(page);
    expect(page.url()).toBe(`${web.origin}/`);
    expect(await page.evaluate(STORED_TOKEN)).toBe(web.token);
  });
});
