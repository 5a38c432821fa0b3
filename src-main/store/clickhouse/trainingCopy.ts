// `train --db clickhouse://…`: the trainer's worker reads an SQLite file synchronously, so the sessions to learn from
// are copied (mirror.ts, same ids) into a temporary SQLite file first; training on it gives the same dataset, and so
// the same model, as training on an SQLite store holding the same sessions. The selection rule is the trainer's
// (model/dataset.ts sessionSources): the given ids, else every session of the newest session's symbol.
// With the features' parameters given, a closed session whose rows the store's feature cache holds (featureStore.ts)
// is not copied: only its record goes into the file, its rows and identity go to the trainer beside it
// (storeFeatures), and after training saveFeatures() stores the rows built from the sessions that were copied.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetOptions } from '../../model/dataset.ts';
import { dataKey, featureKey, readCachedRows } from '../../model/featureCache.ts';
import type { StoreFeatures } from '../../model/trainPipeline.ts';
import { openDb } from '../db.ts';
import { getSession as getSqliteSession } from '../sessions.ts';
import { getSession, sessionRecords } from './catalogue.ts';
import { ClickHouseStoreError, openClickHouse, type ClickHouseStore } from './connection.ts';
import { readStoreRows, sessionKeyOf, storeSessionKey, writeStoreRows } from './featureStore.ts';
import { isClickHouseUrl } from './url.ts';
import { copySessionRecord, copySessionToSqlite } from './mirror.ts';

export interface TrainingCopy {
  /** The temporary SQLite file holding the sessions. */
  file: string;
  /** The sessions to learn from, in order (copied, or read from the store's feature cache). */
  sessionIds: number[];
  /** Sessions whose rows came from the store's feature cache: the file holds their records only. */
  storeFeatures: StoreFeatures;
  /**
   * Stores in the store's feature cache the rows the trainer built (and kept in the file) for the closed sessions
   * that were copied, if their data did not change meanwhile; returns their ids. Failures are the caller's to report:
   * the cache only saves time.
   */
  saveFeatures(ch: ClickHouseStore): Promise<number[]>;
  /** Deletes the file (and its directory). */
  dispose(): void;
}

/** The parameters that change a dataset row (as the trainer's DbDatasetSpec gives them). */
export type FeatureParams = Pick<DatasetOptions, 'decisionIntervalMs' | 'horizonMs' | 'feedLatencyMs'>;

/** What a copy did with one session: read its rows from the store's cache, or copied its raw data. */
export type CopyStep = { sessionId: number; events: number } | { sessionId: number; fromCache: true };

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

/**
 * Copies the sessions a training run needs into a temporary SQLite file. With `features`, closed sessions whose rows
 * the store's feature cache holds for those parameters are not copied (see the header).
 */
export async function copyForTraining(
  ch: ClickHouseStore,
  sessionIds: readonly number[],
  onProgress?: (sessionId: number, events: number) => void,
  tmpRoot = os.tmpdir(),
  /** Aborting stops the copy at its next page; nothing is left behind. */
  signal?: AbortSignal,
  features?: FeatureParams & { onStep?: (s: CopyStep) => void },
): Promise<TrainingCopy> {
  const ids = await trainingSessions(ch, sessionIds);
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'l2desk-train-'));
  const file = path.join(dir, 'sessions.db');
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const fKey = features ? featureKey(features) : '';
  const storeFeatures: StoreFeatures = { featureKey: fKey, rows: [], identities: [] };
  /** Copied closed sessions and their data keys in the store before the copy. */
  const copied: { id: number; dataKey: string }[] = [];
  try {
    const db = openDb(file);
    try {
      for (const id of ids) {
        signal?.throwIfAborted();
        // Only a closed session is cached: an open one is copied without reading its edges for a key.
        const info = features ? await getSession(ch, id) : undefined;
        const key = info && info.endedAt !== null ? await sessionKeyOf(ch, info) : null;
        if (key) {
          const rows = await readStoreRows(ch, id, fKey, key.dataKey);
          if (rows) {
            copySessionRecord(ch, key.session, db, { ended: true });
            storeFeatures.rows.push(rows);
            storeFeatures.identities.push(key.identity);
            features?.onStep?.({ sessionId: id, fromCache: true });
            continue;
          }
          copied.push({ id, dataKey: key.dataKey });
        }
        let events = 0;
        await copySessionToSqlite(
          ch,
          id,
          db,
          (p) => {
            events = p.events;
            onProgress?.(id, p.events);
          },
          signal,
        );
        features?.onStep?.({ sessionId: id, events });
      }
    } finally {
      db.close();
    }
  } catch (e) {
    dispose();
    throw e;
  }
  const saveFeatures = async (store: ClickHouseStore): Promise<number[]> => {
    if (!features || copied.length === 0 || !fs.existsSync(file)) return [];
    const saved: number[] = [];
    const db = openDb(file, { mustExist: true });
    try {
      for (const c of copied) {
        const s = getSqliteSession(db, c.id);
        const rows = s && readCachedRows(db, c.id, fKey, dataKey(db, s));
        if (!rows) continue; // the trainer did not keep them (a failed run, a read-only file)
        // A session whose data changed in the store since the copy keeps no entry: the rows are of the old data.
        const now = await storeSessionKey(store, c.id);
        if (!now || now.dataKey !== c.dataKey) continue;
        await writeStoreRows(store, rows, fKey, c.dataKey);
        saved.push(c.id);
      }
    } finally {
      db.close();
    }
    return saved;
  };
  return { file, sessionIds: ids, storeFeatures, saveFeatures, dispose };
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
    saveFeatures: () => Promise.resolve([]),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** For a --db that names a ClickHouse store, its sessions to read copied into a temporary SQLite file; else null. */
export async function copyIfClickHouse(
  db: string,
  sessionIds: readonly number[],
  /** The features' parameters: closed sessions whose rows the store's cache holds for them are not copied. */
  features?: FeatureParams,
): Promise<TrainingCopy | null> {
  if (!isClickHouseUrl(db)) return null;
  const ch = await openClickHouse(db, { mustExist: true });
  try {
    return await copyForTraining(ch, sessionIds, undefined, undefined, undefined, features);
  } finally {
    await ch.close();
  }
}
