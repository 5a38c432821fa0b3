// Performance metrics of an equity curve and its round trips. Sharpe and Sortino use the equity sampled on a
// fixed grid (default every 1 min: the last equity at or before each grid time) and simple returns between grid
// points, annualised with sqrt(periods per year) for a 24/7 market (365 days). Drawdown uses every sample.
// Round-trip statistics (profit factor, average win/loss, payoff, expectancy, losing streak) are after fees.
// Calmar = return annualised linearly over the equity series' span / max drawdown. Sharpe is flagged unreliable
// below SHARPE_MIN_SAMPLES grid returns or SHARPE_MIN_SPAN_MS of equity (its value is never altered).
// Incremental, so the live engine updates it in O(1) per sample and a backtest gets the same numbers.
// Execution costs (implementation shortfall and the P&L attribution) come from executionCosts.ts.
// Net P&L carries a 95% interval: a moving-block bootstrap of the equity changes over PNL_PERIOD_MS periods, so a
// result a few lucky trades explain is seen as "not distinguishable from zero".
import { sumInterval, type Interval } from '../model/confidence.ts';
import { summarizeCosts, type CostTotals, type ExecutionCosts } from './executionCosts.ts';
import { addTrip, emptyTripSummary, type RoundTrip, type TripSummary } from './portfolio.ts';
import { SHARPE_MIN_SAMPLES, SHARPE_MIN_SPAN_MS } from '../../src-shared/reliability.ts';

// The minimums live beside the shared reliability verdicts (src-shared/reliability.ts): CLI, reports and app agree.
export { SHARPE_MIN_SAMPLES, SHARPE_MIN_SPAN_MS };

export const DEFAULT_SAMPLING_MS = 60_000;
const YEAR_MS = 365 * 86_400_000;
/** Period of the equity changes the net P&L interval resamples (or the Sharpe grid when that is finer). */
export const PNL_PERIOD_MS = 10_000;
/** Equity changes are merged into at most this many consecutive groups before resampling: it bounds the cost of an
 * interval (the live engine asks for metrics on every portfolio update) and merging neighbours only lengthens blocks. */
const PNL_MAX_GROUPS = 256;
const PNL_BOOTSTRAP_REPS = 1000;

export interface Metrics {
  initialEquity: number;
  finalEquity: number;
  /** finalEquity − initialEquity (after fees). */
  netPnl: number;
  /** 95% interval of netPnl: moving-block bootstrap of the equity changes per PNL_PERIOD_MS (blocks of about n^(1/3)
   * periods); null with fewer than 20 periods. Spanning 0: the run's P&L is not distinguishable from zero. */
  netPnlCi: Interval | null;
  /** netPnl / initialEquity. */
  totalReturn: number;
  fees: number;
  sharpe: number;
  sortino: number;
  /** Grid the returns for Sharpe/Sortino were sampled on (ms), and how many returns there were. */
  samplingMs: number;
  returns: number;
  /** Span of the equity series (ms): first to last sample. Absent from metrics stored by older versions. */
  spanMs?: number;
  /** Largest peak-to-trough fall as a fraction of the peak (0.02 = 2 %), and in quote currency. */
  maxDrawdown: number;
  maxDrawdownAbs: number;
  /** Share of round trips with a positive net P&L (after fees); 0 when there were none. */
  hitRate: number;
  /** Share of round trips whose price move alone was in our favour (P&L before fees): the model's directional
   * skill, which fees can turn into a net loss. */
  grossHitRate: number;
  roundTrips: number;
  /** Number of fills. */
  trades: number;
  /** Traded notional / initial equity. */
  turnover: number;
  avgHoldingMs: number;
  /** Share of the time with a non-zero position. */
  exposure: number;
  /** Winning trips' net P&L / losing trips' lost net P&L (after fees); null when no trip lost (∞, or nothing traded). */
  profitFactor: number | null;
  /** Mean net P&L of the winning trips (≥ 0) and of the losing trips (≤ 0), quote currency; 0 when there were none. */
  avgWin: number;
  avgLoss: number;
  /** avgWin / |avgLoss|; null when no trip lost. */
  payoffRatio: number | null;
  /** Mean net P&L per round trip (quote; 0 without trips), and the same in bps of the trips' notional (sum of net
   * P&L / sum of the notional put on, so bigger trips weigh more). */
  expectancy: number;
  expectancyBps: number;
  /** Longest run of consecutive losing round trips. */
  maxConsecutiveLosses: number;
  /** totalReturn × (365 d / span of the equity series): linear, not compounded (compounding hours to a year explodes). */
  annualisedReturn: number;
  /** annualisedReturn / maxDrawdown (drawdown over every equity sample); null when the drawdown (or the span) is 0. */
  calmar: number | null;
  /** `returns` ≥ SHARPE_MIN_SAMPLES and the equity series spans ≥ SHARPE_MIN_SPAN_MS. */
  sharpeReliable: boolean;
  /** Where the P&L went: shortfall vs decision mids (latency drift, spread + book walk), fees, gross alpha. */
  costs: ExecutionCosts;
}

