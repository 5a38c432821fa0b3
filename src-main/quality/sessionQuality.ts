// Data-quality report of one stored session: fed the stored
// events in arrival order, it replays the book with Bybit's rules and measures what makes data untrustworthy for
// a model or a backtest: silences, feed latency, sequence gaps and the time the book was invalid, crossed books,
// exchange timestamps running backwards, duplicated trades, and trades printing on the wrong side of the book (a
// stale book), implausible values (book/plausibility.ts: far prices, absurd sizes, times far from the receive
// clock) and the refusals the recorder stored. Pure and streaming: fixed-size histograms, no per-message
// allocation beyond the book's own.
import type { BookMessage, Gap, MarketMessage, TradeMessage } from '../../src-shared/market.ts';
import {
  checkBookMessage,
  checkTrade,
  DEFAULT_PLAUSIBILITY,
  type FindingKind,
  type PlausibilityLimits,
} from '../book/plausibility.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';

export interface QualityOptions {
  /** A pause between two messages longer than this is counted as a silence (ms). */
  silenceMs?: number;
  /** How many recent trade ids are remembered to spot duplicates. */
  recentTradeIds?: number;
  /** Plausibility limits (config `plausibility.*`); default DEFAULT_PLAUSIBILITY. */
  plausibility?: PlausibilityLimits;
  /** Wall clock (ms): no stored time may lie beyond it by more than the clock-skew limit. Default: no such bound. */
  nowMs?: number;
}

/**
 * The wall clock a stored session's times are held to: now, except for the simulator, whose market clock starts
 * when it is run and, at --speed max, runs hours ahead of the wall clock by design (its own clock is the only one).
 */
export function qualityWallClock(source: string, now = Date.now()): number {
  return source === 'sim' ? Infinity : now;
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface QualityReport {
  tickSize: string;
  firstRecvTs: number | null;
  lastRecvTs: number | null;
  spanMs: number;
  bookMessages: number;
  tradeMessages: number;
  trades: number;
  snapshots: number;
  /** Snapshots with u = 1 after earlier data: the exchange's service restarted. */
  restarts: number;
  messagesPerSec: number;
  silence: { thresholdMs: number; count: number; maxMs: number; maxAtRecvTs: number | null };
  /** Receive time − exchange time of book messages (ms); null when the data has no separate receive clock. */
  latencyMs: Quantiles | null;
  /** Sequence breaks found by replaying (non-consecutive u, crossed book), and gaps the recorder stored. */
  replayGaps: number;
  crossed: number;
  storedGaps: number;
  /** Total span of the gaps the recorder stored (an open gap counts until the session's last message). */
  storedGapMs: number;
  /**
   * Time (receive clock) the book could not be trusted: the larger of the time replay found it invalid and the
   * stored gaps' span (a live recorder drops the deltas of a broken book, so a replay alone may not see it).
   * Before the first snapshot is not counted.
   */
  invalidMs: number;
  invalidShare: number;
  /** Bid-ask spread in ticks, sampled after each applied book message on a valid book. */
  spreadTicks: Quantiles | null;
  /** Book messages whose exchange ts is earlier than the previous one's. */
  bookTsBackwards: number;
  tradeTsBackwards: number;
  duplicateTradeIds: number;
  /** A buy printing below the best bid or a sell above the best ask (by more than a tick): the book lagged. */
  tradesThroughBook: number;
  /**
   * Stored values outside the plausibility limits (data stored before the checks, or by another program): book
   * messages (not applied on replay) and trades, per kind, with the first example.
   */
  implausible: {
    bookMessages: number;
    trades: number;
    byKind: Record<FindingKind, number>;
    first: string | null;
  };
  /** Refusals the recorder or importer stored as gaps: frames or books too large, implausible values. */
  refused: { oversize: number; implausible: number; first: string | null };
  /** Plain-language findings, worst first; empty when nothing stands out. */
  findings: string[];
}

/** Counts of integers 0..size-1 with one overflow bin that remembers the largest value seen. */
class IntHistogram {
  private readonly bins: Float64Array;
  private n = 0;
  private maxSeen = -Infinity;
  constructor(size: number) {
    this.bins = new Float64Array(size + 1);
  }
  add(x: number): void {
    const i = Math.max(0, Math.min(this.bins.length - 1, Math.round(x)));
    this.bins[i]++;
    this.n++;
    if (x > this.maxSeen) this.maxSeen = x;
  }
  get count(): number {
    return this.n;
  }
  quantile(q: number): number {
    const want = q * this.n;
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i];
      if (acc >= want && this.bins[i] > 0) return i === this.bins.length - 1 ? this.maxSeen : i;
    }
    return this.maxSeen;
  }
  summary(): Quantiles | null {
    if (this.n === 0) return null;
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max: this.maxSeen };
  }
}

