// Time-axis labels that tell ticks apart: a 2-minute equity curve labelled by the minute reads "17:15 17:15 17:15".
// The label format follows the spacing of the ticks (seconds when ticks are under a minute apart, milliseconds under
// a second) and carries the date when the axis crosses a UTC day. Times are UTC, like every time L2 Desk prints.

export type AxisFormat = 'date-time' | 'time-ms' | 'time-s' | 'time';

const DAY_MS = 86_400_000;

/** The format for an axis from `t0` to `t1` (epoch ms) with about `ticks` labels on it. */
export function axisFormat(t0: number, t1: number, ticks = 5): AxisFormat {
  const span = Math.max(0, t1 - t0);
  if (span === 0) return 'time-s';
  if (Math.floor(t0 / DAY_MS) !== Math.floor(t1 / DAY_MS)) return 'date-time';
  const step = span / Math.max(1, ticks - 1);
  if (step < 1000) return 'time-ms';
  if (step < 60_000) return 'time-s';
  return 'time';
}

/** One label in the given format: "2026-12-02 17:15", "17:15:07.250", "17:15:07", "17:15". */
export function axisLabel(ms: number, f: AxisFormat): string {
  if (!Number.isFinite(ms)) return '–';
  const iso = new Date(ms).toISOString();
  switch (f) {
    case 'date-time':
      return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
    case 'time-ms':
      return iso.slice(11, 23);
    case 'time-s':
      return iso.slice(11, 19);
    case 'time':
      return iso.slice(11, 16);
  }
}

/** `n` (≥ 2) evenly spaced tick times from t0 to t1 with their labels. */
export function axisTicks(t0: number, t1: number, n = 5): { t: number; label: string }[] {
  const f = axisFormat(t0, t1, n);
  const count = t1 > t0 ? Math.max(2, n) : 1;
  const out: { t: number; label: string }[] = [];
  for (let i = 0; i < count; i++) {
    const t = count === 1 ? t0 : t0 + ((t1 - t0) * i) / (count - 1);
    out.push({ t, label: axisLabel(t, f) });
  }
  return out;
}
