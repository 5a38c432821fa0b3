// `l2desk trade --paper --db clickhouse://…` against a real clickhouse-server (started here): a replay of a session of
// the store trades exactly as the same session replayed from an SQLite file, and the run lands in the store (`runs`
// lists it with the same figures); a simulated run is saved there too; a store that cannot take the run at the end
// leaves it in the working file, whose path is printed, instead of losing it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { RunRecorder } from '../engine/runRecorder.ts';
import { getSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { copySessionToClickHouse } from '../store/clickhouse/mirror.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { openDb } from '../store/db.ts';
import { openClickHouseTrade } from './tradeClickHouse.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

/** The summary line of a run ("stopped (…): final equity … | trades …"), without the run's id. */
const summary = (out: string) =>
  (out.split('\n').find((l) => l.startsWith('stopped (')) ?? '').replace(/ \| run \d+$/, '');

interface RunsJson {
  runs: { id: number; kind: string; session_id: number | null; metrics: Record<string, unknown> | null }[];
}

describe.skipIf(skip !== null)('trade --paper over --db clickhouse:// (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  let file: string;
  let url: string;
  let model: string;
  let fileSession: number;
  let chSession: number;

  const unsavedBefore = process.env.L2DESK_UNSAVED_DIR;

  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chtrade-'));
    // Working files go to this test's folder, not the user's state folder.
    process.env.L2DESK_UNSAVED_DIR = path.join(dir, 'unsaved');
    file = path.join(dir, 'l2desk.db');
    url = server.url('trade_store');
    const db = openDb(file);
    const train = writeSimSession(db, { seed: 81, durationMs: 600_000 }).sessionId;
    fileSession = writeSimSession(db, { seed: 82, durationMs: 300_000 }).sessionId;
    model = (await testModelPath(db, train, dir)).path;
    const ch = await openClickHouse(url);
    try {
      chSession = await copySessionToClickHouse(db, fileSession, ch);
    } finally {
      await ch.close();
    }
    db.close();
  }, 120_000);

  afterAll(async () => {
    if (unsavedBefore === undefined) delete process.env.L2DESK_UNSAVED_DIR;
    else process.env.L2DESK_UNSAVED_DIR = unsavedBefore;
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replays a session of the store as from the file, and stores the run there', async () => {
    const common = [
      'trade',
      '--paper',
      '--source',
      'replay',
      '--speed',
      'max',
      '--model',
      model,
      '--threshold',
      '0.3',
    ];
    const a = await l2desk(...common, '--db', file, '--session', String(fileSession));
    const b = await l2desk(...common, '--db', url, '--session', String(chSession));
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    expect(summary(b.out)).toMatch(/trades [1-9]/);
    expect(summary(b.out)).toBe(summary(a.out));
    expect(b.err).toMatch(new RegExp(`run \\d+ stored in ${url}`));
    // Where the run is until then (a `kill -9` leaves it there), said when it starts.
    expect(b.out).toMatch(
      new RegExp(`run recorded in \\S+unsaved/trade-\\S+run\\.db until it ends, then saved into ${url}`),
    );
    const rf = JSON.parse((await l2desk('runs', '--db', file, '--json')).out) as RunsJson;
    const rc = JSON.parse((await l2desk('runs', '--db', url, '--json')).out) as RunsJson;
    expect(rc.runs.map((r) => [r.kind, r.session_id])).toEqual([['paper', chSession]]);
    expect(rc.runs[0].metrics).toEqual(rf.runs[0].metrics);
  }, 120_000);

  it('stores a run on the simulated market in the store', async () => {
    const before = (JSON.parse((await l2desk('runs', '--db', url, '--json')).out) as RunsJson).runs.length;
    const r = await l2desk(
      'trade',
      '--paper',
      '--source',
      'sim',
      '--seed',
      '5',
      '--speed',
      'max',
      '--duration',
      '3m',
      '--model',
      model,
      '--db',
      url,
      '--quiet',
    );
    expect(r.code, r.err).toBe(0);
    const runs = (JSON.parse((await l2desk('runs', '--db', url, '--json')).out) as RunsJson).runs;
    expect(runs.length).toBe(before + 1);
    const newest = runs.reduce((a, x) => (x.id > a.id ? x : a));
    expect(newest).toMatchObject({ kind: 'paper', session_id: null });
    expect(r.err).toContain(`run ${newest.id} stored in ${url}`);
  }, 120_000);

  /** A config file for a quick live-retraining round every `every` (also its window), in this test's folder. */
  const retrainConfig = (name: string, every: string) => {
    const cfg = path.join(dir, name);
    fs.writeFileSync(
      cfg,
      [
        `retrain: { every: ${every}, window: ${every} }`,
        'features: { decision_interval: 500ms }',
        'train: { rounds: 20, folds: 2, early_stopping_rounds: 10, min_samples_leaf: 20, min_horizons: 10 }',
        'tuning: { trials: 0 }',
      ].join('\n'),
    );
    return cfg;
  };
  // Challengers go to retrained/ in the working directory for a ClickHouse store: this test's folder, not the repo.
  const inDir = async <T>(f: () => Promise<T>): Promise<T> => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      return await f();
    } finally {
      process.chdir(cwd);
    }
  };

  it('with live retraining on, retrains on the traded feed and stores it as a session of the store', async () => {
    const cfg = retrainConfig('retrain.yaml', '5m');
    const r = await inDir(() =>
      l2desk(
        'trade',
        '--paper',
        '--source',
        'sim',
        '--seed',
        '6',
        '--speed',
        'max',
        '--duration',
        '6m',
        '--model',
        model,
        '--db',
        url,
        '--quiet',
        '--config',
        cfg,
      ),
    );
    expect(r.code, r.err).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'retrained')).some((f) => f.endsWith('.onnx'))).toBe(true);
    // A round ran on the feed recorded in the working file (a decision, whichever way it went), none failed.
    expect(r.err).toMatch(/^retrain #\d+ at .*: (PROMOTED|HOLD) .*challenger trained on \[/m);
    expect(r.err).not.toMatch(/retrain failed/);
    const id = Number(new RegExp(`the traded feed stored as session (\\d+) in ${url}`).exec(r.err)?.[1]);
    const ch = await openClickHouse(url, { mustExist: true });
    try {
      const s = await getSession(ch, id);
      expect(s?.meta.origin).toBe('trade --paper (live retraining)');
      // Six minutes of the simulated market: every message of it.
      expect(s?.bookMessages).toBeGreaterThan(1000);
      expect((s?.lastRecvTs ?? 0) - (s?.firstRecvTs ?? 0)).toBeGreaterThan(350_000);
    } finally {
      await ch.close();
    }
    // Its registry went with it: the model it started with, the challenger, and the decision between them, as
    // `l2desk models` on the store shows them.
    expect(r.err).toMatch(
      new RegExp(`live retraining's 2 model\\(s\\) and their decisions registered in ${url}`),
    );
    const reg = await l2desk('models', '--db', url, '--json');
    expect(reg.code, reg.err).toBe(0);
    const { models, decisions } = JSON.parse(reg.out) as {
      models: { id: number; status: string; path: string }[];
      decisions: { promoted: boolean; champion_id: number; challenger_id: number; reason: string }[];
    };
    expect(models).toHaveLength(2);
    expect(decisions).toHaveLength(1);
    const d = decisions[0];
    const challenger = models.find((m) => m.id === d.challenger_id);
    const champion = models.find((m) => m.id === d.champion_id);
    expect(challenger?.path).toContain(path.join(dir, 'retrained'));
    expect(champion?.path).toBe(path.resolve(model));
    expect(challenger?.status).toBe(d.promoted ? 'champion' : 'rejected');
    expect(champion?.status).toBe(d.promoted ? 'retired' : 'champion');
    const text = await l2desk('models', '--db', url);
    expect(text.out).toMatch(d.promoted ? /promoted {2}challenger #/ : /kept {6}challenger #/);
  }, 180_000);

  it('with live retraining on a replay of the store, learns from the session’s rows (none copied) as from the file', async () => {
    const cfg = retrainConfig('retrain-replay.yaml', '4m');
    const run = (db: string, session: number) =>
      inDir(() =>
        l2desk(
          'trade',
          '--paper',
          '--source',
          'replay',
          '--speed',
          'max',
          '--session',
          String(session),
          '--model',
          model,
          '--db',
          db,
          '--quiet',
          '--config',
          cfg,
        ),
      );
    const a = await run(file, fileSession);
    const b = await run(url, chSession);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    // The round's rows came with the replayed session (built from the store): its raw depth never reached the file.
    expect(b.err).toMatch(
      new RegExp(`the features of session ${chSession} come from memory \\(\\d+ rows\\)`),
    );
    const decision = (err: string) => /^retrain #\d+ (at .*)$/m.exec(err)?.[1];
    expect(decision(b.err), b.err).toMatch(/: (PROMOTED|HOLD) .*challenger trained on \[/);
    expect(decision(b.err)).toBe(decision(a.err));
    expect(b.err).not.toMatch(/retrain failed/);
  }, 180_000);

  it('keeps the run in its working file when the store cannot take it at the end', async () => {
    const t = await openClickHouseTrade(server.url('doomed'), false);
    const rec = new RunRecorder(t.db, {
      kind: 'paper',
      source: 'sim',
      sessionId: null,
      symbol: 'BTCUSDT',
      model: model,
      threshold: 1,
      params: {},
      startedAt: Date.now(),
    });
    // The database goes away under the run.
    const admin: ClickHouseStore = await openClickHouse(server.url('default'), { mustExist: true });
    await admin.client.command({ query: 'DROP DATABASE doomed' });
    await admin.close();
    const lines = await t.finish(rec.runId, null);
    await t.close();
    expect(lines).toHaveLength(1);
    const kept = /kept in (\S+) /.exec(lines[0])?.[1] as string;
    expect(lines[0]).toMatch(/^error: saving into clickhouse:\/\/.*\/doomed failed/);
    expect(fs.existsSync(kept)).toBe(true);
    const db = openDb(kept, { mustExist: true });
    try {
      expect(db.prepare('SELECT id FROM runs').pluck().all()).toEqual([rec.runId]);
    } finally {
      db.close();
    }
    fs.rmSync(path.dirname(kept), { recursive: true, force: true });
  }, 60_000);
});
