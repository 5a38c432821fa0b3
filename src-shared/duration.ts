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

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(r).padStart(2, '0')}s`
      : `${r}s`;
}