export class SessionQuality {
  private readonly seq: SequencedBook;
  private readonly scale: TickScale;
  private readonly silenceMs: number;
  private readonly recentMax: number;
  private readonly latency = new IntHistogram(10_000);
  private readonly spread = new IntHistogram(1_000);
  private readonly recentIds = new Set<string>();
  private readonly recentOrder: string[] = [];
  private recentHead = 0;
  private first: number | null = null;
  private last: number | null = null;
  private lastBookTs = -Infinity;
  private lastTradeTs = -Infinity;
  private anyRecvDiffers = false;
  private invalidSince: number | null = null;
  private seenSnapshot = false;
  private readonly limits: PlausibilityLimits;
  /**
   * Exchange − receive time of the last plausible book message since the first snapshot (a simulator's or replay
   * server's own clock, which may run faster than ours); NaN before.
   */
  private clockOffset = NaN;
  private readonly nowMs: number;
  private readonly implausible: QualityReport['implausible'] = {
    bookMessages: 0,
    trades: 0,
    byKind: { price: 0, size: 0, time: 0, tick: 0 },
    first: null,
  };
  private readonly refused: QualityReport['refused'] = { oversize: 0, implausible: 0, first: null };
  private r = {
    bookMessages: 0,
    tradeMessages: 0,
    trades: 0,
    snapshots: 0,
    restarts: 0,
    silenceCount: 0,
    silenceMax: 0,
    silenceAt: null as number | null,
    replayGaps: 0,
    crossed: 0,
    storedGaps: 0,
    storedGapMs: 0,
    openGapSince: null as number | null,
    invalidMs: 0,
    bookTsBackwards: 0,
    tradeTsBackwards: 0,
    duplicateTradeIds: 0,
    tradesThroughBook: 0,
  };

  constructor(tickSize: string, opts: QualityOptions = {}) {
    this.scale = new TickScale(tickSize);
    this.seq = new SequencedBook(this.scale);
    this.silenceMs = opts.silenceMs ?? 5_000;
    this.recentMax = opts.recentTradeIds ?? 10_000;
    this.limits = opts.plausibility ?? DEFAULT_PLAUSIBILITY;
    this.nowMs = opts.nowMs ?? Infinity;
  }

  /** The plausibility context of a stored message: the replayed book's mid and the stored receive time. */
  private context(recvTs: number) {
    const b = this.seq.book;
    const valid = this.seq.valid;
    return {
      refBid: valid ? b.bestBid() : NaN,
      refAsk: valid ? b.bestAsk() : NaN,
      clockTs: recvTs + this.clockOffset,
      wallTs: this.nowMs,
      scale: this.scale,
    };
  }

  private noteImplausible(kind: FindingKind, detail: string): void {
    this.implausible.byKind[kind]++;
    this.implausible.first ??= detail;
  }

  onBook(m: BookMessage): void {
    this.clock(m.recvTs);
    this.r.bookMessages++;
    if (m.type === 'snapshot') this.r.snapshots++;
    if (m.ts < this.lastBookTs) this.r.bookTsBackwards++;
    this.lastBookTs = m.ts;
    if (m.recvTs !== m.ts) this.anyRecvDiffers = true;
    this.latency.add(Math.max(0, m.recvTs - m.ts));
    // A snapshot resets the book and the feed's clock (as live): only the absolute bounds hold it.
    const ctx = this.context(m.recvTs);
    if (m.type === 'snapshot') ctx.clockTs = NaN;
    const bad = checkBookMessage(m, ctx, this.limits);
    if (bad) {
      // As the live feed would have: not applied, and the book distrusted until the next snapshot.
      this.implausible.bookMessages++;
      this.noteImplausible(bad.kind, `${m.type} u=${m.u}: ${bad.detail}`);
      this.seq.invalidate();
      this.trackValidity(m.recvTs);
      return;
    }
    if (m.type === 'snapshot' || this.clockOffset === this.clockOffset) this.clockOffset = m.ts - m.recvTs;
    const res = this.seq.apply(m);
    if (res.status === 'applied') {
      if (res.restarted) this.r.restarts++;
      if (m.type === 'snapshot') this.seenSnapshot = true;
    } else if (res.status === 'gap') {
      this.r.replayGaps++;
      if (res.reason === 'crossed') this.r.crossed++;
    }
    this.trackValidity(m.recvTs);
    if (this.seq.valid) {
      const b = this.seq.book;
      const bid = b.bestBid();
      const ask = b.bestAsk();
      if (bid === bid && ask === ask) this.spread.add(this.scale.toTicks(ask) - this.scale.toTicks(bid));
    }
  }

