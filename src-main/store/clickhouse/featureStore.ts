// The feature cache of a ClickHouse store: a session's dataset rows kept in the store (table feature_cache) under the
// same feature key and the same kind of data key as an SQLite file's cache (model/featureCache.ts), so that training
// on the store reads a closed session's rows instead of copying its raw depth to this machine and replaying it.
// An entry is checked as the SQLite one is (sizes and a checksum over everything) and never trusted otherwise: a
// damaged or stale entry is a miss, the session is copied and rebuilt, and the fresh rows are stored again.
import {
  FINGERPRINT_MESSAGES,
  fingerprintOf,
  identityOf,
  type DataIdentity,
} from '../../model/dataIdentity.ts';
import { DatasetBuilder, type DatasetOptions } from '../../model/dataset.ts';
import {
  dataKeyOf,
  decodeRows,
  EDGE_EVENTS,
  encodeRows,
  rowsOf,
  type EncodedRows,
  type SessionRows,
} from '../../model/featureCache.ts';
import type { StoredEvent } from '../sessionReader.ts';
import type { SessionInfo } from '../sessions.ts';
import { getSession } from './catalogue.ts';
import {
  describeClickHouseError,
  insertRowBinary,
  int,
  lit,
  queryBytes,
  type ClickHouseStore,
} from './connection.ts';
import { readSession, readSessionPages } from './reader.ts';
import { alterRows, ensureTable } from './cluster.ts';
import { FEATURE_CACHE_DDL, SHARD_BY_SESSION } from './schema.ts';
import { RowBinaryReader, RowBinaryWriter } from './rowBinary.ts';

const COLUMNS =
  'session, feature_key, data_key, n_rows, n_features, x, y, ts, label_recv_ts, stats, checksum, built_at';

/** At most this many of a session's first events are held to hash them (the fingerprint's 2000 messages). */
async function firstEvents(ch: ClickHouseStore, id: number, n: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let messages = 0;
  for await (const ev of readSession(ch, id)) {
    out.push(ev);
    if (ev.kind !== 'gap') messages++;
    if (out.length >= EDGE_EVENTS && messages >= n) break;
  }
  return out;
}

