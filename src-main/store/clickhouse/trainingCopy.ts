// `train --db clickhouse://…`: the trainer's worker reads an SQLite file synchronously, so the sessions to learn from
// are copied (mirror.ts, same ids) into a temporary SQLite file first; training on it gives the same dataset, and so
// the same model, as training on an SQLite store holding the same sessions. The selection rule is the trainer's
// (model/dataset.ts sessionSources): the given ids, else every session of the newest session's symbol.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../db.ts';
import { sessionRecords } from './catalogue.ts';
import { ClickHouseStoreError, openClickHouse, type ClickHouseStore } from './connection.ts';
import { isClickHouseUrl } from './url.ts';
import { copySessionToSqlite } from './mirror.ts';

export interface TrainingCopy {
  /** The temporary SQLite file holding the sessions. */
  file: string;
  /** The sessions copied, in the order to learn from them. */
  sessionIds: number[];
  /** Deletes the file (and its directory). */
  dispose(): void;
}

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

/** Copies the sessions a training run needs into a temporary SQLite file. */
export async function copyForTraining(
  ch: ClickHouseStore,
  sessionIds: readonly number[],
  onProgress?: (sessionId: number, events: number) => void,
  tmpRoot = os.tmpdir(),
  /** Aborting stops the copy at its next page; nothing is left behind. */
  signal?: AbortSignal,
): Promise<TrainingCopy> {
  const ids = await trainingSessions(ch, sessionIds);
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'l2desk-train-'));
  const file = path.join(dir, 'sessions.db');
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const db = openDb(file);
    try {
      for (const id of ids) {
        signal?.throwIfAborted();
        await copySessionToSqlite(ch, id, db, (p) => onProgress?.(id, p.events), signal);
      }
    } finally {
      db.close();
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { file, sessionIds: ids, dispose };
}

/** For a --db that names a ClickHouse store, its sessions to read copied into a temporary SQLite file; else null. */
export async function copyIfClickHouse(
  db: string,
  sessionIds: readonly number[],
): Promise<TrainingCopy | null> {
  if (!isClickHouseUrl(db)) return null;
  const ch = await openClickHouse(db, { mustExist: true });
  try {
    return await copyForTraining(ch, sessionIds);
  } finally {
    await ch.close();
  }
}
