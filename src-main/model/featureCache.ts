// Per-session feature cache: the dataset rows (features, labels, decision times) of a whole stored session, kept
// in the database (table feature_cache, migration 270) under a feature key — feature set version and names, the
// decision grid, the clock parameters and the label horizon, i.e. everything that changes a row — and the session's
// data fingerprint. A hit skips the raw-depth replay; a changed feature set, clock, horizon or session data misses
// and rebuilds. An entry whose checksum or sizes do not match is never trusted: it is rebuilt and replaced.
import { createHash } from 'node:crypto';
import type { Config } from '../../src-shared/config.ts';
import { DEFAULT_MAX_SILENCE_MS } from '../engine/decisionGrid.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS } from '../features/featureSet.ts';
import type { Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { getSession, type SessionInfo } from '../store/sessions.ts';
import {
  buildDataset,
  DATASET_BUILDER_VERSION,
  type Dataset,
  type DatasetOptions,
  emptyDatasetStats,
  type DatasetStats,
} from './dataset.ts';

/** Events hashed at each end of a session for its fingerprint (beside its stored counters). */
export const EDGE_EVENTS = 32;

/**
 * The parameters that change a dataset row, as the config sets them (features.decision_interval, model.horizon,
 * trading.feed_latency): every builder of rows and every reader of them must agree (featureKey).
 */
export function datasetParamsFromConfig(
  config: Config,
): Pick<DatasetOptions, 'decisionIntervalMs' | 'horizonMs' | 'feedLatencyMs'> {
  return {
    decisionIntervalMs: config.features.decision_interval,
    horizonMs: config.model.horizon,
    feedLatencyMs: config.trading.feed_latency,
  };
}

/** The parameters that change a row, as a stable string (the cache key's feature part). */
export function featureKey(opts: DatasetOptions): string {
  return JSON.stringify({
    builder: DATASET_BUILDER_VERSION,
    featureSet: FEATURE_SET.version,
    names: FEATURE_SET.names,
    decisionIntervalMs: opts.decisionIntervalMs,
    horizonMs: opts.horizonMs,
    feedLatencyMs: opts.feedLatencyMs ?? 0,
    maxSilenceMs: opts.maxSilenceMs ?? DEFAULT_MAX_SILENCE_MS,
    warmupMs: Math.max(opts.warmupMs ?? MAX_LOOKBACK_MS, MAX_LOOKBACK_MS),
  });
}

/**
 * The session's data fingerprint: its stored counters and receive-time span (any append, prune or deletion moves
 * them) and a hash of its first and last events as the reader yields them (content rewritten in place). Cheap:
 * reads 2 × 32 events, never the session.
 */
export function dataKey(db: Db, s: SessionInfo): string {
  return dataKeyOf(
    s,
    readSession(db, s.id),
    s.lastRecvTs === null ? [] : readSession(db, s.id, { fromTs: s.lastRecvTs }),
  );
}

/**
 * dataKey from a session's record, its events from the start (only the first 32 are read) and its events received
 * at its last receive time: the same key whichever store the events come from (a ClickHouse store's cache entries
 * use it too).
 */
export function dataKeyOf(s: SessionInfo, head: Iterable<StoredEvent>, tail: Iterable<StoredEvent>): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      s.id,
      s.symbol,
      s.tickSize,
      s.depth,
      s.messages,
      s.bookMessages,
      s.tradeMessages,
      s.trades,
      s.gaps,
      s.firstRecvTs,
      s.lastRecvTs,
    ]),
  );
  let k = 0;
  for (const ev of head) {
    h.update(JSON.stringify(ev));
    if (++k >= EDGE_EVENTS) break;
  }
  if (s.lastRecvTs !== null) for (const ev of tail) h.update(JSON.stringify(ev));
  return h.digest('hex');
}

/** A session's rows: X, y, ts and labelRecvTs of one session, with the build's stats. */
export interface SessionRows {
  sessionId: number;
  nRows: number;
  nFeatures: number;
  X: Float32Array;
  y: Float32Array;
  ts: Float64Array;
  labelRecvTs: Float64Array;
  stats: DatasetStats;
}

/** The rows of a dataset built from one session only. */
export function rowsOf(ds: Dataset, sessionId: number): SessionRows {
  return {
    sessionId,
    nRows: ds.nRows,
    nFeatures: ds.nFeatures,
    X: ds.X,
    y: ds.y,
    ts: ds.ts,
    labelRecvTs: ds.labelRecvTs,
    stats: ds.stats,
  };
}

interface CacheRow {
  n_rows: number;
  n_features: number;
  x: Buffer;
  y: Buffer;
  ts: Buffer;
  label_recv_ts: Buffer;
  stats: string;
  checksum: string;
}

const bytes = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function checksum(
  sessionId: number,
  fKey: string,
  dKey: string,
  parts: readonly Buffer[],
  stats: string,
): string {
  const h = createHash('sha256').update(`${sessionId}\n${fKey}\n${dKey}\n${stats}\n`);
  for (const p of parts) h.update(String(p.length)).update(p);
  return h.digest('hex');
}

