// A failed source switch in a real browser (Debian Chromium via playwright-core) against `l2desk web` on the
// simulated market: the page says what went wrong once, in a toast that fits the window and names no local folder,
// the simulated market keeps running, and Stop / Start work afterwards.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, chromiumAvailable, launchChromium, startWeb, type WebServer } from './harness.ts';

const noChromium = !chromiumAvailable();
const suite = `recovery in the browser (web mode)${noChromium ? ' — skipped: no Chromium (install the Debian package chromium or set CHROMIUM_PATH)' : ''}`;

describe.skipIf(noChromium)(suite, () => {
  let web: WebServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    web = await startWeb({});
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(web.url);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('a switch to a missing replay fails once, readably, fully visible; the feed stays and Start works', async () => {
    await expect.poll(() => page.getByTestId('status-source').textContent(), { timeout: 30_000 }).toBe('sim');
    await page.getByRole('button', { name: 'Stop feed' }).waitFor({ timeout: 20_000 });
    // A session that was listed but no longer exists (deleted by `l2desk db` meanwhile): offered by the page, the
    // engine cannot replay it.
    const source = page.getByLabel('Source');
    // A copy of the first option, re-labelled (the test is typed for Node: no DOM types, so only what it uses).
    type Opt = { cloneNode(): Opt; value: string; textContent: string | null };
    await source.evaluate((el) => {
      const select = el as unknown as { firstElementChild: Opt; appendChild(o: Opt): void };
      const o = select.firstElementChild.cloneNode();
      o.value = 'replay:9999';
      o.textContent = 'Replay #9999 BTCUSDT';
      select.appendChild(o);
    });
    await source.selectOption('replay:9999');
    const toast = page.locator('.errors .error', { hasText: 'replay of session #9999' });
    await toast.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'recovery-01-failed-switch.png') });
    const text = (await toast.textContent()) ?? '';
    expect(text).toMatch(/cannot switch to the replay of session #9999: it is not in the database/);
    expect(text).toMatch(/still on the simulated market/);
    expect(text).not.toContain(web.dir);
    expect(text).not.toMatch(/(^|\s)\/[^\s/]+\//);
    // Said once, and wholly inside the window (nothing cut off or overflowing).
    expect(await page.locator('.errors .error').count()).toBe(1);
    const box = (await toast.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    expect(box.y + box.height).toBeLessThanOrEqual(800);
    expect(await toast.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);

    // The simulated market is still the source and still running; Stop and Start work.
    expect(await page.getByTestId('status-source').textContent()).toBe('sim');
    await page.getByRole('button', { name: 'Stop feed' }).click();
    await page.getByRole('button', { name: 'Start feed' }).click();
    await page.getByRole('button', { name: 'Stop feed' }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('status-source').textContent()).toBe('sim');
    expect(await page.locator('.errors .error').count()).toBe(1);
  }, 60_000);
});
