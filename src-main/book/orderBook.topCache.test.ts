// The top cache (each side's best levels kept as prices between messages): after every message, the reads the
// engine makes (forEachLevel or copyLevels of the top levels, then the best bid and ask) must equal a naive reference book,
// whatever the message did to the cached levels: new levels inside or behind them, size changes in place,
// deletes of cached and of absent levels, levels far from the top or beyond the ladder, huge price jumps,
// snapshots, and reads of more levels than the cache holds.
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src-shared/market.ts';
import { OrderBook, type BookSide, type OrderBookOptions } from './orderBook.ts';
import { TickScale } from './tickScale.ts';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Side = Map<number, number>;

/** The best n ticks of a side, best first (a bounded insertion: the sides hold thousands of far levels). */
function topTicks(side: Side, isBid: boolean, n: number): number[] {
  const top: number[] = [];
  for (const t of side.keys()) {
    if (top.length === n && (isBid ? t <= top[n - 1] : t >= top[n - 1])) continue;
    let k = top.length === n ? n - 1 : top.length;
    while (k > 0 && (isBid ? top[k - 1] < t : top[k - 1] > t)) {
      top[k] = top[k - 1];
      k--;
    }
    top[k] = t;
  }
  return top;
}

function topOf(side: Side, isBid: boolean, n: number, scale: TickScale): Level[] {
  return topTicks(side, isBid, n).map((t) => [scale.toPrice(t), side.get(t) ?? NaN]);
}

function read(ob: OrderBook, side: BookSide, n: number): Level[] {
  const out: Level[] = [];
  ob.forEachLevel(side, n, (p, s, i) => {
    expect(i).toBe(out.length);
    out.push([p, s]);
  });
  return out;
}

const copyPx = new Float64Array(256);
const copySz = new Float64Array(256);
function copy(ob: OrderBook, side: BookSide, n: number): Level[] {
  const k = ob.copyLevels(side, n, copyPx, copySz);
  return Array.from({ length: k }, (_, i): Level => [copyPx[i], copySz[i]]);
}

/** Reads counts the engine uses (10), fewer, the cache's size and beyond it, and a whole side. */
const READ_SIZES = [10, 10, 10, 1, 5, 32, 33, 60, 250];