/** A fresh aligned copy of a BLOB as a typed array, or null when its size is not `n` elements. */
function f32(b: Buffer, n: number): Float32Array | null {
  if (b.length !== n * 4) return null;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}
function f64(b: Buffer, n: number): Float64Array | null {
  if (b.length !== n * 8) return null;
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** False on a database opened without migrations (an older file read as it is): no cache there. */
export function hasFeatureCache(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feature_cache'").get() !==
    undefined
  );
}

/** A cache entry as either store keeps it: the arrays as bytes, the stats as JSON, and the checksum over them. */
export interface EncodedRows {
  nRows: number;
  nFeatures: number;
  /** X, y, ts, labelRecvTs. */
  blobs: [Buffer, Buffer, Buffer, Buffer];
  stats: string;
  checksum: string;
}

export function encodeRows(rows: SessionRows, fKey: string, dKey: string): EncodedRows {
  const blobs: EncodedRows['blobs'] = [bytes(rows.X), bytes(rows.y), bytes(rows.ts), bytes(rows.labelRecvTs)];
  const stats = JSON.stringify(rows.stats);
  return {
    nRows: rows.nRows,
    nFeatures: rows.nFeatures,
    blobs,
    stats,
    checksum: checksum(rows.sessionId, fKey, dKey, blobs, stats),
  };
}

/** The rows of an entry read back; null when anything does not match (never trusted: the caller rebuilds). */
export function decodeRows(
  sessionId: number,
  fKey: string,
  dKey: string,
  e: EncodedRows,
): SessionRows | null {
  if (!e.blobs.every((b) => Buffer.isBuffer(b))) return null;
  if (checksum(sessionId, fKey, dKey, e.blobs, e.stats) !== e.checksum) return null;
  const n = e.nRows;
  if (!Number.isSafeInteger(n) || n < 0 || e.nFeatures !== FEATURE_SET.names.length) return null;
  const X = f32(e.blobs[0], n * e.nFeatures);
  const y = f32(e.blobs[1], n);
  const ts = f64(e.blobs[2], n);
  const labelRecvTs = f64(e.blobs[3], n);
  if (!X || !y || !ts || !labelRecvTs) return null;
  let stats: DatasetStats;
  try {
    stats = JSON.parse(e.stats) as DatasetStats;
  } catch {
    return null;
  }
  return { sessionId, nRows: n, nFeatures: e.nFeatures, X, y, ts, labelRecvTs, stats };
}

/** The entry for (session, keys) if it is there and whole; null on a miss or a damaged entry (never trusted). */
export function readCachedRows(db: Db, sessionId: number, fKey: string, dKey: string): SessionRows | null {
  if (!hasFeatureCache(db)) return null;
  const r = db
    .prepare(
      `SELECT n_rows, n_features, x, y, ts, label_recv_ts, stats, checksum FROM feature_cache
       WHERE session_id = ? AND feature_key = ? AND data_key = ?`,
    )
    .get(sessionId, fKey, dKey) as CacheRow | undefined;
  if (!r) return null;
  return decodeRows(sessionId, fKey, dKey, {
    nRows: r.n_rows,
    nFeatures: r.n_features,
    blobs: [r.x, r.y, r.ts, r.label_recv_ts],
    stats: r.stats,
    checksum: r.checksum,
  });
}

/** Options of a cached read: whether a miss stores what it built, and the clock its entry is stamped with. */
export interface CacheWriteOptions {
  /** False: a command that only reads the database (default true). */
  write?: boolean;
  /** Wall-clock time of a stored entry's `built_at` (bookkeeping only; default Date.now). */
  now?: () => number;
  /**
   * Rows of sessions whose raw data is not in this database: read from the cache of the ClickHouse store it was
   * copied from (store/clickhouse/featureStore.ts), with the feature key they were built under. They are used as they
   * are, never looked up or built here; rows built under another key than the read's are refused.
   */
  given?: { featureKey: string; rows: readonly SessionRows[] };
}

/**
 * Stores a session's rows (replacing any entry for the same feature key: older data versions go). False when the
 * database cannot take it now (read-only, busy): the cache is an optimisation, training goes on without it.
 */
