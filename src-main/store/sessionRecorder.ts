// Records a market source into a new session: source events → SessionWriter, with a stop after a duration
// (wall time, or the messages' own clock for the simulator at any speed), progress counters for a CLI line or
// a UI progress bar, and a clean stop (flush + close the session). Used by `l2desk collect` and the app.
// A database locked by another process is waited out (rows held in memory, bounded, retried with backoff); the
// counters it reports are what was committed, and what was received but not stored is reported apart, with why.
// The target is an SQLite database, or a ClickHouse store (SessionRecorder.toClickHouse): the same recording, counters
// and stop, through that store's writer (a server that refuses inserts is waited out the same way).
import { formatDuration } from '../../src-shared/duration.ts';
import type { FeedHealth, Gap, MarketMessage } from '../../src-shared/market.ts';
import { inferTickSize } from '../book/tickScale.ts';
import { orderRulesMeta } from '../market/orderRules.ts';
import type { MarketSource } from '../market/source.ts';
import {
  createSession as createClickHouseSession,
  updateSessionMeta as updateClickHouseMeta,
} from './clickhouse/catalogue.ts';
import type { ClickHouseStore } from './clickhouse/connection.ts';
import { ClickHouseSessionWriter } from './clickhouse/writer.ts';
import type { Db } from './db.ts';
import { SessionWriter, type BusyEvent, type WriterStats } from './sessionWriter.ts';
import { createSession, updateSessionMeta, type NewSession } from './sessions.ts';

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RecorderOptions {
  /** Stop after this long; Infinity records until stop(). */
  durationMs: number;
  /** 'wall': durationMs of real time; 'message': durationMs of the messages' receive-time span (sim at any speed). */
  clock: 'wall' | 'message';
  /** Book depth subscribed (stored on the session). */
  depth: number;
  /** store.batch_interval (ms). */
  batchIntervalMs?: number;
  /** Extra session metadata (seed, speed, url...). */
  meta?: Record<string, unknown>;
  now?: () => number;
  onWarning?: (text: string) => void;
  /** Informational notes of the source (where its tick came from, ...): not counted as warnings. */
  onNotice?: (text: string) => void;
  /** How long a locked database is waited out before the recording stops (ms); config store.busy_give_up. */
  busyGiveUpMs?: number;
  /** Memory budget for messages held while the database is locked (bytes); config store.busy_buffer_mb. */
  busyBufferBytes?: number;
  /** The database became locked, or free again (also said as a warning / notice in words). */
  onStoreBusy?: (e: BusyEvent) => void;
  /**
   * Each message and gap once handed to the writer, in order, with the session's tick size then (live retraining
   * builds the feed's dataset rows from them: model/liveRows.ts).
   */
  onWritten?: (e: WrittenEvent) => void;
}

/** What RecorderOptions.onWritten is told. */
export type WrittenEvent =
  { kind: 'message'; message: MarketMessage; tickSize: string } | { kind: 'gap'; gap: Gap };

export const DEFAULT_BUSY_GIVE_UP_MS = 60_000;
export const DEFAULT_BUSY_BUFFER_BYTES = 256 * 2 ** 20;

export interface RecorderProgress {
  sessionId: number;
  /** Wall time since start (ms). */
  elapsedMs: number;
  /** Receive-time span of the recorded messages (ms): simulated time for the sim. */
  dataSpanMs: number;
  durationMs: number;
  /** Messages stored (committed): book messages + trade messages. Every count here is what the database holds. */
  messages: number;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  /** Messages received from the source (book, and trade messages with at least one trade). */
  received: number;
  /** Messages received and held in memory, not committed yet (many while the database is locked). */
  buffered: number;
  /** Since when (ms, wall clock) the database has been locked; null when it is not. */
  storeBusySince: number | null;
  warnings: number;
  state: FeedHealth['state'];
  /** Set once stopped: 'duration reached', 'source finished', a signal name, 'stopped', 'write error', 'source failed'. */
  stopReason: string;
}

export interface RecordResult extends RecorderProgress {
  error?: Error;
  /** Messages received but not stored (received − messages), and why; null when every one was stored. */
  notStored: { messages: number; reason: string } | null;
}

/** What the recorder needs of a store's session writer (the SQLite SessionWriter and the ClickHouse writer). */
export interface MarketWriter {
  writeMessage(msg: MarketMessage): void;
  writeTickSize(tickSize: string): void;
  writeGap(gap: Gap): void;
  drain(): Promise<void>;
  close(endedAt: number): void | Promise<void>;
  stats(): WriterStats;
}

/** A session already created in a ClickHouse store (SessionRecorder.toClickHouse). */
interface ClickHouseTarget {
  kind: 'clickhouse';
  store: ClickHouseStore;
  sessionId: number;
  symbol: string;
}

