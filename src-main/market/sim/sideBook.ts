// One side of a price ladder keyed by integer tick, kept best-first, plus the diff of its top-N view
// against what was last sent: the simulator and the exchange server write Bybit deltas with it.

export class SideBook {
  /** Ticks best-first (descending for bids, ascending for asks). */
  readonly ticks: number[] = [];
  readonly sizes = new Map<number, number>();
  constructor(readonly isBid: boolean) {}

  /** Index of t in best-first order, or where it would be inserted. */
  private find(t: number): number {
    const a = this.ticks;
    let lo = 0;
    let hi = a.length;
    if (this.isBid) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] > t) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] < t) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  get count(): number {
    return this.ticks.length;
  }

  best(): number {
    return this.ticks.length ? this.ticks[0] : NaN;
  }

  get(t: number): number {
    return this.sizes.get(t) ?? 0;
  }

  /** Sets a level; a size ≤ 0 removes it. */
  set(t: number, size: number): void {
    const had = this.sizes.has(t);
    if (!(size > 0)) {
      if (!had) return;
      this.sizes.delete(t);
      this.ticks.splice(this.find(t), 1);
      return;
    }
    this.sizes.set(t, size);
    if (!had) this.ticks.splice(this.find(t), 0, t);
  }

  clear(): void {
    this.ticks.length = 0;
    this.sizes.clear();
  }

  volumeTop(n: number): number {
    let v = 0;
    const m = Math.min(n, this.ticks.length);
    for (let i = 0; i < m; i++) v += this.sizes.get(this.ticks[i]) as number;
    return v;
  }
}

/** The top-N levels of one side as last sent to subscribers. */
export interface SentView {
  ticks: number[];
  sizes: number[];
}

export function emptyView(): SentView {
  return { ticks: [], sizes: [] };
}

/** Captures the current top `depth` of `side` into `view`. */
export function captureTop(side: SideBook, depth: number, view: SentView): void {
  view.ticks = side.ticks.slice(0, Math.min(depth, side.ticks.length));
  view.sizes = view.ticks.map((t) => side.sizes.get(t) as number);
}

/**
 * Levels that changed in the top `depth` of `side` since `view` (new or resized levels, and "0" for levels
 * that left the view), as `format`ted pairs; updates `view` to the new top.
 */
export function diffTop<T>(
  side: SideBook,
  depth: number,
  view: SentView,
  format: (tick: number, size: number) => T,
): T[] {
  const out: T[] = [];
  const m = Math.min(depth, side.ticks.length);
  const newTicks = side.ticks.slice(0, m);
  const newSizes = newTicks.map((t) => side.sizes.get(t) as number);
  const better = side.isBid ? (x: number, y: number) => x > y : (x: number, y: number) => x < y;
  let i = 0;
  let j = 0;
  while (i < newTicks.length || j < view.ticks.length) {
    if (j >= view.ticks.length || (i < newTicks.length && better(newTicks[i], view.ticks[j]))) {
      out.push(format(newTicks[i], newSizes[i]));
      i++;
    } else if (i >= newTicks.length || better(view.ticks[j], newTicks[i])) {
      out.push(format(view.ticks[j], 0));
      j++;
    } else {
      if (newSizes[i] !== view.sizes[j]) out.push(format(newTicks[i], newSizes[i]));
      i++;
      j++;
    }
  }
  view.ticks = newTicks;
  view.sizes = newSizes;
  return out;
}
