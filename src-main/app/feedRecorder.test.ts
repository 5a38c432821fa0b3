// Live retraining in the app without Collect: createApp on the sim source (sped up), a real SQLite file and real ONNX
// models. The traded feed must be stored as a session (a new one per source start, closed on switch and on close),
// a retrain round must find it and store its decision, and a manual collection must write alongside on the same file.
// The recordings are a rolling store: the newest retrain.feed_keep of them is kept, older ones deleted with their rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectProgress, RetrainProgress, RetrainResult } from '../../src-shared/ipc.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { listDecisions } from '../model/modelRegistry.ts';
import { writeConstantModel } from '../model/testing/constantModel.ts';
import { openDb } from '../store/db.ts';
import { getSession, listSessions, updateSessionMeta } from '../store/sessions.ts';
import { readSession } from '../store/sessionReader.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { createApp } from './createApp.ts';
import {
  FEED_ORIGIN,
  feedSessionsToPrune,
  isFeedRecording,
  makeFeedRecorder,
  pruneFeedRecordings,
  type FeedRowsSlot,
} from './feedRecorder.ts';
import { createSource } from '../market/createSource.ts';
import { sessionRows, type SessionRows } from '../model/featureCache.ts';
import { expectSameRows } from '../model/testing/sameRows.ts';
import { writeSimSession } from '../backtest/simSession.ts';

let dir: string;
let constant: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-feed-'));
  // A model that always says +5 bps: the app retrains only while a model is running.
  constant = path.join(dir, 'constant.onnx');
  writeConstantModel(constant, 5, 'constant');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (cond: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
};

describe('app live feed recording (retrain.every)', () => {
  it('stores the traded sim feed as a session and a retrain round trains on it with no Collect press', async () => {
    const dbFile = path.join(dir, 'app.db');
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'sim',
        db: dbFile,
        'model.path': constant,
        'sim.speed': 100,
        'sim.book_rate_hz': 10,
        'retrain.every': '5m',
        'retrain.window': '5m',
        'features.decision_interval': '500ms',
        'train.rounds': 20,
        'train.folds': 2,
        'train.early_stopping_rounds': 10,
        'train.min_samples_leaf': 20,
        'train.min_horizons': 10, // a 5 min window: far below the default minimum (200 horizons, 34 min of data)
        'tuning.trials': 0,
      },
    });
    const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
    const results: RetrainResult[] = [];
    const progress: RetrainProgress[] = [];
    const errors: string[] = [];
    const collects: CollectProgress[] = [];
    ctx.bus.on('retrain/result', (r) => results.push(r));
    ctx.bus.on('retrain/progress', (p) => progress.push(p));
    ctx.bus.on('app/error', (e) => errors.push(`${e.where}: ${e.message}`));
    ctx.bus.on('collect/progress', (c) => collects.push(c));
    let closed = false;
    try {
      ctx.service.startAutoRetrain();
      await ctx.service.startLive();
      // 5 min of sim time at 100x: the first round is due ~3 s after the first decision, then trains in the worker.
      // Nothing but the traded feed is stored by then.
      await until(() => results.length > 0, 15_000);
      expect(results.length, JSON.stringify(progress.slice(-3))).toBeGreaterThanOrEqual(1);
      expect(results[0]).toMatchObject({ ok: true });
      expect(['accepted', 'rejected']).toContain(results[0].status);
      expect(results[0].candidate?.metrics.holdoutRows).toBeGreaterThanOrEqual(50);
      // A manual collection on the same database file while the feed is still being recorded.
      await ctx.service.startCollect({ symbol: config.symbol, depth: 50, durationMs: 60_000 });
      await new Promise((r) => setTimeout(r, 500));
      const collected = await ctx.service.stopCollect();
      expect(collected.error).toBeNull();
      expect(collected.messages).toBeGreaterThan(0);
      // Switching the source ends the feed's session and starts a new one.
      await ctx.service.setSource({ kind: 'sim' });
      await until(() => (ctx.service.status().messages ?? 0) > 0, 5_000);
      await ctx.close();
      closed = true;
    } finally {
      if (!closed) await ctx.close();
    }
    expect(errors).toEqual([]);
    const db = openDb(dbFile, { mustExist: true });
    try {
      const sessions = listSessions(db);
      const feed = sessions.filter((s) => isFeedRecording(s));
      const manual = sessions.filter((s) => s.meta.origin === 'ui');
      expect(feed.length).toBe(2);
      expect(manual.length).toBe(1);
      expect(manual[0].messages).toBe(collects.at(-1)?.messages);
      for (const s of feed) {
        expect(s).toMatchObject({ source: 'sim', symbol: config.symbol, tickSize: '0.1' });
        expect(s.endedAt).not.toBeNull(); // closed on the switch and on app close
        expect(s.messages).toBeGreaterThan(0);
      }
      // The first feed session spans the retrain window (data time): the round trained on it (it was the only one).
      expect((feed[0].lastRecvTs as number) - (feed[0].firstRecvTs as number)).toBeGreaterThan(5 * 60_000);
      const decisions = listDecisions(db);
      expect(decisions.length).toBeGreaterThanOrEqual(1);
      expect(decisions[0].reason).toMatch(/challenger|champion/);
      expect(decisions[0].evalTo).toBeGreaterThan(feed[0].firstRecvTs as number);
      expect(decisions[0].evalTo).toBeLessThanOrEqual(feed[0].lastRecvTs as number);
    } finally {
      db.close();
    }
  }, 30_000);
});

