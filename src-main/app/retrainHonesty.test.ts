// What the Retrain panel gets from a real training run: a refusal in plain words when the stored data is too short
// (the panel shows this message as is), and 95% intervals beside the candidate's validation metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { writeSimSession } from '../model/simData.ts';
import { openDb } from '../store/db.ts';
import { makeTrainer } from './trainer.ts';

let dir: string;
let dbFile: string;
let sessionId: number;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-honest-'));
  dbFile = path.join(dir, 'app.db');
  const db = openDb(dbFile);
  sessionId = writeSimSession(db, {
    config: loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } }),
    durationMs: 6 * 60_000,
  });
  db.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function train(overrides: Record<string, unknown>) {
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: { source: 'sim', db: dbFile, 'train.rounds': 20, 'train.folds': 2, ...overrides },
  });
  const db = openDb(dbFile, { mustExist: true });
  return makeTrainer({ config, db })({
    jobId: 'h1',
    sessionIds: [sessionId],
    currentModel: null,
    outDir: path.join(dir, 'models'),
    onProgress: () => {},
  }).finally(() => db.close());
}

describe('Retrain on too little data', () => {
  it('is refused with how much data it needs, how much there is and how much more to collect', async () => {
    await expect(train({})).rejects.toThrow(
      /^training needs at least 34 minutes of data \(200 independent 10 s horizons\); session \d+ covers 5 minutes \(3\d horizons\): collect about 2\d minutes more, then train again$/,
    );
    // no half-written model, no CLI advice
    expect(fs.existsSync(path.join(dir, 'models')) ? fs.readdirSync(path.join(dir, 'models')) : []).toEqual(
      [],
    );
  });

  it('a trained candidate carries 95% intervals beside its validation metrics', async () => {
    const { candidate } = await train({ 'train.min_horizons': 20 });
    for (const k of ['ic', 'r2', 'hitRate']) {
      const ci = candidate.intervals?.[k];
      expect(ci, k).toHaveLength(2);
      expect(ci?.[0], k).toBeLessThanOrEqual(candidate.metrics[k]);
      expect(ci?.[1], k).toBeGreaterThanOrEqual(candidate.metrics[k]);
    }
  }, 30_000);
});
