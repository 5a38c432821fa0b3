// The ClickHouse store's feature cache against a real clickhouse-server: rows round-trip bit for bit, a key that does
// not match or an entry that does not check out is a miss (a damaged newer copy never hides a good one, and is never
// used), a store without the table reads as empty and gets it on the first write, and a session's data key and
// identity are the ones an SQLite file holding the same session gives, and move when its data does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdentity } from '../../model/dataIdentity.ts';
import { dataKey, encodeRows, featureKey, sessionRows, type SessionRows } from '../../model/featureCache.ts';
import { expectSameRows } from '../../model/testing/sameRows.ts';
import { repeatedRecording } from '../../testing/bybitRecording.ts';
import { openDb, type Db } from '../db.ts';
import { getSession } from '../sessions.ts';
import { storeEvents } from '../testing/storeEvents.ts';
import { lit, openClickHouse, queryJson, type ClickHouseStore } from './connection.ts';
import { getSession as getStoreSession } from './catalogue.ts';
import {
  buildRowsInStore,
  insertEntry,
  readStoreRows,
  storeSessionKey,
  writeStoreRows,
} from './featureStore.ts';
import { copySessionToClickHouse } from './mirror.ts';
import { copyForTraining } from './trainingCopy.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './testServer.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const OPTS = { decisionIntervalMs: 1000, horizonMs: 5000 };

/** A closed SQLite session of `count` real BTCUSDT messages. */
function sqliteSession(db: Db, count: number): number {
  const msgs = repeatedRecording({ count });
  return storeEvents(db, msgs, { startedAt: 1, endedAt: msgs.at(-1)!.recvTs + 1 });
}

const same = expectSameRows;

