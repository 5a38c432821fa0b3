// Retraining while a session is still being recorded into a real SQLite file: the retrainer's worker follows it across
// rounds, so the second round reads only what was recorded since the first, and decides exactly as a round that
// replays the whole session. A session that has ended is left to the feature cache.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { DEFAULT_PARAMS } from './gbdt/train.ts';
import { OpenSessionRows } from './openSessionRows.ts';
import { Retrainer, type RetrainDecision, type RetrainerOptions } from './retrainer.ts';
import { createSimSession, SIM_EPOCH_MS, simMessages } from './simData.ts';
import { writeConstantModel } from './testing/constantModel.ts';

const OPTS = { decisionIntervalMs: 1000, horizonMs: 10_000 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2openrows-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('retraining follows a session still being recorded', () => {
  it('the second round reads only the new events and decides as a round that replays the session', async () => {
    const dbFile = path.join(dir, 'recording.db');
    const db = openDb(dbFile);
    const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
    const id = createSimSession(db, config);
    const writer = new SessionWriter(db, id, { maxRows: 5000 });
    const msgs: MarketMessage[] = [...simMessages({ config, durationMs: 30 * 60_000 })];
    const t1 = SIM_EPOCH_MS + 20 * 60_000;
    const first = msgs.filter((m) => m.recvTs <= t1);
    const rest = msgs.slice(first.length);
    const record = (ms: MarketMessage[]) => {
      for (const m of ms) writer.writeMessage(m);
      writer.flush();
    };
    const bad = path.join(dir, 'bad.onnx');
    writeConstantModel(bad, 5, 'bad', OPTS.horizonMs);
    const options = (
      outDir: string,
      championPath: string,
      follow: boolean,
      lines: string[],
    ): RetrainerOptions => ({
      dbFile,
      championPath,
      featureSet: FEATURE_SET,
      everyMs: 10 * 60_000,
      windowMs: 20 * 60_000,
      evalFraction: 0.25,
      ...OPTS,
      settings: {
        params: { ...DEFAULT_PARAMS, rounds: 30, earlyStoppingRounds: 10 },
        folds: 2,
        trials: 0,
        ensemble: 1,
      },
      outDir: path.join(dir, outDir),
      followOpenSessions: follow,
      log: (l) => lines.push(l),
    });
    const followed: string[] = [];
    const retrainer = new Retrainer(options('followed', bad, true, followed));
    try {
      record(first);
      await retrainer.runOnce(t1);
      expect(followed.join('\n')).toContain(
        `session ${id} (still recording): ${first.length} new events read`,
      );
      const champion = retrainer.currentModel;
      record(rest);
      followed.length = 0;
      const t2 = SIM_EPOCH_MS + 30 * 60_000;
      const fromRows = await retrainer.runOnce(t2);
      expect(followed.join('\n')).toContain(
        `session ${id} (still recording): ${rest.length} new events read`,
      );
      // The same round with the session replayed whole: the same rows, so the same challenger and decision.
      const replayedLines: string[] = [];
      const replayed = await new Retrainer(options('replayed', champion, false, replayedLines)).runOnce(t2);
      expect(replayedLines.join('\n')).not.toMatch(/still recording/);
      const decided = (d: RetrainDecision) => ({
        promoted: d.promoted,
        nEval: d.nEval,
        champion: d.champion.metrics,
        challenger: d.challenger.metrics,
        spans: [d.trainFrom, d.trainTo, d.evalFrom, d.evalTo],
      });
      expect(fromRows.nEval).toBeGreaterThan(100);
      expect(decided(fromRows)).toEqual(decided(replayed));
    } finally {
      await retrainer.close();
      writer.close();
      db.close();
    }
  }, 180_000);

  it('lets an ended session go (the feature cache has it), and says why a session is read whole', async () => {
    const dbFile = path.join(dir, 'ended.db');
    const db = openDb(dbFile);
    const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
    const mk = () => createSimSession(db, config);
    const a = mk();
    const b = mk();
    const wa = new SessionWriter(db, a, { maxRows: 5000 });
    const wb = new SessionWriter(db, b, { maxRows: 5000 });
    const msgs = [...simMessages({ config, durationMs: 3 * 60_000 })];
    for (const m of msgs) {
      wa.writeMessage(m);
      wb.writeMessage(m);
    }
    wa.close();
    wb.writeGap({
      symbol: 'BTCUSDT',
      reason: 'sequence',
      startTs: msgs.at(-1)!.recvTs,
      endTs: null,
      detail: 'u',
    });
    wb.flush();
    const rows = new OpenSessionRows(dbFile, OPTS);
    try {
      const r = await rows.rows([]);
      // a has ended; b holds a gap still open: neither gives rows, b says why.
      expect(r.rows).toEqual([]);
      expect(r.notes).toEqual([
        `session ${b} is read whole this round: a gap in it is still open (the book has not resynced yet)`,
      ]);
      // A session the caller has rows of already is skipped; a missing one is an error the round survives.
      expect(await rows.rows([b], [b])).toEqual({ rows: [], notes: [] });
      await expect(rows.rows([99])).rejects.toThrow(/session 99 is not in/);
      expect((await rows.rows([b])).notes).toHaveLength(1);
    } finally {
      await rows.close();
      wb.close();
      db.close();
    }
  });
});
