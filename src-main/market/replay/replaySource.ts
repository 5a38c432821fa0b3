// A stored session played back as a MarketSource, at any speed: a number (1 = real time, 10 = ten times faster,
// paced on the local receive times) or 'max' (as fast as the consumer takes it). Backpressure: when a message
// listener returns a promise (the engine awaiting a prediction), the replay waits for it, so a replay is as
// deterministic as its consumer and never floods memory. Trades stored before the plausibility checks existed are
// checked again (against the last plausible trade price): an implausible one never reaches the features.
import type { FeedHealth, Gap, Instrument, MarketMessage, TradeMessage } from '../../../src-shared/market.ts';
import {
  checkTradeMessage,
  DEFAULT_PLAUSIBILITY,
  describeFindings,
  type PlausibilityLimits,
} from '../../book/plausibility.ts';
import type { Db } from '../../store/db.ts';
import { readSession, type StoredEvent } from '../../store/sessionReader.ts';
import { getSession, type SessionInfo } from '../../store/sessions.ts';
import { SourceEmitter } from '../emitter.ts';
import { sessionInstrument } from '../orderRules.ts';
import { idleFeedHealth, type MarketSource, type SourceEvents } from '../source.ts';

/**
 * A session read asynchronously in pages: of another store (ClickHouse), or read ahead in a worker (backtests): its
 * catalogue entry and its events.
 */
export interface StoredSessionData {
  session: SessionInfo;
  /** The session's events in arrival order, a page at a time, within the receive-time range given. */
  pages: (range: { fromTs?: number; toTs?: number }) => AsyncIterable<Iterable<StoredEvent>>;
}

export interface ReplaySourceOptions {
  /** The SQLite store holding the session; unused when `data` is given. */
  db: Db;
  sessionId: number;
  /** Replay a session of another store instead of reading `db`. */
  data?: StoredSessionData;
  speed: number | 'max';
  /** Only data received within [fromTs, toTs] (local receive time, ms). */
  fromTs?: number;
  toTs?: number;
  /** Health events every this many messages (default 10 000). */
  healthEvery?: number;
  /** Limits for re-checking stored trades (default DEFAULT_PLAUSIBILITY). */
  plausibility?: PlausibilityLimits;
  /**
   * Book levels in tuples the store reader reuses (readSession's reuseLevels): only when every message listener
   * is done with a message's levels once its handler (or the promise it returns) finishes, as the Engine is.
   */
  reuseLevels?: boolean;
}

const isPromise = (x: unknown): x is Promise<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as Promise<unknown>).then === 'function';

export class ReplaySource implements MarketSource {
  readonly kind = 'replay' as const;
  readonly instrument: Instrument;
  private readonly events = new SourceEmitter();
  private readonly h: FeedHealth = idleFeedHealth();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private finished!: () => void;
  private readonly finishedP: Promise<void>;
  private failure: Error | null = null;
  /** The last plausible trade price: the band's centre for the next trades (no book is kept here). */
  private lastTradePrice = NaN;
  /**
   * Exchange − receive time of the book messages: a session recorded from a simulator or a replay server has its
   * own exchange clock (possibly faster than ours), and trades are held to that clock, not to the receive one. A
   * book message jumping away from it does not move it.
   */
  private clockOffset = NaN;

  constructor(private readonly opts: ReplaySourceOptions) {
    const s = opts.data?.session ?? getSession(opts.db, opts.sessionId);
    if (!s) throw new Error(`no session ${opts.sessionId} in ${opts.db.name}; list them with \`l2desk db\``);
    if (opts.speed !== 'max' && !(opts.speed > 0))
      throw new RangeError(`replay speed must be > 0 or 'max', got ${opts.speed}`);
    this.instrument = sessionInstrument(s);
    this.finishedP = new Promise((resolve) => (this.finished = resolve));
  }

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.on(event, fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.off(event, fn);
  }

  health(): FeedHealth {
    return { ...this.h };
  }