function newSession(source: MarketSource, opts: RecorderOptions, startedAt: number): NewSession {
  return {
    source: source.kind,
    symbol: source.instrument.symbol,
    category: source.instrument.category,
    depth: opts.depth,
    tickSize: source.instrument.tickSize || '',
    startedAt,
    meta: { ...opts.meta, durationMs: opts.durationMs, ...orderRulesMeta(source.instrument) },
    seed: source.seed ?? null,
  };
}

export class SessionRecorder {
  readonly sessionId: number;
  private readonly writer: MarketWriter;
  private readonly updateMeta: (patch: Record<string, unknown>) => void | Promise<void>;
  private readonly now: () => number;
  /** How the busy notices name the store. */
  private readonly storeName: string = 'the database';
  private tickSize: string;
  private startedAt = 0;
  private firstRecv = -1;
  private lastRecv = -1;
  private received = 0;
  private warnings = 0;
  private stopReason = '';
  private error: Error | undefined;
  private wallTimer: ReturnType<typeof setTimeout> | undefined;
  private finishing: Promise<RecordResult> | undefined;
  private resolveStop: (reason: string) => void = () => {};
  private readonly stopRequested: Promise<string>;
  /** Resolves once the recording has stopped and the session is closed. */
  readonly finished: Promise<RecordResult>;

  /** Records into a new session of a ClickHouse store (created here, before the source starts). */
  static async toClickHouse(
    store: ClickHouseStore,
    source: MarketSource,
    opts: RecorderOptions,
  ): Promise<SessionRecorder> {
    const s = newSession(source, opts, (opts.now ?? Date.now)());
    const sessionId = await createClickHouseSession(store, s);
    return new SessionRecorder({ kind: 'clickhouse', store, sessionId, symbol: s.symbol }, source, opts);
  }

  constructor(
    target: Db | ClickHouseTarget,
    private readonly source: MarketSource,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.tickSize = source.instrument.tickSize;
    const giveUpMs = opts.busyGiveUpMs ?? DEFAULT_BUSY_GIVE_UP_MS;
    const maxBufferedBytes = opts.busyBufferBytes ?? DEFAULT_BUSY_BUFFER_BYTES;
    if ('kind' in target) {
      const { store, sessionId } = target;
      this.sessionId = sessionId;
      this.writer = ClickHouseSessionWriter.forNewSession(store, sessionId, target.symbol, {
        batchIntervalMs: opts.batchIntervalMs,
        now: this.now,
        onError: (e) => this.fail(e),
        giveUpMs,
        maxBufferedBytes,
        onBusy: (e) => this.onStoreBusy(e),
      });
      this.updateMeta = (patch) => updateClickHouseMeta(store, sessionId, patch);
      this.storeName = 'the ClickHouse server';
    } else {
      const db = target;
      const sessionId = createSession(db, newSession(source, opts, this.now()));
      this.sessionId = sessionId;
      this.writer = new SessionWriter(db, sessionId, {
        batchIntervalMs: opts.batchIntervalMs,
        now: this.now,
        onError: (e) => this.fail(e),
        busy: { giveUpMs, maxBufferedBytes, onBusy: (e) => this.onStoreBusy(e) },
      });
      this.updateMeta = (patch) => updateSessionMeta(db, sessionId, patch);
    }
    this.stopRequested = new Promise<string>((r) => (this.resolveStop = r));
    source.on('message', this.onMessage);
    source.on('gap', this.onGap);
    source.on('warning', this.onWarning);
    source.on('notice', this.onNotice);
    const maybeDone = (source as { done?: () => Promise<void> }).done;
    if (typeof maybeDone === 'function')
      void maybeDone.call(source).then(() => this.requestStop('source finished'));
    this.finished = this.stopRequested.then((reason) => this.finish(reason));
  }

