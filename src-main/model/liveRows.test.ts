// The rows of a feed built while it is stored (live retraining) against a real SQLite file: at every point a round
// could start, they are bit for bit the rows a build of the stored session gives, for simulated data and for a real
// Bybit orderbook.200 recording; a retraining round that learns from them makes the same decision as one that
// replays the session; a gap, a message of another depth or a failed write gives them up, and the round reads the
// stored session again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { openDb, type Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { repeatedRecording } from '../testing/bybitRecording.ts';
import { sessionRows } from './featureCache.ts';
import { DEFAULT_PARAMS } from './gbdt/train.ts';
import { LiveSessionRows } from './liveRows.ts';
import { Retrainer, type RetrainerOptions } from './retrainer.ts';
import { SIM_EPOCH_MS, simMessages } from './simData.ts';
import { writeConstantModel } from './testing/constantModel.ts';
import { expectSameRows } from './testing/sameRows.ts';

const OPTS = { decisionIntervalMs: 1000, horizonMs: 10_000 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2liverows-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const same = expectSameRows;

/** An open session recorded as trade --paper records its feed, with the live rows built beside the writer. */
function recordFeed(db: Db, tickSize: string, startedAt: number, depth = 200) {
  const id = createSession(db, {
    source: 'sim',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth,
    tickSize,
    startedAt,
  });
  const writer = new SessionWriter(db, id, { maxRows: 5000 });
  const live = new LiveSessionRows(id, tickSize, depth, OPTS);
  const write = (m: MarketMessage) => {
    writer.writeMessage(m);
    live.message(m);
  };
  // What a round reads: the session as stored once the writer has flushed (never cached while it is open).
  const stored = () => {
    writer.flush();
    return sessionRows(db, id, OPTS, { write: false }).rows;
  };
  return { id, writer, live, write, stored };
}

describe('LiveSessionRows', () => {
  it('are the rows of the stored session at every point a round could start (simulated and real data)', () => {
    const db = openDb(path.join(dir, 'feeds.db'));
    try {
      const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
      const sim = recordFeed(db, config.sim.tick_size, SIM_EPOCH_MS, config.depth);
      let k = 0;
      let checks = 0;
      for (const m of simMessages({ config, durationMs: 12 * 60_000 })) {
        sim.write(m);
        // Points mid-way: labels still waiting, a decision just taken.
        if (++k % 9_973 === 0) {
          same(sim.stored(), sim.live.rows()!.rows[0]);
          checks++;
        }
      }
      same(sim.stored(), sim.live.rows()!.rows[0]);
      expect(checks).toBeGreaterThan(2);
      expect(sim.live.rows()!.rows[0].nRows).toBeGreaterThan(500);

      // A real recording: 200 levels, another tick grid, a trade flow and the exchange's own timing.
      const real = recordFeed(db, '0.1', 0);
      const msgs = repeatedRecording({ count: 30_000 });
      msgs.forEach((m, i) => {
        real.write(m);
        if (i % 7_919 === 0) same(real.stored(), real.live.rows()!.rows[0]);
      });
      same(real.stored(), real.live.rows()!.rows[0]);
      expect(real.live.rows()!.rows[0].nRows).toBeGreaterThan(50);
    } finally {
      db.close();
    }
  });

  it('are given up after a gap or a failed write', () => {
    const db = openDb(path.join(dir, 'gaps.db'));
    try {
      const f = recordFeed(db, '0.1', 0);
      const msgs = repeatedRecording({ count: 2000 });
      msgs.slice(0, 1000).forEach(f.write);
      expect(f.live.rows()).not.toBeNull();
      const gap = {
        symbol: 'BTCUSDT',
        reason: 'sequence' as const,
        startTs: msgs[999].ts,
        endTs: null,
        detail: 'u jumped',
      };
      f.writer.writeGap(gap);
      f.live.gap(gap);
      msgs.slice(1000).forEach(f.write);
      expect(f.live.rows()).toBeNull();
      expect(f.live.givenUp).toMatch(/^a sequence gap at \d{4}-/);
      // A message of another depth than the session's reads back with the session's: given up too.
      const d = recordFeed(db, '0.1', 0, 50);
      d.write(msgs[0]);
      expect(d.live.rows()).toBeNull();
      expect(d.live.givenUp).toBe('a book message of depth 200 in a session of depth 50');
      const g = recordFeed(db, '0.1', 0);
      g.live.giveUp('a write of the feed failed');
      expect(g.live.rows()).toBeNull();
      expect(g.live.givenUp).toBe('a write of the feed failed');
    } finally {
      db.close();
    }
  });

  it('a retraining round that learns from them decides as one that replays the stored session', async () => {
    const dbFile = path.join(dir, 'retrain.db');
    const db = openDb(dbFile);
    const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
    const f = recordFeed(db, config.sim.tick_size, SIM_EPOCH_MS, config.depth);
    const span = 30 * 60_000;
    for (const m of simMessages({ config, durationMs: span })) f.write(m);
    f.writer.flush();
    db.close();
    const bad = path.join(dir, 'bad.onnx');
    writeConstantModel(bad, 5, 'bad', OPTS.horizonMs);
    const lines: string[] = [];
    const options = (outDir: string, live: boolean): RetrainerOptions => ({
      dbFile,
      championPath: bad,
      featureSet: FEATURE_SET,
      everyMs: 10 * 60_000,
      windowMs: span,
      evalFraction: 0.25,
      ...OPTS,
      settings: {
        params: { ...DEFAULT_PARAMS, rounds: 30, earlyStoppingRounds: 10 },
        folds: 2,
        trials: 0,
        ensemble: 1,
      },
      outDir: path.join(dir, outDir),
      sessionIds: [f.id],
      liveRows: live ? () => f.live.rows() : undefined,
      log: (l) => lines.push(l),
    });
    const now = SIM_EPOCH_MS + span;
    const fromLive = await new Retrainer(options('live', true)).runOnce(now);
    expect(lines.join('\n')).toMatch(/the features of session \d+ come from memory \(\d+ rows\)/);
    const replayed = await new Retrainer(options('replayed', false)).runOnce(now);
    expect(fromLive.promoted).toBe(true);
    expect(fromLive.nEval).toBeGreaterThan(300);
    const decided = (d: typeof fromLive) => ({
      promoted: d.promoted,
      nEval: d.nEval,
      champion: d.champion.metrics,
      challenger: d.challenger.metrics,
      spans: [d.trainFrom, d.trainTo, d.evalFrom, d.evalTo],
    });
    expect(decided(fromLive)).toEqual(decided(replayed));
  }, 120_000);
});
