// A seeded, deterministic order-flow simulator that writes Bybit v5 public messages (orderbook snapshot and
// deltas, publicTrade). Pure: no clock, no I/O; the caller asks for the next step and gets its frames.
//
// Model (time step dt = 1/book_rate_hz s; x = latent efficient price in ticks; z = hidden order-flow pressure,
// an Ornstein-Uhlenbeck factor with unit variance and time constant tauZ):
//   z(t+dt) = z - z·dt/tauZ + √(2·dt/tauZ)·N(0,1)
//   x(t+dt) = x + σ·mu·z·dt + σ·√dt·N(0,1) + gamma·sign·ln(1 + size/median) per market order (permanent impact)
// with σ = sigmaBps·startPrice/tick ticks per √s. Liquidity providers requote at once: after each step the bid
// touch sits at floor(x) and the ask one tick above (quotes on the wrong side of x are pulled), each touch refilled
// with probability touchRefill (else the spread is wider until a later step). New levels get log-normal sizes
// (the touch larger), scaled by exp(±kappa·z): more bid than ask size when z > 0. Market orders (Poisson,
// lambdaM per s) buy with probability 0.5 + phi·tanh(z), have log-normal sizes, and walk the book. Limit orders
// (lambdaL per s) and cancels (cancelRate per level per s) churn the ladder. Imbalance and order flow are thus
// noisy readings of z, which drives the next seconds' drift: a modest edge on the 10 s return.
//
// Defaults (DEFAULT_SIM_PARAMS), where they come from, and what 3 simulated hours show (`l2desk sim calibrate`):
// - volatility: public figures — BTC's realised volatility of roughly 40-60% a year is 0.7-1 bps/√s
//   (0.8e-4 × √(365·86400 s) ≈ 45%), the 0.7-1 bps/√s issue 8's audit measured on Bybit BTCUSDT linear. σ = 0.75
//   plus the drift of z: the simulator shows 0.78-0.80 bps/√s from 10 s returns;
// - book messages: Bybit v5 pushes orderbook.50 every 20 ms and orderbook.200 every 100 ms (its API docs; the shared
//   recording, depth 200, has 9.5 messages/s): sim.book_rate_hz 50 gives 49 messages/s;
// - spread one tick (0.1) nearly always: the shared recording, one tick for all of its 43 s; the simulator 96%;
// - trade sizes: the shared recording's prints have median 0.007, mean 0.126, p90 0.30, p99 1.7 BTC; log-normal
//   orders of median 5 lots and log-sd 2.6 print median 0.01, mean 0.11-0.12, p90 0.24, p99 1.7 BTC;
// - size at the touch: the recording 7.3 BTC (7.7 in the top 5 levels: the book thins behind the touch); the
//   simulator 3-4 BTC at the touch, 7-10 in the top 5;
// - trade rate: 3 market orders/s (about 3.7 prints/s), between the quiet recording (1.3 prints/s) and busy hours
//   of BTCUSDT (tens per second): an estimate, not a measurement; `l2desk sim calibrate --write` fits it;
// - the edge: with a drift driven by z, the share of the next 10 s return that z explains equals, to first order,
//   the lag-1 autocorrelation of 10 s returns, so both stay small: mu = 0.1 gives an autocorrelation of 0.01-0.04
//   (real 10 s returns: near zero), top-5 imbalance IC ≈ 0.1 and order-flow IC 0.02-0.06 on the next 10 s return,
//   and a trained model's out-of-sample IC of 0.05-0.1 (sim.test.ts and simCalibration.test.ts hold these bands).
//   The shared recording (43 s, the mid never moved) is too short to measure an edge.
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
  /**
   * Prices and sizes as numbers instead of Bybit's decimal strings, for a market simulated in this process: the
   * same values (a decimal's nearest double, which the strings parse back to), without formatting and parsing a
   * string for each (about a quarter of `collect --source sim`). Frames sent over a socket keep the strings.
   */
  numeric?: boolean;
}

