// Batched writer of one session's market data: messages and gaps are buffered and committed in one
// transaction per batch interval (≤ 250 ms) or per maxRows rows, whichever comes first. A crash loses at
// most the uncommitted batch; WAL + transactions mean the file is never left half-written. With `busy` set,
// a database locked by another process is waited out: rows stay in memory (bounded) and commits are retried
// with backoff, and only a lock held past the give-up time (or a full buffer) fails the writer.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { formatDuration } from '../../src-shared/duration.ts';
import type Database from 'better-sqlite3';
import { DbError, describeDbError, type Db } from './db.ts';
import { LevelEncoder } from './levelCodec.ts';
import { endSession } from './sessions.ts';
import { TickLevelEncoder } from './tickLevelCodec.ts';

/** The row insert statements (exported so the store.ingest bench's bare-insert ceiling writes the same rows). */
export const INSERT_BOOK_SQL =
  'INSERT INTO l2_updates (id, session_id, recv_ts, ts, cts, u, seq, is_snapshot, levels) VALUES (?,?,?,?,?,?,?,?,?)';
/** Layout v1's book row (two BLOBs of doubles): only for tests and benchmarks that build a file as v1 wrote it. */
export const INSERT_BOOK_V1_SQL =
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
  /** Wait out a database locked by another process instead of failing at once (the collector). */
  busy?: BusyRetryOptions;
  /**
   * 'v1' writes book rows as layout v1 did, into a database migrated only up to version 250: for the tests and
   * benchmarks that compare with v1 or convert a v1 file. Everything else writes layout v2 (the default).
   */
  layout?: 'v1' | 'v2';
}

export interface BusyRetryOptions {
  /** Fail once the database has refused every commit for this long (ms); config store.busy_give_up. */
  giveUpMs: number;
  /** Largest estimated size of the rows held in memory meanwhile (bytes); config store.busy_buffer_mb. */
  maxBufferedBytes: number;
  /**
   * How long one commit attempt waits for the lock (ms) before the writer returns and retries later: short,
   * because better-sqlite3 waits synchronously and a live feed's timers (ping, stale) must keep running.
   */
  attemptWaitMs?: number;
  /** Once when the database becomes busy, and once when a commit succeeds again. */
  onBusy?: (e: BusyEvent) => void;
}

export type BusyEvent =
  | { state: 'busy'; reason: string; pendingRows: number; giveUpMs: number }
  | { state: 'free'; busyMs: number; committedRows: number };

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

/** SQLITE_BUSY / SQLITE_LOCKED (and their extended codes): another connection holds the lock. */
export function isBusyError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Rough in-memory size of a buffered message (bytes), for the busy buffer's budget. */
function estimateBytes(msg: MarketMessage): number {
  return msg.kind === 'book' ? 200 + 48 * (msg.bids.length + msg.asks.length) : 150 + 120 * msg.trades.length;
}

export interface WriterStats {
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  batches: number;
  /** Rows waiting for the next commit. */
  pending: number;
  /** Estimated bytes of the rows waiting. */
  pendingBytes: number;
  /** Since when (ms, wall clock) every commit has found the database locked; null when not busy. */
  busySince: number | null;
  /** Book messages with a price or size on no exact decimal grid, stored as raw doubles (exact, larger). */
  offGridMessages?: number;
}

type Pending =
  | { t: 'm'; msg: MarketMessage }
  | { t: 'g'; gap: OpenGap }
  | { t: 'end'; gap: OpenGap; endTs: number }
  | { t: 'tick'; tickSize: string };