export interface TradeStats {
  /** Every round trip of the run, or their running totals (Portfolio.tripSummary: a live run keeps no full list). */
  roundTrips: readonly RoundTrip[] | Readonly<TripSummary>;
  fills: number;
  turnoverNotional: number;
  fees: number;
  /** Cost sums over every fill, and the position still open with its mark (gross alpha values it like equity). */
  costs: { totals: Readonly<CostTotals>; position: number; mark: number };
}

export class MetricsAccumulator {
  private first = NaN;
  private lastTs = NaN;
  private lastEquity = NaN;
  private lastPosition = 0;
  private nextGrid = NaN;
  private prevGrid = NaN;
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private downSq = 0;
  private peak = -Infinity;
  private maxDd = 0;
  private maxDdAbs = 0;
  private exposedMs = 0;
  private readonly pnlPeriodMs: number;
  private nextPnl = NaN;
  private prevPnlEquity = NaN;
  private pnlSteps: number[] = [];
  private pnlStepsSum = 0;
  /** The interval's offsets from the sum of pnlSteps, for the pnlSteps.length it was computed at. */
  private pnlCiCache: { n: number; offsets: Interval | null } = { n: -1, offsets: null };

  constructor(
    readonly initialEquity: number,
    readonly samplingMs: number = DEFAULT_SAMPLING_MS,
  ) {
    if (!(samplingMs > 0)) throw new RangeError('samplingMs must be > 0');
    this.peak = initialEquity;
    this.pnlPeriodMs = Math.min(samplingMs, PNL_PERIOD_MS);
  }

  /** Adds the equity (and the position held from then on) at `ts`; samples must come in time order. */
  add(ts: number, equity: number, position = 0): void {
    if (!Number.isFinite(equity)) return;
    if (this.first !== this.first) {
      this.first = ts;
      this.nextGrid = ts;
      this.nextPnl = ts;
    } else if (ts < this.lastTs) return;
    else if (this.lastPosition !== 0) this.exposedMs += ts - this.lastTs;
    while (this.nextGrid < ts) {
      this.grid(this.lastEquity);
      this.nextGrid += this.samplingMs;
    }
    if (this.nextGrid === ts) {
      this.grid(equity);
      this.nextGrid += this.samplingMs;
    }
    while (this.nextPnl < ts) {
      this.pnlPoint(this.lastEquity);
      this.nextPnl += this.pnlPeriodMs;
    }
    if (this.nextPnl === ts) {
      this.pnlPoint(equity);
      this.nextPnl += this.pnlPeriodMs;
    }
    this.lastTs = ts;
    this.lastEquity = equity;
    this.lastPosition = position;
    if (equity > this.peak) this.peak = equity;
    const dd = this.peak - equity;
    if (dd > this.maxDdAbs) this.maxDdAbs = dd;
    if (this.peak > 0 && dd / this.peak > this.maxDd) this.maxDd = dd / this.peak;
  }

  /** Current fall from the peak, as a fraction of the peak. */
  drawdown(): number {
    return this.peak > 0 && this.lastEquity === this.lastEquity
      ? Math.max(0, (this.peak - this.lastEquity) / this.peak)
      : 0;
  }

