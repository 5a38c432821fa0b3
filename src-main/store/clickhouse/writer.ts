// Batched writer of one session's market data into ClickHouse, behind the same calls as the SQLite SessionWriter
// (writeMessage, writeTickSize, writeGap, drain, close, stats). Rows get their ids when they arrive (one counter
// across the three tables, so id order is arrival order) and are encoded into RowBinary batches; a batch is sent
// at most every batch interval or maxRows rows, one batch in flight at a time. A failed insert is retried with
// backoff, the same rows with the same ids (the tables keep one row per id on read, so a retry after a lost
// answer never duplicates), while new rows wait in memory up to a byte budget; only a server that refuses every
// attempt past the give-up time, or a full budget, fails the writer. Counters count what the server accepted.
import { formatDuration } from '../../../src-shared/duration.ts';
import type { BookMessage, Gap, MarketMessage } from '../../../src-shared/market.ts';
import type { BusyEvent, WriterStats } from '../sessionWriter.ts';
import {
  endSession,
  getSessionRecord,
  maxCommittedId,
  maxStoredId,
  updateSessionRecord,
} from './catalogue.ts';
import {
  ClickHouseStoreError,
  describeClickHouseError,
  insertRowBinary,
  type ClickHouseStore,
} from './connection.ts';
import { RowBinaryWriter } from './rowBinary.ts';

export const L2_COLUMNS =
  'symbol, session, id, recv_ts, ts, cts, u, seq, is_snapshot, bid_prices, bid_sizes, ask_prices, ask_sizes';
export const TRADE_COLUMNS =
  'symbol, session, id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq';
export const GAP_COLUMNS = 'symbol, session, id, reason, start_ts, end_ts, detail, version';
export const COMMIT_COLUMNS = 'symbol, session, last_id';

/** One l2_updates row (L2_COLUMNS) in RowBinary: the writer's rows, and retention's checkpoint (../pruneCheckpoint.ts). */
export function writeBookRow(
  w: RowBinaryWriter,
  symbol: string,
  session: number,
  id: number,
  msg: BookMessage,
): void {
  w.string(symbol);
  w.uint64(session);
  w.uint64(id);
  w.int64(msg.recvTs);
  w.int64(msg.ts);
  w.int64(msg.cts);
  w.int64(msg.u);
  w.int64(msg.seq);
  w.uint8(msg.type === 'snapshot' ? 1 : 0);
  w.float64Column(msg.bids, 0);
  w.float64Column(msg.bids, 1);
  w.float64Column(msg.asks, 0);
  w.float64Column(msg.asks, 1);
}

export interface ClickHouseWriterOptions {
  /** Longest time a message waits in memory before its batch is sent (ms); config store.batch_interval. */
  batchIntervalMs?: number;
  /** Send as soon as this many rows are buffered. */
  maxRows?: number;
  /** Clock for batch deadlines and the session's end time (ms). */
  now?: () => number;
  /** Called when the writer fails in the background (retries exhausted, budget full); later calls rethrow it. */
  onError?: (e: Error) => void;
  /** Fail once the server has refused every attempt for this long (ms); config store.busy_give_up. */
  giveUpMs?: number;
  /** Largest estimated size of the rows held in memory while the server is unavailable (bytes). */
  maxBufferedBytes?: number;
  /** First retry delay (ms), doubled up to 2 s. */
  retryFirstMs?: number;
  /** Once when inserts start failing, and once when one succeeds again (the SQLite writer's busy events). */
  onBusy?: (e: BusyEvent) => void;
}

const RETRY_MAX_MS = 2000;

interface Batch {
  l2: RowBinaryWriter;
  trades: RowBinaryWriter;
  gaps: RowBinaryWriter;
  books: number;
  tradeMsgs: number;
  tradeRows: number;
  gapRows: number;
  rows: number;
  bytes: number;
  tick: string | null;
  /** Highest id allocated when the batch was taken: its commit marker. */
  lastId: number;
  /** The session's end time, stored (and retried) with the last batch. */
  end: number | null;
}

function newBatch(): Batch {
  return {
    l2: new RowBinaryWriter(),
    trades: new RowBinaryWriter(),
    gaps: new RowBinaryWriter(),
    books: 0,
    tradeMsgs: 0,
    tradeRows: 0,
    gapRows: 0,
    rows: 0,
    bytes: 0,
    tick: null,
    lastId: 0,
    end: null,
  };
}

interface OpenGap {
  id: number;
  gap: Gap;
}

export class ClickHouseSessionWriter {
  private batch = newBatch();
  private inflight: Batch | null = null;
  private sending: Promise<void> | null = null;
  private firstAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private busySince: number | null = null;
  private readonly openGaps = new Map<string, OpenGap>();
  private readonly interval: number;
  private readonly maxRows: number;
  private readonly now: () => number;
  // offGridMessages: levels are stored as doubles here, exact whatever their grid, so none is ever off it.
  private readonly st = {
    bookMessages: 0,
    tradeMessages: 0,
    trades: 0,
    gaps: 0,
    batches: 0,
    offGridMessages: 0,
  };

