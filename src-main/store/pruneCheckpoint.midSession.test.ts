// A retention checkpoint while the rows before it are still stored: a prune stopped after its rewrite (killed, or
// read by another process between the rewrite and the deletes; on ClickHouse, while the delete mutation runs). The
// session then holds a snapshot in its middle whose update id follows the delta before it. It is a continuation, not
// a resync: training rows, the exported features and a backtest are the very ones of the untouched session.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { runBacktest } from '../backtest/backtest.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { testModelPath } from '../backtest/testing/testModel.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { FeatureSampler } from '../export/featureSampler.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDataset, buildDatasetFromDb } from '../model/dataset.ts';
import { Predictor } from '../model/predictor.ts';
import { datasetFromDb, rowsFrom, windowStart } from '../model/trainPipeline.ts';
import { openClickHouse } from './clickhouse/connection.ts';
import {
  planCheckpoint as planClickHouseCheckpoint,
  writeCheckpoint as writeClickHouseCheckpoint,
} from './clickhouse/prune.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './clickhouse/testServer.ts';
import { openDb, type Db } from './db.ts';
import { planCheckpoint, writeCheckpoint } from './retention.ts';
import { readSession, type StoredEvent } from './sessionReader.ts';
import { eachEvent, openSessionStore } from './sessionStore.ts';
import { writeClickHouseSession } from './testing/clickhouseSession.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const config = loadConfig({ ignoreUserFile: true });
const DATASET = { decisionIntervalMs: 1000, horizonMs: 10_000 };
/** The prune's cutoff: three of the session's six minutes. */
const CUTOFF = T0 + 3 * MIN;

let dir: string;
let whole: Db;
let cut: Db;
let sid: number;
let predictor: Predictor;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2cpmid-'));
  const a = openDb(path.join(dir, 'whole.db'));
  sid = writeSimSession(a, { seed: 31, durationMs: 6 * MIN, startMs: T0, bookRateHz: 20 }).sessionId;
  a.close();
  fs.copyFileSync(path.join(dir, 'whole.db'), path.join(dir, 'cut.db'));
  whole = openDb(path.join(dir, 'whole.db'));
  cut = openDb(path.join(dir, 'cut.db'));
  // The checkpoint the prune writes first (the same planning and rewrite), and nothing after it.
  const plan = planCheckpoint(cut, sid, CUTOFF);
  if (!plan) throw new Error('no checkpoint for the test session');
  writeCheckpoint(cut, sid, plan);
  const m = await testModelPath(whole, sid, dir);
  predictor = await Predictor.load(m.path, FEATURE_SET);
});
afterAll(async () => {
  await predictor?.close();
  whole?.close();
  cut?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a checkpoint stored mid-session (a prune stopped after its rewrite)', () => {
  it('is a snapshot in the middle of the session, following the delta before it in sequence', () => {
    const before = [...readSession(whole, sid)];
    const after = [...readSession(cut, sid)];
    expect(after.length).toBe(before.length);
    const changed = after.flatMap((ev, i) =>
      ev.kind === 'book' && before[i].kind === 'book' && ev.type !== before[i].type ? [i] : [],
    );
    expect(changed.length).toBe(1);
    const k = changed[0];
    const prevBook = before
      .slice(0, k)
      .reverse()
      .find((ev) => ev.kind === 'book');
    const cp = after[k];
    expect(cp.kind === 'book' && cp.type === 'snapshot').toBe(true);
    expect(prevBook && cp.kind === 'book' && prevBook.kind === 'book' && cp.u === prevBook.u + 1).toBe(true);
    expect(k).toBeGreaterThan(before.length / 4);
  });

  it('gives the training rows of the untouched session, bit for bit, with no resync counted', () => {
    const a = buildDatasetFromDb(whole, [sid], DATASET);
    const b = buildDatasetFromDb(cut, [sid], DATASET);
    expect(a.nRows).toBeGreaterThan(200);
    expect(b.nRows).toBe(a.nRows);
    expect(Buffer.from(b.X.buffer).equals(Buffer.from(a.X.buffer))).toBe(true);
    expect(Buffer.from(b.y.buffer).equals(Buffer.from(a.y.buffer))).toBe(true);
    expect(b.stats.detectedGaps).toBe(0);
    expect(b.stats).toEqual(a.stats);
  });

  it('is no place for a windowed training read to start: its rows are the full replay’s, cut to the window', () => {
    const fromTs = T0 + 4 * MIN;
    const toTs = T0 + 6 * MIN;
    // A resync would be (the replay restarts there); a snapshot continuing the book in sequence is not.
    expect(windowStart(cut, sid, 50, fromTs)).toBeNull();
    const windowed = datasetFromDb({
      dbFile: path.join(dir, 'cut.db'),
      sessionIds: [sid],
      fromTs,
      toTs,
      ...DATASET,
      featureCache: false,
    });
    const full = rowsFrom(buildDatasetFromDb(whole, [sid], DATASET, { toTs }), fromTs);
    expect(full.nRows).toBeGreaterThan(60);
    expect(windowed.nRows).toBe(full.nRows);
    expect(Buffer.from(windowed.X.buffer).equals(Buffer.from(full.X.buffer))).toBe(true);
    expect(Buffer.from(windowed.y.buffer).equals(Buffer.from(full.y.buffer))).toBe(true);
  });

  it('gives the exported features of the untouched session', () => {
    const sample = (db: Db): number[][] => {
      const rows: number[][] = [];
      const s = new FeatureSampler({ tickSize: '0.1', decisionIntervalMs: 1000 }, (t, row) =>
        rows.push([t, ...row]),
      );
      for (const ev of readSession(db, sid)) s.push(ev);
      return rows;
    };
    const a = sample(whole);
    expect(a.length).toBeGreaterThan(200);
    expect(sample(cut)).toEqual(a);
  });

  it('gives the backtest of the untouched session: the same decisions, orders and fills', async () => {
    const run = (db: Db) =>
      runBacktest({
        db,
        sessionId: sid,
        config,
        model: new PredictorModel(predictor),
        thresholds: [0],
        record: false,
      });
    const a = await run(whole);
    const b = await run(cut);
    expect(a.passes[0].fills.length).toBeGreaterThan(0);
    expect(b.report.rows[0].predictions).toBe(a.report.rows[0].predictions);
    expect(b.passes[0].orders).toEqual(a.passes[0].orders);
    expect(b.passes[0].fills).toEqual(a.passes[0].fills);
  });
});

