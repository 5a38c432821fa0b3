// Live Bybit v5 public order book and trades of one symbol: gap handling through SequencedBook (a broken book is
// resynced, never passed on) over a BybitConnection (heartbeat, half-open detection, reconnect with jittered
// backoff), which several symbols can share (BybitSource.group). A refused subscription stops the feed for good.
// Without a configured tick size the tick is inferred from the first snapshot and refined when a later
// price is off that grid (the book is then rebuilt from a fresh snapshot).
import type {
  BookMessage,
  Category,
  FeedHealth,
  Gap,
  GapReason,
  Instrument,
  Trade,
  TradeMessage,
} from '../../../src-shared/market.ts';
import {
  checkBookMessage,
  checkTradeMessage,
  DEFAULT_PLAUSIBILITY,
  describeFindings,
  type CheckContext,
  type PlausibilityLimits,
} from '../../book/plausibility.ts';
import { SequencedBook, type ApplyResult } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { SourceEmitter } from '../emitter.ts';
import { idleFeedHealth, type MarketSource, type SourceEvents } from '../source.ts';
import type { BackoffPolicy } from './backoff.ts';
import { BybitConnection, type ConnectionMember, type ConnectionOptions } from './bybitConnection.ts';
import { fetchInstrumentInfo, INSTRUMENT_INFO_TIMEOUT_MS } from './instrumentInfo.ts';
import { bookTopic, publicUrl, tradeTopic, TopicError, type ParsedFrame } from './protocol.ts';
import type { SubscriptionRefusedError } from './subscriptionRefused.ts';
import { offGridPrices, refineTick, tickFromLevels } from './tickInference.ts';

export interface BybitSourceOptions {
  symbol: string;
  category: Category;
  /** Order-book depth topic: 1, 50, 200 or 1000. */
  depth: number;
  /**
   * The symbol's tick size as a decimal string ("0.1"). Omitted: inferred from the first snapshot's prices
   * and refined when a later price is off that grid; `instrument.tickSize` is '' until then.
   */
  tickSize?: string;
  /** WebSocket URL; defaults to Bybit's public stream for the category. */
  url?: string;
  /**
   * REST base asked for instruments-info (tick size, lot) before connecting when no tickSize is given;
   * omitted: not asked, the tick is inferred from the data. A failed call warns and falls back to inference.
   */
  restBase?: string;
  /** Time allowed for the instruments-info call (default 3 s). */
  restTimeoutMs?: number;
  pingIntervalMs: number;
  /**
   * No pong, or no snapshot after a resubscribe, for this long: the socket is dead. No data for this long
   * (a quiet market, or a stalled feed) resubscribes the book to find out which.
   */
  staleTimeoutMs: number;
  reconnect: BackoffPolicy;
  /** Clock for receive stamps and gap times (tests inject one). */
  now?: () => number;
  /** Randomness for backoff jitter. */
  random?: () => number;
  /** Largest frame accepted (bytes, default 4 MiB): a larger one is refused unread and the connection dropped. */
  maxFrameBytes?: number;
  /** Values outside these are refused and recorded as 'implausible' gaps (default DEFAULT_PLAUSIBILITY). */
  plausibility?: PlausibilityLimits;
}

/** 4 MiB: a depth-1000 snapshot is about 60 KB, so this only stops garbage and floods. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

function connectionOptions(o: Omit<BybitSourceOptions, 'symbol' | 'tickSize'>): ConnectionOptions {
  return {
    url: o.url ?? publicUrl(o.category),
    category: o.category,
    pingIntervalMs: o.pingIntervalMs,
    staleTimeoutMs: o.staleTimeoutMs,
    reconnect: o.reconnect,
    maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    now: o.now ?? Date.now,
    random: o.random ?? Math.random,
  };
}

/** Options shared by the symbols of one connection (BybitSource.group). */
export type BybitGroupOptions = Omit<BybitSourceOptions, 'symbol' | 'tickSize'> & {
  /** The symbols, each with its tick size when known (else asked of instruments-info, or inferred). */
  symbols: ReadonlyArray<{ symbol: string; tickSize?: string }>;
};