  result(t: TradeStats): Metrics {
    const final = this.lastEquity === this.lastEquity ? this.lastEquity : this.initialEquity;
    const periods = YEAR_MS / this.samplingMs;
    const sd = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0;
    const dd = this.n > 0 ? Math.sqrt(this.downSq / this.n) : 0;
    let trips: Readonly<TripSummary>;
    if (isTripList(t.roundTrips)) {
      const sum = emptyTripSummary();
      for (const r of t.roundTrips) addTrip(sum, r);
      trips = sum;
    } else trips = t.roundTrips;
    const { count: nTrips, wins, grossWins, heldMs: held } = trips;
    const span = this.lastTs - this.first;
    const totalReturn = (final - this.initialEquity) / this.initialEquity;
    const annualised = span > 0 ? totalReturn * (YEAR_MS / span) : 0;
    const avgWin = wins > 0 ? trips.winPnl / wins : 0;
    const avgLoss = trips.losses > 0 ? trips.lossPnl / trips.losses : 0;
    const tripsNet = trips.winPnl + trips.lossPnl;
    const netPnl = final - this.initialEquity;
    const off = this.pnlOffsets();
    return {
      initialEquity: this.initialEquity,
      finalEquity: final,
      netPnl,
      netPnlCi: off && [netPnl + off[0], netPnl + off[1]],
      totalReturn,
      fees: t.fees,
      sharpe: sd > 0 ? (this.mean / sd) * Math.sqrt(periods) : 0,
      sortino: dd > 0 ? (this.mean / dd) * Math.sqrt(periods) : 0,
      samplingMs: this.samplingMs,
      returns: this.n,
      spanMs: span > 0 ? span : 0,
      maxDrawdown: this.maxDd,
      maxDrawdownAbs: this.maxDdAbs,
      hitRate: nTrips > 0 ? wins / nTrips : 0,
      grossHitRate: nTrips > 0 ? grossWins / nTrips : 0,
      roundTrips: nTrips,
      trades: t.fills,
      turnover: t.turnoverNotional / this.initialEquity,
      avgHoldingMs: nTrips > 0 ? held / nTrips : 0,
      exposure: span > 0 ? this.exposedMs / span : 0,
      profitFactor: trips.losses > 0 ? trips.winPnl / -trips.lossPnl : null,
      avgWin,
      avgLoss,
      payoffRatio: trips.losses > 0 ? avgWin / -avgLoss : null,
      expectancy: nTrips > 0 ? tripsNet / nTrips : 0,
      expectancyBps: trips.notional > 0 ? (tripsNet / trips.notional) * 1e4 : 0,
      maxConsecutiveLosses: trips.maxLossStreak,
      annualisedReturn: annualised,
      calmar: this.maxDd > 0 && span > 0 ? annualised / this.maxDd : null,
      sharpeReliable: this.n >= SHARPE_MIN_SAMPLES && span >= SHARPE_MIN_SPAN_MS,
      costs: summarizeCosts(t.costs.totals, t.costs.position, t.costs.mark),
    };
  }

  private pnlPoint(v: number): void {
    if (this.prevPnlEquity === this.prevPnlEquity) {
      this.pnlSteps.push(v - this.prevPnlEquity);
      this.pnlStepsSum += v - this.prevPnlEquity;
    }
    this.prevPnlEquity = v;
  }

  /**
   * Bootstrap quantiles of the summed equity changes minus their actual sum: added to the net P&L they give its
   * interval (the net P&L also holds the change since the last whole period). Recomputed only when a period closes.
   */
  private pnlOffsets(): Interval | null {
    const steps = this.pnlSteps;
    if (this.pnlCiCache.n === steps.length) return this.pnlCiCache.offsets;
    const g = Math.ceil(steps.length / PNL_MAX_GROUPS);
    const grouped: number[] = [];
    for (let i = 0; i < steps.length; i += g) {
      let s = 0;
      for (let j = i; j < Math.min(steps.length, i + g); j++) s += steps[j];
      grouped.push(s);
    }
    const ci = sumInterval(grouped, {
      blockLength: Math.max(2, Math.round(Math.cbrt(grouped.length))),
      reps: PNL_BOOTSTRAP_REPS,
      seed: 1,
    });
    const offsets: Interval | null = ci && [ci[0] - this.pnlStepsSum, ci[1] - this.pnlStepsSum];
    this.pnlCiCache = { n: steps.length, offsets };
    return offsets;
  }

  private grid(v: number): void {
    if (this.prevGrid === this.prevGrid && this.prevGrid !== 0) {
      const r = v / this.prevGrid - 1;
      this.n++;
      const d = r - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (r - this.mean);
      if (r < 0) this.downSq += r * r;
    }
    this.prevGrid = v;
  }
}

function isTripList(x: TradeStats['roundTrips']): x is readonly RoundTrip[] {
  return Array.isArray(x);
}

/** Metrics of a whole run at once. */
export function computeMetrics(
  equity: readonly { ts: number; equity: number; position?: number }[],
  trades: TradeStats,
  initialEquity: number,
  samplingMs = DEFAULT_SAMPLING_MS,
): Metrics {
  const acc = new MetricsAccumulator(initialEquity, samplingMs);
  for (const e of equity) acc.add(e.ts, e.equity, e.position ?? 0);
  return acc.result(trades);
}
