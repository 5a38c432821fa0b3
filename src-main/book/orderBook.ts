// L2 order book keyed by integer ticks: apply Bybit snapshots/deltas, answer best, top-N and depth queries.
// Each side is a dense ladder of sizes indexed by tick around a movable anchor (O(1) updates, no
// allocation); levels too far from the traffic to fit the ladder live in a small sorted overflow list.
// A reader of the top levels after every message (forEachLevel) is served by a small cache per side of its best
// levels as prices, which survives updates behind it and is patched by those within it: on fine-tick books (~2
// level updates per message) that read, not the update, is most of the work. A reader that looks only now and
// then (FeatureEngine at a decision) copies the levels (copyLevels) without building the cache, so the updates
// in between pay nothing for it.
import type { Level } from '../../src-shared/market.ts';
import { OffTickError, TICK_ABS_TOL, TICK_REL_TOL, type TickScale } from './tickScale.ts';

export type BookSide = 'bid' | 'ask';

// Module-local copies: under a CommonJS-style transform (tsx loading from CommonJS) every read of an
// imported binding is a getter call, which the level loop would pay twice per level.
const ABS_TOL = TICK_ABS_TOL;
const REL_TOL = TICK_REL_TOL;

/** Most levels a side's top cache holds; forEachLevel for more visits the ladder directly. */
const TOP_CACHE = 32;

export interface OrderBookOptions {
  /** First ladder size in ticks per side (default 4096, enough for BTC orderbook.200); grows by doubling. */
  initialLadder?: number;
  /** Largest ladder per side (default 2^20 ticks = 8 MB); levels beyond it go to the overflow list. */
  maxLadder?: number;
}

/**
 * One side of the book. `best` is the best tick over ladder and overflow (−∞ / +∞ when empty).
 * Invariants: the overflow never holds a tick inside [base, base + cap), and the best level of a
 * non-empty side is always in the ladder (a new far best re-anchors the ladder; an emptied ladder
 * re-anchors on the overflow's best), so the hot path never touches the overflow.
 */
class Ladder {
  sizes: Float64Array;
  base = 0;
  cap: number;
  denseCount = 0;
  best: number;
  /** Overflow ticks ascending, sizes alongside. */
  farTicks: number[] = [];
  farSizes: number[] = [];
  readonly empty: number;
  /**
   * The top cache: the best topLen levels (ticks, prices, sizes), best first; topLen < 0 when not built.
   * Valid while no level at or better than topEdge appears or disappears (a size change there is written
   * through). topEdge is the worst cached tick, or `empty` when the cache holds the whole side (then any
   * change counts), or −`empty` when there is no cache (no change counts).
   */
  readonly topTicks = new Float64Array(TOP_CACHE);
  readonly topPx = new Float64Array(TOP_CACHE);
  readonly topSz = new Float64Array(TOP_CACHE);
  topLen = -1;
  topWhole = false;
  topEdge: number;

  constructor(
    readonly isBid: boolean,
    initialCap: number,
    private readonly maxCap: number,
    private readonly mantissa: number,
    private readonly pow10: number,
  ) {
    this.cap = initialCap;
    this.sizes = new Float64Array(initialCap);
    this.empty = isBid ? -Infinity : Infinity;
    this.best = this.empty;
    this.topEdge = -this.empty;
  }

  /** fillTop's visitor when the side has overflow levels (bound once: no allocation per read). */
  private readonly collectTop = (t: number, size: number, i: number): void => {
    this.topTicks[i] = t;
    this.topPx[i] = (t * this.mantissa) / this.pow10;
    this.topSz[i] = size;
    this.topLen = i + 1;
  };

  /** Forgets the top cache (a level at or better than its edge appeared or disappeared). */
  dropTop(): void {
    this.topLen = -1;
    this.topEdge = -this.empty;
  }

