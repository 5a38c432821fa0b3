// The sessions of a ClickHouse store: create, look up, list, end, patch meta; the counters SQLite keeps in the
// sessions row are computed here from the data tables (one row per id), so a retried insert never inflates them.
// A session row is never updated in place: each change inserts the whole row again with a higher version.
import type { Category } from '../../../src-shared/market.ts';
import type { NewSession, SessionInfo } from '../sessions.ts';
import { claimIds } from './idClaims.ts';
import {
  describeClickHouseError,
  insertJson,
  int,
  lit,
  queryJson,
  type ClickHouseStore,
} from './connection.ts';

interface SessionRow {
  id: string;
  source: string;
  symbol: string;
  category: string;
  depth: number;
  tick_size: string;
  started_at: string;
  ended_at: string | null;
  meta: string;
  seed: string | null;
}

/** The stored fields of a session (without its counters). */
export interface SessionRecord {
  id: number;
  source: string;
  symbol: string;
  category: Category;
  depth: number;
  tickSize: string;
  startedAt: number;
  endedAt: number | null;
  meta: Record<string, unknown>;
  seed: number | null;
}

export interface SessionCounts {
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  firstRecvTs: number | null;
  lastRecvTs: number | null;
}

const EMPTY: SessionCounts = {
  bookMessages: 0,
  tradeMessages: 0,
  trades: 0,
  gaps: 0,
  firstRecvTs: null,
  lastRecvTs: null,
};

let lastVersion = 0;
/** Row versions: microseconds of wall time, strictly increasing within the process. */
export function nextVersion(): number {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1000);
  return lastVersion;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

function toRecord(r: SessionRow): SessionRecord {
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(r.meta) as Record<string, unknown>;
  } catch {
    // a hand-edited meta column is not worth failing a replay for
  }
  return {
    id: Number(r.id),
    source: r.source,
    symbol: r.symbol,
    category: r.category as Category,
    depth: Number(r.depth),
    tickSize: r.tick_size,
    startedAt: Number(r.started_at),
    endedAt: num(r.ended_at),
    meta,
    seed: num(r.seed),
  };
}

async function writeRecord(store: ClickHouseStore, s: SessionRecord): Promise<void> {
  await insertJson(store, store.table('sessions'), [
    {
      id: s.id,
      source: s.source,
      symbol: s.symbol,
      category: s.category,
      depth: s.depth,
      tick_size: s.tickSize,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      meta: JSON.stringify(s.meta),
      seed: s.seed,
      version: nextVersion(),
    },
  ]);
}

/** Latest version of each session matching `where` (SQL over the sessions table), by id. */
async function records(store: ClickHouseStore, where = '1'): Promise<SessionRecord[]> {
  const rows = await queryJson<SessionRow>(
    store,
    `SELECT id, source, symbol, category, depth, tick_size, started_at, ended_at, meta, seed
     FROM ${store.table('sessions')} WHERE ${where} ORDER BY id, version DESC LIMIT 1 BY id`,
  );
  return rows.map(toRecord);
}

/**
 * A new session with the next free id, claimed (idClaims.ts): collectors creating sessions at the same instant,
 * on one machine or several, never share one.
 */
