// Number formatting for a dense trading screen: fixed decimals from the tick size, compact sizes, signed P&L.

export function decimalsOf(tickSize: string): number {
  const i = tickSize.indexOf('.');
  return i < 0 ? 0 : tickSize.length - i - 1;
}

/** Decimals of a price on the tick grid (a level, a fill); 2 before the first book says what the tick is ('' or none). */
export function priceDecimals(tickSize: string | undefined): number {
  return tickSize ? decimalsOf(tickSize) : 2;
}

/**
 * Decimals of a price between ticks (a mid, an average entry): one more than the tick's, so that a mid half a
 * tick inside the spread shows, as the ladder's mid does.
 */
export function midDecimals(tickSize: string | undefined): number {
  return priceDecimals(tickSize) + 1;
}

/**
 * lightweight-charts' price format for a series of mids on this tick: its default (2 decimals, step 0.01) draws
 * a 0.0000001-tick coin's whole axis as 0.01.
 */
export function midPriceFormat(tickSize: string | undefined): {
  type: 'price';
  precision: number;
  minMove: number;
} {
  const precision = midDecimals(tickSize);
  return { type: 'price', precision, minMove: 10 ** -precision };
}

// toLocaleString with options builds a formatter per call; the ladder formats ~150 numbers 20 times a second.
const formatters = new Map<number, Intl.NumberFormat>();
function formatter(digits: number): Intl.NumberFormat {
  let f = formatters.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, f);
  }
  return f;
}

export function fmt(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return formatter(digits).format(n);
}

export function signed(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return (n > 0 ? '+' : '') + fmt(n, digits);
}

export function pct(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return `${(n * 100).toFixed(digits)}%`;
}

/**
 * A size or position in base units (negative: short), compact: whole units from 1000, then 2 or 3 decimals, and
 * below 0.01 three significant digits, so that a 0.0004 lot of a coin with a fine lot size does not show as 0.000.
 */
export function size(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1000) return formatter(0).format(n);
  if (a >= 10) return n.toFixed(2);
  if (a >= 0.01 || a === 0) return n.toFixed(3);
  return n.toFixed(Math.min(12, 2 - Math.floor(Math.log10(a))));
}

export function clock(t: number): string {
  const d = new Date(t);
  return d.toISOString().slice(11, 23);
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function sign(n: number): string {
  return n > 0 ? 'pos' : n < 0 ? 'neg' : '';
}