  /** A cached level's size changed in place. */
  private resizeTop(t: number, size: number): void {
    const tt = this.topTicks;
    for (let k = 0; k < this.topLen; k++) {
      if (tt[k] === t) {
        this.topSz[k] = size;
        return;
      }
    }
    this.dropTop(); // not cached after all (cannot happen while the edge rule holds): rebuild on the next read
  }

  /** A new level among the cached ones: shifted in, the worst cached level falls out (unless all are cached). */
  private insertTop(t: number, size: number): void {
    const len = this.topLen;
    let k = len - 1;
    if (this.topWhole) {
      if (len >= TOP_CACHE) {
        this.dropTop();
        return;
      }
      k = len;
      this.topLen = len + 1;
    }
    const tt = this.topTicks;
    const tp = this.topPx;
    const tz = this.topSz;
    const isBid = this.isBid;
    while (k > 0 && (isBid ? tt[k - 1] < t : tt[k - 1] > t)) {
      tt[k] = tt[k - 1];
      tp[k] = tp[k - 1];
      tz[k] = tz[k - 1];
      k--;
    }
    tt[k] = t;
    tp[k] = (t * this.mantissa) / this.pow10;
    tz[k] = size;
    if (!this.topWhole) this.topEdge = tt[len - 1];
  }

  /**
   * A cached level was deleted: shifted out, and the next level behind the cache (found by a short ladder scan)
   * shifted in; the cache is dropped when that level is not close by or the side has overflow levels.
   */
  private removeTop(t: number): void {
    const len = this.topLen;
    const tt = this.topTicks;
    const tp = this.topPx;
    const tz = this.topSz;
    let k = 0;
    while (k < len && tt[k] !== t) k++;
    if (k === len) {
      this.dropTop(); // not cached after all (cannot happen while the edge rule holds)
      return;
    }
    for (; k < len - 1; k++) {
      tt[k] = tt[k + 1];
      tp[k] = tp[k + 1];
      tz[k] = tz[k + 1];
    }
    const last = len - 1;
    if (this.topWhole) {
      this.topLen = last;
      return;
    }
    if (this.farTicks.length === 0) {
      if (this.denseCount === last) {
        // Nothing behind the cache: it now holds the whole side.
        this.topLen = last;
        this.topWhole = true;
        this.topEdge = this.empty;
        return;
      }
      const s = this.sizes;
      const base = this.base;
      const step = this.isBid ? -1 : 1;
      let i = this.topEdge - base;
      for (let scan = 0; scan < 64; scan++) {
        i += step;
        if (i < 0 || i >= this.cap) break;
        const z = s[i];
        if (z !== 0) {
          tt[last] = base + i;
          tp[last] = ((base + i) * this.mantissa) / this.pow10;
          tz[last] = z;
          this.topEdge = base + i;
          return;
        }
      }
    }
    this.dropTop();
  }

  /**
   * Fills the top cache with up to n ≤ TOP_CACHE best levels and returns how many it holds. Prices are
   * ticks × mantissa / 10^decimals, the same correctly rounded division as TickScale.toPrice.
   */
  fillTop(n: number): number {
    const tt = this.topTicks;
    const tp = this.topPx;
    const tz = this.topSz;
    const m = this.mantissa;
    const p10 = this.pow10;
    let len = 0;
    if (this.farTicks.length === 0) {
      const want = Math.min(n, this.denseCount);
      const s = this.sizes;
      const base = this.base;
      if (this.isBid) {
        for (let i = this.best - base; len < want; i--) {
          const z = s[i];
          if (z !== 0) {
            tt[len] = base + i;
            tp[len] = ((base + i) * m) / p10;
            tz[len++] = z;
          }
        }
      } else {
        for (let i = this.best - base; len < want; i++) {
          const z = s[i];
          if (z !== 0) {
            tt[len] = base + i;
            tp[len] = ((base + i) * m) / p10;
            tz[len++] = z;
          }
        }
      }
    } else {
      this.topLen = 0;
      this.visit(n, this.collectTop);
      len = this.topLen;
    }
    this.topLen = len;
    this.topWhole = len < n;
    this.topEdge = this.topWhole ? this.empty : tt[len - 1];
    return len;
  }