export async function createSession(store: ClickHouseStore, s: NewSession): Promise<number> {
  try {
    const id = await claimIds(store, 'sessions', 1, `SELECT max(id) AS m FROM ${store.table('sessions')}`);
    const metaSeed = s.meta?.seed;
    await writeRecord(store, {
      id,
      source: s.source,
      symbol: s.symbol,
      category: s.category,
      depth: s.depth,
      tickSize: s.tickSize,
      startedAt: s.startedAt,
      endedAt: null,
      meta: s.meta ?? {},
      seed: s.seed ?? (Number.isSafeInteger(metaSeed) ? (metaSeed as number) : null),
    });
    return id;
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}

/** Every session's stored fields (no counters: cheap on any data size), by id. */
export async function sessionRecords(store: ClickHouseStore): Promise<SessionRecord[]> {
  try {
    return await records(store);
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}

export async function getSessionRecord(
  store: ClickHouseStore,
  id: number,
): Promise<SessionRecord | undefined> {
  return (await records(store, `id = ${int(id)}`))[0];
}

/**
 * `FROM table` restricted to committed batches (the rows a reader sees): joined with each session's highest committed
 * id as `w`; the query adds `WHERE id <= w`.
 */
export function committed(
  store: ClickHouseStore,
  table: 'l2_updates' | 'trades' | 'gaps',
  final = false,
): string {
  return `${store.table(table)}${final ? ' FINAL' : ''} ANY INNER JOIN (SELECT session, max(last_id) AS w FROM ${store.table('commits')} GROUP BY session) USING session`;
}

/** The highest id a session's writers have inserted, committed or not (0 when none). */
export async function maxStoredId(store: ClickHouseStore, sessionId: number): Promise<number> {
  const w = `session = ${int(sessionId)}`;
  const [r] = await queryJson<{ m: string }>(
    store,
    `SELECT max(m) AS m FROM (SELECT max(id) AS m FROM ${store.table('l2_updates')} WHERE ${w}
     UNION ALL SELECT max(id) AS m FROM ${store.table('trades')} WHERE ${w}
     UNION ALL SELECT max(version) AS m FROM ${store.table('gaps')} WHERE ${w}
     UNION ALL SELECT max(last_id) AS m FROM ${store.table('commits')} WHERE ${w})`,
  );
  return Number(r?.m ?? 0);
}

/** The highest id of a session's committed batches (0 when none). */
export async function maxCommittedId(store: ClickHouseStore, sessionId: number): Promise<number> {
  const [r] = await queryJson<{ m: string }>(
    store,
    `SELECT max(last_id) AS m FROM ${store.table('commits')} WHERE session = ${int(sessionId)}`,
  );
  return Number(r?.m ?? 0);
}

/**
 * Counters of the given sessions (all when ids is omitted), from the committed rows, one row per id. A retried
 * insert may hold a batch's rows twice until the table merges them (and a prune's checkpoint replaces a row under the
 * same id), so rows are counted through FINAL, which merges copies with the same sorting key (symbol, session, receive
 * time, id) as it reads, in order and in bounded memory. A distinct count of ids did the same with a hash set of every
 * id: over a whole store it ran out of memory at 100M book messages (23 days of one symbol) under a 2 GB query limit,
 * and took 3.4 s per 20M rows against FINAL's 2.4 s. A trade message is counted by its first trade (id = msg_id).
 */
export async function sessionCounts(
  store: ClickHouseStore,
  ids?: number[],
  /** The sessions' symbols, when known: the tables' sorting key starts with the symbol, so FINAL then reads only them. */
  symbols?: string[],
): Promise<Map<number, SessionCounts>> {
  const bySymbol = ids && symbols?.length ? `symbol IN (${symbols.map(lit).join(',')}) AND ` : '';
  const where = `${bySymbol}${ids ? (ids.length ? `session IN (${ids.map(int).join(',')})` : '0') : '1'} AND id <= w`;
  const [books, trades, gaps] = await Promise.all([
    queryJson<{ s: string; n: string; lo: string; hi: string }>(
      store,
      `SELECT session AS s, count() AS n, min(recv_ts) AS lo, max(recv_ts) AS hi
       FROM ${committed(store, 'l2_updates', true)} WHERE ${where} GROUP BY session`,
    ),
    queryJson<{ s: string; msgs: string; n: string; lo: string; hi: string }>(
      store,
      `SELECT session AS s, countIf(id = msg_id) AS msgs, count() AS n, min(recv_ts) AS lo, max(recv_ts) AS hi
       FROM ${committed(store, 'trades', true)} WHERE ${where} GROUP BY session`,
    ),
    // Gaps keep every version of a row (plain MergeTree) and are few: a distinct count.
    queryJson<{ s: string; n: string }>(
      store,
      `SELECT session AS s, uniqExact(id) AS n FROM ${committed(store, 'gaps')} WHERE ${where} GROUP BY session`,
    ),
  ]);
  const out = new Map<number, SessionCounts>();
  const at = (s: string): SessionCounts => {
    const k = Number(s);
    let c = out.get(k);
    if (!c) out.set(k, (c = { ...EMPTY }));
    return c;
  };
  const span = (c: SessionCounts, lo: string, hi: string) => {
    c.firstRecvTs = Math.min(c.firstRecvTs ?? Infinity, Number(lo));
    c.lastRecvTs = Math.max(c.lastRecvTs ?? -Infinity, Number(hi));
  };
  for (const r of books) {
    const c = at(r.s);
    c.bookMessages = Number(r.n);
    span(c, r.lo, r.hi);
  }
  for (const r of trades) {
    const c = at(r.s);
    c.tradeMessages = Number(r.msgs);
    c.trades = Number(r.n);
    span(c, r.lo, r.hi);
  }
  for (const r of gaps) {
    const c = at(r.s);
    c.gaps = Number(r.n);
  }
  return out;
}

function toInfo(r: SessionRecord, c: SessionCounts = EMPTY): SessionInfo {
  return {
    id: r.id,
    source: r.source,
    symbol: r.symbol,
    category: r.category,
    depth: r.depth,
    tickSize: r.tickSize,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    messages: c.bookMessages + c.tradeMessages,
    bookMessages: c.bookMessages,
    tradeMessages: c.tradeMessages,
    trades: c.trades,
    gaps: c.gaps,
    firstRecvTs: c.firstRecvTs,
    lastRecvTs: c.lastRecvTs,
    seed: r.seed,
    meta: r.meta,
  };
}

/** All sessions, oldest first, with their counters (the same shape as the SQLite catalogue's). */
export async function listSessions(store: ClickHouseStore): Promise<SessionInfo[]> {
  try {
    const [recs, counts] = await Promise.all([records(store), sessionCounts(store)]);
    return recs.map((r) => toInfo(r, counts.get(r.id)));
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}

export async function getSession(store: ClickHouseStore, id: number): Promise<SessionInfo | undefined> {
  try {
    const r = await getSessionRecord(store, id);
    if (!r) return undefined;
    return toInfo(r, (await sessionCounts(store, [id], [r.symbol])).get(id));
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}

/** The newest session (highest id), optionally of one symbol. */
export async function latestSession(
  store: ClickHouseStore,
  symbol?: string,
): Promise<SessionInfo | undefined> {
  const recs = await records(store, symbol === undefined ? '1' : `symbol = ${lit(symbol)}`);
  const last = recs.at(-1);
  return last ? getSession(store, last.id) : undefined;
}

/** Rewrites a session's row with changes (a new version). */
export async function updateSessionRecord(
  store: ClickHouseStore,
  id: number,
  change: (r: SessionRecord) => SessionRecord,
): Promise<void> {
  try {
    const cur = await getSessionRecord(store, id);
    if (!cur) throw new Error(`no session ${id}`);
    await writeRecord(store, change(cur));
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}

export function endSession(store: ClickHouseStore, id: number, endedAt: number): Promise<void> {
  return updateSessionRecord(store, id, (r) => ({ ...r, endedAt }));
}

/** Merges keys into the session's meta (health counters, import provenance, ...). */
export function updateSessionMeta(
  store: ClickHouseStore,
  id: number,
  patch: Record<string, unknown>,
): Promise<void> {
  return updateSessionRecord(store, id, (r) => ({ ...r, meta: { ...r.meta, ...patch } }));
}