function run(tick: string, seed: number, opts: OrderBookOptions, messages: number): void {
  const rnd = mulberry32(seed);
  const scale = new TickScale(tick);
  const ob = new OrderBook(scale, opts);
  const ref = { bid: new Map() as Side, ask: new Map() as Side };
  let centre = 1_000_000 + Math.floor(rnd() * 1e6);
  const size = () => (rnd() < 0.5 ? Math.floor(rnd() * 1e6 + 1) / 100 : Math.floor(rnd() * 40 + 1));
  const near = (isBid: boolean) =>
    isBid ? centre - Math.floor(rnd() * 25) : centre + 1 + Math.floor(rnd() * 25);
  const pick = (isBid: boolean, sideMap: Side): Level => {
    const u = rnd();
    let t: number;
    let s = rnd() < 0.3 ? 0 : size();
    if (u < 0.45) t = near(isBid);
    else if (u < 0.65 && sideMap.size) {
      // A level already there, mostly among the best few: a size change in place or a delete.
      const top = topTicks(sideMap, isBid, rnd() < 0.8 ? 12 : 400);
      t = top[Math.floor(rnd() * top.length)];
    } else if (u < 0.75) {
      // A delete of a level that is not there.
      do t = near(isBid) + (isBid ? -1 : 1) * Math.floor(rnd() * 5000);
      while (sideMap.has(t));
      s = 0;
    } else if (u < 0.9)
      t = centre + (isBid ? -1 : 1) * (100 + Math.floor(rnd() * 2e6)); // far behind
    else t = Math.max(1, centre + Math.floor((rnd() - 0.5) * 2 ** 24)); // anywhere, even across the touch
    return [scale.toPrice(t), s];
  };
  for (let m = 0; m < messages; m++) {
    if (rnd() < 0.02)
      centre = Math.max(30_000, centre + Math.floor((rnd() - 0.5) * 2 ** 23)); // huge jump
    else if (rnd() < 0.3) centre += rnd() < 0.5 ? 1 : -1;
    const snapshot = m === 0 || rnd() < 0.01;
    const bids: Level[] = [];
    const asks: Level[] = [];
    if (snapshot) {
      ref.bid.clear();
      ref.ask.clear();
      for (let k = Math.floor(rnd() * 80); k > 0; k--) bids.push([scale.toPrice(near(true)), size()]);
      for (let k = Math.floor(rnd() * 80); k > 0; k--) asks.push([scale.toPrice(near(false)), size()]);
    } else {
      for (let k = Math.floor(rnd() * 4); k > 0; k--) bids.push(pick(true, ref.bid));
      for (let k = Math.floor(rnd() * 4); k > 0; k--) asks.push(pick(false, ref.ask));
    }
    for (const [levels, sideMap] of [
      [bids, ref.bid],
      [asks, ref.ask],
    ] as const) {
      for (const [p, s] of levels) {
        const t = scale.toTicks(p);
        if (s === 0) sideMap.delete(t);
        else sideMap.set(t, s);
      }
    }
    if (snapshot) ob.applySnapshot(bids, asks);
    else ob.applyDelta(bids, asks);

    const ctx = `tick ${tick} seed ${seed} message ${m}`;
    const n = READ_SIZES[Math.floor(rnd() * READ_SIZES.length)];
    const bidTop = topOf(ref.bid, true, n, scale);
    const askTop = topOf(ref.ask, false, n, scale);
    // The best bid/ask both before the reads (cache possibly stale) and after them (served from the cache).
    if (rnd() < 0.3) {
      expect(ob.bestBid(), ctx).toBe(bidTop.length ? bidTop[0][0] : NaN);
      expect(ob.bestAsk(), ctx).toBe(askTop.length ? askTop[0][0] : NaN);
    }
    // Half the reads copy the levels (FeatureEngine's read at a decision), which must not build the cache nor
    // be fooled by one that is stale, partial or whole.
    const viaCopy = rnd() < 0.5;
    const readSide = viaCopy ? copy : read;
    expect(readSide(ob, 'bid', n), `${ctx} bids top ${n}${viaCopy ? ' (copy)' : ''}`).toEqual(bidTop);
    expect(readSide(ob, 'ask', n), `${ctx} asks top ${n}${viaCopy ? ' (copy)' : ''}`).toEqual(askTop);
    expect(ob.bestBid(), ctx).toBe(bidTop.length ? bidTop[0][0] : NaN);
    expect(ob.bestAsk(), ctx).toBe(askTop.length ? askTop[0][0] : NaN);
    expect(ob.bestBidSize(), ctx).toBe(bidTop.length ? bidTop[0][1] : NaN);
    expect(ob.bidCount(), ctx).toBe(ref.bid.size);
    expect(ob.askCount(), ctx).toBe(ref.ask.size);
  }
}

describe('OrderBook top cache equals a naive reference, read after every message', () => {
  it.each(['0.00001', '0.0001', '0.1', '0.5', '25'])('tick %s, default ladder', (tick) => {
    for (let seed = 1; seed <= 2; seed++) run(tick, seed, {}, 500);
  });

  it.each(['0.00001', '0.5', '25'])('tick %s, small ladder (overflow and re-anchoring common)', (tick) => {
    for (let seed = 11; seed <= 12; seed++) run(tick, seed, { initialLadder: 16, maxLadder: 64 }, 500);
  });
});