  count(): number {
    return this.denseCount + this.farTicks.length;
  }

  /** copyTop's target while it visits a side with overflow levels (bound once: no allocation per read). */
  private copyPx: Float64Array = this.topPx;
  private copySz: Float64Array = this.topSz;
  private copyLen = 0;
  private readonly collectCopy = (t: number, size: number, i: number): void => {
    this.copyPx[i] = (t * this.mantissa) / this.pow10;
    this.copySz[i] = size;
    this.copyLen = i + 1;
  };

  /**
   * Copies up to n best levels (prices, sizes) into px / sz, best first, and returns how many; n ≤ their length.
   * Answers from the top cache when it covers n, and otherwise scans without building the cache: a reader that
   * looks only now and then must not make every later update pay for keeping a cache it rarely uses.
   */
  copyTop(n: number, px: Float64Array, sz: Float64Array): number {
    const len = this.topLen;
    if (len >= n || (len >= 0 && this.topWhole)) {
      const end = Math.min(n, len);
      const tp = this.topPx;
      const tz = this.topSz;
      for (let k = 0; k < end; k++) {
        px[k] = tp[k];
        sz[k] = tz[k];
      }
      return end;
    }
    const m = this.mantissa;
    const p10 = this.pow10;
    if (this.farTicks.length > 0) {
      this.copyPx = px;
      this.copySz = sz;
      this.copyLen = 0;
      this.visit(n, this.collectCopy);
      this.copyPx = this.topPx;
      this.copySz = this.topSz;
      return this.copyLen;
    }
    const want = Math.min(n, this.denseCount);
    const s = this.sizes;
    const base = this.base;
    const step = this.isBid ? -1 : 1;
    let got = 0;
    for (let i = this.best - base; got < want; i += step) {
      const z = s[i];
      if (z !== 0) {
        px[got] = ((base + i) * m) / p10;
        sz[got++] = z;
      }
    }
    return got;
  }

  clear(): void {
    this.dropTop();
    if (this.denseCount > 0) this.sizes.fill(0);
    this.denseCount = 0;
    this.farTicks.length = 0;
    this.farSizes.length = 0;
    this.best = this.empty;
  }

  /** Sets the size at a tick; size 0 deletes (absent levels included). The hot path. */
  set(t: number, size: number): void {
    const i = t - this.base;
    if (i >= 0 && i < this.cap) {
      const s = this.sizes;
      const old = s[i];
      if (size > 0) {
        s[i] = size;
        if (old === 0) {
          this.denseCount++;
          if (this.isBid ? t > this.best : t < this.best) this.best = t;
          if (this.isBid ? t >= this.topEdge : t <= this.topEdge) this.insertTop(t, size);
        } else if (this.isBid ? t >= this.topEdge : t <= this.topEdge) {
          this.resizeTop(t, size);
        }
        return;
      }
      if (size === 0) {
        if (old !== 0) {
          s[i] = 0;
          this.denseCount--;
          if (t === this.best) this.rescanFrom(i);
          if (this.isBid ? t >= this.topEdge : t <= this.topEdge) this.removeTop(t);
        }
        return;
      }
      throw new Error(`invalid level size ${size} at tick ${t}`);
    }
    this.setOutside(t, size);
  }

  get(t: number): number {
    const i = t - this.base;
    if (i >= 0 && i < this.cap) return this.sizes[i];
    const j = this.farIndex(t);
    return j >= 0 ? this.farSizes[j] : 0;
  }

