// `--db clickhouse://[USER@]HOST:PORT/DATABASE[?secure=true][&cluster=NAME]`: the one place that tells a ClickHouse store from an
// SQLite file and parses its address (the HTTP interface, 8123 by default on a server, or with secure=true the HTTPS
// one; the port is required to avoid guessing).
// A password never goes in the address: it would show in the process list, the shell's history and every message
// that names the store. It comes from the environment (connection.ts).

/** Environment variables a ClickHouse login comes from (a user named in the address wins over the first). */
export const CLICKHOUSE_USER_ENV = 'L2DESK_CLICKHOUSE_USER';
export const CLICKHOUSE_PASSWORD_ENV = 'L2DESK_CLICKHOUSE_PASSWORD';

export interface ClickHouseUrl {
  host: string;
  port: number;
  database: string;
  /** The user named in the address (USER@HOST), if any. */
  user?: string;
  /** HTTPS (`?secure=true`): the server's HTTPS port, its certificate checked. */
  secure: boolean;
  /**
   * `?cluster=NAME`: the store's tables are spread over the shards of that cluster of the server's config
   * (`remote_servers`), created on every node with ON CLUSTER, and read and written through Distributed tables.
   */
  cluster?: string;
  /** http://HOST:PORT (https:// when secure) for @clickhouse/client. */
  httpUrl: string;
}

export class ClickHouseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClickHouseUrlError';
  }
}

const FORM =
  "clickhouse://[USER@]HOST:PORT/DATABASE[?secure=true][&cluster=NAME] (the HTTP port, e.g. clickhouse://127.0.0.1:8123/l2desk; the HTTPS port with ?secure=true; a sharded cluster of the server's config with cluster=NAME)";
/** ClickHouse user names as the address may carry them. */
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** ClickHouse identifiers the store interpolates into SQL: letters, digits, underscore, not starting with a digit. */
const DATABASE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/** True when a --db value names a ClickHouse store rather than an SQLite file (any case of the scheme). */
export function isClickHouseUrl(db: string): boolean {
  return /^clickhouse:/i.test(db.trim());
}

/** The address as it may be shown: a password someone put in it anyway is masked. */
export function redactClickHouseUrl(text: string): string {
  // Up to the last @ of the whole text: a password may hold / ? or #, which end the address's authority part.
  const m = /^(\s*clickhouse:\/\/[^/?#@:]*):.*@/i.exec(text);
  return m ? `${m[1]}:***@${text.slice(m[0].length)}` : text;
}

/**
 * Parses clickhouse://[USER@]HOST:PORT/DATABASE[?secure=true][&cluster=NAME]; anything else is refused with a message that shows the expected form
 * (and never a password).
 */
export function parseClickHouseUrl(text: string): ClickHouseUrl {
  const s = text.trim();
  const bad = (why: string) =>
    new ClickHouseUrlError(`--db ${JSON.stringify(redactClickHouseUrl(text))}: ${why}; expected ${FORM}`);
  // Before anything else: any later message would quote the address, and a password may hold / ? or #, which
  // would otherwise split it into other parts of the address.
  if (redactClickHouseUrl(s) !== s)
    throw bad(
      `a password does not go in the address (it would show in the process list and in messages); set ${CLICKHOUSE_PASSWORD_ENV} instead`,
    );
  const m = /^clickhouse:\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i.exec(s);
  if (!m) throw bad(isClickHouseUrl(s) ? 'not a clickhouse:// address' : 'not a ClickHouse address');
  const [, authority, pathPart, query, fragment] = m;
  if (fragment) throw bad('a fragment (#…) is not part of a ClickHouse address');
  let secure = false;
  let cluster: string | undefined;
  for (const part of (query ?? '').slice(1).split('&')) {
    if (part === '') continue;
    const [key, value] = part.split('=', 2);
    const k = key.toLowerCase();
    if (k === 'secure') {
      if (!/^(true|1|false|0)$/i.test(value ?? '')) throw bad(`"${part}": secure is true or false`);
      secure = /^(true|1)$/i.test(value);
    } else if (k === 'cluster') {
      if (!DATABASE_RE.test(value ?? ''))
        throw bad(`"${part}": the cluster is a name of the server's remote_servers (letters, digits and _)`);
      cluster = value;
    } else throw bad(`"${part}": the options of the address are secure=true (HTTPS) and cluster=NAME`);
  }
  const at = authority.lastIndexOf('@');
  const userPart = at >= 0 ? authority.slice(0, at) : undefined;
  if (userPart !== undefined && !USER_RE.test(userPart))
    throw bad(`"${userPart}" is not a user name (letters, digits, _ . -)`);
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority.slice(at + 1)) as RegExpExecArray;
  const host = hp[1];
  const portText = hp[2];
  if (!host) throw bad('the host is missing');
  if (!HOST_RE.test(host)) throw bad(`"${host}" is not a host name or IP address`);
  if (portText === undefined || portText === '') throw bad('the port is missing');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    throw bad(`"${portText}" is not a port (1-65535)`);
  const port = Number(portText);
  const database = (pathPart ?? '').replace(/^\//, '');
  if (!database) throw bad('the database name is missing');
  if (!DATABASE_RE.test(database))
    throw bad(`"${database}" is not a database name (letters, digits and _, not starting with a digit)`);
  return {
    host,
    port,
    database,
    ...(userPart !== undefined ? { user: userPart } : {}),
    secure,
    ...(cluster !== undefined ? { cluster } : {}),
    httpUrl: `${secure ? 'https' : 'http'}://${host}:${port}`,
  };
}
