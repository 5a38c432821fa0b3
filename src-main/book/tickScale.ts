// Converts between decimal prices and integer ticks of one symbol's tick size, exactly: the book keys
// levels by tick so that 65114.2 and 65114.200000000004 can never become two different levels.
import type { Category } from '../../src-shared/market.ts';

/** A price that does not sit on the tick grid: a wrong tick size or corrupt data, never rounded away. */
export class OffTickError extends Error {
  constructor(
    readonly price: number,
    readonly tickSize: string,
  ) {
    super(`price ${price} is not a multiple of tick size ${tickSize}: check the instrument's tick size`);
    this.name = 'OffTickError';
  }
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * How far price × ticksPerUnit may sit from an integer and still be that tick: absolute 1e-9 plus 2^-44
 * relative, 256 times the rounding error of a parsed decimal (2^-52), so float noise passes and a price
 * off the grid by half a tick is rejected up to about 2^43 ticks (8.8e11 at tick 0.1).
 */
export const TICK_ABS_TOL = 1e-9;
export const TICK_REL_TOL = 2 ** -44;

/**
 * tick = mantissa × 10^-decimals, e.g. "0.05" → 5 × 10^-2. Prices convert with one multiplication and
 * round-to-integer (checked), ticks back with one division by a power of ten, which IEEE 754 rounds
 * correctly, so toPrice returns the double nearest the exact decimal.
 */
export class TickScale {
  /** Normalised tick size: "0.10" becomes "0.1". */
  readonly tickSize: string;
  readonly decimals: number;
  readonly mantissa: number;
  /** 10^decimals. */
  readonly pow10: number;
  /** Ticks per unit of price (pow10 / mantissa); may be inexact for odd ticks, the rounding check absorbs it. */
  readonly ticksPerUnit: number;

  constructor(tickSize: string) {
    const m = DECIMAL.exec(tickSize.trim());
    if (!m)
      throw new Error(
        `tick size must be a positive decimal string like "0.1", got ${JSON.stringify(tickSize)}`,
      );
    const frac = (m[2] ?? '').replace(/0+$/, '');
    const digits = (m[1] + frac).replace(/^0+/, '');
    const mantissa = digits === '' ? 0 : Number(digits);
    if (!(mantissa > 0) || !Number.isSafeInteger(mantissa)) {
      throw new Error(
        `tick size must be a positive decimal string like "0.1", got ${JSON.stringify(tickSize)}`,
      );
    }
    this.decimals = frac.length;
    this.mantissa = mantissa;
    this.pow10 = 10 ** this.decimals;
    this.ticksPerUnit = this.pow10 / mantissa;
    this.tickSize = formatDecimal(mantissa, this.decimals);
  }

  /** Integer ticks of a price; throws OffTickError when the price is not a multiple of the tick. */
  toTicks(price: number): number {
    const x = price * this.ticksPerUnit;
    const r = Math.round(x);
    const d = x - r;
    const tol = TICK_ABS_TOL + TICK_REL_TOL * Math.abs(x);
    if (!(d <= tol && -d <= tol)) throw new OffTickError(price, this.tickSize);
    return r;
  }

  /** Like toTicks but returns NaN for an off-grid or non-finite price (for queries, which must not throw). */
  tryToTicks(price: number): number {
    const x = price * this.ticksPerUnit;
    const r = Math.round(x);
    const d = x - r;
    const tol = TICK_ABS_TOL + TICK_REL_TOL * Math.abs(x);
    return d <= tol && -d <= tol ? r : NaN;
  }

  /** The exact decimal price of a tick count (the double nearest to it). */
  toPrice(ticks: number): number {
    return (ticks * this.mantissa) / this.pow10;
  }

  /** Whole ticks in a price distance, rounded down (a distance of 0.25 with tick 0.1 covers 2 ticks). */
  ticksIn(distance: number): number {
    const x = distance * this.ticksPerUnit;
    return Math.floor(x + TICK_ABS_TOL + TICK_REL_TOL * Math.abs(x));
  }
}

function formatDecimal(mantissa: number, decimals: number): string {
  if (decimals === 0) return String(mantissa);
  const s = String(mantissa).padStart(decimals + 1, '0');
  return `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * Infers a tick size from the decimal price strings of a snapshot (before they are parsed to numbers).
 * Trailing zeros carry no information ("65114.20" is one decimal), so the result is the coarsest
 * power-of-ten step consistent with every string, capped at 1; with at least 32 distinct prices all on
 * a half step (x.0 / x.5) it is 5 × that step. A tick inferred too fine is harmless (the book is just
 * sparser); one too coarse would reject valid prices later, so with few prices prefer knownTickSize or
 * the exchange's instrument info.
 */
export function inferTickSize(priceStrings: readonly string[]): string {
  let decimals = 0;
  const parsed: Array<{ int: string; frac: string }> = [];
  for (const raw of priceStrings) {
    const m = DECIMAL.exec(raw.trim());
    if (!m)
      throw new Error(`cannot infer a tick size from ${JSON.stringify(raw)}: not a plain decimal price`);
    const frac = (m[2] ?? '').replace(/0+$/, '');
    decimals = Math.max(decimals, frac.length);
    parsed.push({ int: m[1], frac });
  }
  if (parsed.length === 0) throw new Error('cannot infer a tick size from no prices');
  let g = 0n;
  const distinct = new Set<bigint>();
  for (const p of parsed) {
    const v = BigInt(p.int + p.frac.padEnd(decimals, '0'));
    distinct.add(v);
    g = gcd(g, v);
  }
  if (decimals > 0 && g !== 0n && g % 5n === 0n && distinct.size >= 32) return formatDecimal(5, decimals);
  return formatDecimal(1, decimals);
}

// Bybit tick sizes we have checked; Bybit changes them from time to time, so the instrument-info
// endpoint stays the authority and an unknown symbol returns undefined (infer it from a snapshot).
const KNOWN_TICKS: Readonly<Record<Category, Readonly<Record<string, string>>>> = {
  linear: { BTCUSDT: '0.1', ETHUSDT: '0.01', SOLUSDT: '0.01', XRPUSDT: '0.0001', DOGEUSDT: '0.00001' },
  spot: { BTCUSDT: '0.01', ETHUSDT: '0.01' },
};

export function knownTickSize(symbol: string, category: Category): string | undefined {
  return KNOWN_TICKS[category][symbol.toUpperCase()];
}
