// Rolling sums of up to three channels over several time windows at once, from one ring buffer.
// Each window (T - W, T] keeps its own head pointer and running sums, so push/advance are O(1) amortised
// and allocate only when the ring has to grow (capacity doubles; never per message in steady state).

export class WindowedSums {
  readonly windows: readonly number[];
  private cap: number;
  private mask: number;
  private ts: Float64Array;
  private v: Float64Array; // cap * 3, channel-major per slot
  private start = 0; // absolute index of the oldest retained entry
  private end = 0; // absolute index of the next entry to write
  private readonly from: Float64Array; // per window: absolute index of its first entry
  private readonly sums: Float64Array; // per window * 3 channels
  private readonly counts: Float64Array; // per window

  constructor(windowsMs: readonly number[], initialCapacity = 1024) {
    if (windowsMs.length === 0) throw new Error('WindowedSums needs at least one window');
    this.windows = [...windowsMs];
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.cap = cap;
    this.mask = cap - 1;
    this.ts = new Float64Array(cap);
    this.v = new Float64Array(cap * 3);
    this.from = new Float64Array(windowsMs.length);
    this.sums = new Float64Array(windowsMs.length * 3);
    this.counts = new Float64Array(windowsMs.length);
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
    this.from.fill(0);
    this.sums.fill(0);
    this.counts.fill(0);
  }

  /** Adds an entry at time ts (ms, non-decreasing) and drops entries that left each window. */
  push(ts: number, a: number, b = 0, c = 0): void {
    if (this.end - this.start === this.cap) this.grow();
    const slot = this.end & this.mask;
    this.ts[slot] = ts;
    this.v[slot * 3] = a;
    this.v[slot * 3 + 1] = b;
    this.v[slot * 3 + 2] = c;
    this.end++;
    for (let j = 0; j < this.windows.length; j++) {
      this.sums[j * 3] += a;
      this.sums[j * 3 + 1] += b;
      this.sums[j * 3 + 2] += c;
      this.counts[j]++;
    }
    this.advance(ts);
  }

  /** Evicts entries with timestamp <= now - W from each window W. */
  advance(now: number): void {
    let minFrom = this.end;
    for (let j = 0; j < this.windows.length; j++) {
      const cutoff = now - this.windows[j];
      let f = this.from[j];
      if (f < this.start) f = this.start;
      while (f < this.end && this.ts[f & this.mask] <= cutoff) {
        const s = (f & this.mask) * 3;
        this.sums[j * 3] -= this.v[s];
        this.sums[j * 3 + 1] -= this.v[s + 1];
        this.sums[j * 3 + 2] -= this.v[s + 2];
        this.counts[j]--;
        f++;
      }
      // An empty window is exactly zero: no floating-point residue from add/subtract pairs.
      if (this.counts[j] === 0) {
        this.sums[j * 3] = 0;
        this.sums[j * 3 + 1] = 0;
        this.sums[j * 3 + 2] = 0;
      }
      this.from[j] = f;
      if (f < minFrom) minFrom = f;
    }
    this.start = minFrom;
  }

  sum(window: number, channel = 0): number {
    return this.sums[window * 3 + channel];
  }

  count(window: number): number {
    return this.counts[window];
  }

  private grow(): void {
    const cap = this.cap * 2;
    const ts = new Float64Array(cap);
    const v = new Float64Array(cap * 3);
    const mask = cap - 1;
    for (let i = this.start; i < this.end; i++) {
      const o = i & this.mask;
      const n = i & mask;
      ts[n] = this.ts[o];
      v[n * 3] = this.v[o * 3];
      v[n * 3 + 1] = this.v[o * 3 + 1];
      v[n * 3 + 2] = this.v[o * 3 + 2];
    }
    this.cap = cap;
    this.mask = mask;
    this.ts = ts;
    this.v = v;
  }
}
