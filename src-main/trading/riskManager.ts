// Turns a signal into a target position (base units) under the risk rules: sizing, max position, stop-loss and
// take-profit (bps from entry), max daily loss (per UTC day of the injected time) and a cooldown after a stop.
// Every amount is in quote currency (USDT) and converted to coins at the decision's price, so one config fits
// any symbol; targets are whole lots, and a standing target only moves when the size changes by more than the
// rebalance band (price drift alone must not churn orders). Pure: time, prices and the portfolio state are arguments.
import { signedPct, type RiskHalt } from '../../src-shared/riskHalt.ts';
import { floorToLot } from './lotSize.ts';
import type { SignalValue } from './types.ts';

export type Sizing = 'fixed_notional' | 'equity_fraction' | 'vol_target';

export interface RiskOptions {
  sizing: Sizing;
  /** fixed_notional: quote amount per position. */
  notional: number;
  /** equity_fraction: share of equity per position. */
  equityFraction: number;
  /** vol_target: target daily P&L volatility as bps of equity. */
  volTargetBps: number;
  /** Largest absolute position as quote notional at the decision's price (e.g. USDT). */
  maxPositionNotional: number;
  /** Smallest order worth placing, quote (Bybit's minimum order value is 5 USDT); a smaller position is not opened. */
  minOrderNotional?: number;
  /**
   * While the signal keeps its direction, the standing target is kept unless the new size differs from it by
   * more than this fraction of it (and by more than minOrderNotional). 0 rebalances on every lot of change.
   */
  rebalanceBand?: number;
  /** 0 disables. */
  stopLossBps: number;
  /** 0 disables. */
  takeProfitBps: number;
  /** Loss (quote) since the UTC day's start that halts trading for the rest of that day; 0 disables. */
  maxDailyLoss: number;
  /** Fall from the equity peak (fraction: 0.05 = 5 %) that halts trading for the rest of the run; 0 disables. */
  maxDrawdown?: number;
  /** No new position for this long (ms) after a stop-loss. */
  cooldownMs: number;
  /** Lot size (base units): targets are rounded towards zero to it. 0: not known yet (no rounding). */
  qtyStep?: number;
  /**
   * No short positions: a sell signal targets flat. A spot account sells only what it holds (margin aside); a
   * backtest that shorts spot would count trades no spot account could make.
   */
  longOnly?: boolean;
}

export interface RiskInput {
  ts: number;
  /** Price the rules are measured at (mid). */
  price: number;
  position: number;
  /** Average entry price of the position; NaN when flat. */
  entryPrice: number;
  equity: number;
}

export interface DecisionInput extends RiskInput {
  signal: SignalValue;
  /** Daily volatility of the instrument in bps (vol_target sizing only). */
  volBps?: number;
}

export type RiskReason =
  | 'signal'
  | 'stop_loss'
  | 'take_profit'
  | 'daily_loss'
  /** The fall from the equity peak reached risk.max_drawdown: halted for the rest of the run. */
  | 'max_drawdown'
  | 'cooldown'
  | 'rearm'
  | 'no_volatility'
  /** The signal's position would be smaller than the minimum order value (or than one lot). */
  | 'min_notional';

export interface RiskDecision {
  /** Target position, base units, signed. */
  target: number;
  reason: RiskReason;
  /** Exit now at market (stops, daily loss): the executor must not work a passive order. */
  urgent: boolean;
}

const DAY_MS = 86_400_000;
const NO_HALTS: readonly RiskHalt[] = Object.freeze([]);

/** "daily loss limit 2.00% reached (−2.13%, −21.30)": the limit as a share of the day's opening equity. */
export function dailyLossReason(limit: number, dayStartEquity: number, equity: number): string {
  const change = equity - dayStartEquity;
  const money = `${change < 0 ? '\u2212' : ''}${Math.abs(change).toFixed(2)}`;
  if (!(dayStartEquity > 0)) return `daily loss limit ${limit.toFixed(2)} reached (${money})`;
  return (
    `daily loss limit ${((limit / dayStartEquity) * 100).toFixed(2)}% reached ` +
    `(${signedPct(change / dayStartEquity)}, ${money})`
  );
}

/** "max drawdown 5.00% reached (−5.12% from the peak 10500.00)". */
export function maxDrawdownReason(limit: number, peak: number, equity: number): string {
  return (
    `max drawdown ${(limit * 100).toFixed(2)}% reached ` +
    `(${signedPct((equity - peak) / peak)} from the peak ${peak.toFixed(2)})`
  );
}