  /** The best ladder level was deleted at index i: walk to the next one (the ladder holds all better levels). */
  private rescanFrom(i: number): void {
    if (this.denseCount === 0) {
      this.best = this.farBest();
      if (this.farTicks.length > 0) this.recentre(this.best);
      return;
    }
    const s = this.sizes;
    if (this.isBid) {
      let j = i - 1;
      while (s[j] === 0) j--;
      this.best = this.base + j;
    } else {
      let j = i + 1;
      while (s[j] === 0) j++;
      this.best = this.base + j;
    }
  }

  private farBest(): number {
    const n = this.farTicks.length;
    if (n === 0) return this.empty;
    return this.isBid ? this.farTicks[n - 1] : this.farTicks[0];
  }

  /** Index of t in the overflow, or -(insertion point) - 1. */
  private farIndex(t: number): number {
    const a = this.farTicks;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid];
      if (v < t) lo = mid + 1;
      else if (v > t) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  private setOutside(t: number, size: number): void {
    if (!(size >= 0)) throw new Error(`invalid level size ${size} at tick ${t}`);
    if (size === 0) {
      const j = this.farIndex(t);
      if (j < 0) return;
      this.dropTop();
      this.farTicks.splice(j, 1);
      this.farSizes.splice(j, 1);
      if (t === this.best) {
        // The next best may be another overflow level beyond the ladder's far end or in the ladder.
        const d = this.denseBest();
        const f = this.farBest();
        this.best = this.isBid ? Math.max(d, f) : Math.min(d, f);
      }
      return;
    }
    // Beyond the ladder is rare: forget the top cache rather than work out whether this level is in it.
    this.dropTop();
    if (this.count() === 0) {
      // Empty side: just move the anchor, the ladder is all zeros.
      this.base = t - (this.cap >> 1);
      this.set(t, size);
      return;
    }
    const lo = Math.min(this.base, t);
    const hi = Math.max(this.base + this.cap, t + 1);
    if (hi - lo <= this.maxCap) {
      // Grow (doubling) to cover the current ladder and t, with slack on the side t came from.
      let cap = this.cap;
      while (cap < (hi - lo) * 1.5 && cap < this.maxCap) cap = Math.min(cap * 2, this.maxCap);
      const slack = cap - (hi - lo);
      const base = t < this.base ? lo - slack : lo;
      this.rebuild(base, cap);
      this.set(t, size);
      return;
    }
    if (this.isBid ? t > this.best : t < this.best) {
      // A new best far from the ladder: move the ladder to it, so traffic near the touch stays O(1).
      this.recentre(t);
      this.set(t, size);
      return;
    }
    const j = this.farIndex(t);
    if (j >= 0) {
      this.farSizes[j] = size;
    } else {
      this.farTicks.splice(-j - 1, 0, t);
      this.farSizes.splice(-j - 1, 0, size);
    }
  }

  private denseBest(): number {
    if (this.denseCount === 0) return this.empty;
    const s = this.sizes;
    if (this.isBid) {
      let j = this.cap - 1;
      while (s[j] === 0) j--;
      return this.base + j;
    }
    let j = 0;
    while (s[j] === 0) j++;
    return this.base + j;
  }

  /** Re-anchors the ladder so that tick t sits near its best end, with room for the side's depth behind it. */
  private recentre(t: number): void {
    const base = this.isBid ? t - this.cap + (this.cap >> 3) : t - (this.cap >> 3);
    this.rebuild(base, this.cap);
  }

