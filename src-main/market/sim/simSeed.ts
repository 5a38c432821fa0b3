// Random seeds of the simulated market: each run draws a fresh one (so no two runs see the same path unless asked
// with `--seed N`), and one seed is reserved for the bundled default model's training data, never drawn, so a
// default run is never the model's own training path.
import { randomInt } from 'node:crypto';

/** The seed of the bundled default model's training data (scripts/train-default.ts). Fresh seeds never equal it. */
export const DEFAULT_MODEL_SEED = 0x5eed0001;

/** Largest seed (the generator reads seeds as unsigned 32-bit integers). */
export const MAX_SIM_SEED = 0xffffffff;

/** A fresh random seed in [1, MAX_SIM_SEED], never DEFAULT_MODEL_SEED. `draw(lo, hi)` is injectable for tests. */
export function freshSimSeed(draw: (lo: number, hi: number) => number = randomInt): number {
  for (;;) {
    const s = draw(1, MAX_SIM_SEED + 1);
    if (s !== DEFAULT_MODEL_SEED) return s;
  }
}

/** The seed a run uses: the configured one, else a fresh one. */
export function resolveSimSeed(configured: number | null | undefined): number {
  return configured ?? freshSimSeed();
}

/** How a run states its seed (stderr of collect / trade / web), with the flag that repeats it. */
export function seedNote(seed: number): string {
  return `simulated market: random seed ${seed} (repeat this path with --seed ${seed})`;
}