  onTrades(m: TradeMessage): void {
    this.clock(m.recvTs);
    this.r.tradeMessages++;
    const b = this.seq.book;
    const valid = this.seq.valid;
    const tick = Number(this.scale.tickSize);
    const ctx = this.context(m.recvTs);
    for (const t of m.trades) {
      this.r.trades++;
      // The grid is the session's stored tick: a trade off it is as implausible as a far price.
      const bad = checkTrade(t, ctx, this.limits);
      if (bad) {
        this.implausible.trades++;
        this.noteImplausible(bad.kind, bad.detail);
        continue;
      }
      if (t.ts < this.lastTradeTs) this.r.tradeTsBackwards++;
      this.lastTradeTs = t.ts;
      if (t.id) this.rememberId(t.id);
      if (!valid) continue;
      const through =
        t.side === 'Buy' ? t.price < b.bestBid() - tick * 1.0001 : t.price > b.bestAsk() + tick * 1.0001;
      if (through) this.r.tradesThroughBook++;
    }
  }

  /** One stored event in arrival order (the session reader's StoredEvent). */
  onEvent(ev: MarketMessage | { kind: 'gap'; gap: Gap }): void {
    if (ev.kind === 'book') this.onBook(ev);
    else if (ev.kind === 'trades') this.onTrades(ev);
    else this.onGap(ev.gap);
  }

  onGap(g: Gap): void {
    this.r.storedGaps++;
    if (g.reason === 'oversize' || g.reason === 'implausible') {
      this.refused[g.reason]++;
      this.refused.first ??= g.detail;
    }
    if (g.endTs !== null) this.r.storedGapMs += Math.max(0, g.endTs - g.startTs);
    else if (this.r.openGapSince === null) this.r.openGapSince = g.startTs;
  }

  report(): QualityReport {
    const spanMs = this.first !== null && this.last !== null ? this.last - this.first : 0;
    if (this.invalidSince !== null && this.last !== null) {
      this.r.invalidMs += this.last - this.invalidSince;
      this.invalidSince = this.last;
    }
    const messages = this.r.bookMessages + this.r.tradeMessages;
    const openGapMs =
      this.r.openGapSince !== null && this.last !== null ? Math.max(0, this.last - this.r.openGapSince) : 0;
    const storedGapMs = this.r.storedGapMs + openGapMs;
    const invalidMs = Math.max(this.r.invalidMs, storedGapMs);
    const rep: QualityReport = {
      tickSize: this.scale.tickSize,
      firstRecvTs: this.first,
      lastRecvTs: this.last,
      spanMs,
      bookMessages: this.r.bookMessages,
      tradeMessages: this.r.tradeMessages,
      trades: this.r.trades,
      snapshots: this.r.snapshots,
      restarts: this.r.restarts,
      messagesPerSec: spanMs > 0 ? (messages * 1000) / spanMs : 0,
      silence: {
        thresholdMs: this.silenceMs,
        count: this.r.silenceCount,
        maxMs: this.r.silenceMax,
        maxAtRecvTs: this.r.silenceAt,
      },
      latencyMs: this.anyRecvDiffers ? this.latency.summary() : null,
      replayGaps: this.r.replayGaps,
      crossed: this.r.crossed,
      storedGaps: this.r.storedGaps,
      storedGapMs,
      invalidMs,
      invalidShare: spanMs > 0 ? Math.min(1, invalidMs / spanMs) : 0,
      spreadTicks: this.spread.summary(),
      bookTsBackwards: this.r.bookTsBackwards,
      tradeTsBackwards: this.r.tradeTsBackwards,
      duplicateTradeIds: this.r.duplicateTradeIds,
      tradesThroughBook: this.r.tradesThroughBook,
      implausible: { ...this.implausible, byKind: { ...this.implausible.byKind } },
      refused: { ...this.refused },
      findings: [],
    };
    rep.findings = findings(rep);
    return rep;
  }

