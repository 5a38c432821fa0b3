#!/usr/bin/env node
// `npm run screenshots`: the README's picture, docs/screenshot.png: the trading screen at 1600×900 after a few
// minutes of the simulated market at a low threshold, so that candles, the resting-liquidity heatmap behind them, the
// prediction stream, signals, fills and P&L all show. It starts `l2desk web` on a temporary database and Debian's
// Chromium, as the e2e tests do (e2e/harness.ts), and also saves the same screen at 1280×720 under e2e/artifacts/.
// L2DESK_WARM_S sets the warm-up in seconds (default 240: the heatmap is drawn from the book views the page received).
import fs from 'node:fs';
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { ARTIFACTS, ROOT, chromiumAvailable, launchChromium, startWeb } = await import('../e2e/harness.ts');

const WARM_S = Number(process.env.L2DESK_WARM_S ?? 240);
if (!Number.isFinite(WARM_S) || WARM_S < 0) {
  console.error(`L2DESK_WARM_S must be a number of seconds, got "${process.env.L2DESK_WARM_S}"`);
  process.exit(2);
}
if (!chromiumAvailable()) {
  console.error('no Chromium: install the Debian package chromium or set CHROMIUM_PATH');
  process.exit(1);
}

const OUT = path.join(ROOT, 'docs', 'screenshot.png');
const web = await startWeb({});
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(web.url);
  await page.getByTestId('status-source').filter({ hasText: 'sim' }).waitFor({ timeout: 30_000 });
  // 1 s candles: a few minutes fill the chart, each candle over its own heatmap column.
  await page.getByRole('button', { name: '1s', exact: true }).click();
  // A low threshold (0.30 bps): the bundled model then trades often enough for signals, fills and P&L to show.
  const slider = page.getByRole('slider', { name: 'Threshold' });
  await slider.focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await page.getByRole('tab', { name: 'Signals & fills' }).click();
  for (let s = 0; s < WARM_S; s += 30) {
    console.log(`warming up the simulated session: ${s}/${WARM_S} s`);
    await page.waitForTimeout(Math.min(30, WARM_S - s) * 1000);
  }
  // No hover: the chart's crosshair and highlights stay off the picture.
  await page.mouse.move(0, 899);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: path.join(ARTIFACTS, 'screenshot-1280x720.png') });
  console.log(`${path.relative(ROOT, OUT)} refreshed (1600×900); the 1280×720 view is in e2e/artifacts/`);
} finally {
  await browser.close();
  await web.stop();
}
