// The quantity step (lot size) of a symbol: orders are whole multiples of it. Known for the symbols we have
// checked, else inferred from the decimals of the sizes in a book snapshot (an exchange's book holds sums of
// orders, so every size is a multiple of the lot).
import type { Category, Level } from '../../src-shared/market.ts';

// Bybit's lotSizeFilter.qtyStep (linear) / basePrecision (spot); the instrument-info endpoint stays the authority.
const KNOWN_LOTS: Readonly<Record<Category, Readonly<Record<string, number>>>> = {
  linear: { BTCUSDT: 0.001, ETHUSDT: 0.01, SOLUSDT: 0.1, XRPUSDT: 1, DOGEUSDT: 1 },
  spot: { BTCUSDT: 0.000001, ETHUSDT: 0.00001 },
};

export function knownQtyStep(symbol: string, category: Category): number | undefined {
  return KNOWN_LOTS[category]?.[symbol.toUpperCase()];
}

/** Beyond this many decimals a size is float noise or corrupt data, not a finer lot. */
export const MAX_LOT_DECIMALS = 10;

/** Significant decimals of a size (trailing zeros carry none); NaN for a non-finite or negative size. */
export function sizeDecimals(size: number): number {
  if (!(size >= 0) || !Number.isFinite(size)) return NaN;
  // String(n) is the shortest text that parses back to n: the digits of the exchange's decimal string.
  const m = /^\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(size));
  if (!m) return NaN;
  const frac = (m[1] ?? '').replace(/0+$/, '').length;
  return Math.max(0, frac - Number(m[2] ?? 0));
}

/**
 * A quantity for a message: to the decimals of the lot step, at least 4 (a 0.000001 spot lot must not print as
 * 0.0000; an unknown lot, 0 or NaN, gives 4).
 */
export function formatQty(qty: number, step: number): string {
  const d = sizeDecimals(step);
  return qty.toFixed(Math.max(4, d === d ? Math.min(d, MAX_LOT_DECIMALS) : 0));
}

/**
 * The lot inferred from a snapshot's sizes: 10^-d for the most decimals d any size shows, capped at 1 (whole
 * units: a coarser lot cannot be told from the sizes). Too coarse only when every size happens to end in zeros,
 * which rounds orders coarser than needed (still valid). Sizes needing more than MAX_LOT_DECIMALS are float
 * noise and ignored; null when no size is usable (an empty snapshot).
 */
export function qtyStepFromLevels(bids: readonly Level[], asks: readonly Level[]): number | null {
  let d = -1;
  for (const side of [bids, asks])
    for (let i = 0; i < side.length; i++) {
      const k = sizeDecimals(side[i][1]);
      if (k <= MAX_LOT_DECIMALS && k > d) d = k;
    }
  return d < 0 ? null : lotOfDecimals(d);
}

/** 10^-d as the double nearest the decimal (1e-3 is 0.001 exactly as parsed, unlike 0.1 ** 3). */
export function lotOfDecimals(d: number): number {
  return Number(`1e-${d}`);
}

/**
 * Whole lots in |qty| (towards zero), as a quantity. The epsilon keeps 0.3 / 0.001 = 299.99999999999994 from
 * losing a lot; the result is printed back through toFixed so 3 × 0.1 is 0.3, not 0.30000000000000004.
 */
export function floorToLot(qty: number, step: number): number {
  if (!(step > 0)) return Math.abs(qty);
  const n = Math.floor(Math.abs(qty) / step + 1e-9);
  const decimals = Math.min(15, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + 2);
  return Number((n * step).toFixed(decimals));
}
