// The store of recorded market data behind one interface, whatever holds it: an SQLite file or a ClickHouse database
// (`clickhouse://[USER@]HOST:PORT/DATABASE`): its sessions (record, read, check, prune), where imports and backtests
// write, its runs and its model registry. collect, import, book, db check / quality / prune, export, backtest, runs,
// models and sim calibrate work through it and never branch on the backend (exchange-sim serves a ClickHouse session
// from a temporary SQLite copy: clickhouse/stagedSession.ts). Recording goes through SessionRecorder (its SQLite and
// ClickHouse writers share one set of calls); training, predictions and diagnose read a store through trainingData.ts,
// trade through cli/tradeStore.ts, the app through app/appStore.ts.
import type { StoredSessionData } from '../market/replay/replaySource.ts';
import type { MarketSource } from '../market/source.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import type { CopyStep, StoreRowsParams } from './clickhouse/trainingCopy.ts';
import type { DataIdentity } from '../model/dataIdentity.ts';
import type { ModelDecision, ModelRecord } from '../model/modelRegistry.ts';
import type { Db } from './db.ts';
import type { PruneResult } from './retention.ts';
import { isClickHouseUrl } from './clickhouse/url.ts';
import type { RecorderOptions, SessionRecorder } from './sessionRecorder.ts';
import type { ReadOptions, StoredEvent } from './sessionReader.ts';
import type { SessionInfo, StoreCheckReport } from './sessions.ts';

export interface StorePruneOptions {
  /** Keep this many days of raw data (> 0). */
  days: number;
  /** Reference time (ms). */
  now: number;
  /**
   * Prune as a store partitioned by day does it cheaply (ClickHouse: whole days only, up to a day more kept, and no
   * delete mutation, which would rewrite the day's parts): for a collector pruning as it records. An SQLite file
   * deletes rows cheaply and ignores it.
   */
  wholeDays?: boolean;
}

export interface StorePruneResult extends PruneResult {
  /** What the prune did to the store's space in its own terms (file sizes; day partitions dropped), or ''. */
  space: string;
}

/** Which runs `runs()` loads. */
export interface RunsReadOptions {
  /** Only these runs (default: all). */
  runIds?: readonly number[];
  /** Only the runs table (listing runs needs nothing else). */
  runsOnly?: boolean;
  /** Where to say what was saved on the way (a ClickHouse store first saves runs an earlier process left unsaved). */
  log?: (line: string) => void;
}

/** The model registry kept in a store. */
export interface StoredRegistry {
  /** Every registered model, as the registry lists them. */
  models: ModelRecord[];
  /** Live retraining's champion/challenger decisions, oldest first. */
  decisions: (ModelDecision & { id: number })[];
}

/** Where `import` writes its sessions. */
export interface ImportTarget {
  /** The SQLite database the importer writes (its checks and duplicate detection work on it). */
  readonly db: Db;
  /** db is a staging copy whose sessions `store()` copies into the store; false: db is the store itself. */
  readonly staged: boolean;
  /** Stores a session imported into db; resolves with its id in the store. */
  store(sessionId: number): Promise<number>;
  /** The store's id of a session of db (earlier imports, named by the duplicate check). */
  storedId(sessionId: number): number;
  /** Deletes what was made for the import (a staging copy); the store stays open. */
  dispose(): void;
}

export interface BacktestTargetOptions {
  /** The runs are recorded (and saved into the store at the end when it is not the database recorded in). */
  record: boolean;
  /**
   * Walk-forward: the session's dataset rows for the window models, which a ClickHouse store serves from its feature
   * cache or builds from its data (storing them there when `store` is set); an SQLite file's trainers read the file.
   */
  features?: StoreRowsParams;
  /** Called as a ClickHouse store's rows are read or built (with the store's name, for messages). */
  onStep?: (step: CopyStep, storeName: string) => void;
}

