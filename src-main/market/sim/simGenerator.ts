// A seeded, deterministic order-flow simulator that writes Bybit v5 public messages (orderbook snapshot and
// deltas, publicTrade). Pure: no clock, no I/O; the caller asks for the next step and gets its frames.
//
// Model (time step dt = 1/book_rate_hz s; x = latent efficient price in ticks; z = hidden order-flow
// pressure, an Ornstein-Uhlenbeck factor with unit variance; I = top-5 imbalance (B5 - A5)/(B5 + A5);
// F = signed market volume in lots, exponentially decayed with time constant tauF):
//   z(t+dt) = z - z·dt/tauZ + √(2·dt/tauZ)·N(0,1)
//   x(t+dt) = x + σ·(mu·z + alpha·I + beta·tanh(F/F0))·dt + gamma·q + σ·√dt·N(0,1)
// with σ = sigmaBps·startPrice/tick ticks per √s, F0 = 3 mean market orders, and q the step's signed market
// volume over the mean order size (permanent impact). Limit orders arrive
// at rate lambdaL at x ∓ k ticks (k geometric near the touch, else uniform over the book; never crossing),
// near the touch on the bid side with probability 0.5 + 0.35·tanh(z); levels are cancelled at rate
// cancelRate, and quotes on the wrong side of x are pulled with probability staleCancel per step. Market
// orders (rate lambdaM) buy with probability 0.5 + 0.25·tanh((x - mid)/3) + 0.15·tanh(z), walk the book and
// print trades. Imbalance and order flow are thus noisy readings of z, which drives the next seconds'
// drift: a real, modest predictability (about 0.1-0.3 correlation with the 10 s mid return).
import { TickScale } from '../../book/tickScale.ts';
import { Rng } from './prng.ts';
import { captureTop, diffTop, emptyView, SideBook } from './sideBook.ts';

export interface SimGeneratorOptions {
  seed: number;
  symbol?: string;
  startPrice: number;
  tickSize: string;
  /** Quantity of one lot as a decimal string; default defaultSizeStep(startPrice) (0.001 for BTC, 100 for DOGE). */
  sizeStep?: string;
  /** Price levels per side the simulated market keeps (roughly). */
  levels: number;
  /** Book messages per second (one delta per step when anything changed). */
  bookRateHz: number;
  /** Depth of the order-book topic written (levels beyond it are not sent). */
  depth?: number;
  /** Simulated time of the first message (ms since epoch). */
  startMs: number;
  params?: Partial<SimParams>;
}

export interface SimParams {
  /** Volatility of x in basis points per √s. */
  sigmaBps: number;
  /** Drift of x per unit of imbalance, in multiples of the per-second volatility. */
  alpha: number;
  /** Drift of x per unit of tanh(F/F0), in multiples of the per-second volatility. */
  beta: number;
  /** Drift of x per unit of the hidden pressure z, in multiples of the per-second volatility. */
  mu: number;
  /** Time constant of z in seconds. */
  tauZS: number;
  /** Permanent impact in ticks per mean-sized market order. */
  gamma: number;
  tauFlowS: number;
  lambdaL: number;
  lambdaM: number;
  cancelRate: number;
  staleCancel: number;
  meanLimitLots: number;
  meanMarketLots: number;
}

export const DEFAULT_SIM_PARAMS: SimParams = {
  sigmaBps: 0.25,
  mu: 0.25,
  tauZS: 20,
  alpha: 0.2,
  beta: 0.1,
  gamma: 0.5,
  tauFlowS: 5,
  lambdaL: 120,
  lambdaM: 3,
  cancelRate: 0.15,
  staleCancel: 0.35,
  meanLimitLots: 200,
  meanMarketLots: 40,
};

/**
 * A lot worth roughly 100 in the quote currency at the start price, as a power of ten, so sizes look like the
 * market's: 0.001 at 65000 (BTC), 0.01 at 3500, 100 at 0.52 (XRP) or 0.15 (DOGE).
 */
export function defaultSizeStep(startPrice: number): string {
  const e = Math.max(-8, Math.min(6, Math.floor(Math.log10(100 / startPrice) + 1e-9)));
  return e < 0 ? (10 ** e).toFixed(-e) : String(10 ** e);
}

/** One step of simulated time and the raw v5 frames it produced (JSON-ready objects). */
export interface SimStep {
  atMs: number;
  frames: object[];
}

export class SimGenerator {
  readonly symbol: string;
  readonly depth: number;
  readonly scale: TickScale;
  private readonly p: SimParams;
  private readonly rng: Rng;
  private readonly bids = new SideBook(true);
  private readonly asks = new SideBook(false);
  private readonly sent = { bid: emptyView(), ask: emptyView() };
  private readonly dt: number;
  private readonly sigmaTicks: number;
  private readonly span: number;
  private readonly decimals: number;
  /** Lot quantity as mantissa / 10^decimals (TickScale parses the decimal exactly). */
  private readonly lot: TickScale;
  private x: number;
  private flow = 0;
  private z = 0;
  private step = 0;
  private u = 1_000_000;
  private crossSeq = 10_000_000;
  private tradeId = 0;
  private readonly idPrefix: string;
  private started = false;

