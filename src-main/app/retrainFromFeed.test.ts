// The GUI's Collect → Retrain flow from a fresh install, with the real app (createApp), a real SQLite file, the sim
// source (sped up) and the real trainer worker, all through the validating dispatcher as a page calls it:
// Retrain with nothing stored says how many more minutes of data it needs, in the app's words (no `l2desk …`);
// with a short recorded feed it says how many more minutes, computed from training's refusal; once the app's own
// recorded feed (two recordings, combined) covers enough, Retrain succeeds without anyone pressing Collect.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reply, RetrainResult } from '../../src-shared/ipc.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb, type Db } from '../store/db.ts';
import { listSessions, type SessionInfo } from '../store/sessions.ts';
import { createApp, type AppContext } from './createApp.ts';
import { isFeedRecording } from './feedRecorder.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-feedtrain-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const progress: string[] = [];

/** Presses Retrain and waits for its result, as the Retrain panel does. */
async function retrain(ctx: AppContext): Promise<RetrainResult> {
  const results: RetrainResult[] = [];
  const off = ctx.bus.on('retrain/result', (r) => results.push(r));
  const offP = ctx.bus.on('retrain/progress', (p) => progress.push(p.message));
  try {
    const r = (await ctx.dispatch('model/retrain', {})) as Reply<{ jobId: string }>;
    if (!r.ok) throw new Error(r.error);
    const jobId = r.result.jobId;
    await until('the retrain result', () => results.some((x) => x.jobId === jobId), 30_000);
    return results.find((x) => x.jobId === jobId) as RetrainResult;
  } finally {
    off();
    offP();
  }
}

/** What the app has recorded of its feed, read on a second connection (as another process would). */
function feedSessions(db: Db): SessionInfo[] {
  return listSessions(db).filter(isFeedRecording);
}
const span = (s: SessionInfo) => (s.lastRecvTs ?? 0) - (s.firstRecvTs ?? 0);

describe('Retrain from a fresh install on the simulator', () => {
  it('says how many more minutes it needs, in the app’s words, then trains on the recorded feed', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'sim',
        db: path.join(dir, 'fresh.db'),
        // 50x: fast, yet slow enough that a loaded machine's late poll does not overshoot 3 minutes to 6.
        'sim.speed': 50,
        'sim.book_rate_hz': 10,
        'features.decision_interval': '500ms',
        // 36 horizons of 10 s: 6 minutes of data (the default 200, 34 minutes, works the same, only slower here).
        'train.min_horizons': 36,
        'train.rounds': 20,
        'train.folds': 2,
        'train.early_stopping_rounds': 10,
        'train.min_samples_leaf': 20,
        'tuning.trials': 0,
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const db = openDb(config.db, { mustExist: true });
    try {
      // Nothing stored yet.
      const first = await retrain(ctx);
      expect(first.ok).toBe(false);
      expect(first.error).toMatch(
        /^Needs about 6 more minutes of data: keep the feed running or press Collect\b/,
      );
      expect(first.error).not.toMatch(/l2desk/);

      // About three minutes of simulated feed (features warm up over the first of them), then the feed stops: not enough yet; the refusal says how much more.
      await ctx.dispatch('market/start', {});
      await until(
        'three minutes of recorded feed',
        () => feedSessions(db).some((s) => span(s) > 180_000),
        30_000,
      );
      await ctx.dispatch('market/stop', {});
      const short = feedSessions(db)[0];
      expect(span(short)).toBeLessThan(6 * 60_000);
      const second = await retrain(ctx);
      expect(second.ok).toBe(false);
      const n = Number(
        /^Needs about (\d+) more minutes? of data: keep the feed running or press Collect\. /.exec(
          second.error ?? '',
        )?.[1],
      );
      expect(n, second.error ?? '').toBeGreaterThan(0);
      expect(n, second.error ?? '').toBeLessThan(6);
      expect(second.error).not.toMatch(/l2desk/);

      // The feed runs again (a second recording): with the first one, enough for training.
      await ctx.dispatch('market/start', {});
      await until(
        'ten minutes of recorded feed',
        () => feedSessions(db).reduce((a, s) => a + span(s), 0) > 10 * 60_000,
        45_000,
      );
      await ctx.dispatch('market/stop', {});
      const sessions = feedSessions(db);
      expect(sessions).toHaveLength(2);
      const third = await retrain(ctx);
      expect(third, third.error ?? '').toMatchObject({ ok: true, status: 'pending' });
      expect(third.candidate?.name).toMatch(/^btcusdt-/);
      expect(progress).toContain('building features from the recorded feed (2 recordings)');
    } finally {
      db.close();
      await ctx.close();
    }
  }, 150_000);
});
