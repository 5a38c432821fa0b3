// The app (and so `l2desk web` and the desktop app) opened on a ClickHouse store, against a real clickhouse-server
// started here, beside the same app on an SQLite file holding the same sessions: the session list, a session's quality
// and a backtest (metrics, fills, equity) are identical, and the runs are saved in the store; Collect records into the
// store; Replay plays a stored session from it; Retrain learns from it. createApp, real sim sessions, a real ONNX
// model, the real backtest and training workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_VERSION, type AppErrorEvent, type RetrainResult, type Snapshot } from '../../src-shared/ipc.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { getSession as getChSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { copySessionToClickHouse } from '../store/clickhouse/mirror.ts';
import { openRunsCopy } from '../store/clickhouse/runStore.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { openDb } from '../store/db.ts';
import { FEED_WORK_FILE } from './clickhouseApp.ts';
import { createApp, type AppContext } from './createApp.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skip !== null)('the app over a ClickHouse store (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  let url: string;
  let ch: ClickHouseStore;
  let onFile: AppContext;
  let onStore: AppContext;
  /** SQLite id → ClickHouse id of the same session. */
  const ids = new Map<number, number>();
  let train: number;
  let mid: number;
  const errors: AppErrorEvent[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chapp-'));
    url = server.url('app_store');
    const dbFile = path.join(dir, 'app.db');
    const db = openDb(dbFile);
    train = writeSimSession(db, { seed: 71, durationMs: 600_000 }).sessionId;
    mid = writeSimSession(db, { seed: 72, durationMs: 300_000 }).sessionId;
    const model = (await testModelPath(db, train, dir)).path;
    ch = await openClickHouse(url);
    // Made first so that the store's ids differ from the file's: nothing may assume they match.
    writeSimSession(db, { seed: 73, durationMs: 5_000 });
    for (const id of [train, mid]) ids.set(id, await copySessionToClickHouse(db, id, ch));
    db.close();
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: {
        source: 'sim',
        'sim.speed': 'max',
        'model.path': model,
        'train.rounds': 20,
        'train.folds': 2,
        'tuning.trials': 0,
        'train.min_horizons': 20,
      },
    });
    onFile = await createApp({
      config: { ...config, db: dbFile },
      modelsDir: path.join(dir, 'file', 'models'),
    });
    onStore = await createApp({
      config: { ...config, db: url },
      modelsDir: path.join(dir, 'store', 'models'),
    });
    onStore.bus.on('app/error', (e) => errors.push(e));
  }, 120_000);

  afterAll(async () => {
    await onStore?.close();
    await onFile?.close();
    await ch?.close();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tells the page which store it is on: the file by its name, the ClickHouse store by its address', async () => {
    const a = await onFile.dispatch('app/hello', { version: IPC_VERSION });
    const b = await onStore.dispatch('app/hello', { version: IPC_VERSION });
    expect(a.ok && (a.result as Snapshot).store).toEqual({ kind: 'sqlite', name: 'app.db' });
    expect(b.ok && (b.result as Snapshot).store).toEqual({ kind: 'clickhouse', name: url });
  });

  it('lists the store’s sessions and reports their quality as the file’s', async () => {
    const fromFile = await onFile.dispatch('sessions/list', {});
    const fromStore = await onStore.dispatch('sessions/list', {});
    expect(fromStore.ok && fromFile.ok).toBe(true);
    if (!fromStore.ok || !fromFile.ok) return;
    const chList = fromStore.result as { id: number; messages: number; symbol: string }[];
    const fileList = fromFile.result as { id: number; messages: number; symbol: string }[];
    expect(chList.map((s) => s.id).sort()).toEqual([...ids.values()].sort());
    for (const [fileId, chId] of ids) {
      const a = fileList.find((s) => s.id === fileId);
      const b = chList.find((s) => s.id === chId);
      expect(b?.messages).toBeGreaterThan(1000);
      expect(b?.messages).toBe(a?.messages);
      const qa = await onFile.service.handlers()['sessions/quality']({ sessionId: fileId });
      const qb = await onStore.service.handlers()['sessions/quality']({ sessionId: chId });
      expect({ ...qb, sessionId: 0 }).toEqual({ ...qa, sessionId: 0 });
    }
  }, 60_000);

  it('backtests a stored session exactly as on the file and saves the runs in the store', async () => {
    const a = await onFile.service.backtest({ sessionId: mid, sweep: [0.3, 1] });
    const progress: { message: string; replayed?: number; total?: number }[] = [];
    const off = onStore.bus.on('backtest/progress', (p) => progress.push(p));
    const b = await onStore.service
      .backtest({ sessionId: ids.get(mid) as number, sweep: [0.3, 1] })
      .finally(off);
    // Replayed from the store (no copy of the session to this machine), with the store's message counts.
    expect(progress.some((p) => /copying/.test(p.message))).toBe(false);
    const messages = (await onStore.dispatch('sessions/list', {})) as { ok: boolean; result?: unknown };
    const listed = (messages.result as { id: number; messages: number }[]).find((x) => x.id === ids.get(mid));
    expect(progress.at(-1)?.total).toBe(2 * (listed?.messages ?? NaN));
    expect(progress.at(-1)?.replayed).toBe(progress.at(-1)?.total);
    // A session with no fill says why, from the store's record of its span (the stand-in the runs refer to).
    for (const r of b.runs) expect(r.noTrades === null).toBe(r.fills > 0);
    expect(b.runs.map((r) => r.noTrades)).toEqual(a.runs.map((r) => r.noTrades));
    expect(b.runs.length).toBe(2);
    expect(b.runs.reduce((n, r) => n + r.fills, 0)).toBeGreaterThan(0);
    expect(b.runs.map((r) => [r.threshold, r.fills, r.signals, r.finalEquity, r.metrics])).toEqual(
      a.runs.map((r) => [r.threshold, r.fills, r.signals, r.finalEquity, r.metrics]),
    );
    expect(b.runs.map((r) => r.equity)).toEqual(a.runs.map((r) => r.equity));
    const runs = await openRunsCopy(ch, { runsOnly: true });
    try {
      const rows = runs.prepare('SELECT session_id, threshold FROM runs ORDER BY threshold').all();
      expect(rows).toEqual([
        { session_id: ids.get(mid), threshold: 0.3 },
        { session_id: ids.get(mid), threshold: 1 },
      ]);
    } finally {
      runs.close();
    }
  }, 120_000);

  it('replays a stored session from the store on the live screen', async () => {
    const chMid = ids.get(mid) as number;
    const prices: number[] = [];
    const off = onStore.bus.on('market/prices', (p) => prices.push(...p.map((x) => x.t)));
    try {
      await onStore.service.setSource({ kind: 'replay', sessionId: chMid, speed: 50 });
      await until(() => onStore.service.feed.predictions.items.length > 5, 30_000, 'predictions');
      const s = await getChSession(ch, chMid);
      // On the session's own clock, from its first message on.
      for (const p of onStore.service.feed.predictions.items) {
        expect(p.t).toBeGreaterThanOrEqual(s?.firstRecvTs as number);
        expect(p.t).toBeLessThanOrEqual(s?.lastRecvTs as number);
      }
      expect(onStore.service.status()).toMatchObject({ source: 'replay', sessionId: chMid });
    } finally {
      off();
      await onStore.service.stopLive();
    }
  }, 60_000);

  it('collects into the store, and the new session is listed with every message stored', async () => {
    const started = await onStore.service.startCollect({ symbol: 'BTCUSDT', depth: 50, durationMs: 60_000 });
    const id = started.sessionId as number;
    expect(ids.has(id) || [...ids.values()].includes(id)).toBe(false);
    const progress: number[] = [];
    const off = onStore.bus.on('collect/progress', (c) => progress.push(c.messages));
    await until(() => (progress.at(-1) ?? 0) >= 500, 30_000, 'collected messages');
    off();
    const done = await onStore.service.stopCollect();
    expect(done.error).toBeNull();
    const listed = await onStore.dispatch('sessions/list', {});
    expect(listed.ok).toBe(true);
    const s = (listed.ok ? (listed.result as { id: number; messages: number }[]) : []).find(
      (x) => x.id === id,
    );
    expect(s?.messages).toBe(done.messages);
    expect((await getChSession(ch, id))?.messages).toBe(done.messages);
    // Nothing of it in the local working file, which only ever holds the traded feed.
    const work = openDb(path.join(dir, 'store', FEED_WORK_FILE), { mustExist: true });
    try {
      expect(work.prepare('SELECT count(*) FROM sessions WHERE id = ?').pluck().get(id)).toBe(0);
    } finally {
      work.close();
    }
  }, 90_000);

  it('retrains on sessions of the store', async () => {
    const results: RetrainResult[] = [];
    const off = onStore.bus.on('retrain/result', (r) => results.push(r));
    /** One Retrain of the training session: what its progress lines said. */
    const retrain = async (n: number): Promise<string> => {
      const said: string[] = [];
      const offProgress = onStore.bus.on('retrain/progress', (p) => said.push(p.message));
      try {
        onStore.service.retrain({ sessionIds: [ids.get(train) as number] });
        await until(() => results.length >= n, 90_000, `retrain result ${n}`);
      } finally {
        offProgress();
      }
      expect(results[n - 1].error).toBeNull();
      // No raw data is ever copied to this machine.
      expect(said.join('\n')).not.toMatch(/copying session/);
      return said.join('\n');
    };
    try {
      // The session's features are built straight from the store.
      expect(await retrain(1)).toMatch(/building the features of session #\d+ from clickhouse:\/\//);
      expect(results[0].candidate?.path.startsWith(path.join(dir, 'store', 'models'))).toBe(true);
      expect(results[0].candidate?.metrics.holdoutRows ?? 0).toBeGreaterThan(0);
      // The first Retrain stored the session's features in the store: the second reads them and learns the same
      // model.
      expect(await retrain(2)).toMatch(/features from clickhouse:\/\/.*'s feature cache/);
      expect(results[1].candidate?.metrics).toEqual(results[0].candidate?.metrics);
    } finally {
      off();
    }
    expect(errors.map((e) => e.message)).toEqual([]);
  }, 180_000);

  it('Retrain learns from the store and from the feed the app recorded in its local working file', async () => {
    // The simulated feed runs a while: the app records it locally (the store only gets what Collect records).
    const work = openDb(path.join(dir, 'store', FEED_WORK_FILE), { mustExist: true });
    const recorded = () =>
      work
        .prepare('SELECT count(*), coalesce(sum(book_messages), 0) FROM sessions WHERE meta LIKE ?')
        .raw(true)
        .get('%app (live feed)%') as [number, number];
    try {
      await onStore.service.setSource({ kind: 'sim' });
      await until(() => recorded()[1] > 2000, 30_000, 'a recorded feed');
      await onStore.service.stopLive();
      expect(recorded()[0]).toBe(1);
    } finally {
      work.close();
    }
    const said: string[] = [];
    const results: RetrainResult[] = [];
    const offP = onStore.bus.on('retrain/progress', (p) => said.push(p.message));
    const off = onStore.bus.on('retrain/result', (r) => results.push(r));
    try {
      const r = await onStore.dispatch('model/retrain', {});
      expect(r.ok, JSON.stringify(r)).toBe(true);
      await until(() => results.length > 0, 90_000, 'retrain result');
    } finally {
      off();
      offP();
    }
    expect(results[0].error).toBeNull();
    const stored = (await onStore.dispatch('sessions/list', {})) as {
      ok: true;
      result: { symbol: string }[];
    };
    const others = stored.result.filter((x) => x.symbol === 'BTCUSDT').length;
    expect(said).toContain(
      `building features from the recorded feed (1 recording) and ${others} other session(s)`,
    );
    // What it learnt from, by content: the store's sessions and the recorded feed, which is in no store session.
    const meta = JSON.parse(
      fs.readFileSync((results[0].candidate?.path as string).replace(/\.onnx$/, '.json'), 'utf8'),
    ) as { training: { data: { source: string }[] } };
    expect(meta.training.data).toHaveLength(others + 1);
    expect(errors.map((e) => e.message)).toEqual([]);
  }, 180_000);

  it('survives the server going away: clear errors, the last session list, and it works again once it is back', async () => {
    const errorsBefore = errors.length;
    await server.kill();
    try {
      const listed = await onStore.dispatch('sessions/list', {});
      expect(listed.ok).toBe(true);
      expect(listed.ok && (listed.result as unknown[]).length).toBeGreaterThan(0);
      const said = errors.slice(errorsBefore).map((e) => `${e.where}: ${e.message}`);
      if (process.env.L2_DEBUG) console.log(said);
      expect(said.join('\n')).toMatch(/^store: reading the session list: .*ClickHouse/m);
      const collect = await onStore.dispatch('collect/start', {
        symbol: 'BTCUSDT',
        depth: 50,
        durationMs: 60_000,
      });
      if (process.env.L2_DEBUG) console.log(collect);
      expect(collect).toMatchObject({ ok: false, error: expect.stringMatching(/ClickHouse/) });
      const bt = await onStore.dispatch('backtest/run', { sessionId: ids.get(mid) as number, threshold: 1 });
      if (process.env.L2_DEBUG) console.log(bt);
      expect(bt).toMatchObject({ ok: false, error: expect.stringMatching(/ClickHouse/) });
      // The app itself goes on answering.
      expect((await onStore.dispatch('app/hello', { version: IPC_VERSION })).ok).toBe(true);
    } finally {
      await server.start();
    }
    const n = errors.length;
    const back = await onStore.dispatch('sessions/list', {});
    expect(back.ok && (back.result as { id: number }[]).map((s) => s.id)).toEqual(
      expect.arrayContaining([...ids.values()]),
    );
    expect(errors.length).toBe(n);
    errors.length = errorsBefore;
  }, 120_000);
});