describe('the recorded feed’s dataset rows (live retraining)', () => {
  it('are offered while it records, bit for bit the rows of the stored session, and withdrawn when it stops', async () => {
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'sim',
        'sim.speed': 1000,
        'retrain.every': '5m',
        'retrain.window': '5m',
        'features.decision_interval': '500ms',
      },
    });
    const db = openDb(path.join(dir, 'rows.db'));
    try {
      const slot: FeedRowsSlot = { current: null };
      const source = createSource(config);
      const rec = makeFeedRecorder(config, db, { feedRows: slot })?.(source, { kind: 'sim' });
      if (!rec) throw new Error('no recording');
      const offered = () => slot.current?.()?.rows[0] ?? null;
      await source.start();
      await until(() => (offered()?.nRows ?? 0) > 300, 20_000);
      await source.stop();
      const last = offered();
      expect(last?.sessionId).toBe(rec.sessionId);
      expect(last?.nRows).toBeGreaterThan(300);
      await rec.stop();
      expect(slot.current).toBeNull();
      const params = {
        decisionIntervalMs: config.features.decision_interval,
        horizonMs: config.model.horizon,
        feedLatencyMs: config.trading.feed_latency,
      };
      expectSameRows(sessionRows(db, rec.sessionId, params, { write: false }).rows, last as SessionRows);
      // Without live retraining nothing is built.
      const off = { current: null } as FeedRowsSlot;
      const plain = loadConfig({
        ignoreUserFile: true,
        overrides: { source: 'sim', 'retrain.feed_keep': '10m' },
      });
      const r2 = makeFeedRecorder(plain, db, { feedRows: off })?.(createSource(plain), { kind: 'sim' });
      expect(r2).toBeTruthy();
      expect(off.current).toBeNull();
      await r2?.stop();
    } finally {
      db.close();
    }
  }, 60_000);
});

describe('the recorded feed is a bounded rolling store (retrain.feed_keep)', () => {
  it('keeps the newest recordings up to the kept span and deletes the older ones with their rows', async () => {
    const db = openDb(path.join(dir, 'rolling.db'));
    try {
      const t0 = Date.UTC(2026, 0, 5, 12);
      // Four 2-minute recordings, one of them a collected session (never pruned: the user collected it).
      const ids = [0, 1, 2, 3].map(
        (i) =>
          writeSimSession(db, { seed: 70 + i, durationMs: 120_000, startMs: t0 + i * 600_000 }).sessionId,
      );
      for (const id of ids) updateSessionMeta(db, id, { origin: id === ids[1] ? 'ui' : FEED_ORIGIN });
      const rows = (id: number) =>
        db.prepare('SELECT count(*) FROM l2_updates WHERE session_id = ?').pluck().get(id) as number;
      expect(rows(ids[0])).toBeGreaterThan(5000); // more than one delete chunk
      // 3 minutes kept: the running (newest) one and the one before it; the oldest recording goes.
      const deleted = await pruneFeedRecordings(db, 180_000, ids[3]);
      expect(deleted).toEqual([ids[0]]);
      expect(listSessions(db).map((s) => s.id)).toEqual(ids.slice(1));
      expect(rows(ids[0])).toBe(0);
      expect(rows(ids[2])).toBeGreaterThan(0);
      // The running recording is never deleted, even when it alone exceeds what is kept.
      expect(feedSessionsToPrune(listSessions(db), 60_000, ids[3])).toEqual([ids[2]]);
      expect(feedSessionsToPrune(listSessions(db), 0, ids[3])).toEqual([ids[2]]);
      // ... but once it alone spans more, its head goes: it starts at a snapshot of its book a minute before its end,
      // and ends on the very book it ended on.
      const lastBook = (id: number) => {
        const sb = new SequencedBook(new TickScale(getSession(db, id)!.tickSize));
        for (const ev of readSession(db, id))
          if (ev.kind === 'book') expect(sb.apply(ev).status).toBe('applied');
        expect(sb.valid).toBe(true);
        return [sb.book.levels('bid', 1000), sb.book.levels('ask', 1000)];
      };
      const endBook = lastBook(ids[3]);
      expect(await pruneFeedRecordings(db, 60_000, ids[3])).toEqual([ids[2]]);
      const running = getSession(db, ids[3])!;
      // (From the last book message before the cutoff: a few ms more than the minute.)
      expect(running.lastRecvTs! - running.firstRecvTs!).toBeLessThan(61_000);
      expect(running.lastRecvTs! - running.firstRecvTs!).toBeGreaterThan(59_000);
      const [first] = readSession(db, ids[3]);
      expect(first).toMatchObject({ kind: 'book', type: 'snapshot' });
      expect(lastBook(ids[3])).toEqual(endBook);
    } finally {
      db.close();
    }
  });
});