describe.skipIf(skip !== null)('the feature cache of a ClickHouse store (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  let db: Db;
  let ch: ClickHouseStore;
  let rows: SessionRows;
  const fKey = featureKey(OPTS);
  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chfeat-'));
    db = openDb(path.join(dir, 'src.db'));
    sqliteSession(db, 4000);
    sqliteSession(db, 3999); // the same messages but the last: another session's data
    // Several of the store reader's pages (4096 events), and still being recorded (open) in both stores.
    sqliteSession(db, 10_000);
    db.prepare('UPDATE sessions SET ended_at = NULL WHERE id = 3').run();
    ch = await openClickHouse(server.url('features'));
    expect(await copySessionToClickHouse(db, 1, ch)).toBe(1);
    expect(await copySessionToClickHouse(db, 2, ch)).toBe(2);
    expect(await copySessionToClickHouse(db, 3, ch)).toBe(3);
    rows = sessionRows(db, 1, OPTS, { write: false }).rows;
    expect(rows.nRows).toBeGreaterThan(50);
  }, 120_000);
  afterAll(async () => {
    await ch?.close();
    db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('a session has the data key and identity of the same session in an SQLite file, and another session others', async () => {
    const k1 = await storeSessionKey(ch, 1);
    const k2 = await storeSessionKey(ch, 2);
    expect(k1 && k2).toBeTruthy();
    expect(k1!.dataKey).toBe(dataKey(db, getSession(db, 1)!));
    expect(k1!.identity).toEqual(sessionIdentity(db, 1));
    expect(k2!.dataKey).toBe(dataKey(db, getSession(db, 2)!));
    expect(k2!.dataKey).not.toBe(k1!.dataKey);
    expect(await storeSessionKey(ch, 99)).toBeNull();
  });

  it('rows round-trip bit for bit; another feature key, data key or session is a miss', async () => {
    const dKey = (await storeSessionKey(ch, 1))!.dataKey;
    await writeStoreRows(ch, rows, fKey, dKey, 1000);
    same(rows, (await readStoreRows(ch, 1, fKey, dKey))!);
    expect(await readStoreRows(ch, 1, featureKey({ ...OPTS, horizonMs: 10_000 }), dKey)).toBeNull();
    expect(await readStoreRows(ch, 1, fKey, 'x' + dKey.slice(1))).toBeNull();
    expect(await readStoreRows(ch, 2, fKey, dKey)).toBeNull();
  });

  it('a damaged entry is never used: a newer damaged copy falls back to the good one, alone it is a miss', async () => {
    const dKey = (await storeSessionKey(ch, 1))!.dataKey;
    const bad = encodeRows(rows, fKey, dKey);
    const x = Buffer.from(bad.blobs[0]);
    x[5] ^= 1; // one feature value's bit flipped, checksum left as it was
    await insertEntry(
      ch,
      1,
      fKey,
      dKey,
      { ...bad, blobs: [x, bad.blobs[1], bad.blobs[2], bad.blobs[3]] },
      2000,
    );
    same(rows, (await readStoreRows(ch, 1, fKey, dKey))!);

    const k2 = (await storeSessionKey(ch, 2))!.dataKey;
    const other = encodeRows({ ...rows, sessionId: 2 }, fKey, k2);
    await insertEntry(ch, 2, fKey, k2, { ...other, nRows: other.nRows - 1 }, 1000); // sizes that do not match
    expect(await readStoreRows(ch, 2, fKey, k2)).toBeNull();
  });

  it('a session’s entry for newer data replaces those for data it no longer holds, and only those', async () => {
    const count = async (where: string) =>
      Number(
        (
          await queryJson<{ n: string }>(
            ch,
            `SELECT count() AS n FROM ${ch.table('feature_cache')} WHERE ${where}`,
          )
        )[0].n,
      );
    const k2 = (await storeSessionKey(ch, 2))!.dataKey;
    const other = featureKey({ ...OPTS, horizonMs: 10_000 });
    await writeStoreRows(ch, { ...rows, sessionId: 2 }, fKey, 'old-data');
    await writeStoreRows(ch, { ...rows, sessionId: 2 }, other, 'old-data');
    expect(await count(`session = 2 AND data_key = 'old-data'`)).toBe(2);
    await writeStoreRows(ch, { ...rows, sessionId: 2 }, fKey, k2);
    // The mutation runs in the background: the stale entry of the same features goes, the other features' stays.
    const deadline = Date.now() + 20_000;
    while ((await count(`session = 2 AND data_key = 'old-data' AND feature_key = ${lit(fKey)}`)) > 0) {
      if (Date.now() > deadline) throw new Error('the stale entry was not deleted');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await count(`session = 2 AND data_key = 'old-data'`)).toBe(1);
    expect(await readStoreRows(ch, 2, fKey, k2)).not.toBeNull();
    expect(await count('session = 1')).toBeGreaterThan(0);
  });

  it('a store without the table reads as empty, and the first write creates it', async () => {
    const dKey = (await storeSessionKey(ch, 1))!.dataKey;
    await ch.client.command({ query: `DROP TABLE ${ch.table('feature_cache')}` });
    expect(await readStoreRows(ch, 1, fKey, dKey)).toBeNull();
    await writeStoreRows(ch, rows, fKey, dKey);
    same(rows, (await readStoreRows(ch, 1, fKey, dKey))!);
  });

  it('rows built straight from the store are a replay of the same session in SQLite, across pages, with its identity', async () => {
    for (const id of [1, 3]) {
      const info = (await getStoreSession(ch, id))!;
      const seen: number[] = [];
      const b = await buildRowsInStore(ch, info, OPTS, { onProgress: (n) => seen.push(n) });
      same(sessionRows(db, id, OPTS, { write: false }).rows, b.rows);
      expect(b.identity).toEqual(sessionIdentity(db, id));
      expect(b.events).toBe(getSession(db, id)!.messages);
      expect(seen.at(-1)).toBe(b.events);
    }
    expect(getSession(db, 3)!.messages).toBeGreaterThan(2 * 4096);
  });

  it('a training copy holds session records only: rows from the cache or built from the store, stored when asked', async () => {
    const opts = { decisionIntervalMs: 2000, horizonMs: 4000 }; // a feature key no other test stored rows under
    const steps: string[] = [];
    const c1 = await copyForTraining(ch, [1, 3], opts, {
      onStep: (st) => {
        if ('building' in st && st.done) steps.push(`built ${st.sessionId}`);
      },
    });
    try {
      expect([c1.fromCache, c1.built, c1.stored, steps]).toEqual([[], [1, 3], [], ['built 1', 'built 3']]);
      const file = openDb(c1.file, { mustExist: true });
      try {
        // No raw data reached this machine: the file holds the two records, one of them still open.
        expect(file.prepare('SELECT count(*) FROM l2_updates').pluck().get()).toBe(0);
        expect(file.prepare('SELECT count(*) FROM trades').pluck().get()).toBe(0);
        expect(file.prepare('SELECT id, ended_at IS NULL FROM sessions ORDER BY id').raw().all()).toEqual([
          [1, 0],
          [3, 1],
        ]);
      } finally {
        file.close();
      }
      c1.storeFeatures.rows.forEach((r, i) =>
        same(sessionRows(db, [1, 3][i], opts, { write: false }).rows, r),
      );
      expect(c1.storeFeatures.identities).toEqual([sessionIdentity(db, 1), sessionIdentity(db, 3)]);
      expect(c1.storeFeatures.featureKey).toBe(featureKey(opts));
    } finally {
      c1.dispose();
    }
    expect(fs.existsSync(c1.file)).toBe(false);
    // A read-only run stored nothing; a training stores the closed session's rows (the open one changes yet).
    const c2 = await copyForTraining(ch, [1, 3], { ...opts, store: true });
    c2.dispose();
    expect([c2.fromCache, c2.built, c2.stored, c2.storeError]).toEqual([[], [1, 3], [1], null]);
    const c3 = await copyForTraining(ch, [1, 3], opts);
    c3.dispose();
    expect([c3.fromCache, c3.built]).toEqual([[1], [3]]);
    same(sessionRows(db, 1, opts, { write: false }).rows, c3.storeFeatures.rows[0]);
    // Aborted while it builds: it stops and leaves no file behind.
    const tmpRoot = fs.mkdtempSync(path.join(dir, 'abort-'));
    const abort = new AbortController();
    await expect(
      copyForTraining(ch, [3], opts, {
        tmpRoot,
        signal: abort.signal,
        onStep: (st) => {
          if ('building' in st) abort.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(fs.readdirSync(tmpRoot)).toEqual([]);
  });
});
