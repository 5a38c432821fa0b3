// Replays a stored session in original arrival order: book messages, trade messages and gaps merged on
// their shared id. Streams in pages (keyset on id), so memory stays flat on any session size and the
// connection is free between pages (a consumer may write to the same database while replaying).
// Reads store layout v2 (one packed value of stamps, ticks and lots per message: tickLevelCodec.ts), and v1 in
// a file opened without migrating (db check, db quality).
import type { Gap, GapReason, MarketMessage, Side, Trade } from '../../src-shared/market.ts';
import type Database from 'better-sqlite3';
import { DbError, type Db } from './db.ts';
import { decodeLevels } from './levelCodec.ts';
import { getSession, type SessionInfo } from './sessions.ts';
import { LevelLists } from './tickLevelCodec.ts';

export type StoredEvent = MarketMessage | { kind: 'gap'; gap: Gap };

export interface ReadOptions {
  /** Only data received at or after this local time (ms, recv_ts). */
  fromTs?: number;
  /** Only data received at or before this local time (ms, recv_ts). */
  toTs?: number;
  /**
   * Start at this row id (e.g. a stored snapshot's, found by the caller), rows of every kind included: unlike
   * fromTs it cannot take in a trade received in the same millisecond just before that row.
   */
  fromId?: number;
  /** End at this row id, rows of every kind included (a follower of a growing session reads up to where it stops). */
  toId?: number;
  /** Rows fetched per query (tests use small pages to cross page boundaries). */
  pageSize?: number;
  /**
   * Decode book levels into arrays and [price, size] tuples owned by the reader and overwritten by the next book
   * message: no allocation per level. Only for a consumer that is done with a message's levels (copied them into
   * a book, say) before it pulls the next event (replay, backtest, dataset); others get fresh levels.
   */
  reuseLevels?: boolean;
}

type Layout = 'v1' | 'v2';

/** Which book row layout the file holds; a file left mid-conversion is refused with what to do. */
function bookLayout(db: Db): Layout {
  const cols = db.prepare("SELECT name FROM pragma_table_info('l2_updates')").pluck().all() as string[];
  const mid = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'l2_updates_v1'").get();
  if (mid)
    throw new DbError(
      `database ${db.name} is part way through its conversion to store layout v2 (a conversion was interrupted); ` +
        `any command that opens it for writing finishes it, e.g. \`l2desk book --db ${db.name}\``,
      db.name,
    );
  return cols.includes('levels') ? 'v2' : 'v1';
}

type Row = unknown[];

/** Rows of one table in id order, fetched a page at a time. */
class PagedRows {
  private page: Row[] = [];
  private i = 0;
  private after: number;
  private done = false;

  constructor(
    private readonly stmt: Database.Statement,
    private readonly params: (after: number) => unknown[],
    lo: number,
  ) {
    this.after = lo - 1;
  }

  peek(): Row | undefined {
    if (this.i < this.page.length) return this.page[this.i];
    if (this.done) return undefined;
    this.page = this.stmt.all(...this.params(this.after)) as Row[];
    this.i = 0;
    if (this.page.length === 0) {
      this.done = true;
      return undefined;
    }
    this.after = this.page[this.page.length - 1][0] as number;
    return this.page[0];
  }

  next(): Row | undefined {
    const r = this.peek();
    if (r) this.i++;
    return r;
  }
}