async function allEvents(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

/** What a training run needs to know of a session to use its cached rows: its data key and identity. */
export interface StoreSessionKey {
  session: SessionInfo;
  dataKey: string;
  identity: DataIdentity;
}

/** The data key (model/featureCache.ts dataKeyOf) and identity (dataIdentity.ts) of a store's session. */
export async function storeSessionKey(ch: ClickHouseStore, id: number): Promise<StoreSessionKey | null> {
  const s = await getSession(ch, id);
  return s ? sessionKeyOf(ch, s) : null;
}

/** storeSessionKey of a session whose record the caller has read already. */
export async function sessionKeyOf(ch: ClickHouseStore, s: SessionInfo): Promise<StoreSessionKey> {
  const head = await firstEvents(ch, s.id, FINGERPRINT_MESSAGES);
  const tail = s.lastRecvTs === null ? [] : await allEvents(readSession(ch, s.id, { fromTs: s.lastRecvTs }));
  return { session: s, dataKey: dataKeyOf(s, head, tail), identity: identityOf(s, fingerprintOf(head)) };
}

/** A session's rows built from the store's raw data (buildRowsInStore), with the identity of that data. */
export interface BuiltRows {
  rows: SessionRows;
  identity: DataIdentity;
  events: number;
}

/**
 * Builds a session's rows by replaying its raw data page by page straight from the store (DatasetBuilder: the rows a
 * replay of an SQLite copy gives), so a training, predictions or diagnose run needs no local copy of the depth. It
 * awaits between pages, so a caller on an event loop (the app's engine) keeps running.
 */
export async function buildRowsInStore(
  ch: ClickHouseStore,
  s: SessionInfo,
  opts: DatasetOptions,
  o: { signal?: AbortSignal; onProgress?: (events: number) => void } = {},
): Promise<BuiltRows> {
  const b = new DatasetBuilder(opts);
  b.begin({ sessionId: s.id, tickSize: s.tickSize });
  // The identity hashes the first messages: held while they pass, as a copy would have stored them.
  const head: StoredEvent[] = [];
  let messages = 0;
  let events = 0;
  for await (const page of readSessionPages(ch, s.id)) {
    o.signal?.throwIfAborted();
    for (const ev of page) {
      if (messages < FINGERPRINT_MESSAGES) {
        head.push(ev);
        if (ev.kind !== 'gap') messages++;
      }
      b.push(ev);
    }
    events += page.length;
    o.onProgress?.(events);
  }
  return { rows: rowsOf(b.finish(), s.id), identity: identityOf(s, fingerprintOf(head)), events };
}

/** What a store's session is (dataIdentity.ts), as sessionIdentity gives it for an SQLite file holding it. */
export async function storeIdentity(ch: ClickHouseStore, s: SessionInfo): Promise<DataIdentity> {
  return identityOf(s, fingerprintOf(await firstEvents(ch, s.id, FINGERPRINT_MESSAGES)));
}

/** True when the server says the table is not there (a store created before the cache, opened read-only). */
function missingTable(e: unknown): boolean {
  return /UNKNOWN_TABLE|doesn't exist|Code: 60\b/i.test(String((e as Error)?.message ?? e));
}

/** The rows of (session, keys) if the store holds a whole entry; null on a miss or a damaged entry. */
export async function readStoreRows(
  ch: ClickHouseStore,
  sessionId: number,
  fKey: string,
  dKey: string,
): Promise<SessionRows | null> {
  let body: Buffer;
  try {
    body = await queryBytes(
      ch,
      `SELECT n_rows, n_features, x, y, ts, label_recv_ts, stats, checksum FROM ${ch.table('feature_cache')}
       WHERE session = ${int(sessionId)} AND feature_key = ${lit(fKey)} AND data_key = ${lit(dKey)}
       ORDER BY built_at DESC LIMIT 3 FORMAT RowBinary`,
    );
  } catch (e) {
    if (missingTable(e)) return null;
    throw describeClickHouseError(ch.name, e);
  }
  // A damaged entry is followed by the good one written after it was found: the newest that checks out wins.
  const r = new RowBinaryReader(body);
  try {
    while (!r.done) {
      const nRows = r.uint64();
      const nFeatures = r.uint32();
      const blobs: [Buffer, Buffer, Buffer, Buffer] = [r.bytes(), r.bytes(), r.bytes(), r.bytes()];
      const stats = r.string();
      const checksum = r.string();
      const rows = decodeRows(sessionId, fKey, dKey, { nRows, nFeatures, blobs, stats, checksum });
      if (rows) return rows;
    }
  } catch {
    // A body cut short or garbled: a miss, rebuilt from the raw data like any damaged entry.
  }
  return null;
}

/**
 * Stores a session's rows in the store's cache (creating the table on a store that predates it), and deletes the
 * session's entries for the same features built on data it no longer holds (pruned or rewritten since): nothing
 * would ever read them again. The deletion is a ClickHouse mutation, applied in the background; if the server
 * refuses it, the entries only cost space.
 */
export async function writeStoreRows(
  ch: ClickHouseStore,
  rows: SessionRows,
  fKey: string,
  dKey: string,
  now = Date.now(),
): Promise<void> {
  await insertEntry(ch, rows.sessionId, fKey, dKey, encodeRows(rows, fKey, dKey), now);
  await alterRows(
    ch,
    'feature_cache',
    `DELETE WHERE session = ${int(rows.sessionId)} AND feature_key = ${lit(fKey)} AND data_key != ${lit(dKey)}`,
  ).catch(() => undefined);
}

/** One entry as encoded (writeStoreRows; tests store damaged ones through it). */
export async function insertEntry(
  ch: ClickHouseStore,
  sessionId: number,
  fKey: string,
  dKey: string,
  e: EncodedRows,
  builtAt: number,
): Promise<void> {
  const w = new RowBinaryWriter();
  w.uint64(sessionId);
  w.string(fKey);
  w.string(dKey);
  w.uint64(e.nRows);
  w.uint32(e.nFeatures);
  for (const b of e.blobs) w.bytes(b);
  w.string(e.stats);
  w.string(e.checksum);
  w.int64(builtAt);
  await ensureTable(ch, FEATURE_CACHE_DDL(ch.url.database), SHARD_BY_SESSION);
  await insertRowBinary(ch, ch.table('feature_cache'), COLUMNS, w.toBuffer());
}
