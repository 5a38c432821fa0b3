// Training, predictions, diagnose, walk-forward backtests and live retraining on a replay over a ClickHouse store
// (`--db clickhouse://…`) copy no raw data to this machine. Each session's dataset rows come from the store's feature
// cache (featureStore.ts) or are built by replaying the session straight from the store, page by page
// (sessionRowsFromStore); the trainer's worker, which reads an SQLite file synchronously, gets them beside a temporary
// SQLite file of the sessions' records under their own ids (copyForTraining). The rows are the ones a replay of an
// SQLite copy gives, so training gives the same model as on an SQLite store holding the same sessions.
// The selection rule is the trainer's (model/dataset.ts sessionSources): the given ids, else every session of the
// newest session's symbol.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetOptions } from '../../model/dataset.ts';
import { featureKey } from '../../model/featureCache.ts';
import type { DataIdentity } from '../../model/dataIdentity.ts';
import type { SessionRows } from '../../model/featureCache.ts';
import type { StoreFeatures } from '../../model/trainPipeline.ts';
import type { SessionInfo } from '../sessions.ts';
import { openDb } from '../db.ts';
import { getSession, sessionRecords } from './catalogue.ts';
import { ClickHouseStoreError, type ClickHouseStore } from './connection.ts';
import {
  buildRowsInStore,
  readStoreRows,
  sessionKeyOf,
  storeSessionKey,
  writeStoreRows,
} from './featureStore.ts';
import { copySessionRecord } from './mirror.ts';

export interface TrainingCopy {
  /** The temporary SQLite file holding the sessions (or, with features, their records only). */
  file: string;
  /** The sessions to learn from, in order. */
  sessionIds: number[];
  /** Rows and identities of the sessions whose features were read from the store's cache or built from the store. */
  storeFeatures: StoreFeatures;
  /** Sessions whose rows came from the store's feature cache. */
  fromCache: number[];
  /** Sessions whose rows were built from the store's raw data. */
  built: number[];
  /** Of those, the closed ones whose rows this copy stored in the store's feature cache (`features.store`). */
  stored: number[];
  /** Why storing some rows in the store's cache failed (the rows were still used: the cache only saves time). */
  storeError: string | null;
  /** Deletes the file (and its directory). */
  dispose(): void;
}

/** The parameters that change a dataset row (as the trainer's DbDatasetSpec gives them). */
export type FeatureParams = Pick<DatasetOptions, 'decisionIntervalMs' | 'horizonMs' | 'feedLatencyMs'>;

/**
 * What a copy did with one session: read its rows from the store's cache, or built them from the store's raw data
 * (`events` read so far; `done` once the rows are built).
 */
export type CopyStep =
  | { sessionId: number; fromCache: true }
  | { sessionId: number; building: true; events: number; done: boolean };

/** Which sessions a training run over the store learns from (the same rule as for an SQLite store). */
export async function trainingSessions(
  ch: ClickHouseStore,
  sessionIds: readonly number[],
): Promise<number[]> {
  const recs = await sessionRecords(ch);
  if (sessionIds.length > 0) {
    const known = new Set(recs.map((r) => r.id));
    for (const id of sessionIds)
      if (!known.has(id))
        throw new ClickHouseStoreError(
          `session ${id} is not in ${ch.name}; list sessions with \`l2desk db check --db ${ch.name}\``,
          ch.name,
        );
    return [...sessionIds];
  }
  if (recs.length === 0)
    throw new ClickHouseStoreError(
      `${ch.name} holds no sessions; record one with \`l2desk collect\` or \`l2desk import\``,
      ch.name,
    );
  const newest = recs.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
  return recs
    .filter((r) => r.symbol === newest.symbol)
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((r) => r.id);
}

/** The features' parameters, and whether rows built from a closed session go into the store's cache. */
export type StoreRowsParams = FeatureParams & {
  /** Store the rows built from closed sessions in the store's cache (a training does; a read-only report not). */
  store?: boolean;
};

/** One session's rows for a run over the store (sessionRowsFromStore). */
export interface StoreSessionRows {
  /** The session's record (as read with its data key when it is closed). */
  session: SessionInfo;
  rows: SessionRows;
  identity: DataIdentity;
  /** Where the rows came from: the store's feature cache, or a replay of the session's raw data from the store. */
  from: 'cache' | 'built';
  /** True when the rows built here were stored in the store's cache (`store`, a closed session). */
  stored: boolean;
  /** Why storing them failed (they are still good: the cache only saves time). */
  storeError: string | null;
}

