// The workstation in a real browser (Debian Chromium via playwright-core) against `l2desk web` on the simulated
// market: book, collect, retrain, predictions, the Features panel, threshold slider, backtest (sweep, cancel,
// walk-forward), and the bridge refusing bad clients.
// Screenshots of each step go to e2e/artifacts/ (git-ignored); `npm run screenshots` takes the README's picture.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src-main/config/loadConfig.ts';
import { BridgeRefusedError, connectBridge, type NodeBridgeClient } from '../src-main/bridge/wsClient.ts';
import { FEATURE_SET } from '../src-main/features/featureSet.ts';
import { ARTIFACTS, chromiumAvailable, launchChromium, startWeb, type WebServer } from './harness.ts';

const SIM_PRICE = loadConfig({ ignoreUserFile: true }).sim.start_price;

// Without Chromium the suite is reported as skipped, with the reason in its name.
const noChromium = !chromiumAvailable();
const suite = `workstation in the browser (web mode, sim source)${noChromium ? ' — skipped: no Chromium (install the Debian package chromium or set CHROMIUM_PATH)' : ''}`;

describe.skipIf(noChromium)(suite, () => {
  let web: WebServer;
  let browser: Browser;
  let page: Page;
  let bridge: NodeBridgeClient;
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // A 20-minute simulated session stored up front: Retrain and Backtest need minutes of data, the test cannot wait.
    web = await startWeb({ seed: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 960 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(web.url);
    bridge = await connectBridge(web.wsUrl);
  });

  afterAll(async () => {
    bridge?.close();
    await browser?.close();
    await web?.stop();
  });

  it('refuses a wrong token and a foreign origin', async () => {
    const bad = web.wsUrl.replace(/token=[^&]+/, 'token=wrong-token');
    await expect(connectBridge(bad)).rejects.toMatchObject({ status: 401 });
    await expect(connectBridge(web.wsUrl, { origin: 'http://evil.example' })).rejects.toBeInstanceOf(
      BridgeRefusedError,
    );
    // A page opened without the token gets the explanation, not a broken screen.
    const p2 = await browser.newPage();
    await p2.goto(web.url.replace(/\?token=.*/, ''));
    await expect.poll(() => p2.textContent('body')).toContain('access token');
    await p2.close();
    // A bad payload is an error reply and never reaches the engine.
    await expect(bridge.invoke('trading/setThreshold', { threshold: -3 })).rejects.toThrow(/bad payload/);
    const defaults = loadConfig({ ignoreUserFile: true });
    await expect(bridge.invoke('trading/getThreshold', {})).resolves.toEqual({
      threshold: defaults.trading.threshold,
    });
  });

  it('shows an ordered book near the simulated price', async () => {
    const book = page.getByRole('table', { name: 'Order book' });
    await expect
      .poll(() => book.locator('tr[data-side="bid"]').count(), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(10);
    await expect.poll(() => book.locator('tr[data-side="ask"]').count()).toBeGreaterThanOrEqual(10);
    // One atomic read of the ladder (it re-renders up to 20 times a second).
    const { bids, asks } = await book.evaluate((t) => {
      const px = (side: string) =>
        [...t.querySelectorAll(`tr[data-side="${side}"]`)].map((r) => Number(r.getAttribute('data-price')));
      // Bids are shown best first; asks worst at the top, so reverse them to best first.
      return { bids: px('bid'), asks: px('ask').reverse() };
    });
    expect(Math.max(...bids)).toBeLessThan(Math.min(...asks));
    for (let i = 1; i < bids.length; i++) expect(bids[i]).toBeLessThan(bids[i - 1]);
    for (let i = 1; i < asks.length; i++) expect(asks[i]).toBeGreaterThan(asks[i - 1]);
    expect(Math.abs(bids[0] / SIM_PRICE - 1)).toBeLessThan(0.05);
    await shot('01-book');
  });

  it('collects 10 s of data into SQLite', async () => {
    // Where it goes, by the file's name (the page never learns local folders).
    const store = page.getByTestId('collect-store');
    expect(await store.textContent()).toBe('into l2desk.db');
    expect(await store.getAttribute('title')).toBe(
      'Sessions are stored in the SQLite file l2desk.db; Backtest and Replay read them there',
    );
    // Several symbols (one session each) need the live feed: on the simulated market the field says so and
    // Collect stays off; a malformed list is named.
    const panel = page.locator('[data-panel="collect"]');
    const collect = page.getByRole('button', { name: 'Collect', exact: true });
    const problem = page.getByTestId('collect-input-problem');
    await panel.getByLabel('Symbol').fill('BTCUSDT,ETHUSDT');
    await expect
      .poll(() => problem.textContent())
      .toMatch(/several symbols are collected from the live Bybit feed/);
    expect(await collect.isDisabled()).toBe(true);
    await panel.getByLabel('Symbol').fill('BTCUSDT,,ETHUSDT');
    await expect.poll(() => problem.textContent()).toMatch(/Symbol: "" is not a symbol/);
    await panel.getByLabel('Symbol').fill('BTCUSDT');
    await expect.poll(() => problem.count()).toBe(0);
    await page.getByLabel('Seconds').fill('10');
    await collect.click();
    const status = page.getByTestId('collect-status');
    await expect.poll(() => status.getAttribute('data-done'), { timeout: 25_000 }).toBe('true');
    const text = (await status.textContent()) ?? '';
    const sessionId = Number(/session #(\d+)/.exec(text)?.[1]);
    expect(sessionId).toBeGreaterThan(1);
    // The collected session's data quality follows (the simulator's feed is clean).
    const quality = page.getByTestId('collect-quality');
    await expect.poll(() => quality.getAttribute('data-findings')).toBe('0');
    expect(await quality.textContent()).toMatch(/Data quality: no findings \(0\.0% invalid · breaks 0/);
    await shot('02-collect');
    const db = new Database(web.db, { readonly: true, fileMustExist: true });
    try {
      const l2 = db
        .prepare(
          'SELECT count(*) AS n, min(recv_ts) AS a, max(recv_ts) AS b FROM l2_updates WHERE session_id = ?',
        )
        .get(sessionId) as { n: number; a: number; b: number };
      const trades = db.prepare('SELECT count(*) AS n FROM trades WHERE session_id = ?').get(sessionId) as {
        n: number;
      };
      expect(l2.n).toBeGreaterThan(100); // ~50 book messages/s for 10 s
      expect(l2.b - l2.a).toBeGreaterThan(8_000);
      expect(trades.n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('retrains, shows validation metrics, and swaps the model in on Accept', async () => {
    await page.getByRole('button', { name: 'Retrain' }).click();
    const result = page.getByTestId('retrain-result');
    await result.waitFor({ timeout: 60_000 });
    await expect.poll(() => result.textContent()).toMatch(/ic\s*-?\d/);
    await shot('03-retrain');
    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => result.getAttribute('data-status')).toBe('accepted');
    await expect.poll(() => page.getByTestId('active-model').textContent()).toMatch(/^btcusdt-/);
  });

  it('streams predictions from the accepted model', async () => {
    const count = page.getByTestId('prediction-count');
    // The features need their 30 s look-back after start; the engine has been running since the page opened.
    await expect
      .poll(async () => Number(await count.getAttribute('data-count')), { timeout: 45_000, interval: 500 })
      .toBeGreaterThan(2);
    const before = Number(await count.getAttribute('data-count'));
    await expect
      .poll(async () => Number(await count.getAttribute('data-count')), { timeout: 10_000 })
      .toBeGreaterThan(before);
    await shot('04-predictions');
  });

  it('the Features tab lists the running feature set with values, z-scores and gain, by importance', async () => {
    await page.getByRole('tab', { name: 'Features' }).click();
    const table = page
      .getByRole('region', { name: 'Features' })
      .getByRole('table', { name: 'Feature values' });
    const read = () =>
      table.evaluate((t) =>
        [...t.querySelectorAll('tbody tr')].map((r) => {
          const c = [...r.querySelectorAll('td')].map((d) => (d.textContent ?? '').replace(/,/g, ''));
          return { name: c[0], value: Number(c[1]), z: Number(c[3]), gain: Number(c[4].replace('%', '')) };
        }),
      );
    await expect.poll(async () => (await read()).length).toBe(FEATURE_SET.names.length);
    // Numbers once two decisions have been seen since the panel's first row (z needs a spread).
    await expect
      .poll(async () => (await read()).filter((r) => Number.isFinite(r.z)).length)
      .toBeGreaterThan(FEATURE_SET.names.length / 2);
    const rows = await read();
    expect(rows.map((r) => r.name).sort()).toEqual([...FEATURE_SET.names].sort());
    expect(rows.every((r) => Number.isFinite(r.value))).toBe(true);
    // The accepted model's metadata carries gain importance: every feature has one, highest first.
    const gains = rows.map((r) => r.gain);
    expect(gains.every((g) => Number.isFinite(g) && g >= 0)).toBe(true);
    for (let i = 1; i < gains.length; i++) expect(gains[i]).toBeLessThanOrEqual(gains[i - 1] + 0.5);
    await shot('04b-features');
  });

  it('the threshold slider changes the live threshold and the number of signals', async () => {
    const slider = page.getByRole('slider', { name: 'Threshold' });
    const signals = page.getByTestId('whatif-signals');
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => bridge.invoke('trading/getThreshold', {})).toEqual({ threshold: 0 });
    await expect.poll(async () => Number(await signals.textContent())).toBeGreaterThan(0);
    const atZero = Number(await signals.textContent());
    await page.keyboard.press('End');
    await expect
      .poll(() => bridge.invoke('trading/getThreshold', {}).then((r) => r.threshold))
      .toBeGreaterThan(4);
    await expect.poll(async () => Number(await signals.textContent())).toBeLessThan(atZero);
    // Back down to 0.5 (step 0.05): a threshold the engine reports exactly as the slider shows it.
    for (let i = 0; i < 90; i++) await page.keyboard.press('ArrowLeft');
    const shown = Number((await page.getByTestId('threshold-value').textContent())?.replace(/[^\d.]/g, ''));
    await expect
      .poll(() => bridge.invoke('trading/getThreshold', {}).then((r) => r.threshold))
      .toBeCloseTo(shown, 6);
    await shot('05-threshold');
  });

  it('runs a backtest sweep over a stored session and renders the report', async () => {
    await page.getByLabel('Session').selectOption('1');
    await page.getByLabel('Threshold sweep').fill('0.25 0.5 1');
    await page.getByRole('button', { name: 'Backtest' }).click();
    const report = page.getByTestId('backtest-report');
    await report.waitFor({ timeout: 60_000 });
    await expect.poll(() => report.locator('table.runs tbody tr').count()).toBe(3);
    expect(
      await report.getByRole('img', { name: 'Backtest equity curve' }).locator('canvas').count(),
    ).toBeGreaterThan(0);
    await shot('06-backtest');
  }, 90_000);

  it('cancels a running backtest from the panel', async () => {
    // 50 thresholds: long enough to be running when Cancel is pressed.
    const sweep = Array.from({ length: 50 }, (_, i) => (0.05 * (i + 1)).toFixed(2)).join(' ');
    await page.getByLabel('Threshold sweep').fill(sweep);
    await page.getByRole('button', { name: 'Backtest', exact: true }).click();
    const cancel = page.getByRole('button', { name: 'Cancel backtest' });
    await expect.poll(() => cancel.isEnabled(), { timeout: 10_000 }).toBe(true);
    await cancel.click();
    await page.getByTestId('backtest-cancelled').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('backtest-cancelled').textContent()).toBe('Backtest cancelled');
    expect(await cancel.count()).toBe(0);
    await expect
      .poll(() => page.getByRole('button', { name: 'Backtest', exact: true }).isEnabled())
      .toBe(true);
  }, 60_000);

  it('runs a walk-forward backtest and shows one row per window', async () => {
    const trainWindow = page.getByLabel('Train window');
    expect(await trainWindow.isDisabled()).toBe(true);
    await page.getByLabel('Session').selectOption('1');
    await page.getByLabel('Threshold sweep').fill('');
    await page.getByRole('checkbox', { name: 'Walk-forward' }).check();
    expect(await trainWindow.isEnabled()).toBe(true);
    // The seeded session is 40 minutes: windows at 6, 11, …, 36 minutes, each model trained on the 6 before it.
    await trainWindow.fill('6');
    await page.getByLabel('Retrain every').fill('5');
    await page.getByRole('button', { name: 'Backtest', exact: true }).click();
    const windows = page.getByRole('table', { name: 'Walk-forward windows' });
    // Seven models trained one after the other, then the replay: ~9 s here alone, 30 s and more on a loaded machine.
    await windows.waitFor({ timeout: 75_000 });
    await expect.poll(() => windows.locator('tbody tr').count()).toBe(7);
    expect(await page.getByTestId('backtest-in-sample').textContent()).toMatch(
      /^Out of sample: none of the \d+ decisions/,
    );
    await windows.scrollIntoViewIfNeeded();
    await shot('06b-walk-forward');
  }, 90_000);

  it('shows the disconnected state when the engine goes away', async () => {
    await web.stop();
    await expect
      .poll(() => page.getByRole('alert').filter({ hasText: 'Disconnected' }).count(), { timeout: 10_000 })
      .toBe(1);
    await shot('07-disconnected');
  });
});