describe('OrderBook top cache cases', () => {
  const book = (tick: string) => new OrderBook(new TickScale(tick));

  it('a size change inside the cached levels shows on the next read; one behind them changes nothing', () => {
    const ob = book('0.00001');
    ob.applySnapshot(
      [
        [0.15, 1],
        [0.14999, 2],
        [0.14997, 3],
      ],
      [[0.15001, 4]],
    );
    expect(read(ob, 'bid', 2)).toEqual([
      [0.15, 1],
      [0.14999, 2],
    ]);
    ob.applyDelta(
      [
        [0.14999, 7],
        [0.14997, 9],
      ],
      [],
    );
    expect(read(ob, 'bid', 2)).toEqual([
      [0.15, 1],
      [0.14999, 7],
    ]);
    expect(read(ob, 'bid', 3)).toEqual([
      [0.15, 1],
      [0.14999, 7],
      [0.14997, 9],
    ]);
  });

  it('deleting a cached level brings the next one in; deleting an absent level changes nothing', () => {
    const ob = book('0.5');
    ob.applySnapshot(
      [
        [100, 1],
        [99.5, 2],
        [98, 3],
      ],
      [[100.5, 1]],
    );
    expect(read(ob, 'bid', 2)).toEqual([
      [100, 1],
      [99.5, 2],
    ]);
    ob.applyDelta(
      [
        [99.5, 0],
        [97, 0],
        [1e6, 0],
      ],
      [],
    );
    expect(read(ob, 'bid', 2)).toEqual([
      [100, 1],
      [98, 3],
    ]);
    expect(ob.bidCount()).toBe(2);
  });

  it('a new level inside the cached ones pushes the worst out; deleting it brings that one back', () => {
    const ob = book('0.00001');
    ob.applySnapshot(
      [
        [0.15, 1],
        [0.14998, 2],
        [0.14996, 3],
      ],
      [[0.15001, 1]],
    );
    expect(read(ob, 'bid', 2)).toEqual([
      [0.15, 1],
      [0.14998, 2],
    ]);
    ob.applyDelta([[0.14999, 5]], []);
    expect(read(ob, 'bid', 2)).toEqual([
      [0.15, 1],
      [0.14999, 5],
    ]);
    ob.applyDelta([[0.14999, 0]], []);
    expect(read(ob, 'bid', 2)).toEqual([
      [0.15, 1],
      [0.14998, 2],
    ]);
    ob.applyDelta([[0.15, 0]], []);
    expect(read(ob, 'bid', 2)).toEqual([
      [0.14998, 2],
      [0.14996, 3],
    ]);
    ob.applyDelta([[0.14998, 0]], []); // nothing left behind the cached levels: the cache is the whole side
    expect(read(ob, 'bid', 2)).toEqual([[0.14996, 3]]);
    ob.applyDelta([[0.14, 4]], []);
    expect(read(ob, 'bid', 2)).toEqual([
      [0.14996, 3],
      [0.14, 4],
    ]);
    expect(ob.bestBid()).toBe(0.14996);
  });

  it('a whole side read (fewer levels than asked) sees a level added behind them', () => {
    const ob = book('25');
    ob.applySnapshot([[65000, 1]], [[65025, 2]]);
    expect(read(ob, 'ask', 10)).toEqual([[65025, 2]]);
    ob.applyDelta([], [[70000, 3]]);
    expect(read(ob, 'ask', 10)).toEqual([
      [65025, 2],
      [70000, 3],
    ]);
  });

  it('a price jump far beyond the ladder moves the top; the old levels stay behind it', () => {
    const ob = book('0.00001');
    ob.applySnapshot(
      [
        [0.15, 1],
        [0.14999, 2],
      ],
      [[0.15001, 1]],
    );
    expect(read(ob, 'bid', 10)).toHaveLength(2);
    ob.applyDelta([[900, 5]], [[900.00001, 6]]);
    expect(read(ob, 'bid', 3)).toEqual([
      [900, 5],
      [0.15, 1],
      [0.14999, 2],
    ]);
    expect(ob.bestBid()).toBe(900);
    expect(ob.bestAsk()).toBe(0.15001);
    ob.applyDelta([[900, 0]], []);
    expect(read(ob, 'bid', 10)).toEqual([
      [0.15, 1],
      [0.14999, 2],
    ]);
    expect(ob.bestBid()).toBe(0.15);
  });

  it('a read nested in a read of the same side, asking for more levels, leaves the outer read right', () => {
    const ob = book('0.1');
    const bids: Level[] = Array.from({ length: 40 }, (_, k) => [65000 - k / 10, k + 1]);
    ob.applySnapshot(bids, [[65000.1, 1]]);
    const outer: Level[] = [];
    const inner: number[] = [];
    ob.forEachLevel('bid', 3, (p, s) => {
      outer.push([p, s]);
      inner.push(read(ob, 'bid', 20).length);
    });
    expect(outer).toEqual(bids.slice(0, 3));
    expect(inner).toEqual([20, 20, 20]);
    expect(read(ob, 'bid', 40)).toEqual(bids);
  });

  it('a snapshot and clear() drop the cached levels', () => {
    const ob = book('0.0001');
    ob.applySnapshot([[0.52, 1]], [[0.5201, 1]]);
    expect(read(ob, 'bid', 10)).toEqual([[0.52, 1]]);
    ob.applySnapshot([[0.5, 2]], [[0.5001, 2]]);
    expect(read(ob, 'bid', 10)).toEqual([[0.5, 2]]);
    expect(ob.bestAsk()).toBe(0.5001);
    ob.clear();
    expect(read(ob, 'bid', 10)).toEqual([]);
    expect(ob.bestBid()).toBeNaN();
  });
});
