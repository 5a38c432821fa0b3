// The sessions table: one row per collection or import run, with counters kept by SessionWriter.
import type { Category } from '../../src-shared/market.ts';
import type { Db } from './db.ts';

export interface NewSession {
  /** bybit | sim | replay | import */
  source: string;
  symbol: string;
  category: Category;
  depth: number;
  tickSize: string;
  startedAt: number;
  meta?: Record<string, unknown>;
  /** The simulator's random seed (sim sessions); default: meta.seed when it is an integer, else null. */
  seed?: number | null;
}

export interface SessionInfo {
  id: number;
  source: string;
  symbol: string;
  category: Category;
  depth: number;
  tickSize: string;
  startedAt: number;
  /** null while still collecting, or when the collector died before closing it. */
  endedAt: number | null;
  /** Book + trade messages stored. */
  messages: number;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  /** Local receive-time span of the stored data (ms), null when empty. */
  firstRecvTs: number | null;
  lastRecvTs: number | null;
  /** The simulator's random seed: the same seed repeats the same market path. Null for recorded or imported data. */
  seed: number | null;
  meta: Record<string, unknown>;
}

export function createSession(db: Db, s: NewSession): number {
  const metaSeed = s.meta?.seed;
  const seed = s.seed ?? (Number.isSafeInteger(metaSeed) ? (metaSeed as number) : null);
  const r = db
    .prepare(
      `INSERT INTO sessions (source, symbol, category, depth, tick_size, started_at, meta, seed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      s.source,
      s.symbol,
      s.category,
      s.depth,
      s.tickSize,
      s.startedAt,
      JSON.stringify(s.meta ?? {}),
      seed,
    );
  return Number(r.lastInsertRowid);
}

interface SessionRow {
  id: number;
  source: string;
  symbol: string;
  category: Category;
  depth: number;
  tick_size: string;
  started_at: number;
  ended_at: number | null;
  meta: string;
  book_messages: number;
  trade_messages: number;
  trades: number;
  gaps: number;
  first_recv_ts: number | null;
  last_recv_ts: number | null;
  seed: number | null;
}

function toInfo(r: SessionRow): SessionInfo {
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(r.meta) as Record<string, unknown>;
  } catch {
    // a hand-edited meta column is not worth failing a replay for
  }
  return {
    id: r.id,
    source: r.source,
    symbol: r.symbol,
    category: r.category,
    depth: r.depth,
    tickSize: r.tick_size,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    messages: r.book_messages + r.trade_messages,
    bookMessages: r.book_messages,
    tradeMessages: r.trade_messages,
    trades: r.trades,
    gaps: r.gaps,
    firstRecvTs: r.first_recv_ts,
    lastRecvTs: r.last_recv_ts,
    seed: r.seed ?? null,
    meta,
  };
}

/** All sessions, oldest first. */
export function listSessions(db: Db): SessionInfo[] {
  return (db.prepare('SELECT * FROM sessions ORDER BY id').all() as SessionRow[]).map(toInfo);
}

export function getSession(db: Db, id: number): SessionInfo | undefined {
  const r = db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
  return r ? toInfo(r) : undefined;
}

/** The newest session (highest id), optionally of one symbol. */
export function latestSession(db: Db, symbol?: string): SessionInfo | undefined {
  const r = (
    symbol
      ? db.prepare('SELECT * FROM sessions WHERE symbol = ? ORDER BY id DESC LIMIT 1').get(symbol)
      : db.prepare('SELECT * FROM sessions ORDER BY id DESC LIMIT 1').get()
  ) as SessionRow | undefined;
  return r ? toInfo(r) : undefined;
}

export function endSession(db: Db, id: number, endedAt: number): void {
  db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ?').run(endedAt, id);
}

/** Merges keys into the session's meta JSON (health counters, import provenance, ...). */
export function updateSessionMeta(db: Db, id: number, patch: Record<string, unknown>): void {
  const cur = getSession(db, id);
  if (!cur) return;
  db.prepare('UPDATE sessions SET meta = ? WHERE id = ?').run(JSON.stringify({ ...cur.meta, ...patch }), id);
}

/** What `db check` reports, whichever store it reads (an SQLite file or a ClickHouse database). */
export interface StoreCheckReport {
  file: string;
  integrity: string[];
  ok: boolean;
  /** The file's bytes (SQLite) or the database's active parts on the server's disk (ClickHouse). */
  fileBytes: number;
  walBytes: number;
  schemaVersions: number[];
  tables: Record<string, number>;
  sessions: CheckedSession[];
}

export type CheckedSession = Pick<
  SessionInfo,
  | 'id'
  | 'source'
  | 'symbol'
  | 'category'
  | 'depth'
  | 'tickSize'
  | 'startedAt'
  | 'endedAt'
  | 'firstRecvTs'
  | 'lastRecvTs'
  | 'bookMessages'
  | 'tradeMessages'
  | 'trades'
  | 'gaps'
> & {
  openGaps: number;
  /**
   * Book messages stored as exact doubles because a price or size sat on no decimal grid (store layout v2 keeps
   * them bit for bit, larger); 0 in a ClickHouse store, which keeps every level as a double.
   */
  offGridMessages: number;
};

/** A session's row of the check report, with the gap counts the check found. */
export function checkedSession(
  s: SessionInfo,
  gaps: number,
  openGaps: number,
  offGridMessages = 0,
): CheckedSession {
  return {
    id: s.id,
    source: s.source,
    symbol: s.symbol,
    category: s.category,
    depth: s.depth,
    tickSize: s.tickSize,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    firstRecvTs: s.firstRecvTs,
    lastRecvTs: s.lastRecvTs,
    bookMessages: s.bookMessages,
    tradeMessages: s.tradeMessages,
    trades: s.trades,
    gaps,
    openGaps,
    offGridMessages,
  };
}
