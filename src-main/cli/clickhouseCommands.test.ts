// The rest of the CLI over a ClickHouse store, against a real clickhouse-server (started here), each compared with the
// SQLite store holding the same data: import (book --json at several times, the duplicate check), train (the same
// model metrics), predictions and diagnose, backtest runs stored and read back (runs, runs show, runs report),
// db quality and db prune, sim calibrate, and exchange-sim serving a stored session.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSession as getClickHouseSession, sessionRecords } from '../store/clickhouse/catalogue.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { insertEntry } from '../store/clickhouse/featureStore.ts';
import { openImportStaging } from '../store/clickhouse/importStaging.ts';
import { copyClickHouseSessionToSqlite, copySessionToClickHouse } from '../store/clickhouse/mirror.ts';
import { readSession as readClickHouseSession } from '../store/clickhouse/reader.ts';
import { readSession } from '../store/sessionReader.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import type { EncodedRows } from '../model/featureCache.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { createSession as createSqliteSession, getSession as getSqliteSession } from '../store/sessions.ts';
import { writePruneScenario } from './testing/pruneScenario.ts';
import { json, l2desk } from './testing/runCli.ts';
import { sameTraining, trainJson } from './testing/trainCli.ts';
import { withStore } from './testing/withStore.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { sessionIdentity } from '../model/dataIdentity.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const RECORDING = BYBIT_RECORDING;

interface CheckReport {
  tables: Record<string, number>;
  sessions: {
    id: number;
    bookMessages: number;
    tradeMessages: number;
    trades: number;
    firstRecvTs: number;
  }[];
}