export class BybitSource implements MarketSource {
  readonly kind = 'bybit' as const;
  readonly url: string;
  private readonly events = new SourceEmitter();
  private readonly conn: BybitConnection;
  private readonly member: ConnectionMember;
  private inst: Instrument;
  /** Null until the tick size is known (configured, or inferred from the first snapshot). */
  private scale: TickScale | null;
  private seqBook: SequencedBook | null;
  private readonly now: () => number;
  private readonly bookTopicName: string;
  readonly topics: readonly string[];
  private readonly limits: PlausibilityLimits;
  /** The tick was given or came from instrument info (not inferred): trade prices must sit on it. */
  private tickKnown: boolean;
  /**
   * Exchange time − receive time of the last applied book message (since the connection's first snapshot): a
   * simulator or a replay server runs on its own clock, possibly faster than ours, so a time is held to that
   * clock, not to ours: a jump is refused, a steady drift is not. Null until then.
   */
  private clockOffset: number | null = null;

  private lastDataTs = 0;
  /** Set while waiting for the snapshot a resubscribe should bring. */
  private resyncSince: number | null = null;
  private readonly openGaps: Gap[] = [];
  private lastHealthEmit = 0;
  private readonly stats: FeedHealth = idleFeedHealth();
  /** True between start() and stop() (or a refusal). */
  private running = false;
  /** Whether start() has resolved once: a later refusal is said as a warning, an earlier one rejects start(). */
  private started = false;
  private refusal_: SubscriptionRefusedError | null = null;
  private readonly refusedListeners: Array<(e: SubscriptionRefusedError) => void> = [];

  /**
   * Several symbols over one connection: one source per symbol (its own book, tick, gaps and health), one
   * socket and one set of subscribe requests (split to the category's per-request limit). Each is started and
   * stopped like a lone source; the socket opens with the first start and closes with the last stop.
   */
  static group(opts: BybitGroupOptions): BybitSource[] {
    if (opts.symbols.length === 0) throw new TopicError('no symbol to subscribe to');
    const conn = new BybitConnection(connectionOptions(opts));
    return opts.symbols.map(({ symbol, tickSize }) => new BybitSource({ ...opts, symbol, tickSize }, conn));
  }

  constructor(
    private readonly opts: BybitSourceOptions,
    conn?: BybitConnection,
  ) {
    this.scale = opts.tickSize ? new TickScale(opts.tickSize) : null;
    this.inst = { symbol: opts.symbol, category: opts.category, tickSize: this.scale?.tickSize ?? '' };
    this.now = opts.now ?? Date.now;
    this.bookTopicName = bookTopic(opts.depth, opts.symbol, opts.category);
    this.topics = [this.bookTopicName, tradeTopic(opts.symbol)];
    this.seqBook = this.scale ? new SequencedBook(this.scale) : null;
    this.limits = opts.plausibility ?? DEFAULT_PLAUSIBILITY;
    this.tickKnown = this.scale !== null;
    this.conn = conn ?? new BybitConnection(connectionOptions(opts));
    this.url = this.conn.url;
    this.member = this.makeMember();
    this.conn.add(this.member);
  }

  /** tickSize is '' until inferred when none was configured, and changes if a later price refines it. */
  get instrument(): Instrument {
    return this.inst;
  }

  get symbol(): string {
    return this.opts.symbol;
  }

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.on(event, fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.off(event, fn);
  }

  /** Called once if the exchange refuses this feed's subscription (also after start() resolved). */
  onRefused(fn: (e: SubscriptionRefusedError) => void): void {
    if (this.refusal_) fn(this.refusal_);
    else this.refusedListeners.push(fn);
  }

  /** The refusal that stopped this feed, or null. */
  refusal(): SubscriptionRefusedError | null {
    return this.refusal_;
  }