export interface SimParams {
  /** Volatility of the diffusion part of x in basis points per √s (the drift of z adds a little). */
  sigmaBps: number;
  /** Drift of x per unit of the hidden pressure z, in multiples of the per-second volatility. */
  mu: number;
  /** Time constant of z in seconds. */
  tauZS: number;
  /** Size of new bid levels × exp(kappa·z), of new ask levels × exp(−kappa·z): how imbalance reads z. */
  kappa: number;
  /** Market orders buy with probability 0.5 + phi·tanh(z): how order flow reads z. */
  phi: number;
  /** Permanent impact in ticks per market order, × ln(1 + size / median size). */
  gamma: number;
  /** Market orders per second. */
  lambdaM: number;
  /** Market order size in lots: log-normal with this median and log-sd. */
  tradeMedianLots: number;
  tradeLogSd: number;
  /** Limit orders per second (beyond the requotes that follow x). */
  lambdaL: number;
  /** Cancels per level per second. */
  cancelRate: number;
  /** Probability that an empty touch is refilled in a step (else the spread stays wider for now). */
  touchRefill: number;
  /** Share of ticks of the ladder holding an order. */
  density: number;
  /** New level size in lots: log-normal with this median (the touch: touchMedianLots) and log-sd. */
  levelMedianLots: number;
  touchMedianLots: number;
  levelLogSd: number;
}

export const DEFAULT_SIM_PARAMS: SimParams = {
  sigmaBps: 0.75,
  mu: 0.1,
  tauZS: 5,
  kappa: 1.0,
  phi: 0.3,
  gamma: 0.3,
  lambdaM: 3,
  tradeMedianLots: 5,
  tradeLogSd: 2.6,
  lambdaL: 40,
  cancelRate: 0.1,
  touchRefill: 0.97,
  density: 0.6,
  levelMedianLots: 150,
  touchMedianLots: 1500,
  levelLogSd: 1.2,
};