/** Where a backtest of one session records its runs and reads its data. */
export interface BacktestTarget {
  /** The SQLite database the engine records runs in: the file itself, or an in-memory or temporary one. */
  readonly db: Db;
  /** Its path (walk-forward's trainer workers open it). */
  readonly file: string;
  /** The session read from the store a page at a time, when db does not hold it. */
  readonly data?: StoredSessionData;
  /** The session's rows when they come from the store (walk-forward over ClickHouse). */
  readonly storeFeatures?: StoreFeatures;
  /** Saves the recorded runs into the store when db is not the store: their ids there by recorded id (else empty). */
  save(): Promise<Map<number, number>>;
  /** Closes and deletes what was made for the backtest; the store stays open. */
  dispose(): void;
}

/** A session's stored events in arrival order: a generator over SQLite, an async one over ClickHouse. */
export type StoredEvents = Iterable<StoredEvent> | AsyncIterable<StoredEvent>;

export interface SessionStore {
  readonly kind: 'sqlite' | 'clickhouse';
  /** The store as the user named it, any password masked: for messages. */
  readonly name: string;
  /** All sessions, oldest first, with their counters. */
  list(): Promise<SessionInfo[]>;
  get(id: number): Promise<SessionInfo | undefined>;
  /** The newest session (highest id), optionally of one symbol. */
  latest(symbol?: string): Promise<SessionInfo | undefined>;
  /** The session's events in arrival order, the replay every reader shares; throws if there is no such session. */
  read(id: number, opts?: ReadOptions): StoredEvents;
  /** Integrity, counts, sizes, sessions and gaps; a damaged store gives ok = false, not an exception. */
  check(): Promise<StoreCheckReport>;
  /**
   * Deletes raw data received more than `days` before `now`, keeping the snapshot newer data builds on (written at
   * the cutoff first when a session spanning it has none there: pruneCheckpoint.ts). A recorder of the same store
   * goes on writing meanwhile.
   */
  prune(opts: StorePruneOptions): Promise<StorePruneResult>;
  /** Records `source` into a new session of this store, created here before the source starts. */
  record(source: MarketSource, opts: RecorderOptions): Promise<SessionRecorder>;
  /** What identifies session `id`'s data (the in-sample check compares it with a model's training data). */
  identity(id: number): Promise<DataIdentity | null>;
  /** The model registry kept in the store. */
  registry(): Promise<StoredRegistry>;
  /**
   * The store's backtest and paper-trading runs as an SQLite database to read: the file itself, or an in-memory copy
   * of a ClickHouse store's runs. Valid until the store closes (which closes it).
   */
  runs(opts?: RunsReadOptions): Promise<Db>;
  /** Where `import` writes: the file itself, or a staging file whose sessions are then copied into the store. */
  importTarget(): Promise<ImportTarget>;
  /** Where a backtest of `session` records its runs and reads the session (see BacktestTarget). */
  backtestTarget(session: SessionInfo, opts: BacktestTargetOptions): Promise<BacktestTarget>;
  close(): Promise<void>;
}

export interface OpenSessionStoreOptions {
  /** A missing SQLite file or ClickHouse database is an error (default); false creates it. */
  mustExist?: boolean;
  /** SQLite: apply pending migrations (default true); false opens read-only use without writing the schema. */
  migrate?: boolean;
}

/** Opens the store `db` names: a ClickHouse address or an SQLite file. */
export async function openSessionStore(
  db: string,
  opts: OpenSessionStoreOptions = {},
): Promise<SessionStore> {
  const mustExist = opts.mustExist ?? true;
  if (isClickHouseUrl(db)) {
    // Loaded only here: a command on an SQLite file never loads the ClickHouse client.
    const { openClickHouseSessionStore } = await import('./clickhouse/sessionStore.ts');
    return openClickHouseSessionStore(db, { mustExist });
  }
  const { openSqliteSessionStore } = await import('./sqliteSessionStore.ts');
  return openSqliteSessionStore(db, { mustExist, migrate: opts.migrate });
}

/**
 * Feeds a session's events to `step` until it returns false. A synchronous reader is drained synchronously: awaiting
 * each of millions of events would cost a microtask apiece.
 */
export async function eachEvent(
  events: StoredEvents,
  step: (ev: StoredEvent) => boolean | void,
): Promise<void> {
  if (Symbol.asyncIterator in events) {
    for await (const ev of events) if (step(ev) === false) break;
    return;
  }
  for (const ev of events) if (step(ev) === false) break;
}
