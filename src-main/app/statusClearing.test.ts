// Errors tied to a condition go when it ends, with the real app (createApp), a real SQLite file and real sources:
// the live feed pointed at an exchange that cannot be reached says so as an error keyed 'feed'; switching to the
// simulator clears it (app/cleared) without anyone dismissing it, and a Collect's warnings go when it ends or a new one starts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppClearedEvent, AppErrorEvent } from '../../src-shared/ipc.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { createApp } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-clearing-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('errors of a condition clear themselves', () => {
  it('a feed error goes when the user switches to the simulator; a new Collect clears the last one’s', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      // Nothing listens on port 1: the live client keeps retrying and says so.
      overrides: {
        source: 'bybit',
        db: path.join(dir, 'app.db'),
        'bybit.url': 'ws://127.0.0.1:1/v5/public/linear',
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const said: (({ kind: 'error' } & AppErrorEvent) | ({ kind: 'cleared' } & AppClearedEvent))[] = [];
    ctx.bus.on('app/error', (e) => said.push({ kind: 'error', ...e }));
    ctx.bus.on('app/cleared', (c) => said.push({ kind: 'cleared', ...c }));
    try {
      await ctx.dispatch('market/start', {});
      await until('a feed error', () => said.some((x) => x.kind === 'error' && x.key === 'feed'), 20_000);
      const feedError = said.findIndex((x) => x.kind === 'error' && x.key === 'feed');
      expect(said[feedError]).toMatchObject({ where: 'feed' });
      expect(said.slice(feedError).some((x) => x.kind === 'cleared')).toBe(false);

      await ctx.dispatch('market/setSource', { source: { kind: 'sim' } });
      const cleared = said.findIndex((x, i) => i > feedError && x.kind === 'cleared' && x.key === 'feed');
      expect(cleared).toBeGreaterThan(feedError);
      // The simulator subscribes; no feed error after the switch.
      await until('the simulator subscribed', () => ctx.service.status().connection === 'subscribed', 10_000);
      expect(said.slice(cleared).filter((x) => x.kind === 'error' && x.key === 'feed')).toEqual([]);

      const args = { symbol: 'BTCUSDT', depth: 50, durationMs: 60_000 };
      await ctx.dispatch('collect/start', args);
      expect(said.at(-1)).toEqual({ kind: 'cleared', key: 'collect' });
      await ctx.dispatch('collect/stop', {});
      // Ended: its warnings go too (the Collect panel says how it ended).
      expect(said.filter((x) => x.kind === 'cleared' && x.key === 'collect')).toHaveLength(2);
    } finally {
      await ctx.close();
    }
  }, 40_000);
});