  /** Moves every level into a ladder [base, base + cap), the rest into the overflow. Rare: O(cap + levels). */
  private rebuild(base: number, cap: number): void {
    const ticks: number[] = [];
    const sizes: number[] = [];
    let k = 0;
    const ft = this.farTicks;
    const fs = this.farSizes;
    // Merge ladder and overflow in ascending tick order.
    const s = this.sizes;
    const pushFarBelow = (limit: number) => {
      while (k < ft.length && ft[k] < limit) {
        ticks.push(ft[k]);
        sizes.push(fs[k]);
        k++;
      }
    };
    if (this.denseCount > 0) {
      for (let i = 0; i < this.cap; i++) {
        if (s[i] !== 0) {
          pushFarBelow(this.base + i);
          ticks.push(this.base + i);
          sizes.push(s[i]);
        }
      }
    }
    pushFarBelow(Infinity);
    const dense = cap === this.cap ? (this.denseCount > 0 ? s.fill(0) : s) : new Float64Array(cap);
    this.sizes = dense;
    this.base = base;
    this.cap = cap;
    this.denseCount = 0;
    this.farTicks = [];
    this.farSizes = [];
    for (let n = 0; n < ticks.length; n++) {
      const i = ticks[n] - base;
      if (i >= 0 && i < cap) {
        dense[i] = sizes[n];
        this.denseCount++;
      } else {
        this.farTicks.push(ticks[n]);
        this.farSizes.push(sizes[n]);
      }
    }
    const n = ticks.length;
    this.best = n === 0 ? this.empty : this.isBid ? ticks[n - 1] : ticks[0];
  }

  /** Total size of the levels within `span` ticks of the best (both ends included), summed best first. */
  sumWithin(span: number): number {
    if (this.count() === 0) return 0;
    const best = this.best;
    const lo = this.isBid ? best - span : best;
    const hi = this.isBid ? best : best + span;
    let sum = 0;
    const ft = this.farTicks;
    const fs = this.farSizes;
    const s = this.sizes;
    const base = this.base;
    // The best level is always in the ladder (see rescanFrom / setOutside), so the overflow only holds
    // levels behind the ladder; it is scanned whole, it is small.
    let dense = this.denseCount;
    if (this.isBid) {
      for (let i = Math.min(this.cap - 1, hi - base); dense > 0 && i >= 0 && base + i >= lo; i--) {
        if (s[i] !== 0) {
          dense--;
          sum += s[i];
        }
      }
    } else {
      for (let i = Math.max(0, lo - base); dense > 0 && i < this.cap && base + i <= hi; i++) {
        if (s[i] !== 0) {
          dense--;
          sum += s[i];
        }
      }
    }
    for (let k = 0; k < ft.length; k++) if (ft[k] >= lo && ft[k] <= hi) sum += fs[k];
    return sum;
  }

  /** Visits up to n levels best first as (tick, size, i); stops early when fn returns false. */
  visit(n: number, fn: (tick: number, size: number, i: number) => boolean | void): void {
    if (n <= 0) return;
    const ft = this.farTicks;
    const fs = this.farSizes;
    const s = this.sizes;
    const base = this.base;
    const end = base + this.cap;
    let seen = 0;
    if (this.isBid) {
      let k = ft.length - 1;
      for (; k >= 0 && ft[k] >= end; k--) {
        if (fn(ft[k], fs[k], seen) === false || ++seen >= n) return;
      }
      let dense = this.denseCount;
      for (let i = Math.min(this.cap - 1, this.best - base); dense > 0 && i >= 0; i--) {
        if (s[i] !== 0) {
          dense--;
          if (fn(base + i, s[i], seen) === false || ++seen >= n) return;
        }
      }
      for (; k >= 0; k--) {
        if (fn(ft[k], fs[k], seen) === false || ++seen >= n) return;
      }
    } else {
      let k = 0;
      for (; k < ft.length && ft[k] < base; k++) {
        if (fn(ft[k], fs[k], seen) === false || ++seen >= n) return;
      }
      let dense = this.denseCount;
      for (let i = Math.max(0, this.best - base); dense > 0 && i < this.cap; i++) {
        if (s[i] !== 0) {
          dense--;
          if (fn(base + i, s[i], seen) === false || ++seen >= n) return;
        }
      }
      for (; k < ft.length; k++) {
        if (fn(ft[k], fs[k], seen) === false || ++seen >= n) return;
      }
    }
  }
}

