// Opens a ClickHouse store: one @clickhouse/client over HTTP, the database and tables created when missing, and
// every failure turned into an error that names the server and says what to do. SQL here is what ClickHouse 18.16
// (Debian's package) and current servers both accept: no query parameters ({x:T} is newer), values are inlined
// through lit()/int(), identifiers come only from the validated URL.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import {
  checkCluster,
  checkLayout,
  clusterTables,
  createOnCluster,
  createTable,
  type ClusterTables,
  missingSomewhere,
  tableEngines,
} from './cluster.ts';
import { SCHEMA } from './schema.ts';
import {
  CLICKHOUSE_PASSWORD_ENV,
  CLICKHOUSE_USER_ENV,
  parseClickHouseUrl,
  type ClickHouseUrl,
} from './url.ts';

export class ClickHouseStoreError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'ClickHouseStoreError';
  }
}

export interface ClickHouseStore {
  readonly url: ClickHouseUrl;
  /** The address as the user gave it (for messages). */
  readonly name: string;
  readonly client: ClickHouseClient;
  /** The cluster the tables are sharded over (`?cluster=NAME`, cluster.ts), or null for one server's store. */
  readonly cluster: string | null;
  /** `database.table`, for SQL (on a cluster, the Distributed table over the shards). */
  table(
    name:
      | 'sessions'
      | 'l2_updates'
      | 'trades'
      | 'gaps'
      | 'commits'
      | 'feature_cache'
      | 'models'
      | 'model_decisions'
      | 'id_claims',
  ): string;
  close(): Promise<void>;
}

export interface OpenClickHouseOptions {
  /** Fail when the database does not exist instead of creating it, and create no tables (commands that only read). */
  mustExist?: boolean;
  /** Per-request timeout (ms). */
  requestTimeoutMs?: number;
}

