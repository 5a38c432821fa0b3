// Running mean and standard deviation of each feature over the decisions since the feed started (Welford): the
// Features panel's yardstick for how unusual the latest value is. O(features) per decision, no allocation.

export class FeatureStats {
  /** Rows added (decisions), whatever their values. */
  rows = 0;
  private readonly count: Float64Array;
  private readonly means: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly width: number) {
    this.count = new Float64Array(width);
    this.means = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }

  /** Adds one row (its first `width` values); a value that is not finite is skipped for its feature only. */
  add(row: ArrayLike<number>): void {
    this.rows++;
    for (let i = 0; i < this.width; i++) {
      const x = row[i];
      if (!Number.isFinite(x)) continue;
      const k = ++this.count[i];
      const d = x - this.means[i];
      this.means[i] += d / k;
      this.m2[i] += d * (x - this.means[i]);
    }
  }

  /** Finite values seen for feature i. */
  n(i: number): number {
    return this.count[i];
  }

  /** NaN before the first finite value. */
  mean(i: number): number {
    return this.count[i] > 0 ? this.means[i] : NaN;
  }

  /** Sample standard deviation (n − 1); NaN before two finite values. */
  std(i: number): number {
    const k = this.count[i];
    return k > 1 ? Math.sqrt(Math.max(0, this.m2[i] / (k - 1))) : NaN;
  }

  reset(): void {
    this.rows = 0;
    this.count.fill(0);
    this.means.fill(0);
    this.m2.fill(0);
  }
}
