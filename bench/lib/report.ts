// Shared benchmark helpers: medians of interleaved runs and the one-JSON-line-per-figure output (DESIGN §10).
import v8 from 'node:v8';
import vm from 'node:vm';

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

/**
 * A full garbage collection, run between cases so that one case's garbage is never collected on another's
 * clock. bin/bench.mjs runs every bench with --expose-gc; run directly, the same function is obtained anyway.
 */
export function fullGc(): void {
  let g = (globalThis as { gc?: () => void }).gc;
  if (!g) {
    v8.setFlagsFromString('--expose-gc');
    g = vm.runInNewContext('gc') as () => void;
    (globalThis as { gc?: () => void }).gc = g;
  }
  g();
}

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Returns once the process is idle apart from this (sleeping) thread: after a full GC, V8 sweeps on helper threads
 * and lazily on the main thread as it allocates, and a case timed right after would pay for it (process.cpuUsage()
 * counted ~2-3 ms of it per chunk in book.apply; it made most of infer.single's slowest 1% of decisions, all in the
 * first 30% of each block). Sleeps 2 ms at a time until one sleep costs under 0.1 ms of process CPU (at most 200 ms:
 * on a machine this loaded the figure is noisy anyway).
 */
export function settle(): void {
  for (let k = 0; k < 100; k++) {
    const c0 = process.cpuUsage();
    Atomics.wait(SLEEP, 0, 0, 2);
    const c = process.cpuUsage(c0);
    if (c.user + c.system < 100) return;
  }
}

/** Wall seconds and CPU seconds (user + system of this process) a function takes. */
export function measure(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** A stderr line and exit code 1: a bench whose peer (or anything it needs) is missing has no figure to give. */
export function failBench(bench: string, why: string): never {
  process.stderr.write(`${bench}: FAILED: ${why}\n`);
  process.exit(1);
}
