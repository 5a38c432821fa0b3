// One (symbol, depth) stream of an import: the session it is written to, its own sequence/gap checking, and
// its tick size, inferred from the prices seen until its first snapshot (refined later when a price is off it).
import type { BookMessage, Category, Gap, MarketMessage, TradeMessage } from '../../src-shared/market.ts';
import {
  checkBookMessage,
  checkTradeMessage,
  DEFAULT_PLAUSIBILITY,
  describeFindings,
  snapshotBests,
  type PlausibilityLimits,
} from '../book/plausibility.ts';
import { isRepeatedDelta } from '../book/sequencedBook.ts';
import { inferTickSize, TickScale } from '../book/tickScale.ts';
import { decimalText, refineTick } from '../market/bybit/tickInference.ts';
import type { Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession, updateSessionMeta } from '../store/sessions.ts';

/** Messages held back while waiting for a snapshot to infer the tick size from. */
const MAX_PENDING = 5000;
/** Price strings kept for tick-size inference. */
const MAX_PRICE_SAMPLES = 20_000;

type Pending = { msg: MarketMessage } | { gap: Gap };

export interface ImportedSession {
  sessionId: number;
  source: string;
  symbol: string;
  depth: number;
  tickSize: string;
  bookMessages: number;
  tradeMessages: number;
  gaps: number;
  /** The input's dataset when not Bybit JSON (e.g. "tardis incremental_book_L2"). */
  format?: string;
}

export interface StreamOptions {
  db: Db;
  /** The input's name, stored in the session's meta. */
  source: string;
  category: Category;
  tickSize?: string;
  /** Extra session meta (e.g. the trade file merged in). */
  meta?: Record<string, unknown>;
  /** Update ids are synthetic (Tardis data): a u = 1 snapshot is the recorder's reconnect, not a Bybit restart. */
  syntheticIds?: boolean;
  /** Values outside these are refused and stored as 'implausible' gaps (default DEFAULT_PLAUSIBILITY). */
  plausibility?: PlausibilityLimits;
  /** Wall clock (ms): a file cannot hold data from after it (tests inject one). */
  now?: () => number;
}

export class SessionStream {
  private sessionId: number | undefined;
  private writer: SessionWriter | undefined;
  private pending: Pending[] = [];
  private prices: string[] = [];
  private lastU: number | null = null;
  private lastBook: BookMessage | undefined;
  private openGap: Gap | null = null;
  /** The tick grid so far when inferred (not given): refined when a later price falls off it. */
  private scale: TickScale | undefined;
  private tickSize = '';
  private lastRecvTs = 0;
  book = 0;
  trades = 0;
  gaps = 0;
  /** Exchange time of the last book message (ms): the end of this stream's span. */
  lastBookTs = -Infinity;
  /** Messages or trades refused as implausible (each stored as a gap). */
  refused = 0;
  /**
   * The price band (no book is kept here): the last accepted snapshot's best bid and ask, then the last accepted
   * trade's price on both sides.
   */
  private refBid = NaN;
  private refAsk = NaN;
  /** The given tick size's grid (trade prices are held to it); none while the tick is inferred. */
  private givenScale: TickScale | undefined;

  /** depth 0: opened on trades alone, before any book message of the symbol; it takes the first depth seen. */
  constructor(
    private readonly opts: StreamOptions,
    readonly symbol: string,
    public depth: number,
  ) {}

