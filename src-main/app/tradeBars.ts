// Per-second trade bars for the volume histogram under the candles: trades are folded into the bar of their
// second (exchange fill time); a bar still growing is re-sent, and the renderer replaces it by its time.
import type { TradeBar } from '../../src-shared/ipc.ts';
import type { Trade } from '../../src-shared/market.ts';

export class TradeBars {
  /** Finished and current bars, oldest first, at most `keep` of them. */
  items: TradeBar[] = [];
  private pending = new Map<number, TradeBar>();

  constructor(private readonly keep = 3_600) {}

  /** Folds trades in; a trade older than the newest bar's second goes into its own bar only if that bar is kept. */
  add(trades: readonly Trade[]): void {
    for (const tr of trades) {
      if (!(tr.size > 0) || !Number.isFinite(tr.price) || !Number.isFinite(tr.ts)) continue;
      const t = Math.floor(tr.ts / 1000) * 1000;
      let bar = this.find(t);
      if (!bar) {
        const last = this.items[this.items.length - 1];
        if (last && t < last.t) continue; // out of order beyond the bar being filled: the feed's own problem
        bar = { t, buy: 0, sell: 0, last: tr.price, n: 0 };
        this.items.push(bar);
        if (this.items.length > this.keep * 1.25) this.items = this.items.slice(-this.keep);
      }
      if (tr.side === 'Buy') bar.buy += tr.size;
      else bar.sell += tr.size;
      bar.last = tr.price;
      bar.n++;
      this.pending.set(t, bar);
    }
  }

  /** The bars changed since the last call (copies: the current one keeps growing). */
  drain(): TradeBar[] {
    if (this.pending.size === 0) return [];
    const out = [...this.pending.values()].map((b) => ({ ...b }));
    this.pending.clear();
    return out;
  }

  clear(): void {
    this.items = [];
    this.pending.clear();
  }

  private find(t: number): TradeBar | undefined {
    for (let i = this.items.length - 1; i >= 0 && i >= this.items.length - 3; i--)
      if (this.items[i].t === t) return this.items[i];
    return undefined;
  }
}