export class OrderBook {
  readonly scale: TickScale;
  private readonly bids: Ladder;
  private readonly asks: Ladder;
  private readonly ticksPerUnit: number;
  /** Bumped by every call that may change the book: lets a reader know that what it saw still stands. */
  private rev = 0;
  private target: (price: number, size: number, i: number) => void = () => {};
  private readonly visitor = (t: number, size: number, i: number): void => {
    this.target(this.scale.toPrice(t), size, i);
  };

  constructor(scale: TickScale, opts: OrderBookOptions = {}) {
    this.scale = scale;
    this.ticksPerUnit = scale.ticksPerUnit;
    const max = Math.max(16, opts.maxLadder ?? 1 << 20);
    const initial = Math.min(max, Math.max(16, opts.initialLadder ?? 4096));
    this.bids = new Ladder(true, initial, max, scale.mantissa, scale.pow10);
    this.asks = new Ladder(false, initial, max, scale.mantissa, scale.pow10);
  }

  /** Replaces the whole book. Throws OffTickError (book cleared) if a price is off the tick grid. */
  applySnapshot(bids: readonly Level[], asks: readonly Level[]): void {
    this.bids.clear();
    this.asks.clear();
    try {
      this.applyDelta(bids, asks);
    } catch (err) {
      this.clear();
      throw err;
    }
  }

  /**
   * Applies levels in order; size 0 deletes (an absent level is a no-op). Throws OffTickError on an
   * off-grid price, leaving the levels before it applied: the caller must treat the book as broken.
   */
  applyDelta(bids: readonly Level[], asks: readonly Level[]): void {
    this.rev++;
    const k = this.ticksPerUnit;
    const b = this.bids;
    for (let n = 0; n < bids.length; n++) {
      const lv = bids[n];
      const x = lv[0] * k;
      const t = Math.round(x);
      const d = x - t;
      const tol = ABS_TOL + REL_TOL * Math.abs(x);
      if (!(d <= tol && -d <= tol)) throw new OffTickError(lv[0], this.scale.tickSize);
      b.set(t, lv[1]);
    }
    const a = this.asks;
    for (let n = 0; n < asks.length; n++) {
      const lv = asks[n];
      const x = lv[0] * k;
      const t = Math.round(x);
      const d = x - t;
      const tol = ABS_TOL + REL_TOL * Math.abs(x);
      if (!(d <= tol && -d <= tol)) throw new OffTickError(lv[0], this.scale.tickSize);
      a.set(t, lv[1]);
    }
  }

  clear(): void {
    this.rev++;
    this.bids.clear();
    this.asks.clear();
  }

  /** Changes whenever the book may have changed (any snapshot, delta or clear, even one that failed). */
  revision(): number {
    return this.rev;
  }

  bidCount(): number {
    return this.bids.count();
  }

  askCount(): number {
    return this.asks.count();
  }

  /** Best bid tick, NaN when the side is empty. */
  bestBidTick(): number {
    return this.bids.denseCount + this.bids.farTicks.length === 0 ? NaN : this.bids.best;
  }

  bestAskTick(): number {
    return this.asks.denseCount + this.asks.farTicks.length === 0 ? NaN : this.asks.best;
  }

  bestBid(): number {
    // After a read of the top levels (the engine's order) the price is in the top cache already.
    if (this.bids.topLen > 0) return this.bids.topPx[0];
    const t = this.bestBidTick();
    return t === t ? this.scale.toPrice(t) : NaN;
  }

  bestAsk(): number {
    if (this.asks.topLen > 0) return this.asks.topPx[0];
    const t = this.bestAskTick();
    return t === t ? this.scale.toPrice(t) : NaN;
  }

  bestBidSize(): number {
    const t = this.bestBidTick();
    return t === t ? this.bids.get(t) : NaN;
  }

