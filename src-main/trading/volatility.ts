// Realised volatility of the mid, for volatility-targeted sizing: an EWMA of the squared log return per unit of
// time, so irregular sampling is handled, expressed as a daily standard deviation in bps (24/7 market).
const DAY_MS = 86_400_000;

export class EwmaVolatility {
  private varPerMs = 0;
  private lastTs = NaN;
  private lastPrice = NaN;
  private samples = 0;

  /** `halfLife` in samples; `minSamples` before `dailyBps` is defined. */
  constructor(
    private readonly halfLife = 60,
    private readonly minSamples = 20,
  ) {}

  update(ts: number, price: number): void {
    if (!(price > 0)) return;
    if (Number.isFinite(this.lastTs) && ts > this.lastTs) {
      const r = Math.log(price / this.lastPrice);
      const rate = (r * r) / (ts - this.lastTs);
      const alpha = 1 - Math.pow(0.5, 1 / this.halfLife);
      this.varPerMs = this.samples === 0 ? rate : this.varPerMs + alpha * (rate - this.varPerMs);
      this.samples++;
    }
    if (!(ts <= this.lastTs)) {
      this.lastTs = ts;
      this.lastPrice = price;
    }
  }

  /** Daily volatility in bps; NaN until warm. */
  dailyBps(): number {
    if (this.samples < this.minSamples) return NaN;
    return Math.sqrt(this.varPerMs * DAY_MS) * 1e4;
  }

  reset(): void {
    this.varPerMs = 0;
    this.lastTs = NaN;
    this.lastPrice = NaN;
    this.samples = 0;
  }
}
