// The per-session feature cache on a real SQLite file: a hit is bit-identical to a cold build from raw data; a
// different feature key (feature set, grid, clock, horizon) or changed session data (appended, pruned) misses; a
// damaged entry is rebuilt, never trusted; deleting a session drops its entries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvents } from '../features/testing/syntheticMarket.ts';
import { openDb, type Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { getSession } from '../store/sessions.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';
import { buildDataset, type Dataset, type DatasetOptions } from './dataset.ts';
import { cachedDataset, clearFeatureCache, featureKey, hasFeatureCache } from './featureCache.ts';
import { MIGRATIONS } from '../store/migrations/index.ts';
import { pruneRawData } from '../store/retention.ts';
import { readSession } from '../store/sessionReader.ts';
import { datasetFromDb } from './trainPipeline.ts';

const T0 = 1_700_000_000_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2fcache-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const opts: DatasetOptions = { decisionIntervalMs: 1000, horizonMs: 10_000 };
const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameRows(a: Dataset, b: Dataset): void {
  expect(a.nRows).toBe(b.nRows);
  expect(bits(a.ts)).toEqual(bits(b.ts));
  expect(bits(a.X)).toEqual(bits(b.X));
  expect(bits(a.y)).toEqual(bits(b.y));
  expect([...a.session]).toEqual([...b.session]);
}

/** The reference: a replay of the session's raw data, no cache involved. */
function cold(db: Db, sid: number, o: DatasetOptions = opts): Dataset {
  const s = getSession(db, sid);
  if (!s) throw new Error('no session');
  return buildDataset(
    [{ sessionId: sid, tickSize: s.tickSize, events: { [Symbol.iterator]: () => readSession(db, sid) } }],
    o,
  );
}

function fresh(name: string, durationMs = 150_000): { db: Db; sid: number; file: string } {
  const file = path.join(dir, `${name}.db`);
  const db = openDb(file);
  const sid = storeEvents(db, syntheticEvents({ durationMs, seed: 5, gapsAtMs: [70_000] }), {
    startedAt: T0,
    endedAt: T0 + durationMs,
  });
  return { db, sid, file };
}

describe('feature cache', () => {
  it('stamps a stored entry with the clock it is given', () => {
    const { db, sid } = fresh('clock');
    try {
      cachedDataset(db, [getSession(db, sid)!], opts, {}, { now: () => 1_234_567 });
      expect(db.prepare('SELECT built_at FROM feature_cache WHERE session_id = ?').pluck().all(sid)).toEqual([
        1_234_567,
      ]);
    } finally {
      db.close();
    }
  });

  it('a hit gives bit-identical rows to a cold build, without replaying raw data', () => {
    const { db, sid } = fresh('hit');
    try {
      const want = cold(db, sid);
      expect(want.nRows).toBeGreaterThan(50);
      const first = cachedDataset(db, [getSession(db, sid)!], opts);
      expect(first).toMatchObject({ hits: [], built: [sid] });
      const second = cachedDataset(db, [getSession(db, sid)!], opts);
      expect(second).toMatchObject({ hits: [sid], built: [] });
      expectSameRows(first.dataset, want);
      expectSameRows(second.dataset, want);
      expect(second.dataset.stats).toEqual(want.stats);
    } finally {
      db.close();
    }
  });

  it('through datasetFromDb (train, retrain, walk-forward): the same rows as with the cache off', () => {
    const { db, sid, file } = fresh('pipeline');
    db.close();
    const spec = { dbFile: file, sessionIds: [sid], ...opts };
    const off = datasetFromDb({ ...spec, featureCache: false });
    expectSameRows(datasetFromDb(spec), off); // a miss: built and stored
    expectSameRows(datasetFromDb(spec), off); // a hit
    const rdb = openDb(file, { mustExist: true });
    try {
      expect(rdb.prepare('SELECT count(*) FROM feature_cache').pluck().get()).toBe(1);
    } finally {
      rdb.close();
    }
  });

  it('another feature key (grid, horizon, feed latency, feature set version) misses and builds its own rows', () => {
    const { db, sid } = fresh('key');
    try {
      const s = () => [getSession(db, sid)!];
      cachedDataset(db, s(), opts);
      for (const o of [
        { ...opts, decisionIntervalMs: 500 },
        { ...opts, horizonMs: 5000 },
        { ...opts, feedLatencyMs: 120 },
      ]) {
        expect(featureKey(o)).not.toBe(featureKey(opts));
        const r = cachedDataset(db, s(), o);
        expect(r.built).toEqual([sid]);
        expectSameRows(r.dataset, cold(db, sid, o));
        expect(cachedDataset(db, s(), o).hits).toEqual([sid]);
      }
      // An entry written under another feature set version is never read for this one.
      const key = featureKey(opts);
      db.prepare('UPDATE feature_cache SET feature_key = ? WHERE feature_key = ?').run(
        key.replace(/"featureSet":"[^"]*"/, '"featureSet":"an older feature set"'),
        key,
      );
      const r = cachedDataset(db, s(), opts);
      expect(r.built).toEqual([sid]);
      expectSameRows(r.dataset, cold(db, sid));
    } finally {
      db.close();
    }
  });

  it('appending data to the session misses: the rows are those of the grown session', () => {
    const file = path.join(dir, 'append.db');
    const db = openDb(file);
    try {
      const events = syntheticEvents({ durationMs: 200_000, seed: 9 });
      const cut = events.findIndex((e) => e.kind !== 'gap' && e.ts >= T0 + 120_000);
      const sid = storeEvents(db, events.slice(0, cut), { startedAt: T0, endedAt: T0 + 120_000 });
      const before = cachedDataset(db, [getSession(db, sid)!], opts).dataset;
      expect(cachedDataset(db, [getSession(db, sid)!], opts).hits).toEqual([sid]);
      // the collector goes on writing into the same session (a recorded feed)
      const w = new SessionWriter(db, sid, { now: () => T0 + 120_000 });
      for (const ev of events.slice(cut)) if (ev.kind !== 'gap') w.writeMessage(ev);
      w.close(T0 + 200_000);
      const after = cachedDataset(db, [getSession(db, sid)!], opts);
      expect(after.built).toEqual([sid]);
      expect(after.dataset.nRows).toBeGreaterThan(before.nRows);
      expectSameRows(after.dataset, cold(db, sid));
    } finally {
      db.close();
    }
  });

  it('pruning old raw data (retention) misses: the rows are those of what is left', () => {
    const { db, sid } = fresh('prune');
    try {
      const before = cachedDataset(db, [getSession(db, sid)!], opts).dataset;
      const entries = () =>
        db.prepare('SELECT count(*) FROM feature_cache WHERE session_id = ?').pluck().get(sid);
      // A prune that deletes nothing of the session leaves its entry.
      expect(pruneRawData(db, { days: 1, now: T0 }).featureCacheDeleted).toBe(0);
      expect(entries()).toBe(1);
      const r = pruneRawData(db, { days: 1, now: T0 + 100_000 + 86_400_000 });
      expect(r.l2Deleted).toBeGreaterThan(0);
      // The entry built on the pruned data goes with it (nothing would read it again).
      expect(r.featureCacheDeleted).toBe(1);
      expect(entries()).toBe(0);
      const after = cachedDataset(db, [getSession(db, sid)!], opts);
      expect(after.built).toEqual([sid]);
      expect(after.dataset.nRows).toBeLessThan(before.nRows);
      expectSameRows(after.dataset, cold(db, sid));
    } finally {
      db.close();
    }
  });

  it('a read-only use or an open session stores nothing; a file without the cache table (not migrated) is read as before', () => {
    const { db, sid } = fresh('readonly');
    try {
      const want = cold(db, sid);
      const r = cachedDataset(db, [getSession(db, sid)!], opts, {}, { write: false });
      expectSameRows(r.dataset, want);
      expect(db.prepare('SELECT count(*) FROM feature_cache').pluck().get()).toBe(0);
      // A session still being recorded is not stored either (it changes before the next read).
      db.prepare('UPDATE sessions SET ended_at = NULL WHERE id = ?').run(sid);
      expectSameRows(cachedDataset(db, [getSession(db, sid)!], opts).dataset, want);
      expect(db.prepare('SELECT count(*) FROM feature_cache').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
    const old = openDb(path.join(dir, 'old.db'), { migrations: MIGRATIONS.filter((m) => m.version !== 270) });
    try {
      const s = storeEvents(old, syntheticEvents({ durationMs: 80_000, seed: 2 }), {
        startedAt: T0,
        endedAt: T0 + 80_000,
      });
      expect(hasFeatureCache(old)).toBe(false);
      const r = cachedDataset(old, [getSession(old, s)!], opts);
      expect(r.built).toEqual([s]);
      expectSameRows(r.dataset, cold(old, s));
    } finally {
      old.close();
    }
  });

  it('a damaged or partial entry is rebuilt, never trusted', () => {
    const { db, sid } = fresh('corrupt');
    try {
      const want = cold(db, sid);
      const s = () => [getSession(db, sid)!];
      cachedDataset(db, s(), opts);
      const damage = [
        'UPDATE feature_cache SET x = substr(x, 1, length(x) / 2)', // a partial write
        'UPDATE feature_cache SET y = zeroblob(length(y))', // right size, wrong content
        'UPDATE feature_cache SET n_rows = n_rows - 1', // sizes that disagree
        "UPDATE feature_cache SET stats = '{'", // unreadable stats
        "UPDATE feature_cache SET checksum = 'x'",
      ];
      for (const sql of damage) {
        db.prepare(sql).run();
        const r = cachedDataset(db, s(), opts);
        expect(r.built, sql).toEqual([sid]);
        expectSameRows(r.dataset, want);
        // the rebuilt entry replaced the damaged one
        expect(cachedDataset(db, s(), opts).hits, sql).toEqual([sid]);
      }
    } finally {
      db.close();
    }
  });

  it('a window keeps the rows decided in it whose label was complete by its end; deleting the session or clearing drops entries', () => {
    const { db, sid } = fresh('window');
    try {
      const all = cold(db, sid);
      const from = T0 + 105_000 + 3;
      const to = T0 + 145_000 + 3;
      const win = cachedDataset(db, [getSession(db, sid)!], opts, { fromTs: from, toTs: to }).dataset;
      const want = [...all.ts].filter((t) => t >= from && t + opts.horizonMs < to);
      expect(want.length).toBeGreaterThan(10);
      expect([...win.ts]).toEqual(want);
      expect(clearFeatureCache(db, sid)).toBe(1);
      cachedDataset(db, [getSession(db, sid)!], opts);
      db.prepare('DELETE FROM sessions WHERE id = ?').run(sid);
      expect(db.prepare('SELECT count(*) FROM feature_cache').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
