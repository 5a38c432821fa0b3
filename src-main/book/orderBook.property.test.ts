// Property test: after any random sequence of snapshots and deltas (many tick sizes, levels near the
// touch, far away and absurdly far, deletes of absent levels, touch jumps), every query on the book
// equals the answer of a naive reference: a Map rebuilt from scratch from the messages since the snapshot.
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src-shared/market.ts';
import { OrderBook, type BookSide } from './orderBook.ts';
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

interface Msg {
  snapshot: boolean;
  bids: Level[];
  asks: Level[];
}

/** The reference: replay the messages since the last snapshot into plain Maps keyed by tick. */
function reference(
  history: readonly Msg[],
  scale: TickScale,
): { bid: Map<number, number>; ask: Map<number, number> } {
  const bid = new Map<number, number>();
  const ask = new Map<number, number>();
  for (const m of history) {
    if (m.snapshot) {
      bid.clear();
      ask.clear();
    }
    for (const [side, levels] of [
      [bid, m.bids],
      [ask, m.asks],
    ] as const) {
      for (const [p, s] of levels) {
        const t = scale.toTicks(p);
        if (s === 0) side.delete(t);
        else side.set(t, s);
      }
    }
  }
  return { bid, ask };
}

const TICKS = ['0.1', '0.01', '0.0001', '0.00001', '0.5', '0.05', '0.025', '1', '10'];

function check(ob: OrderBook, history: readonly Msg[], rnd: () => number, where: string): void {
  const scale = ob.scale;
  const ref = reference(history, scale);
  for (const side of ['bid', 'ask'] as BookSide[]) {
    const map = ref[side];
    const ticks = [...map.keys()].sort((a, b) => (side === 'bid' ? b - a : a - b));
    const expected: Level[] = ticks.map((t) => [scale.toPrice(t), map.get(t) ?? NaN]);
    const ctx = `${where} ${side} tick ${scale.tickSize}`;
    expect(side === 'bid' ? ob.bidCount() : ob.askCount(), ctx).toBe(map.size);
    expect(ob.levels(side, Infinity), ctx).toEqual(expected);
    const n = Math.floor(rnd() * 8);
    expect(ob.levels(side, n), ctx).toEqual(expected.slice(0, n));
    const visited: Level[] = [];
    ob.forEachLevel(side, n, (p, s, i) => {
      expect(i, ctx).toBe(visited.length);
      visited.push([p, s]);
    });
    expect(visited, ctx).toEqual(expected.slice(0, n));
    const best = side === 'bid' ? [ob.bestBid(), ob.bestBidSize()] : [ob.bestAsk(), ob.bestAskSize()];
    expect(best, ctx).toEqual(expected.length ? expected[0] : [NaN, NaN]);
    // sizeAt on present levels, random ticks and off-grid prices.
    for (let k = 0; k < 4; k++) {
      const t =
        ticks.length && rnd() < 0.5 ? ticks[Math.floor(rnd() * ticks.length)] : Math.floor(rnd() * 1e7);
      expect(ob.sizeAt(side, scale.toPrice(t)), ctx).toBe(map.get(t) ?? 0);
      expect(ob.sizeAt(side, scale.toPrice(t + 0.5)), ctx).toBe(0);
    }
    // depthWithin: sum of the levels within floor(distance / tick) ticks of the best.
    for (let k = 0; k < 3; k++) {
      const span = Math.floor(rnd() * (rnd() < 0.5 ? 30 : 3e6));
      const distance = scale.toPrice(span) + scale.toPrice(1) * 0.5 * rnd();
      let sum = 0;
      for (const t of ticks) if (Math.abs(t - ticks[0]) <= span) sum += map.get(t) ?? 0;
      const got = ob.depthWithin(side, distance);
      expect(
        Math.abs(got - sum) <= 1e-9 * Math.max(1, sum),
        `${ctx} depthWithin ${distance}: ${got} vs ${sum}`,
      ).toBe(true);
    }
  }
  const bb = Math.max(...ref.bid.keys());
  const ba = Math.min(...ref.ask.keys());
  const both = ref.bid.size > 0 && ref.ask.size > 0;
  expect(ob.isCrossed(), where).toBe(both && bb >= ba);
  if (both) {
    expect(ob.mid(), where).toBe(scale.toPrice(bb + ba) / 2);
    expect(ob.spread()).toBe(scale.toPrice(ba - bb));
  } else {
    expect(ob.mid()).toBeNaN();
    expect(ob.spread()).toBeNaN();
  }
}