  /**
   * The sequenced book this source maintains (tests compare it with the exchange's); null before the first
   * snapshot when the tick size is inferred. A refined tick size replaces it with a new one.
   */
  book(): SequencedBook | null {
    return this.seqBook;
  }

  health(): FeedHealth {
    return { ...this.stats };
  }

  /** Gaps opened and not yet closed by a valid snapshot. */
  openGapList(): readonly Gap[] {
    return this.openGaps.map((g) => ({ ...g }));
  }

  /**
   * Resolves once the connection's subscriptions are acknowledged; it keeps retrying until then. Rejects with a
   * SubscriptionRefusedError when the exchange refuses one (an unknown symbol, a symbol of the other category).
   */
  start(): Promise<void> {
    if (this.refusal_) return Promise.reject(this.refusal_);
    if (this.running) return this.started ? Promise.resolve() : this.conn.start(this.member);
    this.running = true;
    return this.conn.start(this.member).then(() => {
      this.started = true;
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.conn.stop(this.member);
    this.setState('stopped');
  }

  /** The connection's view of this source (kept apart so that its callbacks are not this class's public API). */
  private makeMember(): ConnectionMember {
    return {
      symbol: this.opts.symbol,
      depth: this.opts.depth,
      topics: this.topics,
      prepare: () => (this.scale || !this.opts.restBase ? Promise.resolve() : this.learnInstrument()),
      connected: (t) => {
        this.lastDataTs = t;
        this.clockOffset = null;
        // A (re)subscription must bring a snapshot in time, or the connection is treated as dead.
        this.resyncSince = t;
      },
      // A symbol stopped while others on its connection run hears nothing more, and cannot declare the socket dead.
      frame: (f, recvTs) => {
        if (this.running) this.onFrame(f, recvTs);
      },
      tick: (t, awaitingPong) => (this.running ? this.onTick(t, awaitingPong) : null),
      lost: (reason, detail) => {
        this.resyncSince = null;
        this.seqBook?.invalidate();
        // One gap spans the whole outage, however many attempts it takes; before any data there is nothing to lose.
        if (this.openGaps.length === 0 && (this.seqBook?.lastU ?? 0) > 0) this.openGap(reason, detail);
        this.stats.reconnects++;
      },
      oversizedFrame: (detail) => {
        this.seqBook?.invalidate();
        this.refuse('oversize', detail, true);
      },
      setState: (state) => this.setState(state),
      problem: (kind, text) => this.problem(kind, text),
      warn: (text) => this.events.emit('warning', text),
      healthTick: (recvTs) => {
        if (recvTs - this.lastHealthEmit >= 1000) {
          this.lastHealthEmit = recvTs;
          this.events.emit('health', this.health());
        }
      },
      refused: (e) => {
        this.refusal_ = e;
        this.running = false;
        this.setState('stopped');
        // Those who asked to hear of it first (they may say it themselves), then, after start() resolved, as a
        // warning for the others; before, start()'s rejection carries it.
        for (const fn of this.refusedListeners.splice(0)) fn(e);
        if (this.started) this.events.emit('warning', e.message);
      },
    };
  }

  /** Tick size and lot from instruments-info; on failure a warning, and the first snapshot decides as before. */
  private async learnInstrument(): Promise<void> {
    const r = await fetchInstrumentInfo({
      restBase: this.opts.restBase as string,
      category: this.opts.category,
      symbol: this.opts.symbol,
      timeoutMs: this.opts.restTimeoutMs ?? INSTRUMENT_INFO_TIMEOUT_MS,
    });
    if (!this.running || this.scale) return;
    if (!r.ok) {
      this.events.emit(
        'warning',
        `instrument info for ${this.opts.symbol} unavailable (${r.reason}): inferring the tick size from the data`,
      );
      return;
    }
    let scale: TickScale;
    try {
      scale = new TickScale(r.info.tickSize);
    } catch (e) {
      this.events.emit(
        'warning',
        `instrument info for ${this.opts.symbol} has an unusable tick size ${r.info.tickSize} (${(e as Error).message}): inferring it from the data`,
      );
      return;
    }
    this.useTick(scale);
    this.tickKnown = true;
    this.inst = {
      ...this.inst,
      qtyStep: r.info.qtyStep,
      ...(r.info.minNotional ? { minNotional: r.info.minNotional } : {}),
    };
    // Said once, like the inferred case, so a user of an unlisted symbol sees where the grid came from.
    this.events.emit(
      'notice',
      `tick size of ${this.opts.symbol} from the exchange's instrument info: ${scale.tickSize} (lot ${r.info.qtyStep})`,
    );
  }

  /** This symbol's part of the heartbeat: a text when its feed proves the socket dead, else null. */
  private onTick(t: number, awaitingPong: boolean): string | null {
    const stale = this.opts.staleTimeoutMs;
    const silentFor = t - this.lastDataTs;
    if (this.resyncSince !== null) {
      if (t - this.resyncSince > stale) {
        const silent = silentFor > stale ? `no data for ${silentFor} ms and ` : '';
        return `${silent}no snapshot within ${t - this.resyncSince} ms of resubscribing`;
      }
    } else if (silentFor > stale) {
      // A quiet symbol can go that long without a book change or a trade while pongs keep coming: rather than
      // reconnect, resubscribe the book, which must bring a snapshot at once on a live feed (else: stale).
      if (this.seqBook?.valid && !awaitingPong) this.resubscribeBook();
      else return `no data for ${silentFor} ms`;
    }
    return null;
  }

  private onFrame(f: Extract<ParsedFrame, { type: 'book' | 'trades' | 'oversize' }>, recvTs: number): void {
    switch (f.type) {
      case 'book':
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.onBook(f.msg);
        break;
      case 'trades':
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.onTrades(f.msg);
        break;
      case 'oversize':
        if (f.depth !== this.opts.depth) {
          this.problem('unknown', `book message for unexpected topic orderbook.${f.depth}.${f.symbol}`);
          break;
        }
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.refuseBook('oversize', f.reason);
        break;
    }
  }

  private onBook(msg: BookMessage): void {
    if (msg.symbol !== this.opts.symbol || msg.depth !== this.opts.depth) {
      return this.problem(
        'unknown',
        `book message for unexpected topic orderbook.${msg.depth}.${msg.symbol}`,
      );
    }
    this.stats.latencyMs = msg.recvTs - msg.ts;
    // A delta to a book awaiting its snapshot is dropped anyway: only what would be applied is checked.
    if (msg.type === 'snapshot' || this.seqBook?.valid) {
      // A snapshot resets the book and the feed's clock: only the absolute bounds (wall clock, 2009) hold it.
      const ctx = this.checkContext(msg.recvTs, null);
      if (msg.type === 'snapshot') ctx.clockTs = NaN;
      const f = checkBookMessage(msg, ctx, this.limits);
      if (f)
        return this.refuseBook(
          'implausible',
          `${msg.type} u=${msg.u} refused: implausible ${f.kind}: ${f.detail}`,
        );
    }
    let seqBook = this.seqBook;
    if (!seqBook) {
      if (msg.type !== 'snapshot') return; // before the first snapshot: nothing to apply it to
      seqBook = this.useTick(this.inferredTick(msg));
    }
    let result: ApplyResult;
    try {
      result = seqBook.apply(msg);
    } catch (e) {
      // Defensive: whatever the book throws must not kill the socket loop; the half-applied book is distrusted.
      seqBook.invalidate();
      this.problem('malformed', `book message u=${msg.u} rejected: ${(e as Error).message}`);
      result = {
        status: 'gap',
        reason: 'sequence',
        detail: `book message u=${msg.u} could not be applied: ${(e as Error).message}`,
      };
    }
    if (result.status === 'gap' && result.reason === 'sequence' && this.scale) {
      // SequencedBook reports an off-grid price as a sequence gap; a finer grid may explain it.
      const off = offGridPrices(this.scale, msg);
      if (off.length > 0) return this.onOffGrid(msg, off, result.detail);
    }
    this.afterApply(msg, result);
  }

  private afterApply(msg: BookMessage, result: ApplyResult): void {
    if (result.status === 'applied') {
      if (msg.type === 'snapshot' || this.clockOffset !== null) this.clockOffset = msg.ts - msg.recvTs;
      if (msg.type === 'snapshot') {
        this.resyncSince = null;
        this.conn.resetBackoff();
        const t = this.now();
        if (result.restarted)
          this.recordGap({
            symbol: this.opts.symbol,
            reason: 'restart',
            startTs: t,
            endTs: t,
            detail: 'snapshot with u=1: the exchange service restarted (or changed the price precision)',
          });
        this.closeGaps(t);
      }
      this.events.emit('message', msg);
    } else if (result.status === 'gap') {
      this.openGap(result.reason, result.detail);
      this.resubscribeBook();
    }
    // 'ignored': a delta before the first snapshot or while waiting for a fresh one: never reaches anyone.
  }

  private get maxFrameBytes(): number {
    return this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Implausible trades are dropped (each message's refusals stored as one gap); the others go on. */
  private onTrades(msg: TradeMessage): void {
    const scale = this.tickKnown ? this.scale : null;
    const r = checkTradeMessage(msg, this.checkContext(msg.recvTs, scale), this.limits);
    if (r.findings.length > 0)
      this.refuse('implausible', `trades refused: ${describeFindings(r.findings)}`, false);
    if (r.msg) this.events.emit('message', inTimeOrder(r.msg));
  }

  /** The band is the trusted book's best bid and ask (none while gapped); the clock is the feed's. */
  private checkContext(recvTs: number, scale: TickScale | null): CheckContext {
    const clockTs = this.clockOffset === null ? NaN : recvTs + this.clockOffset;
    const b = this.seqBook?.valid ? this.seqBook.book : null;
    return { refBid: b ? b.bestBid() : NaN, refAsk: b ? b.bestAsk() : NaN, clockTs, wallTs: recvTs, scale };
  }

  /** A book message that must not be applied: the book is distrusted and resynced from a fresh snapshot. */
  private refuseBook(reason: 'oversize' | 'implausible', detail: string): void {
    this.seqBook?.invalidate();
    this.refuse(reason, detail, true);
    this.resubscribeBook();
  }

  /**
   * Records one refusal as a stored gap: it opens the gap when the book was trusted, else (already gapped, or a
   * refused trade) it is a gap that opens and closes at once, so a flood of refusals adds rows, not open gaps.
   */
  private refuse(reason: 'oversize' | 'implausible', detail: string, breaksBook: boolean): void {
    this.events.emit(
      'warning',
      `${reason === 'oversize' ? 'oversized' : 'implausible'} data refused: ${detail}`,
    );
    if (breaksBook && this.openGaps.length === 0 && (this.seqBook?.lastU ?? 0) > 0)
      return this.openGap(reason, detail);
    const t = this.now();
    // Stores and the engine key a gap by reason and start: one opening at the same instant would read as its end.
    if (this.openGaps.some((g) => g.reason === reason && g.startTs === t)) {
      this.stats.gaps++;
      return;
    }
    this.recordGap({ symbol: this.opts.symbol, reason, startTs: t, endTs: t, detail });
  }

  /** The tick of the first snapshot's prices (a guess for an empty book, refined by the first real price). */
  private inferredTick(msg: BookMessage): string {
    const tick = tickFromLevels(msg.bids, msg.asks);
    if (tick) {
      // The normal way to learn an unlisted symbol's grid (no instrument info): news, not a problem.
      this.events.emit(
        'notice',
        `tick size of ${this.opts.symbol} inferred from the first snapshot: ${tick}`,
      );
      return tick;
    }
    this.events.emit(
      'warning',
      `the first snapshot of ${this.opts.symbol} is empty: assuming tick size 1 until prices refine it`,
    );
    return '1';
  }

  /** Switches to a (new) tick size: a fresh, empty book on that grid, and the instrument reports it. */
  private useTick(tick: string | TickScale): SequencedBook {
    const scale = typeof tick === 'string' ? new TickScale(tick) : tick;
    this.scale = scale;
    this.seqBook = new SequencedBook(scale);
    this.inst = { ...this.inst, tickSize: scale.tickSize };
    return this.seqBook;
  }

  /**
   * A price off the current grid: refine the tick to the finer decimal step the price needs and rebuild the
   * book (from this message if it is a snapshot, else from a fresh one after resubscribing), recording a gap.
   * Prices no sensible grid explains are corrupt data: the book is resynced on the same tick.
   */
  private onOffGrid(msg: BookMessage, off: number[], detail: string): void {
    const old = (this.scale as TickScale).tickSize;
    const next = refineTick(this.scale as TickScale, off);
    if (!next) {
      this.problem('malformed', `book message u=${msg.u} rejected: ${detail}`);
      return this.afterApply(msg, { status: 'gap', reason: 'sequence', detail });
    }
    const why =
      `price ${off[0]} (u=${msg.u}) is off the tick grid ${old}: tick size refined to ${next.tickSize}` +
      (this.opts.tickSize ? ` (the configured ${this.opts.tickSize} is wrong or outdated)` : '');
    this.useTick(next);
    const fromWhat = msg.type === 'snapshot' ? 'this snapshot' : 'a fresh snapshot';
    this.events.emit('warning', `${why}; rebuilding the book from ${fromWhat}`);
    if (msg.type === 'snapshot') {
      // The snapshot itself rebuilds the book on the finer grid: a gap that opens and closes at once.
      const t = this.now();
      this.recordGap({ symbol: this.opts.symbol, reason: 'resubscribe', startTs: t, endTs: t, detail: why });
      return this.afterApply(msg, (this.seqBook as SequencedBook).apply(msg));
    }
    this.openGap('resubscribe', `${why}; book rebuilt from a fresh snapshot`);
    this.resubscribeBook();
  }

  /** Unsubscribe and subscribe the book topic: Bybit answers a subscribe with a fresh snapshot. */
  private resubscribeBook(): void {
    if (!this.conn.isOpen || this.resyncSince !== null) return;
    this.resyncSince = this.now();
    this.conn.send([this.bookTopicName], 'unsubscribe');
    this.conn.send([this.bookTopicName], 'subscribe');
  }

  private openGap(reason: GapReason, detail: string): void {
    const gap: Gap = { symbol: this.opts.symbol, reason, startTs: this.now(), endTs: null, detail };
    this.openGaps.push(gap);
    this.recordGap(gap);
  }

  private recordGap(gap: Gap): void {
    this.stats.gaps++;
    this.events.emit('gap', { ...gap });
    this.events.emit('health', this.health());
  }

  /** A valid snapshot ends every open gap. */
  private closeGaps(t: number): void {
    for (const g of this.openGaps.splice(0)) this.events.emit('gap', { ...g, endTs: t });
  }

  private problem(kind: 'malformed' | 'unknown', text: string): void {
    this.stats[kind]++;
    this.events.emit('warning', `${kind} message: ${text}`);
  }

  private setState(state: FeedHealth['state']): void {
    if (this.stats.state === state) return;
    this.stats.state = state;
    this.events.emit('health', this.health());
  }
}

/** Trades oldest first (by time, then cross sequence): a message listing them otherwise is reordered, not dropped. */
function inTimeOrder(msg: TradeMessage): TradeMessage {
  const ts = msg.trades;
  let sorted = true;
  for (let i = 1; i < ts.length && sorted; i++) sorted = !later(ts[i - 1], ts[i]);
  if (sorted) return msg;
  return { ...msg, trades: [...ts].sort((a, b) => a.ts - b.ts || a.seq - b.seq) };
}

function later(a: Trade, b: Trade): boolean {
  return a.ts > b.ts || (a.ts === b.ts && a.seq > b.seq);
}