export class RiskManager {
  private readonly o: Required<RiskOptions>;
  private day = NaN;
  private dayStartEquity = NaN;
  private haltedDay = NaN;
  private cooldownUntil = -Infinity;
  /** After a stop or take-profit in a direction, no re-entry that way until the signal has left it. */
  private blockedDirection: SignalValue = 0;
  /** The last target decided (0 after any exit or flat decision): the reference of the rebalance band. */
  private standing = 0;
  /** The daily-loss halt in force (null: trading), and the halts and resumptions not yet taken by the engine. */
  private halt: RiskHalt | null = null;
  private haltChanges: RiskHalt[] = [];
  /** Highest equity seen by the checks, and the drawdown halt (it lasts to the end of the run). */
  private peak = -Infinity;
  private ddHalt: RiskHalt | null = null;
  /** risk.min_order_notional as configured: the floor under the exchange's own minimum. */
  private readonly configuredMinNotional: number;

  constructor(opts: RiskOptions) {
    this.o = {
      qtyStep: 0,
      minOrderNotional: 5,
      rebalanceBand: 0.1,
      maxDrawdown: 0,
      longOnly: false,
      ...opts,
    };
    if (!(this.o.maxDrawdown >= 0 && this.o.maxDrawdown < 1))
      throw new RangeError(`maxDrawdown must be in [0, 1), got ${this.o.maxDrawdown}`);
    if (!(this.o.maxPositionNotional > 0)) throw new RangeError('maxPositionNotional must be > 0');
    if (!(this.o.minOrderNotional >= 0)) throw new RangeError('minOrderNotional must be >= 0');
    if (!(this.o.rebalanceBand >= 0)) throw new RangeError('rebalanceBand must be >= 0');
    this.configuredMinNotional = this.o.minOrderNotional;
    this.setQtyStep(this.o.qtyStep);
  }

  /** The symbol's lot size, once known (the engine learns it at the first snapshot). */
  setQtyStep(step: number): void {
    if (!(step >= 0) || !Number.isFinite(step)) throw new RangeError(`qtyStep must be >= 0, got ${step}`);
    this.o.qtyStep = step;
  }

  get qtyStep(): number {
    return this.o.qtyStep;
  }

  /**
   * The exchange's minimum order value for the symbol (its instrument info), once known. The exchange refuses
   * smaller orders, so it raises the configured minimum; it never lowers it.
   */
  setExchangeMinNotional(value: number): void {
    if (!(value >= 0) || !Number.isFinite(value))
      throw new RangeError(`exchange minimum order value must be >= 0, got ${value}`);
    this.o.minOrderNotional = Math.max(this.configuredMinNotional, value);
  }

  /** risk.min_order_notional as configured, whatever the exchange's minimum. */
  get configuredMinOrderNotional(): number {
    return this.configuredMinNotional;
  }

  /** The smallest order value that opens or resizes a position: the configured one or the exchange's, if higher. */
  get minOrderNotional(): number {
    return this.o.minOrderNotional;
  }

  /** Quantity (base, unsigned) for a new position at `price`, before max-position clamping and rounding. */
  size(price: number, equity: number, volBps?: number): number {
    if (!(price > 0)) return 0;
    switch (this.o.sizing) {
      case 'fixed_notional':
        return this.o.notional / price;
      case 'equity_fraction':
        return (Math.max(0, equity) * this.o.equityFraction) / price;
      case 'vol_target':
        if (volBps === undefined || !(volBps > 0)) return NaN;
        return (Math.max(0, equity) * this.o.volTargetBps) / (price * volBps);
    }
  }

  /**
   * Checks the exit rules only (stop-loss, take-profit, daily loss); cheap enough to call on every book update
   * while in a position. Returns a flattening decision, or null when nothing triggers.
   */
  checkExit(x: RiskInput): RiskDecision | null {
    const d = this.exitRule(x);
    if (d) this.standing = 0;
    return d;
  }

