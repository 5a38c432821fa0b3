// Account state of a linear (USDT-margined) contract: balance, signed position, average entry, realized and
// unrealized P&L, fees, and the round trips (flat → flat, or up to a flip) that hit rate and holding time use.
import { sideSign, type Fill } from './types.ts';

export interface PortfolioSnapshot {
  ts: number;
  /** Cash: initial balance + realized P&L − fees. */
  balance: number;
  position: number;
  /** Average entry price; NaN when flat. */
  entryPrice: number;
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
  equity: number;
  /** Price the position was marked at. */
  mark: number;
}

export interface RoundTrip {
  openTs: number;
  closeTs: number;
  /** +1 long, -1 short. */
  direction: 1 | -1;
  /** Realized P&L of the trip minus every fee paid on it. */
  netPnl: number;
  fees: number;
  /** Notional put on: |price × qty| of the fills that opened or added to the position (bps of expectancy). */
  notional: number;
}

/** Round-trip statistics over a whole run (what metrics need), kept as running totals. */
export interface TripSummary {
  count: number;
  /** Net P&L (after fees) > 0. */
  wins: number;
  /** Price move alone in our favour (P&L before fees) > 0. */
  grossWins: number;
  /** Sum of closeTs − openTs. */
  heldMs: number;
  /** Net P&L (after fees) < 0; a trip of exactly 0 is neither a win nor a loss. */
  losses: number;
  /** Sum of the net P&L of the winning trips (≥ 0), and of the losing trips (≤ 0). */
  winPnl: number;
  lossPnl: number;
  /** Sum of the trips' notional (RoundTrip.notional). */
  notional: number;
  /** Losing trips in a row up to the last one, and the longest such run. */
  lossStreak: number;
  maxLossStreak: number;
}

export function emptyTripSummary(): TripSummary {
  return {
    count: 0,
    wins: 0,
    grossWins: 0,
    heldMs: 0,
    losses: 0,
    winPnl: 0,
    lossPnl: 0,
    notional: 0,
    lossStreak: 0,
    maxLossStreak: 0,
  };
}

/** Round trips kept in memory by default: a live run lasts days; the full record is in SQLite (fills). */
export const RECENT_ROUND_TRIPS = 1000;

const DUST = 1e-12;

export class Portfolio {
  private cash: number;
  private pos = 0;
  private entry = NaN;
  private realized = 0;
  private feesPaid = 0;
  private markPrice = NaN;
  private lastTs = NaN;
  private tripOpenTs = NaN;
  private tripDir: 1 | -1 = 1;
  private tripPnl = 0;
  private tripFees = 0;
  private tripNotional = 0;
  private notionalTraded = 0;
  private fillCount = 0;
  /** The most recent `keepRoundTrips` round trips, oldest first (tripSummary covers all of them). */
  readonly roundTrips: RoundTrip[] = [];
  private readonly trips: TripSummary = emptyTripSummary();

  constructor(
    readonly initialBalance: number,
    private readonly keepRoundTrips = RECENT_ROUND_TRIPS,
  ) {
    this.cash = initialBalance;
  }

  /** Totals over every round trip of the run (O(1): metrics read it on every decision). */
  get tripSummary(): Readonly<TripSummary> {
    return this.trips;
  }

  get position(): number {
    return this.pos;
  }
  get entryPrice(): number {
    return this.entry;
  }
  get fees(): number {
    return this.feesPaid;
  }
  /** Sum of |price × qty| over all fills. */
  get turnoverNotional(): number {
    return this.notionalTraded;
  }
  get fills(): number {
    return this.fillCount;
  }
  /** The price the position is marked at (last mid); NaN before the first mark. */
  get lastMark(): number {
    return this.markPrice;
  }