interface BatchCounts {
  books: number;
  tradeMsgs: number;
  trades: number;
  gaps: number;
  rows: number;
  offGrid: number;
}

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
  private bytes = 0;
  private readonly busy?: BusyRetryOptions;
  private busySince: number | null = null;
  private retryDelay = RETRY_FIRST_MS;
  private firstAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly openGaps = new Map<string, OpenGap>();
  private readonly v1: { bids: LevelEncoder; asks: LevelEncoder } | null;
  private readonly levels: TickLevelEncoder;
  private readonly st: WriterStats = {
    bookMessages: 0,
    tradeMessages: 0,
    trades: 0,
    gaps: 0,
    batches: 0,
    pending: 0,
    pendingBytes: 0,
    busySince: null,
    offGridMessages: 0,
  };
  private readonly insBook: Database.Statement;
  private readonly insTrade: Database.Statement;
  private readonly insGap: Database.Statement;
  private readonly endGapStmt: Database.Statement;
  private readonly maxIdStmt: Database.Statement;
  private readonly counters: Database.Statement;
  private readonly setTick: Database.Statement;
  private readonly commit: () => BatchCounts;

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
    this.busy = opts.busy;
    const exists = db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId);
    if (!exists) throw new Error(`session ${sessionId} does not exist in ${db.name}`);
    this.v1 = opts.layout === 'v1' ? { bids: new LevelEncoder(), asks: new LevelEncoder() } : null;
    this.insBook = db.prepare(this.v1 ? INSERT_BOOK_V1_SQL : INSERT_BOOK_SQL);
    // The session's tick is the first grid the encoder tries; each stored message names its own grid anyway.
    const tick = db.prepare('SELECT tick_size FROM sessions WHERE id = ?').pluck().get(sessionId) as string;
    this.levels = new TickLevelEncoder(tick);
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
    this.setTick = db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?');
    this.commit = db.transaction(() => this.writeBatch()).immediate as () => BatchCounts;
  }

  /** Buffers one book or trade message; commits when the batch is full or its deadline has passed. */
  writeMessage(msg: MarketMessage): void {
    this.checkUsable();
    const bytes = estimateBytes(msg);
    this.checkBudget(bytes);
    this.buf.push({ t: 'm', msg });
    this.rows += msg.kind === 'book' ? 1 : msg.trades.length;
    this.bytes += bytes;
    this.afterPush();
  }

  /** Stores the session's tick size with the next batch (a source that inferred or refined it). */
  writeTickSize(tickSize: string): void {
    this.checkUsable();
    this.buf.push({ t: 'tick', tickSize });
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

  /**
   * Commits everything buffered now. With `busy` set, a locked database leaves the rows buffered and a retry
   * scheduled (returns false); the lock held past the give-up time throws. Other errors always throw.
   */
  flush(): boolean {
    if (this.failure) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
    this.clearTimer();
    if (this.buf.length === 0) return true;
    let counts: BatchCounts;
    try {
      counts = this.commitOnce();
    } catch (e) {
      if (this.busy && isBusyError(e)) return this.stillBusy(e as Error);
      throw describeDbError(this.file, e);
    }
    this.buf = [];
    this.rows = 0;
    this.bytes = 0;
    this.st.bookMessages += counts.books;
    this.st.tradeMessages += counts.tradeMsgs;
    this.st.trades += counts.trades;
    this.st.gaps += counts.gaps;
    this.st.offGridMessages = (this.st.offGridMessages ?? 0) + counts.offGrid;
    this.st.batches++;
    if (this.busySince !== null) {
      const busyMs = Date.now() - this.busySince;
      this.busySince = null;
      this.retryDelay = RETRY_FIRST_MS;
      this.busy?.onBusy?.({ state: 'free', busyMs, committedRows: counts.rows });
    }
    return true;
  }

  /**
   * Commits everything buffered, waiting (without blocking the event loop) while the database is locked, up to
   * the give-up time; then throws. Without `busy`, the same as flush().
   */
  async drain(): Promise<void> {
    while (!this.flush()) {
      this.clearTimer();
      await new Promise((r) => setTimeout(r, this.retryDelay));
    }
  }

  /** Commits what is buffered and marks the session ended. The database stays open (the caller owns it). */
  close(endedAt: number = this.now()): void {
    if (this.closed) return;
    if (!this.flush()) throw this.busyError('could not store the last rows and end the session');
    this.closed = true;
    endSession(this.db, this.sessionId, endedAt);
  }

  stats(): WriterStats {
    return {
      ...this.st,
      pending: this.rows,
      pendingBytes: this.bytes,
      busySince: this.busySince,
    };
  }

  /** One transaction; with `busy`, the lock is waited for only briefly (see attemptWaitMs). */
  private commitOnce(): BatchCounts {
    if (!this.busy) return this.commit();
    const previous = Number(this.db.pragma('busy_timeout', { simple: true }));
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.round(this.busy.attemptWaitMs ?? 100))}`);
    try {
      return this.commit();
    } finally {
      this.db.pragma(`busy_timeout = ${previous}`);
    }
  }

  /** The commit found the database locked: keep the rows, retry later, or give up once it lasted too long. */
  private stillBusy(e: Error): boolean {
    const busy = this.busy as BusyRetryOptions;
    const now = Date.now();
    if (this.busySince === null) {
      this.busySince = now;
      this.retryDelay = RETRY_FIRST_MS;
      busy.onBusy?.({ state: 'busy', reason: e.message, pendingRows: this.rows, giveUpMs: busy.giveUpMs });
    } else this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    if (now - this.busySince >= busy.giveUpMs)
      throw this.busyError(`gave up after ${formatDuration(now - this.busySince)} (store.busy_give_up)`);
    this.armTimer(this.retryDelay);
    return false;
  }

  private busyError(what: string): DbError {
    return new DbError(
      `database ${this.file} is locked by another process: ${what}; ${this.rows} rows received were not stored. ` +
        'Stop the other writer, or raise store.busy_give_up',
      this.file,
    );
  }

  /** While the database is busy, rows wait in memory up to the configured budget; past it the writer fails. */
  private checkBudget(bytes: number): void {
    if (!this.busy || this.busySince === null) return;
    if (this.bytes + bytes <= this.busy.maxBufferedBytes) return;
    const mib = (this.busy.maxBufferedBytes / 2 ** 20).toFixed(0);
    const e = this.busyError(
      `the ${mib} MiB held in memory meanwhile (store.busy_buffer_mb) is full after ${formatDuration(Date.now() - this.busySince)}`,
    );
    this.failure = e;
    throw e;
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
    // While the database is busy the retry timer owns the commits: a push only adds to the buffer.
    if (this.busySince !== null) return;
    const now = this.now();
    if (this.buf.length === 1) this.firstAt = now;
    // A deadline check on every push covers producers that never yield to the event loop (--speed max, import).
    if (this.rows >= this.maxRows || now - this.firstAt >= this.interval) {
      this.flush();
      return;
    }
    if (!this.timer) this.armTimer(this.interval);
  }

  private armTimer(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (e) {
        this.failure = e as Error;
        if (this.onError) this.onError(e as Error);
      }
    }, ms);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private writeBatch(): BatchCounts {
    const sid = this.sessionId;
    let id = Number(this.maxIdStmt.get()) + 1;
    const firstId = id;
    let books = 0;
    let tradeMsgs = 0;
    let trades = 0;
    let gaps = 0;
    let firstRecv = Number.POSITIVE_INFINITY;
    let lastRecv = 0;
    const raw0 = this.levels.rawMessages;
    for (const p of this.buf) {
      if (p.t === 'm') {
        const m = p.msg;
        if (m.recvTs < firstRecv) firstRecv = m.recvTs;
        if (m.recvTs > lastRecv) lastRecv = m.recvTs;
        if (m.kind === 'book') {
          const snap = m.type === 'snapshot' ? 1 : 0;
          if (this.v1) {
            const bids = this.v1.bids.encode(m.bids);
            const asks = this.v1.asks.encode(m.asks);
            this.insBook.run(id++, sid, m.recvTs, m.ts, m.cts, m.u, m.seq, snap, bids, asks);
          } else {
            const levels = this.levels.encode(m);
            this.insBook.run(id++, sid, m.recvTs, m.ts, m.cts, m.u, m.seq, snap, levels);
          }
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
      } else if (p.t === 'end') {
        this.endGapStmt.run(p.endTs, p.gap.id);
      } else {
        this.setTick.run(p.tickSize, sid);
        this.levels.setTickSize(p.tickSize);
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
    // Counted by flush() once the transaction has committed, so the stats never count a rolled-back batch.
    return {
      books,
      tradeMsgs,
      trades,
      gaps,
      rows: books + trades + gaps,
      offGrid: this.levels.rawMessages - raw0,
    };
  }
}