/** Connects, checks the server answers, and creates the database and tables unless mustExist. */
export async function openClickHouse(
  text: string,
  opts: OpenClickHouseOptions = {},
): Promise<ClickHouseStore> {
  const url = parseClickHouseUrl(text);
  const options = [url.secure ? 'secure=true' : '', url.cluster ? `cluster=${url.cluster}` : ''].filter(
    Boolean,
  );
  const name = `clickhouse://${url.host}:${url.port}/${url.database}${options.length ? `?${options.join('&')}` : ''}`;
  const login = credentials(url);
  const tls = url.secure ? trustedCa(name) : undefined;
  const client = createClient({
    url: url.httpUrl,
    ...(tls ? { tls } : {}),
    ...(login.user !== undefined ? { username: login.user } : {}),
    ...(login.password !== undefined ? { password: login.password } : {}),
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    // A cluster store's guarantees (cluster.ts): inserts wait for the shards, subqueries see the whole cluster.
    ...(url.cluster
      ? { clickhouse_settings: { insert_distributed_sync: 1, distributed_product_mode: 'global' as const } }
      : {}),
    // Errors reach the caller as values; the client's own console logging would duplicate them.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const store: ClickHouseStore = {
    url,
    name,
    client,
    cluster: url.cluster ?? null,
    table: (t) => `${url.database}.${t}`,
    close: () => client.close(),
  };
  try {
    // Bounded: a TLS handshake sent to an HTTP port sometimes gets no answer at all (measured: a 60 s wait).
    const ping = await client.ping({ select: false, abort_signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    if (!ping.success) throw unreachable(name, url, ping.error);
    // /ping needs no login: the first query is where a refused login shows, said as such (18.16 has no EXISTS
    // DATABASE, so its other errors fall back to system.databases).
    const exists = await queryRows(store, `EXISTS DATABASE ${url.database}`).catch((e: unknown) => {
      const refused = loginError(name, login, e);
      if (refused) throw refused;
      return null;
    });
    const has = exists ? exists.trim() === '1' : await databaseListed(store);
    // On a cluster: what every node that answers holds (a node added later may not have the store yet).
    const held = store.cluster ? (await checkCluster(store), await clusterTables(store)) : null;
    if (!(held ? held.database > 0 : has) && opts.mustExist)
      throw new ClickHouseStoreError(
        `no database ${url.database} on the ClickHouse ${held ? `cluster ${store.cluster}` : `server at ${url.httpUrl}`}`,
        name,
      );
    const engines = has ? await tableEngines(store) : new Map<string, string>();
    checkLayout(store, engines, held);
    if (held) await completeCluster(store, held, opts.mustExist === true);
    else if (!opts.mustExist) {
      // A command that only reads (mustExist) creates nothing.
      if (!has) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${url.database}` });
      for (const t of SCHEMA) await createTable(store, t.create(url.database), t.shard);
    }
    return store;
  } catch (e) {
    await client.close().catch(() => undefined);
    throw describeClickHouseError(name, e);
  }
}

/**
 * Creates on a cluster's nodes what they lack, and only that: each ON CLUSTER statement waits for every node. A
 * command that writes creates the store; one that only reads (`readOnly`) creates no new store or table, but still
 * gives a node added to the cluster the tables other nodes hold (the store's Distributed tables send reads there), and
 * goes on without them when its login may not create tables.
 */
async function completeCluster(
  store: ClickHouseStore,
  held: ClusterTables,
  readOnly: boolean,
): Promise<void> {
  const db = store.url.database;
  const wanted = SCHEMA.filter(
    (t) => missingSomewhere(held, t.name) && (!readOnly || (held.tables.get(t.name) ?? 0) > 0),
  );
  if (wanted.length === 0 && (readOnly || held.database >= held.answering)) return;
  try {
    await createOnCluster(
      store,
      held,
      wanted.map((t) => ({ create: t.create(db), shard: t.shard })),
    );
  } catch (e) {
    if (!readOnly) throw e;
  }
}

/** A PEM file of the CA that signed an HTTPS server's certificate, when it is not one the system trusts. */
export const CLICKHOUSE_CA_ENV = 'L2DESK_CLICKHOUSE_CA';

function trustedCa(name: string): { ca_cert: Buffer } | undefined {
  const file = process.env[CLICKHOUSE_CA_ENV]?.trim();
  if (!file) return undefined;
  try {
    return { ca_cert: fs.readFileSync(file) };
  } catch (e) {
    throw new ClickHouseStoreError(
      `${CLICKHOUSE_CA_ENV}=${file}: cannot read the CA certificate for ${name} (${(e as Error).message})`,
      name,
    );
  }
}

/** How long the server may take to answer /ping, which does no work. */
const PING_TIMEOUT_MS = 10_000;

/** Why /ping did not answer, with what to check: the server, the port, HTTP against HTTPS, the certificate. */
function unreachable(name: string, url: ClickHouseUrl, err: Error): ClickHouseStoreError {
  const code = (err as { code?: string }).code ?? '';
  const msg = `${code} ${err.message}`;
  const at = `ClickHouse at ${url.httpUrl}`;
  if (url.secure && /CERT|certificate|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(msg))
    return new ClickHouseStoreError(
      `${at}: its certificate is not trusted (${err.message}). If your own CA signed it, set ${CLICKHOUSE_CA_ENV} to that CA's PEM file`,
      name,
    );
  if (url.secure && /EPROTO|wrong version number|ssl3_get_record|packet length too long/i.test(msg))
    return new ClickHouseStoreError(
      `${at} does not speak HTTPS on port ${url.port}: give its HTTPS port (https_port, often 8443), or drop ?secure=true for its HTTP port`,
      name,
    );
  if (url.secure && /abort|timeout/i.test(msg))
    return new ClickHouseStoreError(
      `${at} did not answer HTTPS on port ${url.port} within ${PING_TIMEOUT_MS / 1000} s: give its HTTPS port (https_port, often 8443; an HTTP port may not answer a TLS handshake at all), or drop ?secure=true for its HTTP port`,
      name,
    );
  if (!url.secure && /ECONNRESET|socket hang up|HPE_|Parse Error/i.test(msg))
    return new ClickHouseStoreError(
      `${at} closed the connection (${err.message}): if ${url.port} is its HTTPS port, add ?secure=true to the address`,
      name,
    );
  return new ClickHouseStoreError(
    `cannot reach ${at} (${err.message}); is the server running and is ${url.port} its ${url.secure ? 'HTTPS' : 'HTTP'} port?`,
    name,
  );
}

interface Login {
  /** undefined: the server's `default` user. */
  user?: string;
  password?: string;
}

function credentials(url: ClickHouseUrl): Login {
  const envUser = process.env[CLICKHOUSE_USER_ENV]?.trim();
  const user = url.user ?? (envUser ? envUser : undefined);
  const password = process.env[CLICKHOUSE_PASSWORD_ENV];
  return {
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined && password !== '' ? { password } : {}),
  };
}

/**
 * The error for a login the server refused (wrong password, unknown user, or a user not allowed from here), naming
 * the user and where the password came from, never the password; null for any other error.
 */
function loginError(name: string, login: Login, e: unknown): ClickHouseStoreError | null {
  const msg = (e as Error)?.message ?? String(e);
  // 18.16: Code 192 (unknown user), 193 (wrong password), 194 (password required), 195 (not allowed from this
  // address); current servers say 516 AUTHENTICATION_FAILED for all of them.
  if (
    !/Code: 19[2-5]\b|Code: 516\b|AUTHENTICATION_FAILED|Wrong password|Password required|Unknown user|Authentication failed/i.test(
      msg,
    )
  )
    return null;
  const who = login.user ?? 'default';
  const pw =
    login.password !== undefined
      ? `the password in ${CLICKHOUSE_PASSWORD_ENV}`
      : `no password (${CLICKHOUSE_PASSWORD_ENV} is not set)`;
  return new ClickHouseStoreError(
    `ClickHouse at ${name} refused the login of user ${who} with ${pw}: a wrong password, an unknown user, or a user not allowed from this address. ` +
      `Name the user in the address (clickhouse://USER@HOST:PORT/DATABASE) or in ${CLICKHOUSE_USER_ENV}, and set ${CLICKHOUSE_PASSWORD_ENV}`,
    name,
  );
}

/** 18.16 has no EXISTS DATABASE: look it up in system.databases. */
async function databaseListed(store: ClickHouseStore): Promise<boolean> {
  const out = await queryRows(
    store,
    `SELECT count() FROM system.databases WHERE name = ${lit(store.url.database)} FORMAT TabSeparated`,
  );
  return out.trim() !== '0';
}

/** Turns a client or server error into a ClickHouseStoreError naming the store. */
export function describeClickHouseError(name: string, e: unknown): ClickHouseStoreError {
  if (e instanceof ClickHouseStoreError) return e;
  const msg = (e as Error)?.message ?? String(e);
  const code = (e as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return new ClickHouseStoreError(`cannot connect to ClickHouse at ${name}: connection refused`, name);
  if (/DistributedDDL|distributed_ddl|ZooKeeper|DDL background thread/i.test(msg))
    return new ClickHouseStoreError(
      `ClickHouse ${name}: ${msg.split('\n')[0]} (a cluster store creates its tables ON CLUSTER: every node needs <zookeeper> and <distributed_ddl> in its config)`,
      name,
    );
  return new ClickHouseStoreError(`ClickHouse ${name}: ${shardDownHint(name, msg.split('\n')[0])}`, name);
}

/**
 * A server's error (first line) as shown; on a cluster store whose shard does not answer (18.16: Code 279, "All
 * connection tries failed"; newer: ALL_CONNECTION_TRIES_FAILED), it says so and what to do.
 */
export function shardDownHint(name: string, line: string): string {
  const cluster = /[?&]cluster=(\w+)/.exec(name)?.[1];
  if (!cluster || !/Code: 279\b|ALL_CONNECTION_TRIES_FAILED|All connection tries failed/i.test(line))
    return line;
  return `${line.replace(/\s*Log:\s*$/, '')} (a node of cluster ${cluster} does not answer: start it; each shard holds part of the store)`;
}

/** Runs a statement whose FORMAT is in the SQL and returns the whole response body. */
export async function queryBytes(store: ClickHouseStore, sql: string): Promise<Buffer> {
  const r = await store.client.exec({ query: sql });
  const chunks: Buffer[] = [];
  for await (const c of r.stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function queryRows(store: ClickHouseStore, sql: string): Promise<string> {
  return (await queryBytes(store, sql)).toString('utf8');
}

/** JSON rows of a query (FORMAT JSONEachRow is appended by the client). */
export async function queryJson<T>(store: ClickHouseStore, sql: string): Promise<T[]> {
  const r = await store.client.query({ query: sql, format: 'JSONEachRow' });
  return r.json<T>();
}

/** INSERT ... FORMAT RowBinary with an encoded body. */
export async function insertRowBinary(
  store: ClickHouseStore,
  table: string,
  columns: string,
  body: Buffer,
): Promise<void> {
  if (body.length === 0) return;
  const r = await store.client.exec({
    query: `INSERT INTO ${table} (${columns}) FORMAT RowBinary`,
    values: Readable.from([body]),
  });
  // Drain the (empty) response so the socket goes back to the pool.
  for await (const _ of r.stream as AsyncIterable<Buffer>) void _;
}

/** A ClickHouse string literal. */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An integer literal; refuses anything that is not a safe integer (nothing else is ever interpolated). */
export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/** INSERT ... FORMAT JSONEachRow of a few rows without floats (sessions: text and integers only). */
export async function insertJson(
  store: ClickHouseStore,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  await store.client.insert({ table, values: rows, format: 'JSONEachRow' });
}