describe.skipIf(skip !== null)('the other commands over --db clickhouse:// (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chcmd-'));
  }, 90_000);
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('import: the same recording in ClickHouse and SQLite gives the same sessions and book --json; a second import is refused', async () => {
    const file = path.join(dir, 'import.db');
    const ch = server.url('imported');
    const a = await l2desk('import', '--db', file, RECORDING, '--quiet');
    expect(a.code, a.err).toBe(0);
    const b = await l2desk('import', '--db', ch, RECORDING, '--quiet');
    expect(b.code, b.err).toBe(0);
    expect(b.out).toBe(a.out); // "session 1: BTCUSDT from …: depth 200, tick 0.1, N book + M trade messages, …"
    expect(a.out).toMatch(/^session 1: BTCUSDT .* \d+ book \+ \d+ trade messages/);

    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    for (const t of ['sessions', 'l2_updates', 'trades', 'gaps']) expect(cq.tables[t], t).toBe(sq.tables[t]);
    expect(cq.sessions).toEqual(sq.sessions.map((s) => ({ ...s })));

    const [s] = sq.sessions;
    const end = (sq.sessions[0] as unknown as { lastRecvTs: number }).lastRecvTs;
    for (const f of [0.05, 0.3, 0.62, 0.97]) {
      const at = String(Math.round(s.firstRecvTs + (end - s.firstRecvTs) * f));
      for (const clock of ['receive', 'exchange']) {
        const x = await json<{ bids: number[][] }>(
          'book',
          '--db',
          file,
          '--json',
          '--depth',
          '50',
          '--at',
          at,
          '--clock',
          clock,
        );
        const y = await json<{ bids: number[][] }>(
          'book',
          '--db',
          ch,
          '--json',
          '--depth',
          '50',
          '--at',
          at,
          '--clock',
          clock,
        );
        expect(y, `${f} ${clock}`).toEqual(x);
        expect(x.bids.length).toBeGreaterThan(10);
      }
    }

    const again = await l2desk('import', '--db', ch, RECORDING, '--quiet');
    expect(again.code).toBe(1);
    expect(again.err).toContain('was imported before (same content) as session 1: skipped');
    const after = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    expect(after.tables.sessions).toBe(1);

    // A model that learnt from this recording a month earlier (its metadata names the data by its fingerprint): a
    // backtest on the store knows the session is the model's own training data on another clock, as on the file,
    // though the store's session is replayed without a local copy; so does `runs report` over the store.
    const MONTH = 30 * 86_400_000;
    const sqlite = openDb(file, { mustExist: true });
    const own = sessionIdentity(sqlite, 1)!;
    sqlite.close();
    const meta = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'models', 'default.json'), 'utf8')) as {
      training: Record<string, unknown>;
    };
    meta.training = {
      ...meta.training,
      from_ts: own.first_recv_ts - MONTH,
      to_ts: own.first_recv_ts - MONTH + 3_600_000,
      sessions: [7],
      data: [{ ...own, session: 7, first_recv_ts: own.first_recv_ts - MONTH }],
    };
    const model = path.join(dir, 'month-earlier.onnx');
    fs.copyFileSync(path.join(PROJECT_ROOT, 'models', 'default.onnx'), model);
    fs.writeFileSync(model.replace(/\.onnx$/, '.json'), JSON.stringify(meta));
    const inSample = async (db: string, tag: string) => {
      const out = path.join(dir, `own-${tag}.json`);
      const r = await l2desk('backtest', '--db', db, '--model', model, '--threshold', '0.5', '--report', out);
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { in_sample: Record<string, unknown> };
      const rr = path.join(dir, `own-runs-${tag}.json`);
      expect((await l2desk('runs', 'report', '1', '--db', db, '--out', rr)).code).toBe(0);
      const again = JSON.parse(fs.readFileSync(rr, 'utf8')) as { in_sample: Record<string, unknown> };
      return [report.in_sample, again.in_sample];
    };
    const [fromFile, fromFileRuns] = await inSample(file, 's');
    const [fromStore, fromStoreRuns] = await inSample(ch, 'c');
    expect(fromFile.same_data).toEqual({
      reason: 'fingerprint',
      training_session: 7,
      source: own.source,
      seed: null,
      offset_ms: MONTH,
    });
    expect(fromFile.in_sample).toBeGreaterThan(0);
    expect(fromStore).toEqual(fromFile);
    expect(fromFileRuns).toEqual(fromFile);
    expect(fromStoreRuns).toEqual(fromFile);
  }, 180_000);

  it('sim calibrate and exchange-sim --session read a ClickHouse session as they read the same SQLite one', async () => {
    const file = path.join(dir, 'served.db');
    const ch = server.url('served');
    for (const db of [file, ch]) {
      const r = await l2desk('import', '--db', db, RECORDING, '--quiet');
      expect(r.code, r.err).toBe(0);
    }
    const calibrate = (db: string) =>
      json<{ session: { id: number; stats: { book_msgs_per_s: number } } }>(
        'sim',
        'calibrate',
        '--db',
        db,
        '--hours',
        '0.02',
        '--seed',
        '5',
        '--json',
      );
    // The copy exchange-sim serves: the ClickHouse session event for event, under its id, with its fields.
    await withStore(ch, async (store) => {
      const info = await getClickHouseSession(store, 1);
      if (!info) throw new Error('no session 1');
      const copy = openDb(path.join(dir, 'copy.db'), { mustExist: false });
      try {
        await copyClickHouseSessionToSqlite(store, info, copy);
        const fromStore: unknown[] = [];
        for await (const ev of readClickHouseSession(store, 1)) fromStore.push(ev);
        expect(fromStore.length).toBeGreaterThan(400);
        expect([...readSession(copy, 1)]).toEqual(fromStore);
        expect(getSqliteSession(copy, 1)).toMatchObject({
          symbol: info.symbol,
          tickSize: info.tickSize,
          endedAt: info.endedAt,
          bookMessages: info.bookMessages,
          trades: info.trades,
          meta: info.meta,
        });
      } finally {
        copy.close();
      }
    });

    const fromFile = await calibrate(file);
    expect(fromFile.session.stats.book_msgs_per_s).toBeGreaterThan(1);
    expect(await calibrate(ch)).toEqual(fromFile);

    // The simulator serves the ClickHouse session from a temporary copy: a client ends on the session's last book.
    const last = await json<{ bids: number[][]; asks: number[][] }>(
      'book',
      '--db',
      file,
      '--json',
      '--depth',
      '50',
    );
    const staged = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('l2desk-staged-')).length;
    const stagedBefore = staged();
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'), 'exchange-sim', '--port', '0', '--session', '1'].concat([
        '--db',
        ch,
        '--speed',
        '20',
      ]),
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const URL_RE = /ws:\/\/127\.0\.0\.1:\d+\/v5\/public\/linear/;
      await waitFor('the server URL', () => URL_RE.test(out), 30_000);
      expect(out).toMatch(
        /copying session 1 \(BTCUSDT, \d+ messages\) from .* into a temporary file to serve it/,
      );
      const served = new BybitSource({
        symbol: 'BTCUSDT',
        category: 'linear',
        depth: 50,
        tickSize: '0.1',
        url: (URL_RE.exec(out) as RegExpExecArray)[0],
        pingIntervalMs: 100,
        staleTimeoutMs: 3000,
        reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
      });
      await served.start();
      const levels = () => {
        const b = served.book();
        return b?.valid ? { bids: b.book.levels('bid', 50), asks: b.book.levels('ask', 50) } : null;
      };
      try {
        await waitFor(
          'the client on the session’s last book',
          () => {
            const l = levels();
            return l !== null && JSON.stringify(l) === JSON.stringify({ bids: last.bids, asks: last.asks });
          },
          20_000,
        );
      } finally {
        await served.stop();
      }
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(staged()).toBe(stagedBefore);
    const missing = await l2desk('exchange-sim', '--port', '0', '--session', '99', '--db', ch);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no session 99 in');
    expect(staged()).toBe(stagedBefore);
  });

  it('train, predictions, diagnose, backtest runs and db quality agree with the SQLite store on the same session', async () => {
    const file = path.join(dir, 'sim.db');
    const ch = server.url('trained');
    const c = await l2desk(
      'collect',
      '--source',
      'sim',
      '--seed',
      '42',
      '--speed',
      'max',
      '--duration',
      '20m',
      '--db',
      file,
      '--quiet',
    );
    expect(c.code, c.err).toBe(0);
    // The same rows in ClickHouse (a collect there would run on its own wall clock, so other decision instants).
    await withStore(ch, async (store) => {
      const src = openDb(file, { mustExist: true });
      try {
        expect(await copySessionToClickHouse(src, 1, store)).toBe(1);
      } finally {
        src.close();
      }
    });

    // train: the same dataset, the same model.
    const train = (db: string, name: string) => trainJson(db, name, dir);
    const ts = await train(file, 'sq');
    const tc = await train(ch, 'ch');
    const same = sameTraining;
    expect(same(tc)).toEqual(same(ts));
    expect(tc.model_id).toBe(1); // registered in the store's own registry
    // The first run built the session's features straight from the store and stored them there; the second reads
    // them from the store's cache and learns the same model, with the same record of what it learnt from.
    expect(tc.store_cache).toEqual({ read: [], built: [1], stored: [1] });
    const tc2 = await train(ch, 'ch2');
    expect(tc2.store_cache).toEqual({ read: [1], built: [], stored: [] });
    expect(same(tc2)).toEqual(same(ts));
    const learntFrom = (r: Record<string, unknown>) =>
      (JSON.parse(fs.readFileSync(r.metadata as string, 'utf8')) as { training: { data: unknown } }).training
        .data;
    expect(learntFrom(tc2)).toEqual(learntFrom(ts));
    expect(learntFrom(tc)).toEqual(learntFrom(ts));
    // `l2desk models` lists each store's registry: two challengers in ClickHouse, one in the file.
    const listed = async (db: string) =>
      (await json<{ models: { id: number; name: string; status: string }[] }>('models', '--db', db, '--json'))
        .models;
    expect((await listed(ch)).map((m) => [m.id, m.name, m.status])).toEqual([
      [2, 'ch2', 'challenger'],
      [1, 'ch', 'challenger'],
    ]);
    expect((await listed(file)).map((m) => [m.name, m.status])).toEqual([['sq', 'challenger']]);
    expect(ts.n_rows as number).toBeGreaterThan(1000);
    const model = ts.model as string;

    // predictions and diagnose: the same figures.
    const ps = await json<Record<string, unknown>>('predictions', '--db', file, '--model', model, '--json');
    const pc = await json<Record<string, unknown>>('predictions', '--db', ch, '--model', model, '--json');
    expect({ ...pc, db: null, store_cache: null }).toEqual({ ...ps, db: null, store_cache: null });
    expect(pc.db).toBe(ch);
    // The features training stored in the store were read from there: the session's raw depth was not copied.
    expect(pc.store_cache).toEqual({ read: [1], built: [] });
    expect(ps.store_cache).toBeUndefined();
    // Other parameters than the training's (a decision every 2 s): the session is replayed from the store.
    const p2 = await json<Record<string, unknown>>(
      'predictions',
      '--db',
      ch,
      '--model',
      model,
      '--set',
      'features.decision_interval=2s',
      '--json',
    );
    expect(p2.store_cache).toEqual({ read: [], built: [1] });
    const p2s = await json<Record<string, unknown>>(
      'predictions',
      '--db',
      file,
      '--model',
      model,
      '--set',
      'features.decision_interval=2s',
      '--json',
    );
    expect({ ...p2, db: null, store_cache: null }).toEqual({ ...p2s, db: null, store_cache: null });
    const ds = await l2desk('diagnose', '--db', file, '--model', model, '--json');
    const dc = await l2desk('diagnose', '--db', ch, '--model', model, '--json');
    expect(dc.code, dc.err).toBe(ds.code);
    const strip = (t: string) =>
      JSON.parse(t.split(file).join('DB').split(ch).join('DB')) as Record<string, unknown>;
    expect({ ...strip(dc.out), store_cache: null }).toEqual({ ...strip(ds.out), store_cache: null });
    // Judged on the features the store's cache holds and on the store's own check of its sessions.
    expect(strip(dc.out).store_cache).toEqual({ read: [1], built: [] });

    // backtest with recording (the bundled model, which trades on this session): the runs are stored in ClickHouse
    // and read back as from SQLite.
    const backtest = (db: string) =>
      l2desk(
        'backtest',
        '--db',
        db,
        '--session',
        '1',
        '--sweep',
        '0.2,1',
        '--report',
        path.join(dir, `bt-${db === file ? 's' : 'c'}.json`),
      );
    const bs = await backtest(file);
    expect(bs.code, bs.err).toBe(0);
    const bc = await backtest(ch);
    expect(bc.code, bc.err).toBe(0);
    expect(bc.out).toContain(`runs 1, 2 stored in ${ch}`);
    const rs = await json<{ runs: { id: number }[] }>('runs', '--db', file, '--json');
    const rc = await json<{ runs: { id: number }[] }>('runs', '--db', ch, '--json');
    const noTimes = (x: unknown) =>
      JSON.parse(JSON.stringify(x), (k, v) =>
        /^(started_at|ended_at|swapped_at)$/.test(k) ? 0 : v,
      ) as unknown;
    expect(noTimes(rc)).toEqual(noTimes(rs));
    expect(rc.runs.map((r) => r.id).sort()).toEqual([1, 2]);
    let fills = 0;
    for (const id of ['1', '2']) {
      const x = await json<Record<string, unknown>>('runs', 'show', id, '--db', file, '--json');
      const y = await json<Record<string, unknown>>('runs', 'show', id, '--db', ch, '--json');
      expect(noTimes(y)).toEqual(noTimes(x));
      fills += (x.fills as { total: number }).total;
    }
    expect(fills, bs.out).toBeGreaterThan(0);
    const report = async (db: string, name: string) => {
      const out = path.join(dir, name);
      const r = await l2desk('runs', 'report', '1,2', '--db', db, '--out', out);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: unknown; equity: unknown; session: unknown };
    };
    const xs = await report(file, 'rs.json');
    const xc = await report(ch, 'rc.json');
    expect(noTimes(xc.rows)).toEqual(noTimes(xs.rows));
    expect(xc.equity).toEqual(xs.equity);
    expect(xc.session).toEqual(xs.session);
    const missing = await l2desk('runs', 'show', '9', '--db', ch);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`no run 9 in ${ch}; it holds 2 run(s), ids 1–2`);

    // backtest --walk-forward: the same windows, models and passes; its runs stored after the two above.
    const walkForward = async (db: string, name: string) => {
      const out = path.join(dir, `wf-${name}.json`);
      const r = await l2desk(
        'backtest',
        '--db',
        db,
        '--session',
        '1',
        '--walk-forward',
        '--train-window',
        '8m',
        '--retrain-every',
        '5m',
        '--sweep',
        '0.2',
        '--out',
        path.join(dir, `wf-models-${name}`),
        '--set',
        'train.min_horizons=20',
        '--set',
        'train.rounds=30',
        '--set',
        'tuning.trials=0',
        '--report',
        out,
      );
      expect(r.code, r.err).toBe(0);
      return { out: r.out, report: JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown> };
    };
    const ws = await walkForward(file, 's');
    const wc = await walkForward(ch, 'c');
    expect(wc.out).toContain(`runs 3 stored in ${ch}`);
    // Its models learnt from the session's rows in the store's feature cache (stored by the training above): the
    // session's raw data was only replayed from the store, never copied.
    expect(wc.out).toContain(`session 1: features from ${ch}'s feature cache`);
    // The two runs write their models to different folders.
    const models = (x: unknown) =>
      noTimes(JSON.parse(JSON.stringify(x).split('wf-models-c').join('wf-models-s')));
    expect(models(wc.report.rows)).toEqual(models(ws.report.rows));
    expect(models(wc.report.walk_forward)).toEqual(models(ws.report.walk_forward));
    expect(wc.report.equity).toEqual(ws.report.equity);
    const wr = await json<Record<string, unknown>>('runs', 'show', '3', '--db', ch, '--json');
    expect(models(wr)).toEqual(
      models(await json<Record<string, unknown>>('runs', 'show', '3', '--db', file, '--json')),
    );

    // db quality: the same report.
    const qs = await l2desk('db', 'quality', '--db', file, '--json');
    const qc = await l2desk('db', 'quality', '--db', ch, '--json');
    expect(qc.code, qc.err).toBe(qs.code);
    const q = (t: string) => (JSON.parse(t) as { sessions: unknown }).sessions;
    expect(q(qc.out)).toEqual(q(qs.out));
  }, 600_000);

  it('db prune drops what SQLite prune drops, keeping the snapshot later data builds on', async () => {
    const now = Date.now();
    const file = path.join(dir, 'prune.db');
    const ch = server.url('pruned');
    const db = openDb(file);
    await withStore(ch, async (store) => {
      await writePruneScenario(db, store, now);
      // Cached features of both sessions (both lose data) and of a session the prune does not touch.
      const entry = { nRows: 0, nFeatures: 0, blobs: [0, 1, 2, 3].map(() => Buffer.alloc(0)), stats: '{}' };
      for (const sid of [1, 2, 7])
        await insertEntry(store, sid, 'f', 'd', { ...entry, checksum: 'c' } as EncodedRows, now);
    });
    db.close();
    const ps = await l2desk('db', 'prune', '--db', file, '--days', '2');
    expect(ps.code, ps.err).toBe(0);
    const pc = await l2desk('db', 'prune', '--db', ch, '--days', '2');
    expect(pc.code, pc.err).toBe(0);
    // "pruned raw data received before TIME: N L2 updates, M trades from …" (each command takes its own now)
    const counts = (t: string) => t.replace(/^.*?Z: /, '').replace(/ from .*/, '');
    expect(counts(pc.out)).toBe(counts(ps.out));
    expect(pc.out).toMatch(
      /: [1-9]\d* L2 updates, [1-9]\d* trades from 2 session\(s\) in clickhouse:\/\/[^;]*\/pruned; [1-9]\d* day partition\(s\) dropped whole; 2 cached feature entries of those sessions deleted/,
    );
    // The same sentence on both stores, each saying what happened to its space.
    expect(ps.out).toMatch(
      /from 2 session\(s\) in \S+\.db; file\+WAL [\d.]+ MB -> [\d.]+ MB \(freed pages are reused/,
    );
    await withStore(ch, async (store) => {
      const left = await store.client.query({
        query: `SELECT session FROM ${store.table('feature_cache')} ORDER BY session`,
        format: 'JSONEachRow',
      });
      expect(await left.json()).toEqual([{ session: '7' }]);
    });
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    // SQLite's prune leaves an emptied session's last receive time in its row; ClickHouse counts from the data.
    const emptied = (x: CheckReport['sessions'][number]) =>
      x.bookMessages + x.trades === 0 ? { ...x, lastRecvTs: null } : x;
    expect(cq.sessions).toEqual(sq.sessions.map(emptied));
    expect(cq.sessions[0].bookMessages).toBe(0);
    expect(cq.sessions[1].bookMessages).toBeGreaterThan(0);
    // What is left replays to the same book.
    const x = await json<unknown>('book', '--db', file, '--session', '2', '--json');
    const y = await json<unknown>('book', '--db', ch, '--session', '2', '--json');
    expect(y).toEqual(x);
  }, 180_000);

  // Last: it stops the server.
  it('an import copy cut short leaves its session without the content hash, so the file can be imported again', async () => {
    const file = path.join(dir, 'cut.db');
    const db = openDb(file);
    const sid = createSqliteSession(db, {
      source: 'import',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: 1_700_000_000_000,
      meta: { contentSha256: 'f'.repeat(64) },
    });
    const w = new SessionWriter(db, sid);
    for (let i = 0; i < 20_000; i++) {
      const t = 1_700_000_000_000 + i * 10;
      w.writeMessage({
        kind: 'book',
        type: i === 0 ? 'snapshot' : 'delta',
        symbol: 'BTCUSDT',
        depth: 50,
        ts: t,
        cts: t,
        recvTs: t,
        u: i + 1,
        seq: i + 1,
        bids: [[100 + (i % 5), 1]],
        asks: [[106, 2]],
      });
    }
    w.close(1_700_000_200_000);
    const url = server.url('cut');
    const store = await openClickHouse(url);
    try {
      let killed = false;
      await expect(
        copySessionToClickHouse(
          db,
          sid,
          store,
          () => {
            if (!killed) void server.kill();
            killed = true;
          },
          { metaOnceComplete: ['contentSha256'], writer: { giveUpMs: 300, retryFirstMs: 20, maxRows: 1000 } },
        ),
      ).rejects.toThrow(/copying session 1 into .* failed after \d+ events, leaving session 1 incomplete/);
      await server.start();
      const [rec] = await sessionRecords(store);
      expect(rec.id).toBe(1);
      expect(rec.meta.contentSha256).toBeUndefined();
      // The importer's duplicate check sees no earlier import of that content.
      const staging = await openImportStaging(store);
      try {
        expect(staging.db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(0);
      } finally {
        staging.dispose();
      }
    } finally {
      db.close();
      await store.close();
    }
  }, 120_000);
});
