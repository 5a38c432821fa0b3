// A risk halt: the moment the risk rules stopped trading (the daily loss limit, the maximum drawdown, a book that
// cannot be trusted), why, and when trading resumed. The engine emits one when trading halts and the same halt again,
// with `resumedTs`, when it resumes; the run stores them and every view (CLI, HTML report, `runs show`, the app)
// prints them with one text.

export type HaltRule = 'daily_loss' | 'max_drawdown' | 'book_invalid';

export interface RiskHalt {
  /** Engine time (ms) trading halted. */
  ts: number;
  rule: HaltRule;
  /** What happened, in words: "daily loss limit 2.00% reached (−2.13%, −21.30)". */
  reason: string;
  /** Engine time (ms) trading resumed; null while still halted (or halted to the end of the run). */
  resumedTs: number | null;
  /** Why it resumed ("a new UTC day"); null while halted. */
  resumeReason: string | null;
}

/** UTC time of day, HH:MM:SS (a run's halts fall inside the run stated above them). */
export const hhmmss = (ms: number): string =>
  Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 19) : '–';

/** "halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, −21.30); resumed at 00:00:00 (a new UTC day)". */
export function formatHalt(h: RiskHalt, time: (ms: number) => string = hhmmss): string {
  const resumed =
    h.resumedTs === null
      ? '; still halted at the end'
      : `; resumed at ${time(h.resumedTs)}${h.resumeReason ? ` (${h.resumeReason})` : ''}`;
  return `halted at ${time(h.ts)}: ${h.reason}${resumed}`;
}

/** The sign a loss is printed with (U+2212), so "−2.13%" reads as a figure, not a dash. */
export function signedPct(fraction: number, digits = 2): string {
  const s = (Math.abs(fraction) * 100).toFixed(digits);
  return `${fraction < 0 && Number(s) !== 0 ? '\u2212' : ''}${s}%`;
}
