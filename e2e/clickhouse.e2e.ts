// The workstation in a real browser on `l2desk web --db clickhouse://…` (a real clickhouse-server started here): the
// stored session of the store is offered for a backtest, the sweep's report shows, and its runs are saved in the store;
// a walk-forward backtest trains its models from the store's session; the session replays on the live screen.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../src-main/store/clickhouse/connection.ts';
import { copySessionToClickHouse } from '../src-main/store/clickhouse/mirror.ts';
import { openRunsCopy } from '../src-main/store/clickhouse/runStore.ts';
import {
  clickhouseSkipReason,
  startTestServer,
  type TestServer,
} from '../src-main/store/clickhouse/testServer.ts';
import { openDb } from '../src-main/store/db.ts';
import {
  chromiumAvailable,
  launchChromium,
  seedSimSession,
  startWeb,
  tempDir,
  type WebServer,
} from './harness.ts';

const why = !chromiumAvailable()
  ? 'no Chromium (install the Debian package chromium or set CHROMIUM_PATH)'
  : clickhouseSkipReason();
const suite = `the workstation on a ClickHouse store (web mode)${why ? ` — skipped: ${why}` : ''}`;

describe.skipIf(why !== null)(suite, () => {
  let server: TestServer;
  let web: WebServer;
  let browser: Browser;
  let page: Page;
  let url: string;
  let sessionId: number;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    url = server.url('web_store');
    dir = tempDir('l2desk-e2e-ch-');
    // 12 minutes of the simulated market, recorded into a file and copied into the store.
    const file = path.join(dir, 'seed.db');
    seedSimSession(file, '12m');
    const db = openDb(file, { mustExist: true });
    const ch = await openClickHouse(url);
    try {
      sessionId = await copySessionToClickHouse(db, 1, ch);
    } finally {
      await ch.close();
      db.close();
    }
    fs.rmSync(file);
    web = await startWeb({ dir, args: ['--db', url, '--no-start'] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(web.url);
    await page.getByRole('button', { name: 'Backtest', exact: true }).waitFor({ timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await server?.stop();
  });

  it('says in the Collect panel that sessions go to the ClickHouse store', async () => {
    const line = page.getByTestId('collect-store');
    expect(await line.textContent()).toBe(`into ClickHouse ${url.replace('clickhouse://', '')}`);
    expect(await line.getAttribute('title')).toBe(
      `Sessions are stored in the ClickHouse store ${url}; Backtest and Replay read them there`,
    );
  });

  it('backtests a session of the store and saves the runs there', async () => {
    await page.getByLabel('Session').selectOption(String(sessionId));
    await page.getByLabel('Threshold sweep').fill('0.25 1');
    await page.getByRole('button', { name: 'Backtest', exact: true }).click();
    const report = page.getByTestId('backtest-report');
    await report.waitFor({ timeout: 60_000 });
    await expect.poll(() => report.locator('table.runs tbody tr').count()).toBe(2);
    const ch = await openClickHouse(url, { mustExist: true });
    try {
      const runs = await openRunsCopy(ch, { runsOnly: true });
      const rows = runs.prepare('SELECT session_id, threshold FROM runs ORDER BY threshold').all();
      runs.close();
      expect(rows).toEqual([
        { session_id: sessionId, threshold: 0.25 },
        { session_id: sessionId, threshold: 1 },
      ]);
    } finally {
      await ch.close();
    }
    expect(web.log()).toContain(`db ${url}`);
  }, 90_000);

  it('runs a walk-forward backtest on it, its models kept beside the models folder', async () => {
    await page.getByLabel('Threshold sweep').fill('');
    await page.getByRole('checkbox', { name: 'Walk-forward' }).check();
    await page.getByLabel('Train window').fill('5');
    await page.getByLabel('Retrain every').fill('3');
    await page.getByRole('button', { name: 'Backtest', exact: true }).click();
    const windows = page.getByRole('table', { name: 'Walk-forward windows' });
    await windows.waitFor({ timeout: 60_000 });
    // Windows at 5, 8 and 11 minutes of the 12.
    await expect.poll(() => windows.locator('tbody tr').count()).toBe(3);
    const folders = fs.readdirSync(dir).filter((f) => f.startsWith(`walkforward-${sessionId}-`));
    expect(folders.length).toBe(1);
    expect(fs.readdirSync(path.join(dir, folders[0])).some((f) => f.endsWith('.onnx'))).toBe(true);
    await page.getByRole('checkbox', { name: 'Walk-forward' }).uncheck();
  }, 90_000);

  it('replays the session from the store on the live screen', async () => {
    await page.getByLabel('Source').selectOption(`replay:${sessionId}`);
    await page.getByTestId('status-source').filter({ hasText: 'replay' }).waitFor({ timeout: 30_000 });
    await page.locator('.book tr[data-side="bid"]').first().waitFor({ timeout: 30_000 });
  }, 60_000);
});