/** Generator of a session's events in arrival order; throws if the session does not exist. */
export function* readSession(db: Db, sessionId: number, opts: ReadOptions = {}): Generator<StoredEvent> {
  const s = getSession(db, sessionId);
  if (!s) throw new Error(`no session ${sessionId} in ${db.name}`);
  const layout = bookLayout(db);
  const span = idSpan(db, sessionId);
  if (!span) return;
  let [lo, hi] = span;
  const fromTs = opts.fromTs ?? Number.MIN_SAFE_INTEGER;
  const toTs = opts.toTs ?? Number.MAX_SAFE_INTEGER;
  if (opts.fromTs !== undefined) {
    const m = minIdFrom(db, sessionId, fromTs);
    if (m === null) return;
    lo = Math.max(lo, m);
  }
  if (opts.fromId !== undefined) lo = Math.max(lo, opts.fromId);
  if (opts.toId !== undefined) hi = Math.min(hi, opts.toId);
  if (opts.toTs !== undefined) {
    const m = maxIdTo(db, sessionId, toTs);
    if (m === null) return;
    hi = Math.min(hi, m);
  }
  if (hi < lo) return;
  const pageSize = Math.max(1, opts.pageSize ?? 2048);
  // The time bounds cost a column read per row: only asked for when the caller bounds the time.
  const timed = opts.fromTs !== undefined || opts.toTs !== undefined;
  const timeCond = timed ? ' AND recv_ts >= ? AND recv_ts <= ?' : '';
  const timeArgs = timed ? [fromTs, toTs] : [];
  // NOT INDEXED: walk the rowid range in id order rather than sorting an index scan.
  const bookStmt = db
    .prepare(
      `SELECT id, ${layout === 'v2' ? 'levels' : 'recv_ts, ts, cts, u, seq, is_snapshot, bids, asks'} FROM l2_updates NOT INDEXED
       WHERE id > ? AND id <= ? AND session_id = ?${timeCond} ORDER BY id LIMIT ?`,
    )
    .raw(true);
  const tradeStmt = db
    .prepare(
      `SELECT id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq FROM trades NOT INDEXED
       WHERE id > ? AND id <= ? AND session_id = ?${timeCond} ORDER BY id LIMIT ?`,
    )
    .raw(true);
  const gapStmt = db
    .prepare(
      `SELECT id, reason, start_ts, end_ts, detail FROM gaps NOT INDEXED
       WHERE id > ? AND id <= ? AND session_id = ? ORDER BY id LIMIT ?`,
    )
    .raw(true);
  const books = new PagedRows(bookStmt, (a) => [a, hi, sessionId, ...timeArgs, pageSize], lo);
  const trades = new PagedRows(tradeStmt, (a) => [a, hi, sessionId, ...timeArgs, pageSize], lo);
  const gaps = new PagedRows(gapStmt, (a) => [a, hi, sessionId, pageSize], lo);
  const { symbol, depth } = s;
  const lists = new LevelLists();
  const reuse = opts.reuseLevels === true;
  // v2: everything comes from the packed value (the stamps' columns serve SQL only); v1: columns and two BLOBs.
  const toBook =
    layout === 'v1'
      ? (r: Row) => v1Book(r, symbol, depth)
      : (r: Row): MarketMessage => {
          const lv = reuse ? lists.decodeReused(r[1] as string) : lists.decode(r[1] as string);
          const h = lists.head;
          return {
            kind: 'book',
            type: h.snapshot ? 'snapshot' : 'delta',
            symbol,
            depth,
            recvTs: h.recvTs,
            ts: h.ts,
            cts: h.cts,
            u: h.u,
            seq: h.seq,
            bids: lv.bids,
            asks: lv.asks,
          };
        };

  while (true) {
    const b = books.peek();
    const t = trades.peek();
    const g = gaps.peek();
    const bId = b ? (b[0] as number) : Infinity;
    // A trade message sits at the id of its first trade.
    const tId = t ? (t[1] as number) : Infinity;
    const gId = g ? (g[0] as number) : Infinity;
    if (bId === Infinity && tId === Infinity && gId === Infinity) return;
    if (gId < bId && gId < tId) {
      gaps.next();
      yield { kind: 'gap', gap: toGap(g as Row, symbol) };
    } else if (bId < tId) {
      books.next();
      yield toBook(b as Row);
    } else {
      const first = trades.next() as Row;
      const msgId = first[1] as number;
      const list: Trade[] = [toTrade(first)];
      for (let r = trades.peek(); r && r[1] === msgId; r = trades.peek())
        list.push(toTrade(trades.next() as Row));
      yield { kind: 'trades', symbol, ts: first[3] as number, recvTs: first[2] as number, trades: list };
    }
  }
}

/** A layout v1 row (a file opened without migrating): stamps from the columns, levels from two BLOBs of doubles. */
function v1Book(r: Row, symbol: string, depth: number): MarketMessage {
  return {
    kind: 'book',
    type: r[6] ? 'snapshot' : 'delta',
    symbol,
    depth,
    recvTs: r[1] as number,
    ts: r[2] as number,
    cts: r[3] as number,
    u: r[4] as number,
    seq: r[5] as number,
    bids: decodeLevels(r[7] as Buffer),
    asks: decodeLevels(r[8] as Buffer),
  };
}

function toTrade(r: Row): Trade {
  return {
    ts: r[4] as number,
    side: r[5] as Side,
    price: r[6] as number,
    size: r[7] as number,
    id: r[8] as string,
    blockTrade: r[9] === 1,
    seq: r[10] as number,
  };
}

function toGap(r: Row, symbol: string): Gap {
  return {
    symbol,
    reason: r[1] as GapReason,
    startTs: r[2] as number,
    endTs: (r[3] as number | null) ?? null,
    detail: r[4] as string,
  };
}

/** First and last id of a session's rows, from the counters SessionWriter keeps (null when empty). */
function idSpan(db: Db, sessionId: number): [number, number] | null {
  const r = db.prepare('SELECT first_id, last_id FROM sessions WHERE id = ?').raw(true).get(sessionId) as
    [number | null, number | null] | undefined;
  if (!r || r[0] === null || r[1] === null) return null;
  return [r[0], r[1]];
}

function minIdFrom(db: Db, sid: number, fromTs: number): number | null {
  const v = db
    .prepare(
      `SELECT min(coalesce((SELECT min(id) FROM l2_updates WHERE session_id = @sid AND recv_ts >= @ts), 9e18),
                  coalesce((SELECT min(msg_id) FROM trades WHERE session_id = @sid AND recv_ts >= @ts), 9e18))`,
    )
    .pluck()
    .get({ sid, ts: fromTs }) as number;
  return v >= 9e18 ? null : v;
}

function maxIdTo(db: Db, sid: number, toTs: number): number | null {
  const v = db
    .prepare(
      `SELECT max(coalesce((SELECT max(id) FROM l2_updates WHERE session_id = @sid AND recv_ts <= @ts), -1),
                  coalesce((SELECT max(id) FROM trades WHERE session_id = @sid AND recv_ts <= @ts), -1))`,
    )
    .pluck()
    .get({ sid, ts: toTs }) as number;
  return v < 0 ? null : v;
}

export type { SessionInfo };
