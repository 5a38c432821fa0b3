// A store sharded over a ClickHouse cluster (`?cluster=NAME`, a cluster of the servers' remote_servers config).
// Every table T is a local table T_local on each node plus a Distributed table T over them, both created with
// ON CLUSTER (the servers' distributed_ddl queue, which needs their ZooKeeper). The store reads and writes T, so
// its SQL is the one-server SQL; two settings keep its guarantees (connection.ts):
// - insert_distributed_sync: an insert returns once every row is stored on its shard. Without it the rows wait in
//   the receiving node's queue, so a batch's commit marker could become visible on its shard before the batch.
// - distributed_product_mode = 'global': a subquery of IN or JOIN (the commit markers a reader joins, the saves
//   of the run tables) is run once over the whole cluster, so it sees what a one-server store would see wherever
//   the rows of the outer query live.
// Copies of a row (a retried batch, a prune's checkpoint) have the same sharding key, so they land on one shard
// and FINAL merges them there. Mutations and partition drops go to the local tables, ON CLUSTER.
import { lit, queryJson, type ClickHouseStore } from './connection.ts';
import type { ShardKey } from './schema.ts';

/** Name of the table that holds the rows (the local one on a cluster). */
export function localName(store: ClickHouseStore, name: string): string {
  return store.cluster ? `${name}_local` : name;
}

/** `database.name` of the table that holds the rows. */
export function localTable(store: ClickHouseStore, name: string): string {
  return `${store.url.database}.${localName(store, name)}`;
}

/** ` ON CLUSTER name`, or nothing on one server. */
export function onCluster(store: ClickHouseStore): string {
  return store.cluster ? ` ON CLUSTER ${store.cluster}` : '';
}

/** A system table of every node (`system.parts` of each shard), or of the one server. */
export function systemTable(store: ClickHouseStore, name: 'parts' | 'mutations'): string {
  return store.cluster ? `cluster(${lit(store.cluster)}, system, ${name})` : `system.${name}`;
}