  constructor(private readonly opts: SimGeneratorOptions) {
    this.symbol = opts.symbol ?? 'BTCUSDT';
    this.depth = opts.depth ?? 200;
    this.scale = new TickScale(opts.tickSize);
    this.decimals = this.scale.decimals;
    this.lot = new TickScale(opts.sizeStep ?? defaultSizeStep(opts.startPrice));
    this.p = { ...DEFAULT_SIM_PARAMS, ...opts.params };
    this.rng = new Rng(opts.seed);
    this.dt = 1 / opts.bookRateHz;
    this.x = Math.round(opts.startPrice * this.scale.ticksPerUnit);
    this.sigmaTicks = Math.max(
      0.05,
      (opts.startPrice * this.p.sigmaBps * 1e-4) / Number(this.scale.tickSize),
    );
    this.span = Math.max(10, Math.round(opts.levels / 0.5));
    this.idPrefix = (opts.seed >>> 0).toString(16).padStart(8, '0');
    this.seedBook();
  }

  /** Simulated time of the next step (ms). */
  get nowMs(): number {
    return this.opts.startMs + Math.round((this.step * 1000) / this.opts.bookRateHz);
  }

  /** Latent efficient price (for tests and diagnostics only; never sent). */
  get efficientPrice(): number {
    return (this.x * this.scale.mantissa) / this.scale.pow10;
  }

  /** The first call returns the snapshot; each later call advances one step (trades, then the book delta). */
  next(): SimStep {
    const atMs = this.nowMs;
    if (!this.started) {
      this.started = true;
      this.step++;
      return { atMs, frames: [this.snapshotFrame(atMs)] };
    }
    this.step++;
    const frames: object[] = [];
    const trades = this.advance(atMs);
    if (trades.length)
      frames.push({ topic: `publicTrade.${this.symbol}`, type: 'snapshot', ts: atMs, data: trades });
    const delta = this.deltaFrame(atMs);
    if (delta) frames.push(delta);
    return { atMs, frames };
  }

  private seedBook(): void {
    const base = Math.round(this.x);
    for (let k = 1; k <= this.span; k++) {
      for (const side of [this.bids, this.asks]) {
        if (this.rng.next() < 0.75) side.set(side.isBid ? base - k : base + k, this.limitSize());
      }
    }
  }

  private limitSize(): number {
    const big = this.rng.next() < 0.05 ? 8 : 1;
    return Math.min(500_000, this.rng.geometric(this.p.meanLimitLots) * big);
  }

  private mid(): number {
    return (this.bids.best() + this.asks.best()) / 2;
  }