  private exitRule(x: RiskInput): RiskDecision | null {
    this.rollDay(x.ts, x.equity);
    if (x.equity > this.peak) this.peak = x.equity;
    if (this.ddHalt) return x.position !== 0 ? { target: 0, reason: 'max_drawdown', urgent: true } : null;
    if (this.o.maxDrawdown > 0 && this.peak > 0 && (this.peak - x.equity) / this.peak >= this.o.maxDrawdown) {
      this.ddHalt = {
        ts: x.ts,
        rule: 'max_drawdown',
        reason: maxDrawdownReason(this.o.maxDrawdown, this.peak, x.equity),
        resumedTs: null,
        resumeReason: null,
      };
      this.haltChanges.push(this.ddHalt);
      return { target: 0, reason: 'max_drawdown', urgent: true };
    }
    if (this.haltedDay === this.day)
      return x.position !== 0 ? { target: 0, reason: 'daily_loss', urgent: true } : null;
    if (this.o.maxDailyLoss > 0 && this.dayStartEquity - x.equity >= this.o.maxDailyLoss) {
      this.haltedDay = this.day;
      this.halt = {
        ts: x.ts,
        rule: 'daily_loss',
        reason: dailyLossReason(this.o.maxDailyLoss, this.dayStartEquity, x.equity),
        resumedTs: null,
        resumeReason: null,
      };
      this.haltChanges.push(this.halt);
      return { target: 0, reason: 'daily_loss', urgent: true };
    }
    if (x.position === 0 || !(x.entryPrice > 0) || !(x.price > 0)) return null;
    const dir: SignalValue = x.position > 0 ? 1 : -1;
    // The epsilon keeps a move of exactly the limit (50250 vs 50000 = 50 bps) from missing it by rounding.
    const moveBps = (x.price / x.entryPrice - 1) * 1e4 * dir;
    const eps = 1e-7;
    if (this.o.stopLossBps > 0 && moveBps <= -this.o.stopLossBps + eps) {
      this.cooldownUntil = x.ts + this.o.cooldownMs;
      this.blockedDirection = dir;
      return { target: 0, reason: 'stop_loss', urgent: true };
    }
    if (this.o.takeProfitBps > 0 && moveBps >= this.o.takeProfitBps - eps) {
      this.blockedDirection = dir;
      return { target: 0, reason: 'take_profit', urgent: true };
    }
    return null;
  }

  /** The target position for a signal at a decision time. */
  decide(x: DecisionInput): RiskDecision {
    const d = this.rule(x);
    this.standing = d.target;
    return d;
  }

  private rule(x: DecisionInput): RiskDecision {
    const exit = this.exitRule(x);
    if (exit) return exit;
    if (this.ddHalt) return { target: 0, reason: 'max_drawdown', urgent: false };
    if (this.haltedDay === this.day) return { target: 0, reason: 'daily_loss', urgent: false };
    if (this.blockedDirection !== 0 && x.signal !== this.blockedDirection) this.blockedDirection = 0;
    if (x.ts < this.cooldownUntil) return { target: 0, reason: 'cooldown', urgent: false };
    if (x.signal === 0) return { target: 0, reason: 'signal', urgent: false };
    // Long-only (spot): a sell signal sells what is held and no more.
    if (x.signal < 0 && this.o.longOnly) return { target: 0, reason: 'signal', urgent: false };
    if (x.signal === this.blockedDirection) {
      // Keep what is left of the position; do not open a new one in the stopped-out direction yet.
      return { target: 0, reason: 'rearm', urgent: false };
    }
    const raw = this.size(x.price, x.equity, x.volBps);
    if (Number.isNaN(raw)) return { target: 0, reason: 'no_volatility', urgent: false };
    const qty = floorToLot(Math.min(raw, this.o.maxPositionNotional / x.price), this.o.qtyStep);
    const held = Math.abs(this.standing);
    if (Math.sign(this.standing) === x.signal) {
      // Same direction as the standing target: keep it unless the size really changed (signals move the
      // position; a one-tick price move that shifts the rounded size by a lot must not send an order).
      const moveNotional = Math.abs(qty - held) * x.price;
      if (moveNotional <= Math.max(this.o.minOrderNotional, this.o.rebalanceBand * held * x.price))
        return { target: this.standing, reason: 'signal', urgent: false };
    }
    if (qty === 0 || qty * x.price < this.o.minOrderNotional)
      return { target: 0, reason: 'min_notional', urgent: false };
    return { target: x.signal * qty, reason: 'signal', urgent: false };
  }

  /**
   * Halts and resumptions since the last call, in order: a halt has resumedTs null; its resumption is the same halt
   * again with resumedTs set. The engine turns them into `halt` events (time and reason) after each risk call.
   */
  takeHalts(): readonly RiskHalt[] {
    if (this.haltChanges.length === 0) return NO_HALTS;
    const out = this.haltChanges;
    this.haltChanges = [];
    return out;
  }

  /** The halt in force, or null while trading is allowed. */
  get halted(): RiskHalt | null {
    return this.ddHalt ?? this.halt;
  }

  reset(): void {
    this.halt = null;
    this.haltChanges = [];
    this.peak = -Infinity;
    this.ddHalt = null;
    this.day = NaN;
    this.dayStartEquity = NaN;
    this.haltedDay = NaN;
    this.cooldownUntil = -Infinity;
    this.blockedDirection = 0;
    this.standing = 0;
  }

  private rollDay(ts: number, equity: number): void {
    const day = Math.floor(ts / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.dayStartEquity = equity;
      // The daily-loss halt lasts to the end of its UTC day: the first check of a new day resumes trading.
      if (this.halt && this.haltedDay !== day) {
        this.halt = { ...this.halt, resumedTs: ts, resumeReason: 'a new UTC day' };
        this.haltChanges.push(this.halt);
        this.halt = null;
      }
    }
  }
}
