// Batched writer of one session's market data: messages and gaps are buffered and committed in one
// transaction per batch interval (≤ 250 ms) or per maxRows rows, whichever comes first. A crash loses at
// most the uncommitted batch; WAL + transactions mean the file is never left half-written.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import type Database from 'better-sqlite3';
import { describeDbError, type Db } from './db.ts';
import { LevelEncoder } from './levelCodec.ts';
import { endSession } from './sessions.ts';

/** The row insert statements (exported so the store.ingest bench's bare-insert ceiling writes the same rows). */
export const INSERT_BOOK_SQL =
  'INSERT INTO l2_updates (id, session_id, recv_ts, ts, cts, u, seq, is_snapshot, bids, asks) VALUES (?,?,?,?,?,?,?,?,?,?)';
export const INSERT_TRADE_SQL = `INSERT INTO trades (id, session_id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq)
   VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`;

export interface SessionWriterOptions {
  /** Longest time a message waits in memory before its transaction (ms); config store.batch_interval. */
  batchIntervalMs?: number;
  /** Commit as soon as this many rows are buffered (bounds memory and batch time at high rates). */
  maxRows?: number;
  /** Clock for batch deadlines and the session's end time (ms). */
  now?: () => number;
  /** Called when a timer-driven commit fails; the rows stay buffered and the error is rethrown by the next call. */
  onError?: (e: Error) => void;
}

export interface WriterStats {
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  batches: number;
  /** Rows waiting for the next commit. */
  pending: number;
}

type Pending =
  { t: 'm'; msg: MarketMessage } | { t: 'g'; gap: OpenGap } | { t: 'end'; gap: OpenGap; endTs: number };

interface OpenGap {
  gap: Gap;
  /** Row id once committed. */
  id?: number;
}

export class SessionWriter {
  private readonly db: Db;
  private readonly file: string;
  private readonly interval: number;
  private readonly maxRows: number;
  private readonly now: () => number;
  private readonly onError?: (e: Error) => void;
  private buf: Pending[] = [];
  private rows = 0;
  private firstAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly openGaps = new Map<string, OpenGap>();
  private readonly encBids = new LevelEncoder();
  private readonly encAsks = new LevelEncoder();
  private readonly st: WriterStats = {
    bookMessages: 0,
    tradeMessages: 0,
    trades: 0,
    gaps: 0,
    batches: 0,
    pending: 0,
  };
  private readonly insBook: Database.Statement;
  private readonly insTrade: Database.Statement;
  private readonly insGap: Database.Statement;
  private readonly endGapStmt: Database.Statement;
  private readonly maxIdStmt: Database.Statement;
  private readonly counters: Database.Statement;
  private readonly commit: () => void;

