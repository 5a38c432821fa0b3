// Records a market source into a new session: source events → SessionWriter, with a stop after a duration
// (wall time, or the messages' own clock for the simulator at any speed), progress counters for a CLI line or
// a UI progress bar, and a clean stop (flush + close the session). Used by `l2desk collect` and the app.
import type { FeedHealth, Gap, MarketMessage } from '../../src-shared/market.ts';
import { inferTickSize } from '../book/tickScale.ts';
import type { MarketSource } from '../market/source.ts';
import type { Db } from './db.ts';
import { SessionWriter } from './sessionWriter.ts';
import { createSession, updateSessionMeta } from './sessions.ts';

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
}

export interface RecorderProgress {
  sessionId: number;
  /** Wall time since start (ms). */
  elapsedMs: number;
  /** Receive-time span of the recorded messages (ms): simulated time for the sim. */
  dataSpanMs: number;
  durationMs: number;
  messages: number;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  gaps: number;
  warnings: number;
  state: FeedHealth['state'];
  /** Set once stopped: 'duration reached', 'source finished', a signal name, 'stopped', 'write error', 'source failed'. */
  stopReason: string;
}

export interface RecordResult extends RecorderProgress {
  error?: Error;
}

export class SessionRecorder {
  readonly sessionId: number;
  private readonly writer: SessionWriter;
  private readonly now: () => number;
  private tickSize: string;
  private startedAt = 0;
  private firstRecv = -1;
  private lastRecv = -1;
  private messages = 0;
  private trades = 0;
  private gaps = 0;
  /** Gaps reported open and not yet closed (reason|start), so their closing report is not counted again. */
  private readonly openGaps = new Set<string>();
  private warnings = 0;
  private stopReason = '';
  private error: Error | undefined;
  private wallTimer: ReturnType<typeof setTimeout> | undefined;
  private finishing: Promise<RecordResult> | undefined;
  private resolveStop: (reason: string) => void = () => {};
  private readonly stopRequested: Promise<string>;
  /** Resolves once the recording has stopped and the session is closed. */
  readonly finished: Promise<RecordResult>;

  constructor(
    private readonly db: Db,
    private readonly source: MarketSource,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.tickSize = source.instrument.tickSize;
    this.sessionId = createSession(db, {
      source: source.kind,
      symbol: source.instrument.symbol,
      category: source.instrument.category,
      depth: opts.depth,
      tickSize: this.tickSize || '',
      startedAt: this.now(),
      meta: { ...opts.meta, durationMs: opts.durationMs },
    });
    this.writer = new SessionWriter(db, this.sessionId, {
      batchIntervalMs: opts.batchIntervalMs,
      now: this.now,
      onError: (e) => this.fail(e),
    });
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
      messages: this.messages,
      bookMessages: st.bookMessages,
      tradeMessages: st.tradeMessages,
      trades: this.trades,
      gaps: this.gaps,
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
    if (reported && reported !== this.tickSize) {
      this.tickSize = reported;
      this.db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?').run(this.tickSize, this.sessionId);
    } else if (
      !this.tickSize &&
      m.kind === 'book' &&
      m.type === 'snapshot' &&
      m.bids.length + m.asks.length > 0
    ) {
      // A source that did not know its tick size: infer it once from the first snapshot's prices.
      this.tickSize = inferTickSize([...m.bids, ...m.asks].map((l) => String(l[0])));
      this.db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?').run(this.tickSize, this.sessionId);
    }
    try {
      this.writer.writeMessage(m);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.messages++;
    if (m.kind === 'trades') this.trades += m.trades.length;
  };

  private readonly onGap = (g: Gap): void => {
    if (this.stopReason) return;
    const key = `${g.reason}|${g.startTs}`;
    if (g.endTs === null) {
      this.openGaps.add(key);
      this.gaps++;
    } else if (!this.openGaps.delete(key)) this.gaps++; // opened and closed at once (a restart)
    try {
      this.writer.writeGap(g);
    } catch (e) {
      this.fail(e as Error);
    }
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
        this.writer.close(this.now());
        updateSessionMeta(this.db, this.sessionId, {
          health: this.source.health(),
          stopReason: reason,
          warnings: this.warnings,
        });
      } catch (e) {
        this.error ??= e as Error;
      }
      return { ...this.progress(), stopReason: reason, ...(this.error ? { error: this.error } : {}) };
    })();
    return this.finishing;
  }
}
