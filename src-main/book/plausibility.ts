// Plausibility of market-data values, shared by the live feed, the importer, replay and `db quality`: a price
// far from the book, an absurd size or a timestamp far from the receive clock is refused, never stored or used.
// Pure: the caller passes the reference price (its book's mid) and its receive clock.
import type { BookMessage, Level, Trade, TradeMessage } from '../../src-shared/market.ts';
import type { TickScale } from './tickScale.ts';

export interface PlausibilityLimits {
  /** A price is refused above reference × (1 + d) or below reference / (1 + d). */
  maxPriceDeviation: number;
  /** Largest size of a level or a trade (base currency). */
  maxSize: number;
  /** Largest |exchange time − receive clock| (ms). */
  maxClockSkewMs: number;
}

/** The defaults of resources/config.yaml (`plausibility.*`). */
export const DEFAULT_PLAUSIBILITY: Readonly<PlausibilityLimits> = {
  maxPriceDeviation: 0.5,
  maxSize: 1e12,
  maxClockSkewMs: 3_600_000,
};

/** The config section as limits (durations are already in ms). */
export function limitsFromConfig(p: {
  max_price_deviation: number;
  max_size: number;
  max_clock_skew: number;
}): PlausibilityLimits {
  return { maxPriceDeviation: p.max_price_deviation, maxSize: p.max_size, maxClockSkewMs: p.max_clock_skew };
}

export type FindingKind = 'price' | 'size' | 'time' | 'tick';

/** Why a value was refused: what it was, where, and the limit it broke. */
export interface Finding {
  kind: FindingKind;
  detail: string;
}

export interface CheckContext {
  /**
   * The book's best bid and ask: a price (a level of either side, or a trade) is held to the band around the
   * spread, so a market a few ticks wide is never "far". NaN when unknown (one side stands in for the other; a
   * snapshot uses its own best levels).
   */
  refBid: number;
  refAsk: number;
  /**
   * Where the exchange's clock should stand (ms): the receive clock, shifted by the feed's known offset (a
   * simulator or a replay server runs on its own clock); NaN while unknown: then only the absolute bounds apply.
   */
  clockTs: number;
  /**
   * The local wall clock (ms): no exchange time may be later than this by more than the skew, nor before 2009.
   * Infinity for stored data judged only by its own receive clock (replay).
   */
  wallTs: number;
  /** When given, trade prices must sit on this grid (only for a tick that is known, not being inferred). */
  scale?: TickScale | null;
}

const usable = (x: number) => x > 0 && Number.isFinite(x);

/**
 * The band check, symmetric in ratio (1e-28 and 1e300 are both far from 65000): outside [lo / k, hi × k] with
 * k = 1 + max_price_deviation. lo and hi are the band's inner edges (a trade may print anywhere in the spread).
 */
function priceFar(price: number, lo: number, hi: number, lim: PlausibilityLimits): boolean {
  const l = usable(lo) ? lo : hi;
  const h = usable(hi) ? hi : lo;
  if (!usable(l) || !usable(h)) return false;
  const k = 1 + lim.maxPriceDeviation;
  return !(price <= h * k && price >= l / k);
}

/** No market data this package reads is older than this (2009-01-01). */
export const MIN_EXCHANGE_TS = Date.UTC(2009, 0, 1);

function timeFinding(what: string, ts: number, ctx: CheckContext, lim: PlausibilityLimits): Finding | null {
  const max = lim.maxClockSkewMs;
  // With no wall clock (Infinity: stored data judged by its own clock, as tests' synthetic sessions are) there is
  // no absolute floor either.
  if (!Number.isFinite(ts) || (ts < MIN_EXCHANGE_TS && Number.isFinite(ctx.wallTs)))
    return { kind: 'time', detail: `${what} ${ts} is before 2009 or not a time` };
  if (ts - ctx.wallTs > max)
    return {
      kind: 'time',
      detail: `${what} ${ts} is ${ts - ctx.wallTs} ms ahead of the wall clock (limit ${max} ms)`,
    };
  const skew = ts - ctx.clockTs;
  if (!(Math.abs(skew) > max)) return null; // NaN: no feed clock known yet
  const ahead = skew > 0 ? 'ahead of' : 'behind';
  return {
    kind: 'time',
    detail: `${what} ${ts} is ${Math.abs(skew)} ms ${ahead} the receive clock (limit ${max} ms)`,
  };
}

/** A snapshot's own best bid and ask (NaN for an empty side). */
export function snapshotBests(msg: BookMessage): { bid: number; ask: number } {
  let bid = -Infinity;
  let ask = Infinity;
  for (let i = 0; i < msg.bids.length; i++)
    if (msg.bids[i][1] > 0 && msg.bids[i][0] > bid) bid = msg.bids[i][0];
  for (let i = 0; i < msg.asks.length; i++)
    if (msg.asks[i][1] > 0 && msg.asks[i][0] < ask) ask = msg.asks[i][0];
  return { bid: bid > -Infinity ? bid : NaN, ask: ask < Infinity ? ask : NaN };
}

