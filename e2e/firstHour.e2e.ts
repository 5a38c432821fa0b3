// A trader's first minutes on a fresh install on the simulated market, in a real browser (Debian Chromium via
// playwright-core) against `l2desk web` at 1280×720:
// - Retrain right away is refused with how many more minutes of data it needs, in the app's words (no `l2desk …`
//   advice), said once on the whole page (not also as a toast), and wholly visible inside the Retrain panel;
// - the Sweep box refuses `abc, -1` inline, in `backtest --sweep`'s words, with Backtest off, instead of dropping it;
// - an error toast sits above the panels and never covers the Position & P&L figures.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, chromiumAvailable, launchChromium, startWeb, type WebServer } from './harness.ts';

const noChromium = !chromiumAvailable();
const suite = `first hour on a fresh install (web mode)${noChromium ? ' — skipped: no Chromium (install the Debian package chromium or set CHROMIUM_PATH)' : ''}`;

describe.skipIf(noChromium)(suite, () => {
  let web: WebServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    web = await startWeb({});
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(web.url);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('says how many more minutes it needs, once, fully visible, in the app’s words', async () => {
    await expect.poll(() => page.getByTestId('status-source').textContent(), { timeout: 30_000 }).toBe('sim');
    await page.getByRole('button', { name: 'Retrain', exact: true }).click();
    const message = page.getByTestId('retrain-needs-data');
    await message.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'retrain-needs-data.png') });
    const text = (await message.textContent()) ?? '';
    const n = Number(
      /^Needs about (\d+) more minutes? of data: keep the feed running or press Collect\b/.exec(text)?.[1],
    );
    expect(n, text).toBeGreaterThan(0);
    expect(text).not.toMatch(/l2desk/);
    // Once on the whole page: not repeated as a progress line, a second copy, or a toast.
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body.split('Needs about').length - 1).toBe(1);
    expect(await page.locator('.errors .error').count()).toBe(0);
    // Wholly inside the Retrain panel and the window, and not cut off (wrapped, no overflow).
    const panel = page.locator('section[aria-labelledby="rt-h"]');
    const [m, p] = [(await message.boundingBox())!, (await panel.boundingBox())!];
    expect(m.height).toBeGreaterThan(0);
    expect(m.x).toBeGreaterThanOrEqual(p.x);
    expect(m.y).toBeGreaterThanOrEqual(p.y);
    expect(m.x + m.width).toBeLessThanOrEqual(p.x + p.width + 0.5);
    expect(m.y + m.height).toBeLessThanOrEqual(p.y + p.height + 0.5);
    expect(p.y + p.height).toBeLessThanOrEqual(720);
    expect(
      await message.evaluate(
        (el) => el.scrollWidth <= el.clientWidth + 1 && el.scrollHeight <= el.clientHeight + 1,
      ),
    ).toBe(true);
    // Nothing of the panel hidden behind its own scroll: the message is in view without scrolling.
    expect(await panel.evaluate((el) => el.scrollTop === 0 && el.scrollHeight <= el.clientHeight + 1)).toBe(
      true,
    );
  }, 90_000);

  it('the Sweep box refuses what backtest --sweep refuses, inline, with Backtest off', async () => {
    const sweep = page.getByLabel('Threshold sweep');
    const backtest = page.getByRole('button', { name: 'Backtest', exact: true });
    await sweep.fill('abc, -1');
    const problem = page.getByTestId('backtest-input-problem');
    await problem.waitFor({ timeout: 5_000 });
    expect(await problem.textContent()).toBe(
      'Sweep takes non-negative numbers (at most 1000) separated by commas, got "abc, -1": "abc", "-1" are not',
    );
    expect(await backtest.isDisabled()).toBe(true);
    await sweep.fill('0.5, 1');
    expect(await problem.count()).toBe(0);
    await sweep.fill('');
  });

  it('an error toast never covers the Position & P&L figures', async () => {
    // A failed command (a replay of a session that does not exist): a one-off error, said in a toast.
    await page.getByLabel('Source').evaluate((el) => {
      type Opt = { cloneNode(): Opt; value: string; textContent: string | null };
      const select = el as unknown as { firstElementChild: Opt; appendChild(o: Opt): void };
      const o = select.firstElementChild.cloneNode();
      o.value = 'replay:9999';
      o.textContent = 'Replay #9999 BTCUSDT';
      select.appendChild(o);
    });
    await page.getByLabel('Source').selectOption('replay:9999');
    const toast = page.locator('.errors .error').first();
    await toast.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'first-hour-toast.png') });
    const t = (await toast.boundingBox())!;
    const pnl = (await page.locator('section[aria-labelledby="pf-h"]').boundingBox())!;
    const overlap =
      t.x < pnl.x + pnl.width && pnl.x < t.x + t.width && t.y < pnl.y + pnl.height && pnl.y < t.y + t.height;
    expect(overlap).toBe(false);
  });
});