  /** Starts the source; the recording runs until the duration, stop(), the source ending, or a write error. */
  async start(): Promise<void> {
    this.startedAt = this.now();
    if (this.opts.clock === 'wall' && Number.isFinite(this.opts.durationMs)) {
      // setTimeout holds at most 2^31 − 1 ms (24.8 days) and fires at once beyond: re-arm in steps (--duration 30d).
      const arm = (left: number) => {
        this.wallTimer = setTimeout(
          () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : this.requestStop('duration reached')),
          Math.min(left, MAX_TIMER_MS),
        );
      };
      arm(this.opts.durationMs);
    }
    try {
      await this.source.start();
    } catch (e) {
      // The source could not start (a bad URL, ...): nothing failed to write.
      this.error ??= e as Error;
      this.requestStop('source failed');
      throw e;
    }
  }

  /** Stops recording, flushes and closes the session; resolves with the final counters. */
  stop(reason = 'stopped'): Promise<RecordResult> {
    this.requestStop(reason);
    return this.finished;
  }

  progress(): RecorderProgress {
    const st = this.writer.stats();
    return {
      sessionId: this.sessionId,
      elapsedMs: this.startedAt ? this.now() - this.startedAt : 0,
      dataSpanMs: this.firstRecv >= 0 ? this.lastRecv - this.firstRecv : 0,
      durationMs: this.opts.durationMs,
      messages: st.bookMessages + st.tradeMessages,
      bookMessages: st.bookMessages,
      tradeMessages: st.tradeMessages,
      trades: st.trades,
      gaps: st.gaps,
      received: this.received,
      buffered: this.received - st.bookMessages - st.tradeMessages,
      storeBusySince: st.busySince,
      warnings: this.warnings,
      state: this.source.health().state,
      stopReason: this.stopReason,
    };
  }

  private requestStop(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.resolveStop(reason);
  }

  private fail(e: Error): void {
    this.error ??= e;
    this.requestStop('write error');
  }

  private onStoreBusy(e: BusyEvent): void {
    this.opts.onStoreBusy?.(e);
    const sqlite = this.storeName === 'the database';
    if (e.state === 'busy')
      this.onWarning(
        `${sqlite ? 'the database is locked by another process' : `${this.storeName} refuses inserts`} (${e.reason}): ` +
          `collecting on in memory and retrying; gives up after ${formatDuration(e.giveUpMs)} (store.busy_give_up)`,
      );
    else
      this.onNotice(
        `${this.storeName} ${sqlite ? 'is free' : 'accepts inserts'} again after ${formatDuration(e.busyMs)}: ${e.committedRows} rows held in memory are stored`,
      );
  }

  private readonly onMessage = (m: MarketMessage): void => {
    if (this.stopReason) return;
    if (this.firstRecv < 0) this.firstRecv = m.recvTs;
    if (this.opts.clock === 'message' && m.recvTs - this.firstRecv >= this.opts.durationMs) {
      this.requestStop('duration reached');
      return;
    }
    this.lastRecv = m.recvTs;
    // A source that infers its tick size reports it, and any later refinement, on its instrument.
    const reported = this.source.instrument.tickSize;
    // The tick goes through the writer, in its next batch: a direct UPDATE would block (or throw) on a locked file.
    let tick: string | null = null;
    if (reported && reported !== this.tickSize) {
      tick = this.tickSize = reported;
    } else if (
      !this.tickSize &&
      m.kind === 'book' &&
      m.type === 'snapshot' &&
      m.bids.length + m.asks.length > 0
    ) {
      // A source that did not know its tick size: infer it once from the first snapshot's prices.
      tick = this.tickSize = inferTickSize([...m.bids, ...m.asks].map((l) => String(l[0])));
    }
    try {
      if (tick !== null) this.writer.writeTickSize(tick);
      this.writer.writeMessage(m);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.opts.onWritten?.({ kind: 'message', message: m, tickSize: this.tickSize });
    // Counted as the writer counts it: a trade message without trades stores nothing.
    if (m.kind === 'book' || m.trades.length > 0) this.received++;
  };

  private readonly onGap = (g: Gap): void => {
    if (this.stopReason) return;
    try {
      this.writer.writeGap(g);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.opts.onWritten?.({ kind: 'gap', gap: g });
  };

  private readonly onWarning = (text: string): void => {
    this.warnings++;
    this.opts.onWarning?.(text);
  };

  private readonly onNotice = (text: string): void => {
    this.opts.onNotice?.(text);
  };

  private finish(reason: string): Promise<RecordResult> {
    this.finishing ??= (async () => {
      if (this.wallTimer) clearTimeout(this.wallTimer);
      try {
        await this.source.stop();
      } catch (e) {
        this.opts.onWarning?.(`stopping the source: ${(e as Error).message}`);
      }
      this.source.off('message', this.onMessage);
      this.source.off('gap', this.onGap);
      this.source.off('warning', this.onWarning);
      this.source.off('notice', this.onNotice);
      try {
        // A locked database is waited for up to the give-up time, so a stop does not lose what is buffered.
        if (!this.error) await this.writer.drain();
        await this.writer.close(this.now());
        await this.updateMeta({
          health: this.source.health(),
          stopReason: reason,
          warnings: this.warnings,
          // A live source learns the lot and minimum order value once its instrument-info request answers, which
          // may be after the session was created.
          ...orderRulesMeta(this.source.instrument),
        });
      } catch (e) {
        this.error ??= e as Error;
      }
      const p = this.progress();
      const notStored =
        p.buffered > 0
          ? {
              messages: p.buffered,
              reason: this.error?.message ?? 'the recording stopped before they were stored',
            }
          : null;
      return { ...p, stopReason: reason, notStored, ...(this.error ? { error: this.error } : {}) };
    })();
    return this.finishing;
  }
}
