// The app recovers from failed commands and keeps heavy jobs in one queue, with the real app (createApp), a real
// SQLite file, real ONNX models and real backtest workers, all through the validating dispatcher as a page calls it:
// - a switch to a missing replay fails with a readable error naming no local path, the running source stays, and
//   Start works afterwards; a Collect whose exchange is unreachable can still be stopped and started again;
// - twelve backtests requested at once run at most jobs.concurrency at a time, the waiting ones say how many are
//   ahead, every one completes or is cancelled, and a job cancelled while queued never starts.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BacktestProgress,
  CollectProgress,
  Reply,
  RetrainProgress,
  RetrainResult,
  Snapshot,
  StatusView,
} from '../../src-shared/ipc.ts';
import { IPC_VERSION } from '../../src-shared/ipcEvents.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { createSession } from '../store/sessions.ts';
import { createApp, type AppContext } from './createApp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-recovery-'));
const dbFile = path.join(dir, 'app.db');
let sessionId: number;
let modelPath: string;

beforeAll(async () => {
  const db = openDb(dbFile);
  try {
    sessionId = writeSimSession(db, { seed: 61, durationMs: 60_000 }).sessionId;
    modelPath = (await testModelPath(db, sessionId, dir)).path;
  } finally {
    db.close();
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** No absolute path of this machine: not the temp folder, not any "/x/y" or "C:\x" that starts a word. */
function expectNoLocalPath(text: string): void {
  expect(text).not.toContain(dir);
  expect(text).not.toContain(os.tmpdir());
  expect(text).not.toMatch(/(^|[\s'"(=])(\/[^\s/]+\/|[A-Za-z]:\\)/);
}

function app(overrides: Record<string, unknown>): Promise<AppContext> {
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: { db: dbFile, 'model.path': modelPath, ...overrides },
  });
  return createApp({ config, modelsDir: path.join(dir, 'models') });
}

describe('recovery from failed commands', () => {
  it('a failed switch to a missing replay keeps the running source, hides local paths, and Start works after', async () => {
    const ctx = await app({ source: 'sim', 'sim.speed': 'max' });
    try {
      const ok = (await ctx.dispatch('market/setSource', { source: { kind: 'sim' } })) as Reply<StatusView>;
      expect(ok).toMatchObject({ ok: true, result: { source: 'sim', running: true } });

      const bad = await ctx.dispatch('market/setSource', {
        source: { kind: 'replay', sessionId: 9999, speed: 1 },
      });
      expect(bad.ok).toBe(false);
      const error = bad.ok ? '' : bad.error;
      expect(error).toBe(
        'cannot switch to the replay of session #9999: it is not in the database (deleted meanwhile?) ' +
          '(still on the simulated market)',
      );
      expectNoLocalPath(error);
      // The previous source is untouched: still selected and still running.
      expect(ctx.service.status()).toMatchObject({ source: 'sim', sessionId: null, running: true });

      // Stop and Start again: the previous choice starts (the failed one did not stick).
      expect(await ctx.dispatch('market/stop', {})).toMatchObject({ ok: true, result: { running: false } });
      expect(await ctx.dispatch('market/start', {})).toMatchObject({
        ok: true,
        result: { source: 'sim', running: true },
      });
      // And another valid choice works too.
      expect(
        await ctx.dispatch('market/setSource', { source: { kind: 'replay', sessionId, speed: 1 } }),
      ).toMatchObject({ ok: true, result: { source: 'replay', sessionId, running: true } });
    } finally {
      await ctx.close();
    }
  }, 30_000);

  it('a failed switch while stopped leaves a clean idle state from which Start works', async () => {
    // No model file: the feed runs without predictions, and says why without naming the folder.
    const missing = path.join(dir, 'no-such-model.onnx');
    const ctx = await app({ source: 'sim', 'sim.speed': 'max', 'model.path': missing });
    try {
      const bad = await ctx.dispatch('market/setSource', {
        source: { kind: 'replay', sessionId: 424242, speed: 1 },
      });
      expect(bad).toMatchObject({ ok: false, code: 'failed' });
      expect(bad.ok ? '' : bad.error).toMatch(/\(kept the simulated market\)$/);
      expectNoLocalPath(bad.ok ? '' : bad.error);
      expect(ctx.service.status()).toMatchObject({ source: 'sim', running: false });
      const started = (await ctx.dispatch('market/start', {})) as Reply<StatusView>;
      expect(started).toMatchObject({ ok: true, result: { running: true } });
      // Inside the engine the note names the file where it is; what the page gets names the file only.
      expect(ctx.service.status().note).toContain(missing);
      const note = started.ok ? (started.result.note ?? '') : '';
      expect(note).toMatch(/^no model: .*no-such-model\.onnx/);
      expectNoLocalPath(note);
      const snap = (await ctx.dispatch('app/hello', { version: IPC_VERSION })) as Reply<Snapshot>;
      expectNoLocalPath(snap.ok ? (snap.result.status.note ?? '') : 'failed');
    } finally {
      await ctx.close();
    }
  }, 30_000);

  it('Start of a replay whose session was deleted meanwhile fails readably; another source then works', async () => {
    const db = openDb(dbFile, { mustExist: true });
    const doomed = createSession(db, {
      source: 'sim',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: Date.UTC(2026, 0, 6),
    });
    const ctx = await app({ source: 'sim', 'sim.speed': 'max' });
    try {
      expect(
        await ctx.dispatch('market/setSource', { source: { kind: 'replay', sessionId: doomed, speed: 1 } }),
      ).toMatchObject({ ok: true });
      expect(await ctx.dispatch('market/stop', {})).toMatchObject({ ok: true });
      db.prepare('DELETE FROM sessions WHERE id = ?').run(doomed);
      const bad = await ctx.dispatch('market/start', {});
      expect(bad).toEqual({
        ok: false,
        code: 'failed',
        error: `cannot start the replay of session #${doomed}: it is not in the database (deleted meanwhile?); pick another source`,
      });
      expect(ctx.service.status()).toMatchObject({ running: false });
      expect(await ctx.dispatch('market/setSource', { source: { kind: 'sim' } })).toMatchObject({
        ok: true,
        result: { source: 'sim', running: true },
      });
    } finally {
      await ctx.close();
      db.close();
    }
  }, 30_000);

  it('a Collect whose database stays locked ends at once with a readable error, and Collect works again', async () => {
    const ctx = await app({ source: 'sim', 'store.busy_give_up': '1s' });
    const progress: CollectProgress[] = [];
    const off = ctx.bus.on('collect/progress', (c) => progress.push(c));
    // Another process holds the file (a second connection's exclusive transaction) for longer than busy_give_up.
    const locker = new Database(dbFile);
    try {
      const args = { symbol: 'BTCUSDT', depth: 50, durationMs: 60_000 };
      expect(await ctx.dispatch('collect/start', args)).toMatchObject({
        ok: true,
        result: { running: true },
      });
      await until('the first messages', () => (progress.at(-1)?.messages ?? 0) > 0);
      locker.exec('BEGIN EXCLUSIVE');
      // Well before the requested minute: the job ends when the recording does.
      await until('the collection to end', () => progress.at(-1)?.running === false, 15_000);
      const last = progress.at(-1) as CollectProgress;
      expect(last).toMatchObject({ running: false, done: true });
      expect(last.error).toMatch(/locked by another process/);
      expectNoLocalPath(last.error ?? '');
      locker.exec('COMMIT');
      expect(await ctx.dispatch('collect/start', args)).toMatchObject({
        ok: true,
        result: { running: true },
      });
      expect(await ctx.dispatch('collect/stop', {})).toMatchObject({ ok: true, result: { error: null } });
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      off();
      await ctx.close();
    }
  }, 40_000);

  it('a Collect whose exchange cannot be reached can be stopped at once and started again', async () => {
    // Nothing listens on port 1: the live client keeps retrying, it never subscribes.
    const ctx = await app({ source: 'bybit', 'bybit.url': 'ws://127.0.0.1:1/v5/public/linear' });
    try {
      const args = { symbol: 'BTCUSDT', depth: 50, durationMs: 60_000 };
      const t0 = Date.now();
      expect(await ctx.dispatch('collect/start', args)).toMatchObject({
        ok: true,
        result: { running: true },
      });
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(await ctx.dispatch('collect/stop', {})).toMatchObject({ ok: true, result: { running: false } });
      expect(await ctx.dispatch('collect/start', args)).toMatchObject({
        ok: true,
        result: { running: true },
      });
      expect(await ctx.dispatch('collect/stop', {})).toMatchObject({ ok: true, result: { done: true } });
    } finally {
      await ctx.close();
    }
  }, 30_000);
});

describe('heavy-job queue', () => {
  it('runs 12 concurrent backtests at most jobs.concurrency at a time; cancelled queued ones never start', async () => {
    const ctx = await app({ source: 'sim', 'jobs.concurrency': 2 });
    const started = new Set<string>();
    const queuedSeen = new Map<string, number[]>();
    let maxRunning = 0;
    const off = ctx.bus.on('backtest/progress', (p: BacktestProgress) => {
      const running = ctx.service.jobStats().running;
      maxRunning = Math.max(maxRunning, running);
      if (p.ahead !== undefined) {
        expect(p.message).toMatch(/^queued, /);
        queuedSeen.set(p.jobId, [...(queuedSeen.get(p.jobId) ?? []), p.ahead]);
      } else started.add(p.jobId);
    });
    try {
      const replies = Array.from({ length: 12 }, () =>
        ctx.dispatch('backtest/run', { sessionId, threshold: 0.3 }),
      );
      await until('the queue to fill', () => queuedSeen.size === 10);
      expect(ctx.service.jobStats()).toMatchObject({ running: 2, queued: 10, concurrency: 2 });
      // The third job waits behind the two running ones: "queued, 2 ahead".
      const waiting = [...queuedSeen.keys()];
      expect(queuedSeen.get(waiting[0])?.[0]).toBe(2);
      expect(queuedSeen.get(waiting[9])?.[0]).toBe(11);
      // Cancel the last eight while they wait (validated like any command); the first two queued ones will run.
      const cancelled = waiting.slice(2);
      for (const jobId of cancelled)
        expect(await ctx.dispatch('jobs/cancel', { jobId })).toEqual({
          ok: true,
          result: { jobId, cancelled: true },
        });
      expect(await ctx.dispatch('jobs/cancel', { jobId: '' })).toMatchObject({
        ok: false,
        code: 'bad_request',
      });

      const answers = await Promise.all(replies);
      const done = answers.filter((a) => a.ok);
      const failed = answers.filter((a): a is Extract<Reply, { ok: false }> => !a.ok);
      expect(done).toHaveLength(4);
      expect(failed.map((f) => f.error).sort()).toEqual(
        cancelled.map((id) => `backtest ${id} cancelled`).sort(),
      );
      for (const id of cancelled) expect(started.has(id)).toBe(false);
      expect(started.size).toBe(4);
      expect(maxRunning).toBe(2);
      expect(ctx.service.jobStats()).toMatchObject({ running: 0, queued: 0 });
      // Retraining waits in the same queue: behind a running backtest it says so, and cancelled there it never
      // trains (no phase but 'queued' before its end) and ends as cancelled, not as a failure.
      const retrains: RetrainProgress[] = [];
      const results: RetrainResult[] = [];
      const offR = ctx.bus.on('retrain/progress', (p) => retrains.push(p));
      const offRes = ctx.bus.on('retrain/result', (r) => results.push(r));
      try {
        const b1 = ctx.dispatch('backtest/run', { sessionId, threshold: 0.3 });
        const b2 = ctx.dispatch('backtest/run', { sessionId, threshold: 0.3 });
        const rt = (await ctx.dispatch('model/retrain', {})) as Reply<{ jobId: string }>;
        const rtId = rt.ok ? rt.result.jobId : '';
        expect(retrains).toEqual([
          { jobId: rtId, phase: 'queued', fraction: 0, message: 'queued, 2 ahead', metrics: {}, ahead: 2 },
        ]);
        expect(await ctx.dispatch('jobs/cancel', { jobId: rtId })).toMatchObject({
          result: { cancelled: true },
        });
        await until('the retrain result', () => results.length === 1);
        expect(results[0]).toMatchObject({ jobId: rtId, ok: false, error: `retrain ${rtId} cancelled` });
        expect(retrains.map((p) => p.phase)).toEqual(['queued', 'failed']);
        expect((await Promise.all([b1, b2])).every((a) => a.ok)).toBe(true);
      } finally {
        offR();
        offRes();
      }

      // A cancelled job is gone: cancelling it again finds nothing.
      expect(await ctx.dispatch('jobs/cancel', { jobId: cancelled[0] })).toMatchObject({
        ok: true,
        result: { cancelled: false },
      });
    } finally {
      off();
      await ctx.close();
    }
  }, 90_000);
});