  async start(): Promise<void> {
    if (this.loop) throw new Error('replay already started');
    this.h.state = 'subscribed';
    this.emitHealth();
    this.loop = this.run().then(
      () => this.end(),
      (e: unknown) => {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.warn(`replay failed: ${this.failure.message}`);
        this.end();
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.loop) await this.loop;
    else this.end();
  }

  /** Resolves when the whole session has been played (or stop() was called); rejects if reading failed. */
  async done(): Promise<void> {
    await this.finishedP;
    if (this.failure) throw this.failure;
  }

  private end(): void {
    if (this.h.state === 'stopped') return;
    this.h.state = 'stopped';
    this.emitHealth();
    this.finished();
  }

  private async run(): Promise<void> {
    const speed = this.opts.speed;
    const every = this.opts.healthEvery ?? 10_000;
    let t0Data = NaN;
    let t0Wall = 0;
    let sinceYield = 0;
    const range = { fromTs: this.opts.fromTs, toTs: this.opts.toTs };
    // SQLite reads synchronously: one "page" that is the whole generator, so its loop awaits nothing per message.
    const pages: AsyncIterable<Iterable<StoredEvent>> | Iterable<Iterable<StoredEvent>> = this.opts.data
      ? this.opts.data.pages(range)
      : [readSession(this.opts.db, this.opts.sessionId, { ...range, reuseLevels: this.opts.reuseLevels })];
    for await (const page of pages)
      for (const ev of page) {
        if (this.stopping) return;
        if (ev.kind === 'gap') {
          this.h.gaps++;
          const g = this.deliver('gap', ev.gap);
          if (g) await g;
          continue;
        }
        if (speed !== 'max') {
          const at = ev.recvTs;
          if (t0Data !== t0Data) {
            t0Data = at;
            t0Wall = performance.now();
          }
          const wait = t0Wall + (at - t0Data) / speed - performance.now();
          if (wait > 2) await sleep(wait);
          if (this.stopping) return;
        } else if (++sinceYield >= 2000) {
          // Let timers and signals (Ctrl-C) run during a max-speed replay.
          sinceYield = 0;
          await new Promise<void>((r) => setImmediate(r));
          if (this.stopping) return;
        }
        this.h.messages++;
        if (ev.kind === 'book') {
          this.h.latencyMs = ev.recvTs - ev.ts;
          const off = ev.ts - ev.recvTs;
          const skew = (this.opts.plausibility ?? DEFAULT_PLAUSIBILITY).maxClockSkewMs;
          if (!(Math.abs(off - this.clockOffset) > skew)) this.clockOffset = off;
        }
        let msg: MarketMessage | null = ev;
        if (ev.kind === 'trades') {
          const r = this.plausibleTrades(ev);
          if (r.gap) {
            const g = this.deliver('gap', r.gap);
            if (g) await g;
          }
          if (!r.msg) continue;
          msg = r.msg;
        }
        // Awaiting only a real promise: an \`await undefined\` per message would cost a microtask each.
        const p = this.deliver('message', msg);
        if (p) await p;
        if (this.h.messages % every === 0) this.emitHealth();
      }
  }

  /** The message without implausible trades (each message's refusals reported as a gap that opens and closes). */
  private plausibleTrades(m: TradeMessage): { msg: TradeMessage | null; gap: Gap | null } {
    const ref = this.lastTradePrice;
    const ctx = { refBid: ref, refAsk: ref, clockTs: m.recvTs + this.clockOffset, wallTs: Infinity };
    const r = checkTradeMessage(m, ctx, this.opts.plausibility ?? DEFAULT_PLAUSIBILITY);
    let gap: Gap | null = null;
    if (r.findings.length > 0) {
      this.h.gaps++;
      const detail = `stored trades refused on replay: ${describeFindings(r.findings)}`;
      gap = {
        symbol: m.symbol,
        reason: 'implausible',
        startTs: m.recvTs,
        endTs: m.recvTs,
        detail,
      };
    }
    if (r.msg) this.lastTradePrice = r.msg.trades[r.msg.trades.length - 1].price;
    return { msg: r.msg, gap };
  }

  private deliver(event: 'message' | 'gap', payload: MarketMessage | Gap): Promise<void> | void {
    const list = this.events.listenersOf(event) as readonly ((p: MarketMessage | Gap) => unknown)[];
    let wait: Promise<unknown>[] | null = null;
    for (let i = 0; i < list.length; i++) {
      try {
        const r = list[i](payload);
        if (isPromise(r)) (wait ??= []).push(r);
      } catch (e) {
        this.warn(`listener for "${event}" threw: ${(e as Error).message ?? String(e)}`);
      }
    }
    if (!wait) return;
    return Promise.all(wait).then(
      () => undefined,
      (e: unknown) => this.warn(`listener for "${event}" failed: ${(e as Error).message ?? String(e)}`),
    );
  }

  private emitHealth(): void {
    const h = this.health();
    for (const fn of this.events.listenersOf('health')) fn(h);
  }

  private warn(text: string): void {
    for (const fn of this.events.listenersOf('warning')) fn(text);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