  /** A book message of this stream; `lineNo` goes into gap details. */
  onBook(msg: BookMessage, lineNo: number): void {
    const f = checkBookMessage(msg, this.checkContext(msg.recvTs), this.limits);
    if (f) {
      const detail = `${msg.type} u=${msg.u} (line ${lineNo}) refused: implausible ${f.kind}: ${f.detail}`;
      return this.refuse(msg.symbol, msg.recvTs, detail, true);
    }
    if (msg.type === 'snapshot') {
      const { bid, ask } = snapshotBests(msg);
      this.refBid = bid === bid ? bid : ask;
      this.refAsk = ask === ask ? ask : bid;
    }
    if (!this.writer && !this.opts.tickSize) samplePrices(msg, this.prices);
    this.lastRecvTs = msg.recvTs;
    this.lastBookTs = msg.ts;
    this.book++;
    if (msg.type === 'snapshot') {
      if (this.openGap) {
        this.put({ gap: { ...this.openGap, endTs: msg.recvTs } });
        this.openGap = null;
      }
      if (msg.u === 1 && this.lastU !== null && this.lastU !== 1) {
        this.gaps++;
        this.put({
          gap: {
            symbol: msg.symbol,
            reason: 'restart',
            startTs: msg.recvTs,
            endTs: msg.recvTs,
            detail: this.opts.syntheticIds
              ? `new snapshot after ${this.lastU - 1} updates (line ${lineNo}): the recorder reconnected`
              : `snapshot u=1 after u=${this.lastU} (line ${lineNo})`,
          },
        });
      }
    } else if (
      this.lastU !== null &&
      msg.u !== this.lastU + 1 &&
      !this.openGap &&
      !isRepeatedDelta(this.lastBook, msg)
    ) {
      this.openGap = {
        symbol: msg.symbol,
        reason: 'sequence',
        startTs: msg.recvTs,
        endTs: null,
        detail: `u ${this.lastU} -> ${msg.u} (line ${lineNo})`,
      };
      this.gaps++;
      this.put({ gap: this.openGap });
    }
    this.lastU = msg.u;
    this.lastBook = msg;
    this.put({ msg });
    if (msg.type === 'snapshot' && !this.writer) this.start();
  }

  onTrades(all: TradeMessage): void {
    const r = checkTradeMessage(all, this.checkContext(all.recvTs), this.limits);
    if (r.findings.length > 0)
      this.refuse(all.symbol, all.recvTs, `trades refused: ${describeFindings(r.findings)}`, false);
    const msg = r.msg;
    if (!msg) return;
    this.refBid = this.refAsk = msg.trades[msg.trades.length - 1].price;
    if (!this.writer && !this.opts.tickSize) samplePrices(msg, this.prices);
    this.lastRecvTs = msg.recvTs;
    this.trades++;
    this.put({ msg });
  }

  private get limits(): PlausibilityLimits {
    return this.opts.plausibility ?? DEFAULT_PLAUSIBILITY;
  }

  /**
   * Dumps have no receive clock (it is the exchange time), so a time is also checked against the wall clock:
   * a file cannot hold data from after it was written. Only a given tick grid is enforced on trade prices.
   */
  private checkContext(recvTs: number) {
    const wall = (this.opts.now ?? Date.now)();
    if (this.opts.tickSize && !this.givenScale) this.givenScale = new TickScale(this.opts.tickSize);
    const scale = this.givenScale ?? null;
    return { refBid: this.refBid, refAsk: this.refAsk, clockTs: recvTs, wallTs: wall, scale };
  }

  /**
   * Stores a refusal as a gap: a refused book message breaks the book until the next snapshot (an open gap,
   * unless one is open already); refused trades are a gap that opens and closes at once.
   */
  private refuse(symbol: string, ts: number, detail: string, breaksBook: boolean): void {
    this.refused++;
    this.gaps++;
    const t = Number.isFinite(ts) ? ts : this.lastRecvTs;
    if (breaksBook && !this.openGap && this.lastU !== null) {
      this.openGap = { symbol, reason: 'implausible', startTs: t, endTs: null, detail };
      this.put({ gap: this.openGap });
    } else if (this.openGap?.reason !== 'implausible' || this.openGap.startTs !== t)
      // (The writer keys gaps by reason and start: one at the open gap's instant would read as its end.)
      this.put({ gap: { symbol, reason: 'implausible', startTs: t, endTs: t, detail } });
  }