  private clock(recvTs: number): void {
    if (this.first === null) this.first = recvTs;
    if (this.last !== null) {
      const pause = recvTs - this.last;
      if (pause > this.silenceMs) this.r.silenceCount++;
      if (pause > this.r.silenceMax) {
        this.r.silenceMax = pause;
        this.r.silenceAt = this.last;
      }
    }
    this.last = this.last === null ? recvTs : Math.max(this.last, recvTs);
  }

  private trackValidity(recvTs: number): void {
    if (!this.seenSnapshot) return;
    if (!this.seq.valid && this.invalidSince === null) this.invalidSince = recvTs;
    else if (this.seq.valid && this.invalidSince !== null) {
      this.r.invalidMs += recvTs - this.invalidSince;
      this.invalidSince = null;
    }
  }

  private rememberId(id: string): void {
    if (this.recentIds.has(id)) {
      this.r.duplicateTradeIds++;
      return;
    }
    this.recentIds.add(id);
    if (this.recentOrder.length < this.recentMax) this.recentOrder.push(id);
    else {
      this.recentIds.delete(this.recentOrder[this.recentHead]);
      this.recentOrder[this.recentHead] = id;
      this.recentHead = (this.recentHead + 1) % this.recentMax;
    }
  }
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;

/** What a quant should know before training or backtesting on this session, worst first. */
export function findings(r: QualityReport): string[] {
  const out: string[] = [];
  if (r.bookMessages === 0) return ['no order-book messages: nothing to rebuild a book from'];
  if (r.snapshots === 0) out.push('no snapshot: the book can never be rebuilt (deltas alone are not a book)');
  if (r.invalidShare > 0.01)
    out.push(
      `the book was invalid ${pct(r.invalidShare)} of the time (${r.replayGaps} sequence break(s) on replay, ${r.storedGaps} gap(s) stored): decisions there are skipped`,
    );
  const imp = r.implausible;
  if (imp.bookMessages + imp.trades > 0) {
    const kinds = Object.entries(imp.byKind)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    out.push(
      `${imp.bookMessages} book message(s) and ${imp.trades} trade(s) with implausible values (${kinds}), e.g. ${imp.first}: features and backtests must not use them`,
    );
  }
  const ref = r.refused;
  if (ref.oversize + ref.implausible > 0)
    out.push(
      `${ref.oversize + ref.implausible} refusal(s) stored while recording (${ref.oversize} oversize, ${ref.implausible} implausible), e.g. ${ref.first}`,
    );
  if (r.crossed > 0)
    out.push(`${r.crossed} crossed book(s) after applying a message (bad data or a missed delete)`);
  if (r.tradesThroughBook > 0)
    out.push(
      `${r.tradesThroughBook} trade(s) printed on the wrong side of the book by more than a tick: the book lagged the trades there`,
    );
  if (r.bookTsBackwards > 0)
    out.push(
      `${r.bookTsBackwards} book message(s) stamped earlier than the one before (exchange clock ran backwards)`,
    );
  if (r.tradeTsBackwards > 0)
    out.push(`${r.tradeTsBackwards} trade(s) with a fill time earlier than the previous trade`);
  if (r.duplicateTradeIds > 0)
    out.push(`${r.duplicateTradeIds} duplicated trade id(s): trade features double-count them`);
  if (r.silence.count > 0)
    out.push(
      `${r.silence.count} silence(s) longer than ${r.silence.thresholdMs / 1000} s (longest ${(r.silence.maxMs / 1000).toFixed(1)} s)`,
    );
  if (r.latencyMs && r.latencyMs.p99 > 1000)
    out.push(
      `feed latency p99 ${r.latencyMs.p99} ms: receive times lag the exchange by over a second at times`,
    );
  return out;
}