  applyFill(f: Fill): void {
    const signed = sideSign(f.side) * f.qty;
    this.cash -= f.fee;
    this.feesPaid += f.fee;
    this.notionalTraded += f.price * f.qty;
    this.fillCount++;
    this.lastTs = f.ts;
    if (this.pos === 0 || Math.sign(this.pos) === Math.sign(signed)) {
      // Opening or increasing: the entry is the size-weighted average.
      if (this.pos === 0) this.open(f.ts, signed > 0 ? 1 : -1);
      const newPos = this.pos + signed;
      this.entry =
        this.pos === 0 ? f.price : (this.entry * Math.abs(this.pos) + f.price * f.qty) / Math.abs(newPos);
      this.pos = newPos;
      this.tripFees += f.fee;
      this.tripNotional += f.price * f.qty;
      return;
    }
    // Reducing, closing or flipping: realize P&L on the closed part against the average entry.
    const closing = Math.min(f.qty, Math.abs(this.pos));
    const pnl = (f.price - this.entry) * closing * Math.sign(this.pos);
    const closingFee = (f.fee * closing) / f.qty;
    this.realized += pnl;
    this.cash += pnl;
    this.tripPnl += pnl;
    this.tripFees += closingFee;
    const rest = f.qty - closing;
    const newPos = this.pos + signed;
    if (Math.abs(newPos) <= DUST || rest > DUST) this.closeTrip(f.ts);
    if (rest > DUST) {
      // Flipped: the remainder opens a new position at the fill price with its share of the fee.
      this.pos = Math.sign(signed) * rest;
      this.entry = f.price;
      this.open(f.ts, signed > 0 ? 1 : -1);
      this.tripFees += f.fee - closingFee;
      this.tripNotional += f.price * rest;
    } else if (Math.abs(newPos) <= DUST) {
      this.pos = 0;
      this.entry = NaN;
    } else {
      this.pos = newPos;
    }
  }

  /** Marks the position at `price` (mid) at time `ts`. */
  mark(ts: number, price: number): void {
    if (price === price) this.markPrice = price;
    this.lastTs = ts;
  }

  unrealizedPnl(): number {
    if (this.pos === 0 || !(this.markPrice === this.markPrice)) return 0;
    return (this.markPrice - this.entry) * this.pos;
  }

  equity(): number {
    return this.cash + this.unrealizedPnl();
  }

  snapshot(ts = this.lastTs): PortfolioSnapshot {
    const u = this.unrealizedPnl();
    return {
      ts,
      balance: this.cash,
      position: this.pos,
      entryPrice: this.entry,
      realizedPnl: this.realized,
      unrealizedPnl: u,
      fees: this.feesPaid,
      equity: this.cash + u,
      mark: this.markPrice,
    };
  }

  private open(ts: number, dir: 1 | -1): void {
    this.tripOpenTs = ts;
    this.tripDir = dir;
    this.tripPnl = 0;
    this.tripFees = 0;
    this.tripNotional = 0;
  }

  private closeTrip(ts: number): void {
    const trip: RoundTrip = {
      openTs: this.tripOpenTs,
      closeTs: ts,
      direction: this.tripDir,
      netPnl: this.tripPnl - this.tripFees,
      fees: this.tripFees,
      notional: this.tripNotional,
    };
    addTrip(this.trips, trip);
    this.roundTrips.push(trip);
    // Trimmed in chunks (amortised O(1)) so the list stays within 1.5 × keepRoundTrips.
    if (this.roundTrips.length > this.keepRoundTrips * 1.5)
      this.roundTrips.splice(0, this.roundTrips.length - this.keepRoundTrips);
    this.tripPnl = 0;
    this.tripFees = 0;
    this.tripNotional = 0;
  }
}

/** Adds one round trip to running totals. */
export function addTrip(sum: TripSummary, r: RoundTrip): void {
  sum.count++;
  if (r.netPnl > 0) sum.wins++;
  if (r.netPnl + r.fees > 0) sum.grossWins++;
  sum.heldMs += r.closeTs - r.openTs;
  sum.notional += r.notional;
  if (r.netPnl > 0) sum.winPnl += r.netPnl;
  if (r.netPnl < 0) {
    sum.losses++;
    sum.lossPnl += r.netPnl;
    sum.lossStreak++;
    if (sum.lossStreak > sum.maxLossStreak) sum.maxLossStreak = sum.lossStreak;
  } else sum.lossStreak = 0;
}
