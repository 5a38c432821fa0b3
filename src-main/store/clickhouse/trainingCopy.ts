// Training, predictions and diagnose over a ClickHouse store (`--db clickhouse://…`): the trainer's worker reads an
// SQLite file synchronously, so the sessions to learn from go into a temporary SQLite file under their own ids first.
// With the features' parameters (every caller but a walk-forward backtest) the file holds only the sessions' records:
// each session's rows come from the store's feature cache (featureStore.ts) or are built by replaying the session
// straight from the store, page by page, and go to the trainer beside the file (storeFeatures); no raw depth is
// copied to this machine. The rows are the ones a replay of an SQLite copy gives, so training gives the same model as
// on an SQLite store holding the same sessions. Without them the raw data is copied (mirror.ts) for a replay.
// The selection rule is the trainer's (model/dataset.ts sessionSources): the given ids, else every session of the
// newest session's symbol.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetOptions } from '../../model/dataset.ts';
import { featureKey } from '../../model/featureCache.ts';
import type { StoreFeatures } from '../../model/trainPipeline.ts';
import { openDb } from '../db.ts';
import { getSession, sessionRecords } from './catalogue.ts';
import { ClickHouseStoreError, openClickHouse, type ClickHouseStore } from './connection.ts';
import {
  buildRowsInStore,
  readStoreRows,
  sessionKeyOf,
  storeSessionKey,
  writeStoreRows,
} from './featureStore.ts';
import { isClickHouseUrl } from './url.ts';
import { copySessionRecord, copySessionToSqlite } from './mirror.ts';

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
 * What a copy did with one session: read its rows from the store's cache, built them from the store's raw data
 * (`events` read so far; `done` once the rows are built), or copied its raw data (`events` copied so far).
 */
export type CopyStep =
  | { sessionId: number; fromCache: true }
  | { sessionId: number; building: true; events: number; done: boolean }
  | { sessionId: number; copying: true; events: number };

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

export interface CopyOptions {
  /** Called as each session is read (see CopyStep). */
  onStep?: (s: CopyStep) => void;
  tmpRoot?: string;
  /** Aborting stops the copy at its next page; nothing is left behind. */
  signal?: AbortSignal;
  /**
   * The features' parameters. Given, no raw data is copied: each session's rows come from the store's feature cache
   * (a closed session whose entry is current) or are built by replaying the session straight from the store, and the
   * file holds the sessions' records only. Without them, the sessions' raw data is copied (a walk-forward backtest
   * replays it).
   */
  features?: FeatureParams & {
    /** Store the rows built from closed sessions in the store's cache (a training does; a read-only report not). */
    store?: boolean;
  };
}

/** The sessions a training run needs, in a temporary SQLite file (see the header and CopyOptions.features). */
export async function copyForTraining(
  ch: ClickHouseStore,
  sessionIds: readonly number[],
  o: CopyOptions = {},
): Promise<TrainingCopy> {
  const { signal, features, onStep } = o;
  const ids = await trainingSessions(ch, sessionIds);
  const dir = fs.mkdtempSync(path.join(o.tmpRoot ?? os.tmpdir(), 'l2desk-train-'));
  const file = path.join(dir, 'sessions.db');
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const fKey = features ? featureKey(features) : '';
  const out: TrainingCopy = {
    file,
    sessionIds: ids,
    storeFeatures: { featureKey: fKey, rows: [], identities: [] },
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
        signal?.throwIfAborted();
        if (!features) {
          await copySessionToSqlite(
            ch,
            id,
            db,
            (p) => onStep?.({ sessionId: id, copying: true, events: p.events }),
            signal,
          );
          continue;
        }
        const info = await getSession(ch, id);
        if (!info) throw new ClickHouseStoreError(`no session ${id} in ${ch.name}`, ch.name);
        // Only a closed session is cached: an open one is built without reading its edges for a key.
        const key = info.endedAt !== null ? await sessionKeyOf(ch, info) : null;
        const cached = key && (await readStoreRows(ch, id, fKey, key.dataKey));
        if (key && cached) {
          copySessionRecord(ch, key.session, db, { ended: true });
          out.storeFeatures.rows.push(cached);
          out.storeFeatures.identities.push(key.identity);
          out.fromCache.push(id);
          onStep?.({ sessionId: id, fromCache: true });
          continue;
        }
        const b = await buildRowsInStore(ch, key?.session ?? info, features, {
          signal,
          onProgress: (events) => onStep?.({ sessionId: id, building: true, events, done: false }),
        });
        copySessionRecord(ch, key?.session ?? info, db, { ended: key !== null });
        out.storeFeatures.rows.push(b.rows);
        out.storeFeatures.identities.push(key?.identity ?? b.identity);
        out.built.push(id);
        onStep?.({ sessionId: id, building: true, events: b.events, done: true });
        if (key && features.store) {
          try {
            // A session whose data changed in the store meanwhile keeps no entry: the rows are of the old data.
            const now = await storeSessionKey(ch, id);
            if (now && now.dataKey === key.dataKey) {
              await writeStoreRows(ch, b.rows, fKey, key.dataKey);
              out.stored.push(id);
            }
          } catch (e) {
            out.storeError = (e as Error).message;
          }
        }
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

/**
 * For a --db that names a ClickHouse store, its sessions to read in a temporary SQLite file (records only: their rows
 * come from the store's feature cache or are built from the store); else null. Nothing is written to the store.
 */
export async function copyIfClickHouse(
  db: string,
  sessionIds: readonly number[],
  features: FeatureParams,
): Promise<TrainingCopy | null> {
  if (!isClickHouseUrl(db)) return null;
  const ch = await openClickHouse(db, { mustExist: true });
  try {
    return await copyForTraining(ch, sessionIds, { features });
  } finally {
    await ch.close();
  }
}