  private constructor(
    private readonly store: ClickHouseStore,
    readonly sessionId: number,
    private readonly symbol: string,
    private nextId: number,
    private readonly opts: ClickHouseWriterOptions,
  ) {
    this.interval = Math.min(Math.max(opts.batchIntervalMs ?? 250, 1), 250);
    this.maxRows = opts.maxRows ?? 20_000;
    this.now = opts.now ?? Date.now;
  }

  /** A writer for an existing session; ids continue after the session's stored rows. */
  static async open(
    store: ClickHouseStore,
    sessionId: number,
    opts: ClickHouseWriterOptions = {},
  ): Promise<ClickHouseSessionWriter> {
    try {
      const rec = await getSessionRecord(store, sessionId);
      if (!rec)
        throw new ClickHouseStoreError(`session ${sessionId} does not exist in ${store.name}`, store.name);
      // Rows past the last commit are a batch cut short (a writer killed between its inserts): readers skip them by
      // id, so new rows after them would expose them. Such a session is closed for writing; its committed data stays.
      const [stored, committed] = await Promise.all([
        maxStoredId(store, sessionId),
        maxCommittedId(store, sessionId),
      ]);
      if (stored > committed)
        throw new ClickHouseStoreError(
          `session ${sessionId} in ${store.name} ends with a batch that was never committed (its writer stopped ` +
            'mid-batch): it cannot be appended to; record a new session',
          store.name,
        );
      return new ClickHouseSessionWriter(store, sessionId, rec.symbol, committed + 1, opts);
    } catch (e) {
      throw describeClickHouseError(store.name, e);
    }
  }

  /** A writer for a session just created (no rows yet): ids start at 1. */
  static forNewSession(
    store: ClickHouseStore,
    sessionId: number,
    symbol: string,
    opts: ClickHouseWriterOptions = {},
  ): ClickHouseSessionWriter {
    return new ClickHouseSessionWriter(store, sessionId, symbol, 1, opts);
  }

  /** Buffers one book or trade message; a batch is sent when full or when its deadline has passed. */
  writeMessage(msg: MarketMessage): void {
    this.checkUsable();
    const b = this.batch;
    const before = b.l2.length + b.trades.length;
    if (msg.kind === 'book') {
      writeBookRow(b.l2, this.symbol, this.sessionId, this.nextId++, msg);
      b.books++;
      b.rows++;
    } else {
      if (msg.trades.length === 0) return;
      const w = b.trades;
      const msgId = this.nextId;
      for (const t of msg.trades) {
        w.string(this.symbol);
        w.uint64(this.sessionId);
        w.uint64(this.nextId++);
        w.uint64(msgId);
        w.int64(msg.recvTs);
        w.int64(msg.ts);
        w.int64(t.ts);
        w.string(t.side);
        w.float64(t.price);
        w.float64(t.size);
        w.string(t.id);
        w.uint8(t.blockTrade ? 1 : 0);
        w.int64(t.seq);
      }
      b.tradeMsgs++;
      b.tradeRows += msg.trades.length;
      b.rows += msg.trades.length;
    }
    b.bytes += b.l2.length + b.trades.length - before;
    this.afterPush();
  }

  /** Stores the session's tick size with the next batch. */
  writeTickSize(tickSize: string): void {
    this.checkUsable();
    this.batch.tick = tickSize;
    this.afterPush();
  }

  /**
   * Records a gap. A gap with endTs null opens it; the same gap (same reason and startTs) with endTs set closes
   * it (a second version of its row). A closed gap never seen open is stored as is.
   */
  writeGap(gap: Gap): void {
    this.checkUsable();
    const key = `${gap.reason}|${gap.startTs}`;
    const open = this.openGaps.get(key);
    if (open && gap.endTs !== null) {
      this.openGaps.delete(key);
      // The closing version is numbered by a fresh id, so it is visible only once this batch is committed.
      this.encodeGap(open.id, { ...open.gap, endTs: gap.endTs }, this.nextId++);
      this.afterPush();
      return;
    }
    const id = this.nextId++;
    if (gap.endTs === null) this.openGaps.set(key, { id, gap: { ...gap } });
    this.encodeGap(id, gap, id);
    this.batch.gapRows++;
    this.afterPush();
  }

  private encodeGap(id: number, g: Gap, version: number): void {
    const w = this.batch.gaps;
    const before = w.length;
    w.string(this.symbol);
    w.uint64(this.sessionId);
    w.uint64(id);
    w.string(g.reason);
    w.int64(g.startTs);
    w.nullableInt64(g.endTs);
    w.string(g.detail);
    w.uint64(version);
    this.batch.rows++;
    this.batch.bytes += w.length - before;
  }

  /** Sends everything buffered and waits until the server has accepted it (retrying); throws once given up. */
  async drain(): Promise<void> {
    for (;;) {
      this.rethrow();
      if (this.sending) {
        await this.sending;
        continue;
      }
      if (this.isEmpty(this.batch)) return;
      this.send();
    }
  }

