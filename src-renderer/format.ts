// Number formatting for a dense trading screen: fixed decimals from the tick size, compact sizes, signed P&L.

export function decimalsOf(tickSize: string): number {
  const i = tickSize.indexOf('.');
  return i < 0 ? 0 : tickSize.length - i - 1;
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

export function size(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 1000) return formatter(0).format(n);
  if (n >= 10) return n.toFixed(2);
  return n.toFixed(3);
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
