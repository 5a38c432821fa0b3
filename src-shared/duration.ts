// Durations as users write them: "250ms", "10s", "60m", "2h", "7d"; a bare number takes a caller-chosen unit
// (`collect --duration 60` means 60 minutes).

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string | number, bareUnit: keyof typeof UNIT_MS = 's'): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0)
      throw new Error(`duration must be a non-negative number, got ${text}`);
    return text * UNIT_MS[bareUnit];
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration: use a number with ms, s, m, h or d (e.g. 10s, 60m)`);
  return Number(m[1]) * UNIT_MS[m[2] ?? bareUnit];
}

/**
 * A duration as people read it, exact to what it says: under a minute to the millisecond ("16.72s", "45s"), under an
 * hour to the millisecond too ("33m59.999s": a limit missed by 1 ms is not shown as met), from an hour on rounded to
 * the nearest second ("2h00m", "1h59m30s"): the span of a 2 h recording whose last message came 10 ms before the
 * end is "2h00m", not "1h59m" (truncating lost up to a minute).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  if (ms < 3_600_000) {
    const whole = Math.round(ms);
    const m = Math.floor(whole / 60_000);
    const secMs = whole - m * 60_000;
    const sec = (secMs / 1000).toFixed(3).replace(/\.?0+$/, '');
    if (m === 0) return `${sec}s`;
    return `${m}m${secMs < 10_000 ? '0' : ''}${sec}s`;
  }
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h}h${String(m).padStart(2, '0')}m${r > 0 ? `${String(r).padStart(2, '0')}s` : ''}`;
}