  /** Advances the market by dt; returns the trades printed (v5 trade objects). */
  private advance(atMs: number): object[] {
    const p = this.p;
    const dt = this.dt;
    const rng = this.rng;
    const b5 = this.bids.volumeTop(5);
    const a5 = this.asks.volumeTop(5);
    const imb = b5 + a5 > 0 ? (b5 - a5) / (b5 + a5) : 0;
    const flowSignal = Math.tanh(this.flow / (p.meanMarketLots * 3));
    this.z += -(this.z * dt) / p.tauZS + Math.sqrt((2 * dt) / p.tauZS) * rng.normal();
    const pressure = Math.tanh(this.z);
    this.x +=
      (p.mu * this.z + p.alpha * imb + p.beta * flowSignal) * this.sigmaTicks * dt +
      this.sigmaTicks * Math.sqrt(dt) * rng.normal();

    // Market orders: informed by x - mid, walk the book, move x permanently.
    const trades: object[] = [];
    let signed = 0;
    const nMarket = rng.poisson(p.lambdaM * dt);
    for (let i = 0; i < nMarket; i++) {
      const m = this.mid();
      const pBuy = (Number.isFinite(m) ? 0.5 + 0.25 * Math.tanh((this.x - m) / 3) : 0.5) + 0.15 * pressure;
      const buy = rng.next() < pBuy;
      let want = rng.geometric(p.meanMarketLots) * (rng.next() < 0.05 ? 10 : 1);
      const book = buy ? this.asks : this.bids;
      while (want > 0 && book.ticks.length > 0) {
        const t = book.ticks[0];
        const have = book.get(t);
        const take = Math.min(want, have);
        book.set(t, have - take);
        want -= take;
        signed += buy ? take : -take;
        trades.push(this.tradeObject(atMs, buy, t, take));
      }
    }
    this.flow = this.flow * Math.exp(-dt / p.tauFlowS) + signed;
    this.x += (p.gamma * signed) / p.meanMarketLots;

    // Quotes on the wrong side of the efficient price are pulled.
    for (const side of [this.asks, this.bids]) {
      for (let i = 0; i < side.ticks.length;) {
        const t = side.ticks[i];
        const stale = side.isBid ? t > this.x + 0.5 : t < this.x - 0.5;
        if (!stale) break;
        if (rng.next() < p.staleCancel) side.set(t, 0);
        else i++;
      }
    }

    // Limit orders around x, never crossing the other side.
    const nLimit = rng.poisson(p.lambdaL * dt);
    for (let i = 0; i < nLimit; i++) {
      const near = rng.next() < 0.6;
      const bid = rng.next() < (near ? 0.5 + 0.35 * pressure : 0.5);
      const k = near ? rng.geometric(4) : 1 + rng.int(this.span);
      let t = bid ? Math.ceil(this.x) - k : Math.floor(this.x) + k;
      if (bid) {
        const ba = this.asks.best();
        if (Number.isFinite(ba) && t >= ba) t = ba - 1;
        this.bids.set(t, this.bids.get(t) + this.limitSize());
      } else {
        const bb = this.bids.best();
        if (Number.isFinite(bb) && t <= bb) t = bb + 1;
        this.asks.set(t, this.asks.get(t) + this.limitSize());
      }
    }

    // Cancels: each level at rate cancelRate, half of them take the whole level.
    for (const side of [this.bids, this.asks]) {
      const n = rng.poisson(p.cancelRate * side.ticks.length * dt);
      for (let i = 0; i < n && side.ticks.length > 0; i++) {
        const t = side.ticks[rng.int(side.ticks.length)];
        const left = rng.next() < 0.5 ? 0 : Math.floor(side.get(t) * rng.next());
        side.set(t, left);
      }
      // Levels the market has drifted away from leave the book.
      const far = side.isBid ? this.x - this.span * 1.3 : this.x + this.span * 1.3;
      while (side.ticks.length > 0) {
        const worst = side.ticks[side.ticks.length - 1];
        if (side.isBid ? worst < far : worst > far) side.set(worst, 0);
        else break;
      }
    }
    return trades;
  }

  private tradeObject(atMs: number, buy: boolean, tick: number, lots: number): object {
    const id = (this.tradeId++).toString(16).padStart(12, '0');
    return {
      T: atMs,
      s: this.symbol,
      S: buy ? 'Buy' : 'Sell',
      v: this.size(lots),
      p: this.price(tick),
      L: buy ? 'PlusTick' : 'MinusTick',
      i: `${this.idPrefix}-0000-5000-8000-${id}`,
      BT: false,
      seq: ++this.crossSeq,
    };
  }

  private price(tick: number): string {
    return this.scale.toPrice(tick).toFixed(this.decimals);
  }

  private size(lots: number): string {
    return this.lot.toPrice(lots).toFixed(this.lot.decimals);
  }

  private readonly formatLevel = (tick: number, lots: number): string[] => [
    this.price(tick),
    lots === 0 ? '0' : this.size(lots),
  ];

  private levelPairs(side: SideBook, n: number): string[][] {
    const out: string[][] = [];
    const m = Math.min(n, side.ticks.length);
    for (let i = 0; i < m; i++) {
      const t = side.ticks[i];
      out.push([this.price(t), this.size(side.sizes.get(t) as number)]);
    }
    return out;
  }

  private snapshotFrame(atMs: number): object {
    captureTop(this.bids, this.depth, this.sent.bid);
    captureTop(this.asks, this.depth, this.sent.ask);
    return this.bookFrame(
      'snapshot',
      atMs,
      this.levelPairs(this.bids, this.depth),
      this.levelPairs(this.asks, this.depth),
    );
  }

  private bookFrame(type: 'snapshot' | 'delta', atMs: number, b: string[][], a: string[][]): object {
    return {
      topic: `orderbook.${this.depth}.${this.symbol}`,
      type,
      ts: atMs,
      data: { s: this.symbol, b, a, u: type === 'snapshot' ? this.u : ++this.u, seq: ++this.crossSeq },
      cts: atMs,
    };
  }

  /** Changes of the top-`depth` view since the last frame; null when nothing visible changed. */
  private deltaFrame(atMs: number): object | null {
    const b = diffTop(this.bids, this.depth, this.sent.bid, this.formatLevel);
    const a = diffTop(this.asks, this.depth, this.sent.ask, this.formatLevel);
    if (b.length === 0 && a.length === 0) return null;
    if (this.depth === 1) {
      // Bybit's depth-1 stream sends snapshots only.
      this.u++;
      return this.bookFrame('snapshot', atMs, this.levelPairs(this.bids, 1), this.levelPairs(this.asks, 1));
    }
    return this.bookFrame('delta', atMs, b, a);
  }
}
