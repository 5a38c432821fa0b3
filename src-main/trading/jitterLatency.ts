// Base latency plus a random, heavy-ish tail: each request draws base + an exponential delay with mean `jitterMs`
// (most requests are quick, a few are several times slower, as network and gateway queues are). The draws come from
// a seeded PRNG in the order requests are sent, so the same data and seed give the same delays, and two identical
// runs give identical fills. Delays are whole milliseconds, like the exchange's stamps.
import type { LatencyModel } from './latency.ts';

export class JitterLatency implements LatencyModel {
  private readonly uniform: () => number;

  constructor(
    readonly baseMs: number,
    readonly jitterMs: number,
    readonly seed: number,
  ) {
    if (!(baseMs >= 0) || !(jitterMs >= 0)) throw new RangeError('latency and jitter must be >= 0 ms');
    if (!Number.isInteger(seed)) throw new RangeError('the jitter seed must be an integer');
    this.uniform = seededUniform(seed);
  }

  order(_ts?: number): number {
    return this.baseMs + this.draw();
  }

  cancel(_ts?: number): number {
    return this.baseMs + this.draw();
  }

  observeFeed(): void {}

  private draw(): number {
    if (this.jitterMs === 0) return 0;
    // Inverse CDF of the exponential; 1 - u is in (0, 1], so the log is finite.
    return Math.round(-this.jitterMs * Math.log(1 - this.uniform()));
  }
}

/**
 * Uniform draws in [0, 1) from a seed (mulberry32 with the seed mixed once, as the simulator's Rng, which trading
 * may not import): the same seed gives the same stream on every platform, which Math.random cannot promise.
 */
export function seededUniform(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  let state = (s ^ (s >>> 16)) >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
