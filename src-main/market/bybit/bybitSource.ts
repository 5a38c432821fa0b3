// Live Bybit v5 public order book and trades over `ws`: heartbeat, half-open detection, reconnect with
// jittered backoff, and gap handling through SequencedBook (a broken book is resynced, never passed on).
// Without a configured tick size the tick is inferred from the first snapshot and refined when a later
// price is off that grid (the book is then rebuilt from a fresh snapshot).
import WebSocket from 'ws';
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
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { fetchInstrumentInfo, INSTRUMENT_INFO_TIMEOUT_MS } from './instrumentInfo.ts';
import { bookTopic, parseFrame, PING_REQUEST, publicUrl, subscribeRequests, tradeTopic } from './protocol.ts';
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

export class BybitSource implements MarketSource {
  readonly kind = 'bybit' as const;
  readonly url: string;
  private readonly events = new SourceEmitter();
  private inst: Instrument;
  /** Null until the tick size is known (configured, or inferred from the first snapshot). */
  private scale: TickScale | null;
  private seqBook: SequencedBook | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly bookTopicName: string;
  private readonly topics: string[];
  private readonly limits: PlausibilityLimits;
  /** The tick was given or came from instrument info (not inferred): trade prices must sit on it. */
  private tickKnown: boolean;
  /**
   * Exchange time − receive time of the last applied book message (since the connection's first snapshot): a
   * simulator or a replay server runs on its own clock, possibly faster than ours, so a time is held to that
   * clock, not to ours: a jump is refused, a steady drift is not. Null until then.
   */
  private clockOffset: number | null = null;

  private ws: WebSocket | null = null;
  private stopped = true;
  private attempt = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lastDataTs = 0;
  private lastPingTs = 0;
  private awaitingPongSince: number | null = null;
  /** Set while waiting for the snapshot a resubscribe should bring. */
  private resyncSince: number | null = null;
  private pendingAcks = 0;
  private readonly openGaps: Gap[] = [];
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private lastHealthEmit = 0;
  private readonly stats: FeedHealth = idleFeedHealth();

  constructor(private readonly opts: BybitSourceOptions) {
    this.scale = opts.tickSize ? new TickScale(opts.tickSize) : null;
    this.inst = { symbol: opts.symbol, category: opts.category, tickSize: this.scale?.tickSize ?? '' };
    this.url = opts.url ?? publicUrl(opts.category);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.bookTopicName = bookTopic(opts.depth, opts.symbol, opts.category);
    this.topics = [this.bookTopicName, tradeTopic(opts.symbol)];
    this.seqBook = this.scale ? new SequencedBook(this.scale) : null;
    this.limits = opts.plausibility ?? DEFAULT_PLAUSIBILITY;
    this.tickKnown = this.scale !== null;
  }