  /** Sends what is buffered and marks the session ended. The store stays open (the caller owns it). */
  async close(endedAt: number = this.now()): Promise<void> {
    if (this.closed) return;
    // The end goes out with the last rows and is retried like them.
    this.batch.end = endedAt;
    await this.drain();
    this.closed = true;
    this.clearTimer();
  }

  stats(): WriterStats {
    const pending = this.batch.rows + (this.inflight?.rows ?? 0);
    const pendingBytes = this.batch.bytes + (this.inflight?.bytes ?? 0);
    return { ...this.st, pending, pendingBytes, busySince: this.busySince };
  }

  private checkUsable(): void {
    if (this.closed) throw new Error(`session ${this.sessionId} writer is closed`);
    this.rethrow();
    const budget = this.opts.maxBufferedBytes;
    if (budget !== undefined && this.busySince !== null && this.stats().pendingBytes > budget) {
      const mib = (budget / 2 ** 20).toFixed(0);
      this.failure = this.unavailable(
        `the ${mib} MiB held in memory meanwhile (store.busy_buffer_mb) is full after ${formatDuration(Date.now() - this.busySince)}`,
      );
      this.rethrow();
    }
  }

  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  private afterPush(): void {
    const now = this.now();
    if (this.batch.rows <= 1) this.firstAt = now;
    if (this.batch.rows >= this.maxRows || now - this.firstAt >= this.interval) {
      this.send();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, this.interval);
      this.timer.unref?.();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Starts sending the current batch unless one is in flight (its completion sends the next). */
  private send(): void {
    this.clearTimer();
    if (this.sending || this.failure) return;
    if (this.isEmpty(this.batch)) return;
    const batch = this.batch;
    batch.lastId = this.nextId - 1;
    this.batch = newBatch();
    this.inflight = batch;
    this.sending = this.sendWithRetry(batch).then(
      () => {
        this.inflight = null;
        this.sending = null;
        // Rows that arrived meanwhile go out at once if their batch is already due.
        if (
          this.batch.rows >= this.maxRows ||
          (this.batch.rows > 0 && this.now() - this.firstAt >= this.interval)
        )
          this.send();
        else if (this.batch.rows > 0 && !this.timer) this.afterPushTimer();
      },
      (e: unknown) => {
        this.sending = null;
        this.failure ??= e as Error;
        this.opts.onError?.(this.failure);
      },
    );
  }

  private afterPushTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, this.interval);
    this.timer.unref?.();
  }

  private async sendWithRetry(b: Batch): Promise<void> {
    let delay = this.opts.retryFirstMs ?? 100;
    const giveUpMs = this.opts.giveUpMs ?? 60_000;
    for (;;) {
      try {
        await this.insert(b);
        break;
      } catch (e) {
        const err = describeClickHouseError(this.store.name, e);
        const now = Date.now();
        if (this.busySince === null) {
          this.busySince = now;
          this.opts.onBusy?.({
            state: 'busy',
            reason: err.message,
            pendingRows: this.stats().pending,
            giveUpMs,
          });
        }
        if (now - this.busySince >= giveUpMs)
          throw this.unavailable(
            `gave up after ${formatDuration(now - this.busySince)} (store.busy_give_up): ${err.message}`,
          );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
    this.st.bookMessages += b.books;
    this.st.tradeMessages += b.tradeMsgs;
    this.st.trades += b.tradeRows;
    this.st.gaps += b.gapRows;
    this.st.batches++;
    if (this.busySince !== null) {
      const busyMs = Date.now() - this.busySince;
      this.busySince = null;
      this.opts.onBusy?.({ state: 'free', busyMs, committedRows: b.rows });
    }
  }

  /** One attempt: every table, then the batch's commit marker (readers see it from then on), then the tick size. */
  private async insert(b: Batch): Promise<void> {
    const s = this.store;
    if (b.l2.length) await insertRowBinary(s, s.table('l2_updates'), L2_COLUMNS, b.l2.toBuffer());
    if (b.trades.length) await insertRowBinary(s, s.table('trades'), TRADE_COLUMNS, b.trades.toBuffer());
    if (b.gaps.length) await insertRowBinary(s, s.table('gaps'), GAP_COLUMNS, b.gaps.toBuffer());
    if (b.rows > 0) {
      const w = new RowBinaryWriter();
      w.string(this.symbol);
      w.uint64(this.sessionId);
      w.uint64(b.lastId);
      await insertRowBinary(s, s.table('commits'), COMMIT_COLUMNS, w.toBuffer());
    }
    const tick = b.tick;
    if (tick !== null) await updateSessionRecord(s, this.sessionId, (r) => ({ ...r, tickSize: tick }));
    if (b.end !== null) await endSession(s, this.sessionId, b.end);
  }

  private isEmpty(b: Batch): boolean {
    return b.rows === 0 && b.tick === null && b.end === null;
  }

  private unavailable(what: string): ClickHouseStoreError {
    return new ClickHouseStoreError(
      `ClickHouse ${this.store.name} is not accepting inserts: ${what}; ${this.stats().pending} rows received were not stored. ` +
        'Check the server, or raise store.busy_give_up',
      this.store.name,
    );
  }
}