export function writeCachedRows(
  db: Db,
  rows: SessionRows,
  fKey: string,
  dKey: string,
  now: () => number = Date.now,
): boolean {
  const e = encodeRows(rows, fKey, dKey);
  try {
    db.prepare(
      `INSERT OR REPLACE INTO feature_cache
         (session_id, feature_key, data_key, n_rows, n_features, x, y, ts, label_recv_ts, stats, checksum, built_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(rows.sessionId, fKey, dKey, e.nRows, e.nFeatures, ...e.blobs, e.stats, e.checksum, now());
    return true;
  } catch {
    return false;
  }
}

/** Drops cached rows (one session's, or all): `l2desk`-independent housekeeping and tests. */
export function clearFeatureCache(db: Db, sessionId?: number): number {
  return sessionId === undefined
    ? db.prepare('DELETE FROM feature_cache').run().changes
    : db.prepare('DELETE FROM feature_cache WHERE session_id = ?').run(sessionId).changes;
}

export interface CachedRowsResult {
  rows: SessionRows;
  /** True when the rows came from the cache (no raw data was replayed). */
  hit: boolean;
}

/**
 * A whole session's rows: from the cache when its entry is current and whole, else built (and stored, unless
 * `write` is false: a command that only reads the database; or the session is still open).
 */
export function sessionRows(
  db: Db,
  sessionId: number,
  opts: DatasetOptions,
  o: CacheWriteOptions = {},
): CachedRowsResult {
  const s = getSession(db, sessionId);
  if (!s) throw new Error(`session ${sessionId} is not in ${db.name}`);
  const fKey = featureKey(opts);
  const dKey = dataKey(db, s);
  const cached = readCachedRows(db, s.id, fKey, dKey);
  if (cached) return { rows: cached, hit: true };
  const ds = buildDataset(
    // reuseLevels: buildDataset copies a message's levels into its book before it takes the next.
    [
      {
        sessionId: s.id,
        tickSize: s.tickSize,
        events: { [Symbol.iterator]: () => readSession(db, s.id, { reuseLevels: true }) },
      },
    ],
    opts,
  );
  const rows = rowsOf(ds, s.id);
  // A session still being written (a recording, the app's live feed) changes before the next read: storing its
  // rows would only cost a write that contends with the recorder's.
  if (o.write !== false && s.endedAt !== null) writeCachedRows(db, rows, fKey, dKey, o.now);
  return { rows, hit: false };
}

/** Sums of two builds' stats (several sessions in one dataset). */
function addStats(a: DatasetStats, b: DatasetStats): DatasetStats {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof DatasetStats)[]) out[k] = a[k] + b[k];
  return out;
}

export interface CachedDatasetResult {
  dataset: Dataset;
  /** Sessions served from the cache, and those built from raw data. */
  hits: number[];
  built: number[];
}

/**
 * The dataset of `sessions` (in order) through the cache, cut to a window of received data exactly as a build from
 * a windowed read would be (trainPipeline.datasetFromDb): rows decided at or after `fromTs` whose label was complete
 * by a message received at or before `toTs`. Stats are those of the whole sessions.
 */
export function cachedDataset(
  db: Db,
  sessions: readonly SessionInfo[],
  opts: DatasetOptions,
  window: { fromTs?: number; toTs?: number } = {},
  o: CacheWriteOptions = {},
): CachedDatasetResult {
  const from = window.fromTs ?? -Infinity;
  const to = window.toTs ?? Infinity;
  const nf = FEATURE_SET.names.length;
  const parts: { rows: SessionRows; keep: number[] }[] = [];
  const hits: number[] = [];
  const built: number[] = [];
  let stats: DatasetStats | null = null;
  let n = 0;
  const givenRows = o.given?.rows ?? [];
  if (givenRows.length > 0 && o.given?.featureKey !== featureKey(opts))
    throw new Error("the store's cached features were built with other parameters than this read's");
  const given = new Map(givenRows.map((r) => [r.sessionId, r]));
  for (const s of sessions) {
    const g = given.get(s.id);
    const { rows, hit } = g ? { rows: g, hit: true } : sessionRows(db, s.id, opts, o);
    (hit ? hits : built).push(s.id);
    stats = stats ? addStats(stats, rows.stats) : { ...rows.stats };
    const keep: number[] = [];
    for (let i = 0; i < rows.nRows; i++) if (rows.ts[i] >= from && rows.labelRecvTs[i] <= to) keep.push(i);
    parts.push({ rows, keep });
    n += keep.length;
  }
  const X = new Float32Array(n * nf);
  const y = new Float32Array(n);
  const ts = new Float64Array(n);
  const session = new Int32Array(n);
  const labelRecvTs = new Float64Array(n);
  let k = 0;
  for (const { rows, keep } of parts) {
    for (const i of keep) {
      X.set(rows.X.subarray(i * nf, i * nf + nf), k * nf);
      y[k] = rows.y[i];
      ts[k] = rows.ts[i];
      session[k] = rows.sessionId;
      labelRecvTs[k] = rows.labelRecvTs[i];
      k++;
    }
  }
  const empty = emptyDatasetStats();
  return {
    dataset: {
      X,
      y,
      ts,
      session,
      labelRecvTs,
      names: FEATURE_SET.names,
      featureSetVersion: FEATURE_SET.version,
      nRows: n,
      nFeatures: nf,
      sessionIds: sessions.map((s) => s.id),
      horizonMs: opts.horizonMs,
      decisionIntervalMs: opts.decisionIntervalMs,
      stats: stats ?? empty,
    },
    hits,
    built,
  };
}
