// Is a headline figure worth showing? One verdict per figure, shared by the CLI, the HTML report and the app, so
// that all three show the same "—" for the same reason: an annualised Sharpe or Calmar from minutes of equity, a hit
// rate without a single round trip, a profit factor without a losing trip are not numbers a trader should read.
// A verdict is null when the figure is fine, else the short reason it is not shown (the app and the HTML report put
// it on hover, the CLI prints it beside the "—").

/** An annualised Sharpe from fewer grid returns, or from less than a day of equity, says little: a few hours of one
 * regime scaled to a year. Both must hold (with a 1 min grid the day is what binds). */
export const SHARPE_MIN_SAMPLES = 30;
export const SHARPE_MIN_SPAN_MS = 86_400_000;
/** A ratio beyond this is an artefact of a near-zero denominator (a drawdown of a few cents), not a result. */
export const MAX_SHOWN_RATIO = 1000;

/** What is shown in place of a figure that is not reliable. */
export const NOT_SHOWN = '—';

export interface SharpeBasis {
  sharpe: number;
  /** Returns on the Sharpe grid; unknown on old records. */
  returns?: number;
  /** Span of the equity series (ms); unknown on old records. */
  spanMs?: number;
  /** The metrics' own flag (set when both minimums hold); used when returns/span are unknown. */
  sharpeReliable?: boolean;
}

/** Truncated, never rounded up: 23 h 59 min is "23.9 h", not the "24.0 h" a day-long minimum asks for. */
const spanText = (ms: number): string =>
  ms >= 3_600_000
    ? `${(Math.floor(ms / 360_000) / 10).toFixed(1)} h`
    : ms >= 60_000
      ? `${(Math.floor(ms / 6_000) / 10).toFixed(1)} min`
      : `${Math.floor(ms / 1000)} s`;

/** Why an annualised figure (Sharpe, Sortino, Calmar) of this run is not shown; null when it is. */
export function shortRunReason(b: Omit<SharpeBasis, 'sharpe'>): string | null {
  const need = `needs at least ${SHARPE_MIN_SAMPLES} returns and ${SHARPE_MIN_SPAN_MS / 3_600_000} h of equity`;
  const { returns, spanMs } = b;
  if (returns !== undefined && Number.isFinite(returns) && spanMs !== undefined && Number.isFinite(spanMs)) {
    if (returns >= SHARPE_MIN_SAMPLES && spanMs >= SHARPE_MIN_SPAN_MS) return null;
    return `run too short to annualise: ${returns} returns over ${spanText(Math.max(0, spanMs))} (${need})`;
  }
  if (b.sharpeReliable === true) return null;
  return `run too short to annualise (${need})`;
}

export function sharpeReason(b: SharpeBasis): string | null {
  if (!Number.isFinite(b.sharpe)) return 'not computed';
  return shortRunReason(b);
}

/** Calmar: annualised like Sharpe, and meaningless without a drawdown or with one of a few cents. */
export function calmarReason(
  calmar: number | null | undefined,
  b: Omit<SharpeBasis, 'sharpe'>,
): string | null {
  if (calmar === null || calmar === undefined) return 'no drawdown to divide by';
  if (!Number.isFinite(calmar)) return 'not computed';
  const short = shortRunReason(b);
  if (short) return short;
  if (Math.abs(calmar) > MAX_SHOWN_RATIO) return 'drawdown too small for a meaningful ratio';
  return null;
}

/** Hit rate (net or gross): a share of round trips, so nothing without one. */
export function hitRateReason(roundTrips: number | null | undefined): string | null {
  if (roundTrips === null || roundTrips === undefined || !Number.isFinite(roundTrips)) return 'not recorded';
  return roundTrips > 0 ? null : 'no round trip';
}

/** Profit factor and payoff ratio: wins over losses, so nothing without a round trip or without a losing one. */
export function lossRatioReason(
  value: number | null | undefined,
  roundTrips: number | null | undefined,
): string | null {
  const trips = hitRateReason(roundTrips);
  if (trips) return trips;
  if (value === null || value === undefined) return 'no losing round trip (∞)';
  if (!Number.isFinite(value)) return 'not computed';
  if (Math.abs(value) > MAX_SHOWN_RATIO) return 'losses too small for a meaningful ratio';
  return null;
}

/** A figure as text: its formatted value when reliable, else "—". */
export function figureText<T>(value: T, reason: string | null, format: (v: T) => string): string {
  return reason === null ? format(value) : NOT_SHOWN;
}

/** The CLI form: the value, or "— (reason)". */
export function figureWithNote<T>(value: T, reason: string | null, format: (v: T) => string): string {
  return reason === null ? format(value) : `${NOT_SHOWN} (${reason})`;
}