  /** tickSize is '' until inferred when none was configured, and changes if a later price refines it. */
  get instrument(): Instrument {
    return this.inst;
  }

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.on(event, fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.off(event, fn);
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

  /** Resolves once the first connection's subscriptions are acknowledged; it keeps retrying until then. */
  start(): Promise<void> {
    if (!this.stopped) return Promise.resolve();
    this.stopped = false;
    this.attempt = 0;
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      if (this.scale || !this.opts.restBase) this.connect();
      // A stop (or a restart that already connected) while asking leaves nothing to do here.
      else void this.learnInstrument().then(() => !this.stopped && !this.ws && this.connect());
    });
  }

  /** Tick size and lot from instruments-info; on failure a warning, and the first snapshot decides as before. */
  private async learnInstrument(): Promise<void> {
    const r = await fetchInstrumentInfo({
      restBase: this.opts.restBase as string,
      category: this.opts.category,
      symbol: this.opts.symbol,
      timeoutMs: this.opts.restTimeoutMs ?? INSTRUMENT_INFO_TIMEOUT_MS,
    });
    if (this.stopped || this.scale) return;
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

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    this.dropSocket();
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 500);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'client stop');
      });
    }
    this.setState('stopped');
    this.startWaiter?.resolve();
    this.startWaiter = null;
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    this.setState(this.stats.reconnects > 0 || this.attempt > 0 ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        handshakeTimeout: Math.max(1000, this.opts.staleTimeoutMs),
        perMessageDeflate: false,
        // ws's default (100 MiB) let one frame stall the event loop for seconds: refused before it is buffered.
        maxPayload: this.maxFrameBytes,
      });
    } catch (e) {
      // A malformed URL never heals: report it instead of retrying forever.
      this.stopped = true;
      this.setState('stopped');
      this.events.emit('warning', `cannot connect to ${this.url}: ${(e as Error).message}`);
      this.startWaiter?.reject(new Error(`cannot connect to ${this.url}: ${(e as Error).message}`));
      this.startWaiter = null;
      return;
    }
    this.ws = ws;
    ws.on('open', () => {
      if (ws !== this.ws) return;
      const t = this.now();
      this.lastDataTs = t;
      this.lastPingTs = t;
      this.clockOffset = null;
      this.awaitingPongSince = null;
      // A (re)subscription must bring a snapshot in time, or the connection is treated as dead.
      this.resyncSince = t;
      const reqs = subscribeRequests(this.opts.category, this.topics);
      this.pendingAcks = reqs.length;
      for (const r of reqs) ws.send(r);
      const period = Math.max(10, Math.min(this.opts.pingIntervalMs, this.opts.staleTimeoutMs) / 4);
      this.tickTimer = setInterval(() => this.onTick(ws), period);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (ws !== this.ws) return;
      const text = isBinary
        ? ''
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : data.toString();
      this.onFrame(text);
    });
    ws.on('error', (err: Error) => {
      if (ws !== this.ws) return;
      if ((err as Error & { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws closes the socket (1009) on an oversized frame: the rest of the stream is lost, so resync.
        const detail = `frame larger than ${this.maxFrameBytes} bytes refused (bybit.max_frame_bytes)`;
        this.seqBook?.invalidate();
        this.refusal('oversize', detail, true);
        this.lostConnection('oversize', `${detail}: connection dropped`);
        return;
      }
      this.lostConnection('disconnect', `socket error: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.ws) return;
      this.lostConnection(
        'disconnect',
        `socket closed (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`,
      );
    });
  }

  private onTick(ws: WebSocket): void {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    const t = this.now();
    const stale = this.opts.staleTimeoutMs;
    if (this.awaitingPongSince !== null && t - this.awaitingPongSince > stale) {
      this.lostConnection('stale', `no pong within ${t - this.awaitingPongSince} ms (half-open connection)`);
      return;
    }
    const silentFor = t - this.lastDataTs;
    if (this.resyncSince !== null) {
      if (t - this.resyncSince > stale) {
        const silent = silentFor > stale ? `no data for ${silentFor} ms and ` : '';
        this.lostConnection(
          'stale',
          `${silent}no snapshot within ${t - this.resyncSince} ms of resubscribing`,
        );
        return;
      }
    } else if (silentFor > stale) {
      // A quiet symbol can go that long without a book change or a trade while pongs keep coming: rather than
      // reconnect, resubscribe the book, which must bring a snapshot at once on a live feed (else: stale).
      if (this.seqBook?.valid && this.awaitingPongSince === null) this.resubscribeBook();
      else {
        this.lostConnection('stale', `no data for ${silentFor} ms`);
        return;
      }
    }
    if (t - this.lastPingTs >= this.opts.pingIntervalMs) {
      this.lastPingTs = t;
      if (this.awaitingPongSince === null) this.awaitingPongSince = t;
      ws.send(PING_REQUEST);
    }
  }

  private onFrame(text: string): void {
    const recvTs = this.now();
    const f = parseFrame(text, recvTs);
    switch (f.type) {
      case 'book':
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.onBook(f.msg);
        break;
      case 'trades':
        // Another symbol's trades (a shared or misrouted connection) are not our data: counted as unknown only.
        if (f.msg.symbol !== this.opts.symbol) {
          this.problem('unknown', `trades for an unsubscribed symbol ${f.msg.symbol}`);
          break;
        }
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.onTrades(f.msg);
        break;
      case 'oversize':
        if (f.symbol !== this.opts.symbol || f.depth !== this.opts.depth) {
          this.problem('unknown', `book message for unexpected topic orderbook.${f.depth}.${f.symbol}`);
          break;
        }
        this.lastDataTs = recvTs;
        this.stats.messages++;
        this.refuseBook('oversize', f.reason);
        break;
      case 'pong':
        this.awaitingPongSince = null;
        break;
      case 'subscribe':
        // A failed subscription is counted and reported, not fatal: the stale timer still guards the feed.
        if (!f.success) this.problem('unknown', `${f.op} failed: ${f.retMsg || '(no message)'}`);
        if (f.op === 'subscribe' && this.pendingAcks > 0 && --this.pendingAcks === 0) {
          this.setState('subscribed');
          this.startWaiter?.resolve();
          this.startWaiter = null;
        }
        break;
      case 'unknown':
        this.problem('unknown', f.reason);
        break;
      case 'malformed':
        this.problem('malformed', f.reason);
        break;
    }
    if (recvTs - this.lastHealthEmit >= 1000) {
      this.lastHealthEmit = recvTs;
      this.events.emit('health', this.health());
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
        this.attempt = 0;
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
      this.refusal('implausible', `trades refused: ${describeFindings(r.findings)}`, false);
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
    this.refusal(reason, detail, true);
    this.resubscribeBook();
  }

  /**
   * Records one refusal as a stored gap: it opens the gap when the book was trusted, else (already gapped, or a
   * refused trade) it is a gap that opens and closes at once, so a flood of refusals adds rows, not open gaps.
   */
  private refusal(reason: 'oversize' | 'implausible', detail: string, breaksBook: boolean): void {
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
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.resyncSince !== null) return;
    this.resyncSince = this.now();
    for (const r of subscribeRequests(this.opts.category, [this.bookTopicName], 'unsubscribe')) ws.send(r);
    for (const r of subscribeRequests(this.opts.category, [this.bookTopicName], 'subscribe')) ws.send(r);
  }

  private lostConnection(reason: GapReason, detail: string): void {
    this.dropSocket();
    if (this.stopped) return;
    this.seqBook?.invalidate();
    // One gap spans the whole outage, however many attempts it takes; before any data there is nothing to lose.
    if (this.openGaps.length === 0 && (this.seqBook?.lastU ?? 0) > 0) this.openGap(reason, detail);
    this.stats.reconnects++;
    const delay = backoffDelay(this.attempt++, this.opts.reconnect, this.random);
    this.setState('reconnecting');
    this.events.emit('warning', `${detail}; reconnecting in ${Math.round(delay)} ms`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private dropSocket(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.resyncSince = null;
    this.awaitingPongSince = null;
    if (ws && !this.stopped) {
      ws.removeAllListeners('message');
      ws.on('error', () => {}); // late errors of a socket we gave up on are expected
      ws.terminate();
    }
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
