// Tick sizes for a symbol nobody configured: inferred from the first snapshot's prices, and refined to a finer
// decimal step when a later price proves that grid too coarse (a snapshot can look coarser than the instrument).
import type { BookMessage, Level } from '../../../src-shared/market.ts';
import { inferTickSize, TickScale } from '../../book/tickScale.ts';

/** Finest tick we refine to; a price needing more decimals is corrupt data, not a finer grid. */
export const MAX_TICK_DECIMALS = 12;
/** Prices must stay well inside exact integer ticks (2^53) for TickScale's rounding check to mean anything. */
const MAX_TICKS = 2 ** 50;

/**
 * The shortest plain decimal text of a parsed price: "0.00000123", never "1.23e-6". String(n) is the shortest
 * text that parses back to n, so for a price parsed from Bybit's string it has the same digits (less
 * trailing zeros, which carry no tick information).
 */
export function decimalText(n: number): string {
  const s = String(n);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[1] + (m[2] ?? '');
  const exp = Number(m[3]);
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  return digits.padEnd(exp + 1, '0');
}

/** The tick inferred from a snapshot's prices; null for an empty snapshot (nothing to infer from). */
export function tickFromLevels(bids: readonly Level[], asks: readonly Level[]): string | null {
  const n = bids.length + asks.length;
  if (n === 0) return null;
  const texts: string[] = new Array(n);
  for (let i = 0; i < bids.length; i++) texts[i] = decimalText(bids[i][0]);
  for (let i = 0; i < asks.length; i++) texts[bids.length + i] = decimalText(asks[i][0]);
  return inferTickSize(texts);
}

/** Prices of a book message that are not on `scale`'s grid (empty when all are). */
export function offGridPrices(scale: TickScale, msg: BookMessage): number[] {
  const out: number[] = [];
  for (const side of [msg.bids, msg.asks])
    for (let i = 0; i < side.length; i++)
      if (!Number.isFinite(scale.tryToTicks(side[i][0]))) out.push(side[i][0]);
  return out;
}

/**
 * A finer tick on which the current grid and every price in `prices` sit (the finest decimal step the
 * prices need), or null when there is none worth trusting: the prices need more than MAX_TICK_DECIMALS
 * decimals or are too large for exact ticks (corrupt data).
 */
export function refineTick(current: TickScale, prices: readonly number[]): TickScale | null {
  let next: TickScale;
  try {
    next = new TickScale(inferTickSize([current.tickSize, ...prices.map(decimalText)]));
  } catch {
    return null; // a price that is not a plain positive decimal
  }
  if (next.decimals > MAX_TICK_DECIMALS || next.tickSize === current.tickSize) return null;
  // Finer, not different: every level already held on the old grid must stay on the new one.
  if (!Number.isFinite(next.tryToTicks(Number(current.tickSize)))) return null;
  for (const p of prices) {
    const t = next.tryToTicks(p);
    if (!Number.isFinite(t) || Math.abs(t) > MAX_TICKS) return null;
  }
  return next;
}
