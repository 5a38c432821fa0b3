// Coalesces the engine's per-message output into UI events: the book at most `bookHz` (top 20 read at flush
// time), series as batches of only the new points, portfolio and status a few times a second. It also keeps the
// recent history (mids, predictions, signals, fills, equity) for a reconnecting renderer and the what-if panel.
// The latest prediction's feature row is copied per prediction (no allocation) and sent at most ~2 Hz.
import type { EventBus } from '../bridge/eventBus.ts';
import type {
  BookView,
  EquityPoint,
  FeaturesView,
  FillEvent,
  PortfolioView,
  PredictionPoint,
  PricePoint,
  SignalEvent,
} from '../../src-shared/ipc.ts';
import type { Level, Trade } from '../../src-shared/market.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { FeatureStats } from './featureStats.ts';
import { TradeBars } from './tradeBars.ts';

/** What the feed needs from an order book (OrderBook satisfies it). */
export interface BookLike {
  levels(side: 'bid' | 'ask', n: number): Level[];
  mid(): number;
  spread(): number;
}

export const BOOK_ROWS = 20;
const SERIES_FLUSH_MS = 200;
const PORTFOLIO_FLUSH_MS = 250;
/** Mids are sampled into the history at most this often (charts draw one point per second anyway). */
const MID_SAMPLE_MS = 200;
const EQUITY_SAMPLE_MS = 1000;
/** The Features panel is read by a person: twice a second is plenty. */
const FEATURES_FLUSH_MS = 500;

/** A bounded history that drops its oldest entries by time. */
class History<T extends { t: number }> {
  items: T[] = [];
  constructor(
    private readonly keepMs: number,
    private readonly maxItems: number,
  ) {}
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.maxItems * 1.25 || this.items[0].t < x.t - this.keepMs * 1.25) {
      const cut = x.t - this.keepMs;
      let i = 0;
      while (i < this.items.length && (this.items[i].t < cut || this.items.length - i > this.maxItems)) i++;
      this.items = this.items.slice(i);
    }
  }
  clear(): void {
    this.items = [];
  }
}

export interface UiFeedOptions {
  bookHz: number;
  symbol: string;
  tickSize: string;
  /** How much history to keep (ms). */
  keepMs?: number;
  /** Names of the feature rows the pipeline reports (default: the running FEATURE_SET). */
  featureSet?: { version: string; names: readonly string[] };
}