  bestAskSize(): number {
    const t = this.bestAskTick();
    return t === t ? this.asks.get(t) : NaN;
  }

  /** Mid price; NaN if either side is empty. */
  mid(): number {
    // (bid + ask) × mantissa is an exact integer; one division rounds it correctly.
    return ((this.bestBidTick() + this.bestAskTick()) * this.scale.mantissa) / (2 * this.scale.pow10);
  }

  /** Best ask − best bid in price units; NaN if either side is empty. */
  spread(): number {
    return this.scale.toPrice(this.bestAskTick() - this.bestBidTick());
  }

  /** Best bid ≥ best ask (false when a side is empty). */
  isCrossed(): boolean {
    return this.bestBidTick() >= this.bestAskTick();
  }

  /** Up to n levels of a side, best first, as fresh [price, size] arrays. */
  levels(side: BookSide, n: number): Level[] {
    const out: Level[] = [];
    const scale = this.scale;
    this.ladder(side).visit(n, (t, size) => {
      out.push([scale.toPrice(t), size]);
    });
    return out;
  }

  /** Calls fn(price, size, i) for up to n levels of a side, best first, without allocating. */
  forEachLevel(side: BookSide, n: number, fn: (price: number, size: number, i: number) => void): void {
    if (!(n > 0)) return;
    const l = side === 'bid' ? this.bids : this.asks;
    let len = l.topLen;
    if (len < n && !(len >= 0 && l.topWhole)) {
      if (n > TOP_CACHE) {
        this.visitAll(l, n, fn);
        return;
      }
      len = l.fillTop(n);
    }
    // fn may read the book again, even this side with a larger n: that refill writes the same leading
    // levels into these arrays, so this loop still sees the right ones.
    const px = l.topPx;
    const sz = l.topSz;
    const end = Math.min(n, len);
    // One call site per side: a reader passes one callback per side (FeatureEngine's captureBid/captureAsk),
    // so each site stays monomorphic and the JIT inlines the callback; a shared site sees two functions, turns
    // megamorphic, and every level costs a full call (measured 2x the whole per-message cost on fine ticks).
    if (l.isBid) for (let k = 0; k < end; k++) fn(px[k], sz[k], k);
    else for (let k = 0; k < end; k++) fn(px[k], sz[k], k);
  }

  /**
   * Copies up to n levels of a side (n ≤ the arrays' length), best first, into px / sz; returns how many. For
   * readers that look only now and then: unlike forEachLevel it never builds the top cache.
   */
  copyLevels(side: BookSide, n: number, px: Float64Array, sz: Float64Array): number {
    if (!(n > 0)) return 0;
    if (n > px.length || n > sz.length) throw new RangeError(`copyLevels: ${n} levels do not fit the arrays`);
    return (side === 'bid' ? this.bids : this.asks).copyTop(n, px, sz);
  }

  private visitAll(l: Ladder, n: number, fn: (price: number, size: number, i: number) => void): void {
    // A pre-bound visitor plus a saved/restored target keeps this allocation-free and re-entrant.
    const prev = this.target;
    this.target = fn;
    try {
      l.visit(n, this.visitor);
    } finally {
      this.target = prev;
    }
  }

  /** Size resting at a price (0 when absent or off the tick grid). */
  sizeAt(side: BookSide, price: number): number {
    const t = this.scale.tryToTicks(price);
    return t === t ? this.ladder(side).get(t) : 0;
  }

  /**
   * Total size (base units) of the levels of a side within `distance` price units of its best price,
   * both ends included: bids ≥ best − distance, asks ≤ best + distance. 0 when the side is empty.
   */
  depthWithin(side: BookSide, distance: number): number {
    if (!(distance >= 0)) return 0;
    return this.ladder(side).sumWithin(this.scale.ticksIn(distance));
  }

  private ladder(side: BookSide): Ladder {
    return side === 'bid' ? this.bids : this.asks;
  }
}