describe('OrderBook equals a naive reference after random message sequences', () => {
  // Small ladders make the overflow and re-anchoring paths common; the default size checks the real layout.
  it.each([
    [0, 16, 64, 50],
    [1, 16, 1024, 50],
    [2, 64, 4096, 50],
    [3, 4096, 1 << 20, 6],
    [4, 16, 64, 50],
  ])('seed block %i (ladder %i..%i, %i runs)', (block, initialLadder, maxLadder, runs) => {
    for (let run = 0; run < runs; run++) {
      const seed = block * 1000 + run;
      const rnd = mulberry32(seed);
      const scale = new TickScale(TICKS[Math.floor(rnd() * TICKS.length)]);
      const ob = new OrderBook(scale, { initialLadder, maxLadder });
      const used: number[] = [];
      let centre = 1000 + Math.floor(rnd() * 1e7);
      const history: Msg[] = [];
      const size = () => (rnd() < 0.5 ? Math.floor(rnd() * 1000 + 1) / 1000 : Math.floor(rnd() * 50 + 1));
      const pickTick = (side: BookSide): number => {
        const u = rnd();
        const dir = side === 'bid' ? -1 : 1;
        // A tick used before (an update, a delete, maybe of a level already gone or on the other side).
        if (u < 0.3 && used.length)
          return used[used.length - 1 - Math.floor(rnd() * Math.min(used.length, 80))];
        let t: number;
        if (u < 0.8) t = centre + dir * (1 + Math.floor(-Math.log(1 - rnd()) * 15));
        else if (u < 0.93)
          t = centre + dir * Math.floor(rnd() * (1 << 23)); // beyond the largest ladder
        else if (u < 0.97) t = Math.max(1, centre + Math.floor((rnd() - 0.5) * 4e6));
        else t = 1 + Math.floor(rnd() * 2 ** 40); // absurdly far
        used.push(t);
        return t;
      };
      const levels = (side: BookSide, snapshot: boolean): Level[] => {
        const n = Math.floor(rnd() * (snapshot ? 60 : 12));
        const out: Level[] = [];
        for (let i = 0; i < n; i++) {
          const s = !snapshot && rnd() < 0.35 ? 0 : size();
          out.push([scale.toPrice(pickTick(side)), s]);
        }
        return out;
      };
      for (let step = 0; step < 60; step++) {
        if (rnd() < 0.05)
          centre = Math.max(1000, centre + Math.floor((rnd() - 0.5) * 2 ** 22)); // touch jump
        else if (rnd() < 0.3) centre += rnd() < 0.5 ? 1 : -1;
        const snapshot = step === 0 || rnd() < 0.04;
        const msg: Msg = { snapshot, bids: levels('bid', snapshot), asks: levels('ask', snapshot) };
        if (snapshot) {
          history.length = 0;
          ob.applySnapshot(msg.bids, msg.asks);
        } else {
          ob.applyDelta(msg.bids, msg.asks);
        }
        history.push(msg);
        if (step % 3 === 2 || rnd() < 0.1) check(ob, history, rnd, `seed ${seed} step ${step}`);
      }
      check(ob, history, rnd, `seed ${seed} end`);
    }
  });

  it('deletes every level one by one in random order, from a deep far-flung book', () => {
    for (let seed = 0; seed < 12; seed++) {
      const rnd = mulberry32(seed + 77);
      const scale = new TickScale('0.00001');
      const ob = new OrderBook(scale, { maxLadder: seed % 3 === 0 ? 1 << 20 : 1024 });
      const bids: Level[] = [];
      const asks: Level[] = [];
      for (let i = 0; i < 300; i++) {
        const far = rnd() < 0.2;
        bids.push([scale.toPrice(12345 - 1 - Math.floor(rnd() * (far ? 1e7 : 2000))), 1 + i]);
        asks.push([scale.toPrice(12345 + Math.floor(rnd() * (far ? 1e9 : 2000))), 1 + i]);
      }
      ob.applySnapshot(bids, asks);
      const history: Msg[] = [{ snapshot: true, bids, asks }];
      const all = [...bids.map((l) => ['bid', l[0]] as const), ...asks.map((l) => ['ask', l[0]] as const)];
      for (let i = all.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [all[i], all[j]] = [all[j], all[i]];
      }
      for (let k = 0; k < all.length; k++) {
        const [side, p] = all[k];
        const msg: Msg = {
          snapshot: false,
          bids: side === 'bid' ? [[p, 0]] : [],
          asks: side === 'ask' ? [[p, 0]] : [],
        };
        ob.applyDelta(msg.bids, msg.asks);
        history.push(msg);
        if (k % 40 === 0) check(ob, history, rnd, `seed ${seed} delete ${k}`);
      }
      check(ob, history, rnd, `seed ${seed} emptied`);
      expect(ob.bidCount() + ob.askCount()).toBe(0);
    }
  });
});