const CREATE_RE = /^\s*CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \(/;

/**
 * The statements that create a table from its one-server CREATE (`CREATE TABLE IF NOT EXISTS db.name (…) ENGINE
 * …`): that statement alone on one server; on a cluster, the local table on every node and the Distributed table
 * over it, sharded by `shardKey`.
 */
export function createTableStatements(store: ClickHouseStore, create: string, shardKey: ShardKey): string[] {
  if (!store.cluster) return [create];
  const m = CREATE_RE.exec(create);
  if (!m)
    throw new Error(
      `createTableStatements: not a CREATE TABLE IF NOT EXISTS db.name (…): ${create.slice(0, 80)}`,
    );
  const [, db, name] = m;
  const c = store.cluster;
  return [
    create.replace(CREATE_RE, `CREATE TABLE IF NOT EXISTS ${db}.${name}_local ON CLUSTER ${c} (`),
    `CREATE TABLE IF NOT EXISTS ${db}.${name} ON CLUSTER ${c} AS ${db}.${name}_local
     ENGINE = Distributed(${c}, ${db}, ${name}_local, ${shardKey})`,
  ];
}

/** Creates a table (and on a cluster its local tables) when missing. */
export async function createTable(store: ClickHouseStore, create: string, shardKey: ShardKey): Promise<void> {
  for (const query of createTableStatements(store, create, shardKey)) await store.client.command({ query });
}

/**
 * What the nodes of a cluster store hold: how many nodes answer, how many of them have the database, and how many
 * have each of its tables. A node that does not answer is left out (skip_unavailable_shards): it holds no rows to
 * read and gets none until it is back, and an ON CLUSTER statement would wait for it.
 */
export interface ClusterTables {
  answering: number;
  database: number;
  tables: Map<string, number>;
  /** An engine other than Distributed that a node's `l2_updates` has (a one-server store there), if any. */
  plainEngine: string | null;
}

export async function clusterTables(store: ClickHouseStore): Promise<ClusterTables> {
  const c = lit(store.cluster as string);
  const db = lit(store.url.database);
  const rows = async <T>(query: string): Promise<T[]> =>
    (
      await store.client.query({
        query,
        format: 'JSONEachRow',
        clickhouse_settings: { skip_unavailable_shards: 1 },
      })
    ).json<T>();
  const [n] = await rows<{ n: string }>(`SELECT count() AS n FROM cluster(${c}, system, one)`);
  const [d] = await rows<{ n: string }>(
    `SELECT count() AS n FROM cluster(${c}, system, databases) WHERE name = ${db}`,
  );
  const t = await rows<{ name: string; n: string; plain: string }>(
    `SELECT name, count() AS n, anyIf(engine, engine != 'Distributed') AS plain
     FROM cluster(${c}, system, tables) WHERE database = ${db} GROUP BY name`,
  );
  return {
    answering: Number(n?.n ?? 0),
    database: Number(d?.n ?? 0),
    tables: new Map(t.map((r) => [r.name, Number(r.n)])),
    plainEngine: t.find((r) => r.name === 'l2_updates')?.plain || null,
  };
}

/** True when a node that answers lacks the table or its local table (a node added to the cluster, say). */
export function missingSomewhere(held: ClusterTables, name: string): boolean {
  return (
    (held.tables.get(name) ?? 0) < held.answering || (held.tables.get(`${name}_local`) ?? 0) < held.answering
  );
}

/** Creates the database on the nodes where it is missing (when one is), then each of `tables` with ON CLUSTER. */
export async function createOnCluster(
  store: ClickHouseStore,
  held: ClusterTables,
  tables: readonly { create: string; shard: ShardKey }[],
): Promise<void> {
  if (held.database < held.answering)
    await store.client.command({
      query: `CREATE DATABASE IF NOT EXISTS ${store.url.database}${onCluster(store)}`,
    });
  for (const t of tables) await createTable(store, t.create, t.shard);
}

/**
 * Creates a table when missing. On a cluster, when missing on any node that answers (a node added later gets the
 * store's tables from the first command that needs them, through whichever node), and not otherwise: an ON CLUSTER
 * statement goes through the servers' DDL queue and waits for every node, even when it has nothing to do.
 */
export async function ensureTable(store: ClickHouseStore, create: string, shard: ShardKey): Promise<void> {
  if (!store.cluster) return createTable(store, create, shard);
  const held = await clusterTables(store);
  if (missingSomewhere(held, CREATE_RE.exec(create)?.[2] ?? ''))
    await createOnCluster(store, held, [{ create, shard }]);
}

/** Adds a column to a table: on a cluster, to the local tables and to the Distributed table over them. */
export async function addColumn(store: ClickHouseStore, name: string, column: string): Promise<void> {
  const db = store.url.database;
  if (store.cluster)
    await store.client.command({
      query: `ALTER TABLE ${db}.${name}_local${onCluster(store)} ADD COLUMN ${column}`,
    });
  await store.client.command({ query: `ALTER TABLE ${db}.${name}${onCluster(store)} ADD COLUMN ${column}` });
}

/** `ALTER TABLE … DELETE WHERE` / `DROP PARTITION` on the table's rows, on every node of a cluster. */
export async function alterRows(store: ClickHouseStore, name: string, clause: string): Promise<void> {
  await store.client.command({
    query: `ALTER TABLE ${localTable(store, name)}${onCluster(store)} ${clause}`,
  });
}

/**
 * Checks that the server knows the cluster, that it is one of its nodes (ON CLUSTER creates the tables on the
 * cluster's nodes only) and that every shard has one replica: the store's tables are not replicated, and a
 * Distributed table would write each row to every replica itself, with no guarantee that they agree.
 */
export async function checkCluster(store: ClickHouseStore): Promise<void> {
  const c = store.cluster as string;
  const rows = await queryJson<{ shard: string; replica: string; host: string; port: string; local: string }>(
    store,
    `SELECT toString(shard_num) AS shard, toString(replica_num) AS replica, host_name AS host, toString(port) AS port,
            toString(is_local) AS local
     FROM system.clusters WHERE cluster = ${lit(c)} ORDER BY shard, replica`,
  );
  const where = `the ClickHouse server at ${store.url.httpUrl}`;
  if (rows.length === 0) {
    const names = await queryJson<{ c: string }>(
      store,
      'SELECT DISTINCT cluster AS c FROM system.clusters ORDER BY c',
    );
    throw new Error(
      `${where} has no cluster ${c} in its remote_servers config` +
        (names.length ? ` (it has: ${names.map((r) => r.c).join(', ')})` : ' (it has none)'),
    );
  }
  if (!rows.some((r) => r.local === '1'))
    throw new Error(
      `${where} is not a node of cluster ${c}: connect to one of its nodes (${rows.map((r) => `${r.host}, native port ${r.port}`).join('; ')}), whose tables ON CLUSTER creates`,
    );
  const replicated = rows.find((r) => r.replica !== '1');
  if (replicated)
    throw new Error(
      `cluster ${c} has more than one replica in shard ${replicated.shard}: the store shards its tables over a cluster ` +
        'of one replica per shard, and does not replicate them (see docs/data.md)',
    );
}

/** Engine of each of the database's tables, by name (`Distributed` for a cluster store's tables). */
export async function tableEngines(store: ClickHouseStore): Promise<Map<string, string>> {
  const rows = await queryJson<{ name: string; engine: string; full: string }>(
    store,
    `SELECT name, engine, engine_full AS full FROM system.tables WHERE database = ${lit(store.url.database)}`,
  );
  return new Map(rows.map((r) => [r.name, r.engine === 'Distributed' ? r.full : r.engine]));
}

/**
 * Refuses a store opened the other way than it was created: a one-server store's tables named with `?cluster=`
 * (there are no local tables to shard), or a cluster store's Distributed tables without it (writes would not
 * wait for the shards and the commit markers would be read per shard). Checked on `l2_updates`, which every store
 * has.
 */
export function checkLayout(
  store: ClickHouseStore,
  engines: Map<string, string>,
  held: ClusterTables | null = null,
): void {
  // On a cluster, a one-server store on any node counts, not only on the node named.
  const engine = held?.plainEngine ?? engines.get('l2_updates');
  if (engine === undefined) return;
  const distributed = /^Distributed\(\s*'?(\w+)'?/.exec(engine);
  if (store.cluster && !distributed)
    throw new Error(
      `database ${store.url.database} holds a store of one server (its tables are ${engine}), not one sharded over cluster ${store.cluster}: ` +
        `drop ?cluster=${store.cluster} from the address, or give the cluster store a database of its own`,
    );
  if (!store.cluster && distributed)
    throw new Error(
      `database ${store.url.database} holds a store sharded over cluster ${distributed[1]}: add ?cluster=${distributed[1]} to the address`,
    );
  if (store.cluster && distributed && distributed[1] !== store.cluster)
    throw new Error(
      `database ${store.url.database} holds a store sharded over cluster ${distributed[1]}, not ${store.cluster}: use ?cluster=${distributed[1]}`,
    );
}
