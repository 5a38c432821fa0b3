import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TradeMessage } from '../../src-shared/market.ts';
import { syntheticEvents, type SyntheticEvent } from '../features/testing/syntheticMarket.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { createSession, getSession } from '../store/sessions.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';
import { buildDataset, type Dataset } from './dataset.ts';
import { featureKey, sessionRows } from './featureCache.ts';
import { datasetFromDb, rowsFrom, windowStart } from './trainPipeline.ts';

const T0 = 1_700_000_000_000;
const opts = { decisionIntervalMs: 1000, horizonMs: 10_000 };

describe('datasetFromDb with a window (live retraining)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2tp-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts at the last resync before the window and gives bit-identical rows to a replay from the session start', () => {
    // Resyncs (gap, break, fresh snapshot) at 60, 130 and 200 s. Just before each resync snapshot a trade message
    // arrives in the same millisecond, stamped later than the snapshot: a reader starting at the snapshot's receive
    // time would take that trade in, and the replay clock must start at the earlier events' largest time.
    const base = syntheticEvents({ durationMs: 300_000, gapsAtMs: [60_000, 130_000, 200_000], seed: 11 });
    const events: SyntheticEvent[] = [];
    let snapshots = 0;
    for (const ev of base) {
      if (ev.kind === 'book' && ev.type === 'snapshot' && snapshots++ > 0) {
        const t: TradeMessage = {
          kind: 'trades',
          symbol: 'BTCUSDT',
          ts: ev.ts + 1500,
          recvTs: ev.recvTs,
          trades: [
            {
              ts: ev.ts + 1400,
              side: 'Buy',
              price: ev.asks[0][0],
              size: 7,
              id: `x${snapshots}`,
              blockTrade: false,
              seq: ev.u,
            },
          ],
        };
        events.push(t);
      }
      events.push(ev);
    }
    expect(snapshots).toBe(4);
    const file = path.join(dir, 'w.db');
    const db = openDb(file);
    const sid = storeEvents(db, events, { startedAt: T0, endedAt: T0 + 300_000 });
    db.close();

    const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const same = (fast: Dataset, slow: Dataset) => {
      expect([...fast.ts]).toEqual([...slow.ts]);
      expect(bits(fast.X)).toEqual(bits(slow.X));
      expect(bits(fast.y)).toEqual(bits(slow.y));
    };
    let fastStarts = 0;
    const rdb = openDb(file, { mustExist: true });
    try {
      // windows ending mid-session and at its end, starting before the first resync, just after resyncs (within
      // a feature warm-up) and well after them
      for (const [fromMs, toMs] of [
        [30_000, 150_000],
        [62_500, 150_000],
        [95_000, 300_000],
        [133_000, 260_000],
        [170_000, 300_000],
        [204_000, 290_000],
        [250_000, 300_000],
      ]) {
        const fromTs = T0 + fromMs;
        const toTs = T0 + toMs;
        const fast = datasetFromDb({
          dbFile: file,
          sessionIds: [sid],
          fromTs,
          toTs,
          ...opts,
          featureCache: false,
        });
        // the reference: every event from the session start up to toTs, rows before fromTs dropped
        const slow = rowsFrom(
          buildDataset(
            [
              {
                sessionId: sid,
                tickSize: '0.1',
                events: { [Symbol.iterator]: () => readSession(rdb, sid, { toTs }) },
              },
            ],
            opts,
          ),
          fromTs,
        );
        expect(slow.nRows, `window ${fromMs}..${toMs}`).toBeGreaterThan(0);
        same(fast, slow);
        // the feature cache's whole-session rows, cut to the window, are the same rows (a miss, then hits)
        same(datasetFromDb({ dbFile: file, sessionIds: [sid], fromTs, toTs, ...opts }), slow);
        const start = windowStart(rdb, sid, 50, fromTs);
        if (start) {
          fastStarts++;
          expect(fast.stats.events).toBeLessThan(slow.stats.events); // it did skip the earlier data
        } else expect(fast.stats.events).toBe(slow.stats.events);
      }
      expect(fastStarts).toBeGreaterThanOrEqual(4);
      // Before the first resync there is nothing to start from but the session start; nor on depth 1, where a
      // snapshot is no resync.
      expect(windowStart(rdb, sid, 50, T0 + 50_000)).toBeNull();
      expect(windowStart(rdb, sid, 1, T0 + 250_000)).toBeNull();
      const s = windowStart(rdb, sid, 50, T0 + 250_000);
      expect(s).not.toBeNull();
      const snap = rdb.prepare('SELECT is_snapshot, ts FROM l2_updates WHERE id = ?').get(s?.fromId) as {
        is_snapshot: number;
        ts: number;
      };
      expect(snap.is_snapshot).toBe(1);
      expect(s?.clockFloor).toBe(snap.ts + 1500); // the same-millisecond trade stamped after the snapshot
    } finally {
      rdb.close();
    }
  });
});

describe('datasetFromDb with rows from a store’s feature cache (ClickHouse training copies)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2tpsf-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses the given rows for a session the file holds only the record of, and refuses them on other terms', () => {
    const events = syntheticEvents({ durationMs: 120_000, seed: 5 });
    const full = path.join(dir, 'full.db');
    const db = openDb(full);
    const sid = storeEvents(db, events, { startedAt: T0, endedAt: T0 + 120_000 });
    const rows = sessionRows(db, sid, opts, { write: false }).rows;
    const info = getSession(db, sid)!;
    db.close();
    const want = datasetFromDb({ dbFile: full, sessionIds: [sid], ...opts, featureCache: false });
    expect(want.nRows).toBeGreaterThan(30);

    // The record alone, as a training copy holds a session whose features came from the store.
    const stub = path.join(dir, 'stub.db');
    const sdb = openDb(stub);
    const id = createSession(sdb, { ...info, meta: info.meta });
    sdb.close();
    const identities = [
      { session: id, source: 'x', symbol: 'BTCUSDT', seed: null, fingerprint: 'f', first_recv_ts: T0 },
    ];
    const spec = { dbFile: stub, sessionIds: [id], ...opts };
    const given = { featureKey: featureKey(opts), rows: [{ ...rows, sessionId: id }], identities };
    const got = datasetFromDb({ ...spec, storeFeatures: given });
    expect(got.nRows).toBe(want.nRows);
    expect(Buffer.from(got.X.buffer).equals(Buffer.from(want.X.buffer))).toBe(true);
    expect([...got.ts]).toEqual([...want.ts]);
    // A window cuts them exactly as a windowed build from raw data does.
    const window = { fromTs: T0 + 60_000, toTs: T0 + 110_000 };
    const wantW = datasetFromDb({ dbFile: full, sessionIds: [sid], ...opts, ...window });
    expect([...datasetFromDb({ ...spec, ...window, storeFeatures: given }).ts]).toEqual([...wantW.ts]);
    // Rows built on other terms, or a build that must replay raw data it does not have: refused, never used.
    expect(() =>
      datasetFromDb({
        ...spec,
        storeFeatures: { ...given, featureKey: featureKey({ ...opts, horizonMs: 5000 }) },
      }),
    ).toThrow(/other parameters/);
    expect(() => datasetFromDb({ ...spec, featureCache: false, storeFeatures: given })).toThrow(
      /hold no raw data/,
    );
  });
});