  /** Writes what is held, closes the session and returns its summary. */
  finish(lines: number): ImportedSession {
    const { db } = this.opts;
    if (!this.writer) this.start();
    (this.writer as SessionWriter).close(this.lastRecvTs);
    const sid = this.sessionId as number;
    // A snapshot can look coarser than the instrument's tick; later prices off its grid refined it.
    if (this.scale && this.scale.tickSize !== this.tickSize) {
      this.tickSize = this.scale.tickSize;
      db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?').run(this.tickSize, sid);
    }
    // A session opened on trades alone learns its book depth later.
    db.prepare('UPDATE sessions SET depth = ? WHERE id = ? AND depth <> ?').run(this.depth, sid, this.depth);
    updateSessionMeta(db, sid, { importedLines: lines });
    return {
      sessionId: sid,
      source: this.opts.source,
      symbol: this.symbol,
      depth: this.depth,
      tickSize: this.tickSize,
      bookMessages: this.book,
      tradeMessages: this.trades,
      gaps: this.gaps,
      format: typeof this.opts.meta?.format === 'string' ? this.opts.meta.format : undefined,
    };
  }

  private start(): void {
    const { db, tickSize } = this.opts;
    let tick = tickSize;
    if (!tick) {
      try {
        tick = inferTickSize(this.prices);
      } catch {
        tick = '1'; // no prices at all; refined below if any message has one
      }
      this.scale = new TickScale(tick);
      for (const p of this.pending) if ('msg' in p) this.fitGrid(p.msg);
    }
    this.tickSize = tick;
    const first = this.pending.find((p): p is { msg: MarketMessage } => 'msg' in p);
    this.sessionId = createSession(db, {
      source: 'import',
      symbol: this.symbol,
      category: this.opts.category,
      depth: this.depth,
      tickSize: tick,
      startedAt: first ? first.msg.recvTs : 0,
      meta: { importedFrom: this.opts.source, ...this.opts.meta },
    });
    this.writer = new SessionWriter(db, this.sessionId, { maxRows: 20_000 });
    for (const p of this.pending) {
      if ('msg' in p) this.writer.writeMessage(p.msg);
      else this.writer.writeGap(p.gap);
    }
    this.pending = [];
    this.prices = [];
  }

  private put(p: Pending): void {
    if (this.writer) {
      if ('msg' in p) {
        if (this.scale) this.fitGrid(p.msg);
        this.writer.writeMessage(p.msg);
      } else this.writer.writeGap(p.gap);
    } else {
      this.pending.push(p);
      if (this.pending.length >= MAX_PENDING) this.start();
    }
  }

  /** Refines the scale to a finer grid when one of the message's prices is off it (a snapshot can look coarse). */
  private fitGrid(msg: MarketMessage): void {
    const fit = (p: number) => {
      const scale = this.scale as TickScale;
      if (Number.isFinite(scale.tryToTicks(p))) return;
      // No finer grid worth trusting (corrupt price): the book marks that message as a gap on replay.
      const next = refineTick(scale, [p]);
      if (next) this.scale = next;
    };
    if (msg.kind === 'book') {
      for (let i = 0; i < msg.bids.length; i++) fit(msg.bids[i][0]);
      for (let i = 0; i < msg.asks.length; i++) fit(msg.asks[i][0]);
    } else for (let i = 0; i < msg.trades.length; i++) fit(msg.trades[i].price);
  }
}

/**
 * Plain decimal texts of a parsed message's prices (book levels or trades), for tick-size inference. From the
 * parsed numbers, not the raw JSON, so prices sent as JSON numbers or in exponent form ("1e-7") count too.
 */
function samplePrices(msg: MarketMessage, out: string[]): void {
  if (msg.kind === 'book') {
    for (const side of [msg.bids, msg.asks])
      for (let i = 0; i < side.length && out.length < MAX_PRICE_SAMPLES; i++)
        out.push(decimalText(side[i][0]));
  } else
    for (let i = 0; i < msg.trades.length && out.length < MAX_PRICE_SAMPLES; i++)
      out.push(decimalText(msg.trades[i].price));
}