const chSkip = clickhouseSkipReason();
if (chSkip) console.warn(chSkip);

describe.skipIf(chSkip !== null)('the same on ClickHouse (real clickhouse-server)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a prune stopped after its checkpoint insert (its delete still running) leaves the training rows as they were', async () => {
    const url = server.url('midcp');
    const msgs = [...readSession(whole, sid)].filter((ev): ev is MarketMessage => ev.kind !== 'gap');
    const untouched = await writeClickHouseSession(url, msgs);
    const pruning = await writeClickHouseSession(url, msgs);
    const store = await openClickHouse(url);
    try {
      // The prune's first step alone: the row stored again as the snapshot, its older rows all still there.
      const { pending } = await planClickHouseCheckpoint(store, pruning, CUTOFF, false);
      if (!pending) throw new Error('no checkpoint planned');
      await writeClickHouseCheckpoint(store, pruning, pending);
    } finally {
      await store.close();
    }
    const sessions = await openSessionStore(url);
    try {
      const read = async (id: number): Promise<StoredEvent[]> => {
        const out: StoredEvent[] = [];
        await eachEvent(sessions.read(id), (ev) => void out.push(ev));
        return out;
      };
      const a = await read(untouched);
      const b = await read(pruning);
      // One row per id (the reader takes the snapshot copy): the same messages but one, now a snapshot.
      expect(b.length).toBe(a.length);
      const changed = b.filter(
        (ev, i) => ev.kind === 'book' && a[i].kind === 'book' && ev.type !== a[i].type,
      );
      expect(changed.length).toBe(1);
      const build = (id: number, events: StoredEvent[]) =>
        buildDataset([{ sessionId: id, tickSize: '0.1', events }], DATASET);
      const ref = buildDatasetFromDb(whole, [sid], DATASET);
      for (const ds of [build(untouched, a), build(pruning, b)]) {
        expect(ds.nRows).toBe(ref.nRows);
        expect(Buffer.from(ds.X.buffer).equals(Buffer.from(ref.X.buffer))).toBe(true);
        expect(Buffer.from(ds.y.buffer).equals(Buffer.from(ref.y.buffer))).toBe(true);
        expect(ds.stats.detectedGaps).toBe(0);
      }
    } finally {
      await sessions.close();
    }
  });
});