/** Bounds of each parameter: a params file outside them is refused (the simulator would not be a market). */
export const SIM_PARAM_BOUNDS: Record<keyof SimParams, readonly [min: number, max: number]> = {
  sigmaBps: [0.01, 50],
  mu: [0, 2],
  tauZS: [0.1, 600],
  kappa: [0, 3],
  phi: [0, 0.45],
  gamma: [0, 50],
  lambdaM: [0, 200],
  tradeMedianLots: [1, 1e7],
  tradeLogSd: [0, 4],
  lambdaL: [0, 2000],
  cancelRate: [0, 10],
  touchRefill: [0.05, 1],
  density: [0.05, 1],
  levelMedianLots: [1, 1e7],
  touchMedianLots: [1, 1e8],
  levelLogSd: [0, 4],
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
    this.span = Math.max(10, Math.round(opts.levels / this.p.density));
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
    const base = Math.floor(this.x);
    for (let k = 0; k < this.span; k++) {
      if (k === 0 || this.rng.next() < this.p.density) this.bids.set(base - k, this.levelSize(k + 1, 1));
      if (k === 0 || this.rng.next() < this.p.density) this.asks.set(base + 1 + k, this.levelSize(k + 1, 1));
    }
  }

  /** Log-normal lots of a new level `distance` ticks from the touch (1 = the touch), times `mult`. */
  private levelSize(distance: number, mult: number): number {
    const p = this.p;
    const median = distance <= 1 ? p.touchMedianLots : p.levelMedianLots;
    return Math.min(1e9, Math.max(1, Math.round(median * mult * Math.exp(p.levelLogSd * this.rng.normal()))));
  }

  /** Advances the market by dt; returns the trades printed (v5 trade objects). */
  private advance(atMs: number): object[] {
    const p = this.p;
    const dt = this.dt;
    const rng = this.rng;
    this.z += -(this.z * dt) / p.tauZS + Math.sqrt((2 * dt) / p.tauZS) * rng.normal();
    const pressure = Math.tanh(this.z);
    this.x += p.mu * this.z * this.sigmaTicks * dt + this.sigmaTicks * Math.sqrt(dt) * rng.normal();

    // Market orders walk the book as the previous step left it, and move x a little.
    const trades: object[] = [];
    const nMarket = rng.poisson(p.lambdaM * dt);
    for (let i = 0; i < nMarket; i++) {
      const buy = rng.next() < 0.5 + p.phi * pressure;
      const lots = Math.min(
        1e9,
        Math.max(1, Math.round(p.tradeMedianLots * Math.exp(p.tradeLogSd * rng.normal()))),
      );
      let want = lots;
      const book = buy ? this.asks : this.bids;
      while (want > 0 && book.ticks.length > 0) {
        const t = book.ticks[0];
        const have = book.get(t);
        const take = Math.min(want, have);
        book.set(t, have - take);
        want -= take;
        trades.push(this.tradeObject(atMs, buy, t, take));
      }
      this.x += (buy ? 1 : -1) * p.gamma * Math.log1p(lots / p.tradeMedianLots);
    }

    // Requote around x: the bid touch at floor(x), the ask touch one tick above.
    const bidTouch = Math.floor(this.x);
    const askTouch = bidTouch + 1;
    const bidMult = Math.exp(p.kappa * this.z);
    const askMult = Math.exp(-p.kappa * this.z);
    this.requote(this.bids, bidTouch, bidMult);
    this.requote(this.asks, askTouch, askMult);

    // Limit orders anywhere in the ladder (near the touch more often), never crossing.
    const nLimit = rng.poisson(p.lambdaL * dt);
    for (let i = 0; i < nLimit; i++) {
      const bid = rng.next() < 0.5;
      const k = rng.next() < 0.6 ? rng.geometric(3) : 1 + rng.int(this.span);
      if (bid) {
        const t = bidTouch - k + 1;
        if (t >= this.asks.best()) continue;
        this.bids.set(t, this.bids.get(t) + this.levelSize(k, bidMult));
      } else {
        const t = askTouch + k - 1;
        if (t <= this.bids.best()) continue;
        this.asks.set(t, this.asks.get(t) + this.levelSize(k, askMult));
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
    }
    return trades;
  }

  /**
   * One side after x moved: quotes through the touch are pulled, an empty touch is refilled (with probability
   * touchRefill), the ticks between the old best and the new touch fill at the ladder's density, and the far end
   * is trimmed to the ladder's span.
   */
  private requote(side: SideBook, touch: number, mult: number): void {
    const p = this.p;
    const rng = this.rng;
    const better = side.isBid ? (t: number) => t > touch : (t: number) => t < touch;
    while (side.ticks.length > 0 && better(side.ticks[0])) side.set(side.ticks[0], 0);
    const best = side.ticks.length > 0 ? side.ticks[0] : side.isBid ? touch - this.span : touch + this.span;
    const dir = side.isBid ? -1 : 1;
    // Ticks strictly between the touch and the old best: new levels behind the touch.
    const gap = Math.min(this.span, Math.abs(best - touch));
    for (let k = 1; k < gap; k++) {
      if (rng.next() < p.density) side.set(touch + dir * k, this.levelSize(k + 1, mult));
    }
    if (side.get(touch) === 0 && rng.next() < p.touchRefill) side.set(touch, this.levelSize(1, mult));
    const far = touch + dir * this.span;
    while (side.ticks.length > 0) {
      const worst = side.ticks[side.ticks.length - 1];
      if (side.isBid ? worst < far : worst > far) side.set(worst, 0);
      else break;
    }
    // The ladder's far end follows the touch: when the book shifts away, new deep levels appear.
    let worst = side.ticks.length > 0 ? side.ticks[side.ticks.length - 1] : touch;
    while (Math.abs(worst - touch) < this.span - 1) {
      worst += dir;
      if (rng.next() < p.density) side.set(worst, this.levelSize(Math.abs(worst - touch) + 1, 1));
    }
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

  private price(tick: number): string | number {
    const p = this.scale.toPrice(tick);
    return this.opts.numeric ? p : p.toFixed(this.decimals);
  }

  private size(lots: number): string | number {
    const v = this.lot.toPrice(lots);
    return this.opts.numeric ? v : v.toFixed(this.lot.decimals);
  }

  private readonly formatLevel = (tick: number, lots: number): Array<string | number> => [
    this.price(tick),
    lots === 0 ? (this.opts.numeric ? 0 : '0') : this.size(lots),
  ];

  private levelPairs(side: SideBook, n: number): Array<Array<string | number>> {
    const out: Array<Array<string | number>> = [];
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

  private bookFrame(
    type: 'snapshot' | 'delta',
    atMs: number,
    b: Array<Array<string | number>>,
    a: Array<Array<string | number>>,
  ): object {
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
