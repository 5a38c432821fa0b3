// What of the visible book our own taker fills may use, as a small interface (one file per model, hftbacktest-style).
// A replayed book does not know about our paper fills, so without this a second order would take again the size the
// first one already took. `ConsumedLiquidity` remembers what we took at each level and keeps it unavailable while
// the feed still shows that level unchanged; once the feed reports a new size there, the exchange's state supersedes
// our memory (the new size is what others left after everything that happened meanwhile), as nautilus_trader's
// liquidity consumption does.
import type { BookSide } from '../book/orderBook.ts';

export interface LiquidityModel {
  /** Size we may take at a level the book shows with `size`. */
  available(side: BookSide, price: number, size: number): number;
  /** We took `qty` at a level the book showed with `size`. */
  took(side: BookSide, price: number, size: number, qty: number): void;
  /** Forgets levels whose shown size has changed since (bounded memory); `sizeAt` reads the current book. */
  prune(sizeAt: (side: BookSide, price: number) => number): void;
}

/** Every fill is free of consequences: each order sees the whole visible book. */
export class UnlimitedLiquidity implements LiquidityModel {
  available(_side: BookSide, _price: number, size: number): number {
    return size;
  }
  took(): void {}
  prune(): void {}
}

interface Taken {
  side: BookSide;
  price: number;
  /** The level's size in the feed when we took from it. */
  shown: number;
  taken: number;
}

export class ConsumedLiquidity implements LiquidityModel {
  private readonly levels = new Map<string, Taken>();

  available(side: BookSide, price: number, size: number): number {
    const t = this.levels.get(key(side, price));
    if (!t) return size;
    if (t.shown !== size) {
      this.levels.delete(key(side, price));
      return size;
    }
    return Math.max(0, size - t.taken);
  }

  took(side: BookSide, price: number, size: number, qty: number): void {
    const k = key(side, price);
    const t = this.levels.get(k);
    if (t && t.shown === size) t.taken += qty;
    else this.levels.set(k, { side, price, shown: size, taken: qty });
  }

  prune(sizeAt: (side: BookSide, price: number) => number): void {
    for (const [k, t] of this.levels) if (sizeAt(t.side, t.price) !== t.shown) this.levels.delete(k);
  }

  /** Levels remembered (for tests: memory stays bounded by what the book still shows unchanged). */
  get size(): number {
    return this.levels.size;
  }
}

const key = (side: BookSide, price: number) => `${side}${price}`;