function levelsFinding(
  side: 'bid' | 'ask',
  levels: readonly Level[],
  bid: number,
  ask: number,
  lim: PlausibilityLimits,
): Finding | null {
  for (let i = 0; i < levels.length; i++) {
    const [price, size] = levels[i];
    if (!(price > 0) || !Number.isFinite(price))
      return { kind: 'price', detail: `${side} level ${i} has price ${price}` };
    // Size 0 deletes a level (in a snapshot it is skipped).
    if (!Number.isFinite(size) || size < 0)
      return { kind: 'size', detail: `${side} level ${i} at ${price} has size ${size}` };
    if (size > lim.maxSize)
      return { kind: 'size', detail: `${side} level ${i} at ${price} has size ${size} (cap ${lim.maxSize})` };
    if (size > 0 && priceFar(price, bid, ask, lim))
      return {
        kind: 'price',
        detail: `${side} price ${price} is more than ${pct(lim.maxPriceDeviation)} outside the spread ${bid} .. ${ask}`,
      };
  }
  return null;
}

/** The first implausible value of a book message, or null. A delete (size 0) is never price-checked. */
export function checkBookMessage(
  msg: BookMessage,
  ctx: CheckContext,
  lim: PlausibilityLimits = DEFAULT_PLAUSIBILITY,
): Finding | null {
  const t = timeFinding('book time ts', msg.ts, ctx, lim);
  if (t) return t;
  if (msg.cts !== 0) {
    const c = timeFinding('matching-engine time cts', msg.cts, ctx, lim);
    if (c) return c;
  }
  let bid = ctx.refBid;
  let ask = ctx.refAsk;
  if (msg.type === 'snapshot') {
    ({ bid, ask } = snapshotBests(msg));
    // The band hangs on the snapshot's own spread, so the spread itself must be bounded: no market is this wide.
    const k = 1 + lim.maxPriceDeviation;
    if (ask / bid > k * k * k)
      return {
        kind: 'price',
        detail: `snapshot spread ${bid} .. ${ask} is wider than a factor ${+(k * k * k).toPrecision(3)}`,
      };
  }
  return levelsFinding('bid', msg.bids, bid, ask, lim) ?? levelsFinding('ask', msg.asks, bid, ask, lim);
}

/** The first implausible value of one trade, or null. */
export function checkTrade(
  t: Trade,
  ctx: CheckContext,
  lim: PlausibilityLimits = DEFAULT_PLAUSIBILITY,
): Finding | null {
  const time = timeFinding(`trade ${t.id} time T`, t.ts, ctx, lim);
  if (time) return time;
  if (!(t.price > 0) || !Number.isFinite(t.price))
    return { kind: 'price', detail: `trade ${t.id} has price ${t.price}` };
  if (!(t.size > 0) || !Number.isFinite(t.size) || t.size > lim.maxSize)
    return { kind: 'size', detail: `trade ${t.id} has size ${t.size} (cap ${lim.maxSize})` };
  if (priceFar(t.price, ctx.refBid, ctx.refAsk, lim))
    return {
      kind: 'price',
      detail: `trade ${t.id} price ${t.price} is more than ${pct(lim.maxPriceDeviation)} outside the spread ${ctx.refBid} .. ${ctx.refAsk}`,
    };
  if (ctx.scale && !Number.isFinite(ctx.scale.tryToTicks(t.price)))
    return {
      kind: 'tick',
      detail: `trade ${t.id} price ${t.price} is off the tick grid ${ctx.scale.tickSize}`,
    };
  return null;
}

export interface TradeCheck {
  /** The message without its implausible trades; null when none is left. */
  msg: TradeMessage | null;
  /** One finding per refused trade (the first problem of each). */
  findings: Finding[];
}

/** Splits a trade message into its plausible trades and findings about the others. */
export function checkTradeMessage(
  msg: TradeMessage,
  ctx: CheckContext,
  lim: PlausibilityLimits = DEFAULT_PLAUSIBILITY,
): TradeCheck {
  const envelope = timeFinding('trade message time ts', msg.ts, ctx, lim);
  if (envelope) return { msg: null, findings: [envelope] };
  let findings: Finding[] | null = null;
  let kept: Trade[] | null = null;
  for (let i = 0; i < msg.trades.length; i++) {
    const f = checkTrade(msg.trades[i], ctx, lim);
    if (f) {
      (findings ??= []).push(f);
      kept ??= msg.trades.slice(0, i);
    } else if (kept) kept.push(msg.trades[i]);
  }
  if (!findings) return { msg, findings: [] };
  return { msg: kept && kept.length > 0 ? { ...msg, trades: kept } : null, findings };
}

/** One line for a gap's detail or a warning: the first finding, and how many more there were. */
export function describeFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return '';
  const more = findings.length > 1 ? ` (+${findings.length - 1} more)` : '';
  return `implausible ${findings[0].kind}: ${findings[0].detail}${more}`;
}

function pct(x: number): string {
  return `${+(x * 100).toPrecision(3)}%`;
}

/** True when a value of the row is NaN or infinite: the engine skips such a decision instead of predicting. */
export function hasNonFinite(row: ArrayLike<number>): boolean {
  for (let i = 0; i < row.length; i++) if (!Number.isFinite(row[i])) return true;
  return false;
}