/**
 * A session's rows read from the store's feature cache (a closed session whose entry is current), else built by
 * replaying the session straight from the store (featureStore.buildRowsInStore); no raw data reaches this machine.
 */
export async function sessionRowsFromStore(
  ch: ClickHouseStore,
  id: number,
  features: StoreRowsParams,
  o: { signal?: AbortSignal; onStep?: (s: CopyStep) => void } = {},
): Promise<StoreSessionRows> {
  const fKey = featureKey(features);
  const info = await getSession(ch, id);
  if (!info) throw new ClickHouseStoreError(`no session ${id} in ${ch.name}`, ch.name);
  // Only a closed session is cached: an open one is built without reading its edges for a key.
  const key = info.endedAt !== null ? await sessionKeyOf(ch, info) : null;
  const cached = key && (await readStoreRows(ch, id, fKey, key.dataKey));
  if (key && cached) {
    o.onStep?.({ sessionId: id, fromCache: true });
    return {
      session: key.session,
      rows: cached,
      identity: key.identity,
      from: 'cache',
      stored: false,
      storeError: null,
    };
  }
  const session = key?.session ?? info;
  const b = await buildRowsInStore(ch, session, features, {
    signal: o.signal,
    onProgress: (events) => o.onStep?.({ sessionId: id, building: true, events, done: false }),
  });
  o.onStep?.({ sessionId: id, building: true, events: b.events, done: true });
  const out: StoreSessionRows = {
    session,
    rows: b.rows,
    identity: key?.identity ?? b.identity,
    from: 'built',
    stored: false,
    storeError: null,
  };
  if (key && features.store) {
    try {
      // A session whose data changed in the store meanwhile keeps no entry: the rows are of the old data.
      const now = await storeSessionKey(ch, id);
      if (now && now.dataKey === key.dataKey) {
        await writeStoreRows(ch, b.rows, fKey, key.dataKey);
        out.stored = true;
      }
    } catch (e) {
      out.storeError = (e as Error).message;
    }
  }
  return out;
}

export interface CopyOptions {
  /** Called as each session is read (see CopyStep). */
  onStep?: (s: CopyStep) => void;
  tmpRoot?: string;
  /** Aborting stops the copy at its next page; nothing is left behind. */
  signal?: AbortSignal;
}

/**
 * The sessions a training run needs: their rows (sessionRowsFromStore) beside a temporary SQLite file of their
 * records, under their own ids (see the header).
 */
export async function copyForTraining(
  ch: ClickHouseStore,
  sessionIds: readonly number[],
  features: StoreRowsParams,
  o: CopyOptions = {},
): Promise<TrainingCopy> {
  const ids = await trainingSessions(ch, sessionIds);
  const dir = fs.mkdtempSync(path.join(o.tmpRoot ?? os.tmpdir(), 'l2desk-train-'));
  const file = path.join(dir, 'sessions.db');
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const out: TrainingCopy = {
    file,
    sessionIds: ids,
    storeFeatures: { featureKey: featureKey(features), rows: [], identities: [] },
    fromCache: [],
    built: [],
    stored: [],
    storeError: null,
    dispose,
  };
  try {
    const db = openDb(file);
    try {
      for (const id of ids) {
        o.signal?.throwIfAborted();
        const r = await sessionRowsFromStore(ch, id, features, o);
        copySessionRecord(ch, r.session, db, { ended: r.session.endedAt !== null });
        out.storeFeatures.rows.push(r.rows);
        out.storeFeatures.identities.push(r.identity);
        (r.from === 'cache' ? out.fromCache : out.built).push(id);
        if (r.stored) out.stored.push(id);
        out.storeError ??= r.storeError;
      }
    } finally {
      db.close();
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return out;
}

/** A training copy holding no session of the store yet (the caller adds its own sessions to the file). */
export function emptyTrainingCopy(tmpRoot = os.tmpdir()): TrainingCopy {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'l2desk-train-'));
  const file = path.join(dir, 'sessions.db');
  openDb(file).close();
  return {
    file,
    sessionIds: [],
    storeFeatures: { featureKey: '', rows: [], identities: [] },
    fromCache: [],
    built: [],
    stored: [],
    storeError: null,
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