export class UiFeed {
  readonly mids: History<PricePoint>;
  readonly predictions: History<PredictionPoint>;
  readonly signals: History<SignalEvent>;
  readonly fills: History<FillEvent>;
  readonly equity: History<EquityPoint>;
  readonly tradeBars = new TradeBars();
  private pendingPrices: PricePoint[] = [];
  private pendingPreds: PredictionPoint[] = [];
  private pendingSignals: SignalEvent[] = [];
  private pendingFills: FillEvent[] = [];
  private pendingEquity: EquityPoint[] = [];
  private book: BookLike | null = null;
  private bookTs = 0;
  private bookRecvTs = 0;
  private bookValid = false;
  private bookDirty = false;
  private lastBook: BookView | null = null;
  private portfolio: PortfolioView | null = null;
  private portfolioDirty = false;
  private lastMidT = -Infinity;
  private lastEquityT = -Infinity;
  private timers: ReturnType<typeof setInterval>[] = [];
  private symbol: string;
  private tickSize: string;
  private readonly featureSet: { version: string; names: readonly string[] };
  private readonly featureRow: Float64Array;
  private readonly featureStats: FeatureStats;
  private featureT = NaN;
  private featuresDirty = false;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: UiFeedOptions,
  ) {
    const keep = opts.keepMs ?? 30 * 60_000;
    this.mids = new History(keep, 20_000);
    this.predictions = new History(keep, 20_000);
    this.signals = new History(keep, 2_000);
    this.fills = new History(keep, 2_000);
    this.equity = new History(keep, 20_000);
    this.symbol = opts.symbol;
    this.tickSize = opts.tickSize;
    this.featureSet = opts.featureSet ?? FEATURE_SET;
    this.featureRow = new Float64Array(this.featureSet.names.length);
    this.featureStats = new FeatureStats(this.featureSet.names.length);
  }

  start(): void {
    if (this.timers.length) return;
    this.timers.push(setInterval(() => this.flushBook(), Math.max(1, Math.round(1000 / this.opts.bookHz))));
    this.timers.push(setInterval(() => this.flushSeries(), SERIES_FLUSH_MS));
    this.timers.push(setInterval(() => this.flushPortfolio(), PORTFOLIO_FLUSH_MS));
    this.timers.push(setInterval(() => this.flushFeatures(), FEATURES_FLUSH_MS));
    for (const t of this.timers) t.unref?.();
  }

  stop(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
  }

  /** Forgets everything (a new source or a new run). */
  reset(symbol: string, tickSize: string): void {
    this.symbol = symbol;
    this.tickSize = tickSize;
    for (const h of [this.mids, this.predictions, this.signals, this.fills, this.equity]) h.clear();
    this.tradeBars.clear();
    this.pendingPrices = [];
    this.pendingPreds = [];
    this.pendingSignals = [];
    this.pendingFills = [];
    this.pendingEquity = [];
    this.book = null;
    this.lastBook = null;
    this.bookDirty = false;
    this.portfolio = null;
    this.lastMidT = -Infinity;
    this.lastEquityT = -Infinity;
    this.featureStats.reset();
    this.featureT = NaN;
    this.featuresDirty = false;
  }

  /**
   * After each applied book message: cheap, only marks the book dirty and samples the mid. `tickSize`: the
   * book's tick when the pipeline learnt it after the reset (an unknown symbol's first snapshot, a refinement).
   */
  onBook(book: BookLike, ts: number, recvTs: number, valid: boolean, tickSize?: string): void {
    if (tickSize) this.tickSize = tickSize;
    this.book = book;
    this.bookTs = ts;
    this.bookRecvTs = recvTs;
    this.bookValid = valid;
    this.bookDirty = true;
    if (valid && ts - this.lastMidT >= MID_SAMPLE_MS) {
      const mid = book.mid();
      if (Number.isFinite(mid)) {
        this.lastMidT = ts;
        const p = { t: ts, mid };
        this.mids.push(p);
        this.pendingPrices.push(p);
      }
    }
  }

  onBookInvalid(): void {
    this.bookValid = false;
    this.bookDirty = true;
  }

  onPrediction(p: PredictionPoint): void {
    this.predictions.push(p);
    this.pendingPreds.push(p);
  }

  /** The feature row of a prediction at decision time t: copied at once (the engine reuses its buffer). */
  onFeatures(t: number, row: ArrayLike<number>): void {
    const r = this.featureRow;
    for (let i = 0; i < r.length; i++) r[i] = i < row.length ? row[i] : NaN;
    this.featureStats.add(this.featureRow);
    this.featureT = t;
    this.featuresDirty = true;
  }

  onTrades(trades: readonly Trade[]): void {
    this.tradeBars.add(trades);
  }

  onSignal(s: SignalEvent): void {
    this.signals.push(s);
    this.pendingSignals.push(s);
  }

  onFill(f: FillEvent): void {
    this.fills.push(f);
    this.pendingFills.push(f);
  }

  onPortfolio(p: PortfolioView): void {
    this.portfolio = p;
    this.portfolioDirty = true;
    if (p.t - this.lastEquityT >= EQUITY_SAMPLE_MS) {
      this.lastEquityT = p.t;
      const e = { t: p.t, equity: p.equity, drawdown: p.drawdown };
      this.equity.push(e);
      this.pendingEquity.push(e);
    }
  }

  bookView(): BookView | null {
    if (this.bookDirty) this.buildBook();
    return this.lastBook;
  }

  latestPortfolio(): PortfolioView | null {
    return this.portfolio;
  }

  /** The latest feature row with its running statistics; null before the first prediction. */
  featuresView(): FeaturesView | null {
    if (!(this.featureT === this.featureT)) return null;
    const st = this.featureStats;
    const names = this.featureSet.names;
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    return {
      t: this.featureT,
      featureSetVersion: this.featureSet.version,
      names: names.slice(),
      values: names.map((_, i) => finite(this.featureRow[i])),
      mean: names.map((_, i) => finite(st.mean(i))),
      std: names.map((_, i) => finite(st.std(i))),
      n: st.rows,
    };
  }

  private buildBook(): void {
    this.bookDirty = false;
    const b = this.book;
    if (!b) {
      this.lastBook = null;
      return;
    }
    this.lastBook = {
      symbol: this.symbol,
      tickSize: this.tickSize,
      ts: this.bookTs,
      recvTs: this.bookRecvTs,
      bids: b.levels('bid', BOOK_ROWS),
      asks: b.levels('ask', BOOK_ROWS),
      mid: b.mid(),
      spread: b.spread(),
      valid: this.bookValid,
    };
  }

  flushBook(): void {
    if (!this.bookDirty) return;
    this.buildBook();
    if (this.lastBook) this.bus.emit('market/book', this.lastBook);
  }

  flushSeries(): void {
    if (this.pendingPrices.length) this.bus.emit('market/prices', this.pendingPrices.splice(0));
    const bars = this.tradeBars.drain();
    if (bars.length) this.bus.emit('market/trades', bars);
    if (this.pendingPreds.length) this.bus.emit('model/predictions', this.pendingPreds.splice(0));
    if (this.pendingSignals.length) this.bus.emit('trading/signals', this.pendingSignals.splice(0));
    if (this.pendingFills.length) this.bus.emit('trading/fills', this.pendingFills.splice(0));
    if (this.pendingEquity.length) this.bus.emit('trading/equity', this.pendingEquity.splice(0));
  }

  flushFeatures(): void {
    if (!this.featuresDirty) return;
    this.featuresDirty = false;
    const v = this.featuresView();
    if (v) this.bus.emit('model/features', v);
  }

  flushPortfolio(): void {
    if (!this.portfolioDirty || !this.portfolio) return;
    this.portfolioDirty = false;
    this.bus.emit('trading/portfolio', this.portfolio);
  }
}