  constructor(
    db: Db,
    readonly sessionId: number,
    opts: SessionWriterOptions = {},
  ) {
    this.db = db;
    this.file = db.name;
    this.interval = Math.min(Math.max(opts.batchIntervalMs ?? 250, 1), 250);
    this.maxRows = opts.maxRows ?? 20_000;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError;
    const exists = db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId);
    if (!exists) throw new Error(`session ${sessionId} does not exist in ${db.name}`);
    this.insBook = db.prepare(INSERT_BOOK_SQL);
    this.insTrade = db.prepare(INSERT_TRADE_SQL);
    this.insGap = db.prepare(
      'INSERT INTO gaps (id, session_id, reason, start_ts, end_ts, detail) VALUES (?,?,?,?,?,?)',
    );
    this.endGapStmt = db.prepare('UPDATE gaps SET end_ts = ? WHERE id = ?');
    // One id counter across the three tables: taken under the write lock, so concurrent writers
    // (other sessions, other processes) never collide and id order is arrival order.
    this.maxIdStmt = db
      .prepare(
        `SELECT max(coalesce((SELECT max(id) FROM l2_updates), 0), coalesce((SELECT max(id) FROM trades), 0),
                coalesce((SELECT max(id) FROM gaps), 0))`,
      )
      .pluck();
    this.counters = db.prepare(
      `UPDATE sessions SET book_messages = book_messages + ?, trade_messages = trade_messages + ?, trades = trades + ?,
         gaps = gaps + ?, first_id = coalesce(first_id, ?), last_id = ?, first_recv_ts = coalesce(first_recv_ts, ?),
         last_recv_ts = nullif(max(coalesce(last_recv_ts, 0), coalesce(?, 0)), 0) WHERE id = ?`,
    );
    this.commit = db.transaction(() => this.writeBatch()).immediate as () => void;
  }

  /** Buffers one book or trade message; commits when the batch is full or its deadline has passed. */
  writeMessage(msg: MarketMessage): void {
    this.checkUsable();
    this.buf.push({ t: 'm', msg });
    this.rows += msg.kind === 'book' ? 1 : msg.trades.length;
    this.afterPush();
  }

  /**
   * Records a gap. A gap with endTs null opens it; the same gap (same reason and startTs) with endTs set
   * closes it, updating the stored row. A closed gap never seen open is stored as is.
   */
  writeGap(gap: Gap): void {
    this.checkUsable();
    const key = `${gap.reason}|${gap.startTs}`;
    const open = this.openGaps.get(key);
    if (open && gap.endTs !== null) {
      this.openGaps.delete(key);
      if (open.id === undefined) open.gap.endTs = gap.endTs;
      else this.buf.push({ t: 'end', gap: open, endTs: gap.endTs });
    } else {
      const g: OpenGap = { gap: { ...gap } };
      if (gap.endTs === null) this.openGaps.set(key, g);
      this.buf.push({ t: 'g', gap: g });
    }
    this.rows++;
    this.afterPush();
  }

  /** Commits everything buffered now. */
  flush(): void {
    if (this.failure) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
    this.clearTimer();
    if (this.buf.length === 0) return;
    try {
      this.commit();
    } catch (e) {
      throw describeDbError(this.file, e);
    }
    this.buf = [];
    this.rows = 0;
  }

  /** Commits what is buffered and marks the session ended. The database stays open (the caller owns it). */
  close(endedAt: number = this.now()): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    endSession(this.db, this.sessionId, endedAt);
  }

  stats(): WriterStats {
    return { ...this.st, pending: this.rows };
  }

  private checkUsable(): void {
    if (this.closed) throw new Error(`session ${this.sessionId} writer is closed`);
    if (this.failure) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
  }

  private afterPush(): void {
    const now = this.now();
    if (this.buf.length === 1) this.firstAt = now;
    // A deadline check on every push covers producers that never yield to the event loop (--speed max, import).
    if (this.rows >= this.maxRows || now - this.firstAt >= this.interval) {
      this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        try {
          this.flush();
        } catch (e) {
          this.failure = e as Error;
          if (this.onError) this.onError(e as Error);
        }
      }, this.interval);
      this.timer.unref?.();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private writeBatch(): void {
    const sid = this.sessionId;
    let id = Number(this.maxIdStmt.get()) + 1;
    const firstId = id;
    let books = 0;
    let tradeMsgs = 0;
    let trades = 0;
    let gaps = 0;
    let firstRecv = Number.POSITIVE_INFINITY;
    let lastRecv = 0;
    for (const p of this.buf) {
      if (p.t === 'm') {
        const m = p.msg;
        if (m.recvTs < firstRecv) firstRecv = m.recvTs;
        if (m.recvTs > lastRecv) lastRecv = m.recvTs;
        if (m.kind === 'book') {
          const bids = this.encBids.encode(m.bids);
          const asks = this.encAsks.encode(m.asks);
          this.insBook.run(
            id++,
            sid,
            m.recvTs,
            m.ts,
            m.cts,
            m.u,
            m.seq,
            m.type === 'snapshot' ? 1 : 0,
            bids,
            asks,
          );
          books++;
        } else {
          const msgId = id;
          for (const t of m.trades) {
            this.insTrade.run(
              id++,
              sid,
              msgId,
              m.recvTs,
              m.ts,
              t.ts,
              t.side,
              t.price,
              t.size,
              t.id,
              t.blockTrade ? 1 : 0,
              t.seq,
            );
          }
          if (m.trades.length > 0) {
            tradeMsgs++;
            trades += m.trades.length;
          }
        }
      } else if (p.t === 'g') {
        const g = p.gap.gap;
        p.gap.id = id;
        this.insGap.run(id++, sid, g.reason, g.startTs, g.endTs, g.detail);
        gaps++;
      } else {
        this.endGapStmt.run(p.endTs, p.gap.id);
      }
    }
    const lastId = id - 1;
    if (lastId >= firstId) {
      this.counters.run(
        books,
        tradeMsgs,
        trades,
        gaps,
        firstId,
        lastId,
        Number.isFinite(firstRecv) ? firstRecv : null,
        lastRecv > 0 ? lastRecv : null,
        sid,
      );
    }
    this.st.bookMessages += books;
    this.st.tradeMessages += tradeMsgs;
    this.st.trades += trades;
    this.st.gaps += gaps;
    this.st.batches++;
  }
}
