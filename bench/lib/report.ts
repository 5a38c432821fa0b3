// Shared benchmark helpers: medians of interleaved runs and the one-JSON-line-per-figure output (DESIGN §10).

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints one benchmark figure as a JSON line on stdout. */
export function emit(figure: { bench: string; value: number; unit: string } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** Seconds a function takes (high-resolution). */
export function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Runs each named case once per round, in a rotating order so that none always runs first (warm caches,
 * turbo, a noisy neighbour) and returns every case's per-round rates (work / seconds).
 */
export function interleave(cases: Record<string, () => number>, rounds: number): Record<string, number[]> {
  const names = Object.keys(cases);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      let work = 0;
      const secs = timeIt(() => {
        work = cases[name]();
      });
      rates[name].push(work / secs);
    }
  }
  return rates;
}
