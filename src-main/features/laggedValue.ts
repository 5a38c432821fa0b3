// The value of a step series as of (T - lag) for several lags, from one ring buffer: used for mid-price
// look-back returns. Entries are pushed on change; each lag keeps a pointer to the latest entry with
// ts <= T - lag, so advancing is O(1) amortised and nothing is allocated in steady state.

export class LaggedValue {
  readonly lags: readonly number[];
  private cap: number;
  private mask: number;
  private ts: Float64Array;
  private v: Float64Array;
  private start = 0;
  private end = 0;
  private readonly at: Float64Array; // per lag: absolute index, or -1 when no entry is old enough yet

  constructor(lagsMs: readonly number[], initialCapacity = 1024) {
    this.lags = [...lagsMs];
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.cap = cap;
    this.mask = cap - 1;
    this.ts = new Float64Array(cap);
    this.v = new Float64Array(cap);
    this.at = new Float64Array(lagsMs.length).fill(-1);
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
    this.at.fill(-1);
  }

  /** Records that the series took value v at time ts (ms, non-decreasing). */
  push(ts: number, v: number): void {
    if (this.end - this.start === this.cap) this.grow();
    const slot = this.end & this.mask;
    this.ts[slot] = ts;
    this.v[slot] = v;
    this.end++;
  }

  /** Moves every lag's pointer to the latest entry with ts <= now - lag and drops entries no lag needs. */
  advance(now: number): void {
    let minAt = Infinity;
    for (let j = 0; j < this.lags.length; j++) {
      const cutoff = now - this.lags[j];
      let a = this.at[j];
      if (a < this.start - 1) a = this.start - 1;
      while (a + 1 < this.end && this.ts[(a + 1) & this.mask] <= cutoff) a++;
      this.at[j] = a;
      if (a < minAt) minAt = a;
    }
    if (minAt >= this.start) this.start = minAt;
  }

  /** Value as of now - lags[j] at the last advance(now); NaN when the series does not reach back that far. */
  value(j: number): number {
    const a = this.at[j];
    return a >= this.start && a < this.end ? this.v[a & this.mask] : NaN;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const ts = new Float64Array(cap);
    const v = new Float64Array(cap);
    const mask = cap - 1;
    for (let i = this.start; i < this.end; i++) {
      ts[i & mask] = this.ts[i & this.mask];
      v[i & mask] = this.v[i & this.mask];
    }
    this.cap = cap;
    this.mask = mask;
    this.ts = ts;
    this.v = v;
  }
}
