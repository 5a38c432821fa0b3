// ClickHouse tables of the market-data store, mirroring SQLite's migration 001 (sessions, l2_updates, trades,
// gaps). Data tables are MergeTree partitioned by day and ordered by (symbol, session, time); the ReplacingMergeTree
// engine plus readers that keep one row per id make at-least-once inserts (a batch retried after a lost answer)
// never show a row twice. `id` is the session's arrival counter shared by the three tables (as in SQLite), so id
// order is arrival order. Levels are columns of arrays (prices, sizes) that SQL can query directly. A batch spans
// several inserts (one per table), so it becomes visible only once its row in `commits` is stored: readers stop at
// the session's highest committed id, and a writer killed mid-batch leaves no partial batch behind, as in SQLite.
// feature_cache (featureStore.ts) holds closed sessions' dataset rows for training.

/**
 * How a table's rows are spread over the shards of a cluster store (cluster.ts): an integer expression of its
 * columns, equal for every copy of a row (a retried batch, a prune's checkpoint, a newer version of a row that
 * FINAL or a reader's argMax replaces) so that they meet on one shard.
 */
export type ShardKey = string;
/** Book and trade rows: by session and day, so months of one session spread over the shards. */
export const SHARD_BY_SESSION_DAY: ShardKey = 'cityHash64(session, intDiv(recv_ts, 86400000))';
/** Rows read and pruned per session (commit markers, gaps, cached features). */
export const SHARD_BY_SESSION: ShardKey = 'session';
/** Rows of small tables with an id (sessions, models, decisions, id claims): every version of an id together. */
export const SHARD_BY_ID: ShardKey = 'id';

/**
 * Closed sessions' dataset rows (featureStore.ts); also created on first write, a read-only store may lack it. Plain
 * MergeTree: a Replacing engine could merge a good entry away in favour of a newer damaged one; readers take the
 * newest entry that checks out, and an entry is only written after a miss, so copies stay few.
 */
export const FEATURE_CACHE_DDL = (db: string): string => `CREATE TABLE IF NOT EXISTS ${db}.feature_cache (
    session UInt64,
    feature_key String,
    data_key String,
    n_rows UInt64,
    n_features UInt32,
    x String,
    y String,
    ts String,
    label_recv_ts String,
    stats String,
    checksum String,
    built_at Int64
  ) ENGINE = MergeTree() ORDER BY (session, feature_key, data_key)`;

/** The model registry (modelStore.ts): a model's status changes are new versions of its row. */
export const MODELS_DDL = (db: string): string => `CREATE TABLE IF NOT EXISTS ${db}.models (
    id UInt64,
    path String,
    name String,
    created_at Int64,
    feature_set_version String,
    horizon_ms Int64,
    metrics String,
    params String,
    status String,
    version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY id`;

/** Retraining's champion/challenger decisions (modelStore.ts), ids of the store's models. */
export const MODEL_DECISIONS_DDL = (db: string): string => `CREATE TABLE IF NOT EXISTS ${db}.model_decisions (
    id UInt64,
    decided_at Int64,
    champion_id Nullable(UInt64),
    challenger_id Nullable(UInt64),
    promoted UInt8,
    reason String,
    champion_metrics Nullable(String),
    challenger_metrics Nullable(String),
    eval_from Nullable(Int64),
    eval_to Nullable(Int64)
  ) ENGINE = ReplacingMergeTree() ORDER BY id`;

export interface TableDdl {
  name: string;
  create: (db: string) => string;
  shard: ShardKey;
}

/** CREATE statements for a database; each is idempotent. */
export const SCHEMA: readonly TableDdl[] = [
  // One row per version of a session (created, tick refined, meta patched, ended); readers take the highest version.
  {
    name: 'sessions',
    shard: SHARD_BY_ID,
    create: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sessions (
    id UInt64,
    source String,
    symbol String,
    category String,
    depth UInt32,
    tick_size String,
    started_at Int64,
    ended_at Nullable(Int64),
    meta String,
    seed Nullable(Int64),
    version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
  },
  {
    name: 'l2_updates',
    shard: SHARD_BY_SESSION_DAY,
    create: (db) => `CREATE TABLE IF NOT EXISTS ${db}.l2_updates (
    symbol String,
    session UInt64,
    id UInt64,
    recv_ts Int64,
    ts Int64,
    cts Int64,
    u Int64,
    seq Int64,
    is_snapshot UInt8,
    bid_prices Array(Float64),
    bid_sizes Array(Float64),
    ask_prices Array(Float64),
    ask_sizes Array(Float64)
  ) ENGINE = ReplacingMergeTree()
  PARTITION BY toYYYYMMDD(toDateTime(intDiv(recv_ts, 1000)))
  ORDER BY (symbol, session, recv_ts, id)`,
  },
  // msg_id (the id of the message's first trade) groups the trades of one message, as in SQLite.
  {
    name: 'trades',
    shard: SHARD_BY_SESSION_DAY,
    create: (db) => `CREATE TABLE IF NOT EXISTS ${db}.trades (
    symbol String,
    session UInt64,
    id UInt64,
    msg_id UInt64,
    recv_ts Int64,
    msg_ts Int64,
    ts Int64,
    side String,
    price Float64,
    size Float64,
    trade_id String,
    block_trade UInt8,
    seq Int64
  ) ENGINE = ReplacingMergeTree()
  PARTITION BY toYYYYMMDD(toDateTime(intDiv(recv_ts, 1000)))
  ORDER BY (symbol, session, recv_ts, id)`,
  },
  // One row per stored batch: every row of the session with id <= last_id is stored.
  {
    name: 'commits',
    shard: SHARD_BY_SESSION,
    create: (db) => `CREATE TABLE IF NOT EXISTS ${db}.commits (
    symbol String,
    session UInt64,
    last_id UInt64
  ) ENGINE = MergeTree() ORDER BY (symbol, session, last_id)`,
  },
  // A gap closed later is a second version of its row (end_ts set). version is the id counter's value when the
  // version was written (the row's own id at first), so a version belongs to the batch that holds that id. Plain
  // MergeTree: every version is kept (a Replacing engine would merge away an open gap in favour of a closing version
  // whose batch never committed); readers take the newest committed version of each id.
  {
    name: 'gaps',
    shard: SHARD_BY_SESSION,
    create: (db) => `CREATE TABLE IF NOT EXISTS ${db}.gaps (
    symbol String,
    session UInt64,
    id UInt64,
    reason String,
    start_ts Int64,
    end_ts Nullable(Int64),
    detail String,
    version UInt64
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMMDD(toDateTime(intDiv(start_ts, 1000)))
  ORDER BY (symbol, session, start_ts, id)`,
  },
  { name: 'feature_cache', shard: SHARD_BY_SESSION, create: FEATURE_CACHE_DDL },
  { name: 'models', shard: SHARD_BY_ID, create: MODELS_DDL },
  { name: 'model_decisions', shard: SHARD_BY_ID, create: MODEL_DECISIONS_DDL },
];
