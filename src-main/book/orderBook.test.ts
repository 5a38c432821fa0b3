import { describe, expect, it } from 'vitest';
import type { Level } from '../../src-shared/market.ts';
import { OrderBook, type BookSide } from './orderBook.ts';
import { OffTickError, TickScale } from './tickScale.ts';

const book = (tick = '0.1') => new OrderBook(new TickScale(tick));

function snap(ob: OrderBook, bids: Level[], asks: Level[]): OrderBook {
  ob.applySnapshot(bids, asks);
  return ob;
}

describe('OrderBook basics', () => {
  const bids: Level[] = [
    [65114.2, 6.054],
    [65114.1, 0.002],
    [65113.8, 0.005],
  ];
  const asks: Level[] = [
    [65114.3, 9.06],
    [65114.5, 1],
    [65116.6, 0.25],
  ];

  it('answers top-of-book queries after a snapshot', () => {
    const ob = snap(book(), bids, asks);
    expect(ob.bestBid()).toBe(65114.2);
    expect(ob.bestBidSize()).toBe(6.054);
    expect(ob.bestAsk()).toBe(65114.3);
    expect(ob.bestAskSize()).toBe(9.06);
    expect(ob.mid()).toBe(65114.25);
    expect(ob.spread()).toBe(0.1);
    expect(ob.isCrossed()).toBe(false);
    expect(ob.bidCount()).toBe(3);
    expect(ob.askCount()).toBe(3);
    expect(ob.levels('bid', 10)).toEqual(bids);
    expect(ob.levels('ask', 2)).toEqual(asks.slice(0, 2));
  });

  it('accepts snapshot levels in any order', () => {
    const ob = snap(book(), [...bids].reverse(), [...asks].reverse());
    expect(ob.levels('bid', 10)).toEqual(bids);
    expect(ob.levels('ask', 10)).toEqual(asks);
  });

  type Case = { name: string; delta: [Level[], Level[]]; bid: Level[]; ask: Level[] };
  const cases: Case[] = [
    {
      name: 'size update',
      delta: [[[65114.1, 3]], []],
      bid: [
        [65114.2, 6.054],
        [65114.1, 3],
        [65113.8, 0.005],
      ],
      ask: asks,
    },
    {
      name: 'new best bid',
      delta: [[[65114.25 - 0.05, 1]], []],
      bid: [
        [65114.2, 1],
        [65114.1, 0.002],
        [65113.8, 0.005],
      ],
      ask: asks,
    },
    {
      name: 'insert inside',
      delta: [[[65114, 2]], []],
      bid: [
        [65114.2, 6.054],
        [65114.1, 0.002],
        [65114, 2],
        [65113.8, 0.005],
      ],
      ask: asks,
    },
    {
      name: 'delete best bid',
      delta: [[[65114.2, 0]], []],
      bid: [
        [65114.1, 0.002],
        [65113.8, 0.005],
      ],
      ask: asks,
    },
    {
      name: 'delete best ask',
      delta: [[], [[65114.3, 0]]],
      bid: bids,
      ask: [
        [65114.5, 1],
        [65116.6, 0.25],
      ],
    },
    { name: 'delete absent level', delta: [[[65000, 0]], [[65200, 0]]], bid: bids, ask: asks },
    {
      name: 'delete then re-add in one delta',
      delta: [
        [
          [65114.2, 0],
          [65114.2, 7],
        ],
        [],
      ],
      bid: [[65114.2, 7], ...bids.slice(1)],
      ask: asks,
    },
    {
      name: 'empty a side',
      delta: [
        [
          [65114.2, 0],
          [65114.1, 0],
          [65113.8, 0],
        ],
        [],
      ],
      bid: [],
      ask: asks,
    },
    {
      name: 'new ask inside the spread',
      delta: [
        [],
        [
          [65114.3, 0],
          [65114.4, 2],
        ],
      ],
      bid: bids,
      ask: [
        [65114.4, 2],
        [65114.5, 1],
        [65116.6, 0.25],
      ],
    },
    {
      name: 'far level',
      delta: [[[1.5, 3]], [[900000.1, 4]]],
      bid: [...bids, [1.5, 3]],
      ask: [...asks, [900000.1, 4]],
    },
  ];
  it.each(cases)('delta: $name', ({ delta, bid, ask }) => {
    const ob = snap(book(), bids, asks);
    ob.applyDelta(delta[0], delta[1]);
    expect(ob.levels('bid', 1000)).toEqual(bid);
    expect(ob.levels('ask', 1000)).toEqual(ask);
    expect(ob.bidCount()).toBe(bid.length);
    expect(ob.askCount()).toBe(ask.length);
    expect(ob.bestBid()).toBe(bid.length ? bid[0][0] : NaN);
    expect(ob.bestAskSize()).toBe(ask.length ? ask[0][1] : NaN);
  });

  it('an empty side gives NaN prices and no levels', () => {
    const ob = snap(book(), [], asks);
    expect(ob.bestBid()).toBeNaN();
    expect(ob.bestBidSize()).toBeNaN();
    expect(ob.mid()).toBeNaN();
    expect(ob.spread()).toBeNaN();
    expect(ob.isCrossed()).toBe(false);
    expect(ob.levels('bid', 5)).toEqual([]);
    expect(ob.depthWithin('bid', 10)).toBe(0);
    ob.clear();
    expect(ob.bestAsk()).toBeNaN();
    expect(ob.askCount()).toBe(0);
  });

  it('a snapshot replaces everything', () => {
    const ob = snap(book(), bids, asks);
    ob.applyDelta([[65000, 1]], [[70000, 1]]);
    ob.applySnapshot([[60000.1, 1]], [[60000.2, 2]]);
    expect(ob.levels('bid', 10)).toEqual([[60000.1, 1]]);
    expect(ob.levels('ask', 10)).toEqual([[60000.2, 2]]);
    expect(ob.sizeAt('bid', 65114.2)).toBe(0);
    expect(ob.sizeAt('ask', 70000)).toBe(0);
  });

  it('detects a crossed book', () => {
    const ob = snap(book(), bids, asks);
    ob.applyDelta([[65114.3, 1]], []);
    expect(ob.isCrossed()).toBe(true);
    expect(ob.spread()).toBe(0);
    ob.applyDelta(
      [[65114.3, 0]],
      [
        [65114.3, 0],
        [65114.0, 1],
      ],
    );
    expect(ob.isCrossed()).toBe(true);
    expect(ob.spread()).toBeCloseTo(-0.2, 12);
  });

  it.each<[BookSide, number, number]>([
    ['bid', 65114.2, 6.054],
    ['bid', 65113.8, 0.005],
    ['bid', 65113.9, 0],
    ['bid', 65114.25, 0],
    ['ask', 65116.6, 0.25],
    ['ask', 65114.2, 0],
    ['ask', NaN, 0],
  ])('sizeAt(%s, %d) = %d', (side, price, size) => {
    expect(snap(book(), bids, asks).sizeAt(side, price)).toBe(size);
  });

  it.each<[BookSide, number, number]>([
    ['bid', 0, 6.054],
    ['bid', 0.1, 6.056],
    ['bid', 0.35, 6.056],
    ['bid', 0.4, 6.061],
    ['bid', 100, 6.061],
    ['ask', 0.19, 9.06],
    ['ask', 0.2, 10.06],
    ['ask', 2.3, 10.31],
    ['ask', -1, 0],
  ])('depthWithin(%s, %d) = %d (both ends included)', (side, distance, depth) => {
    expect(snap(book(), bids, asks).depthWithin(side, distance)).toBeCloseTo(depth, 12);
  });

  it('forEachLevel visits best first with indices and stops at n', () => {
    const ob = snap(book(), bids, asks);
    const seen: [number, number, number][] = [];
    ob.forEachLevel('ask', 2, (p, s, i) => seen.push([p, s, i]));
    expect(seen).toEqual([
      [65114.3, 9.06, 0],
      [65114.5, 1, 1],
    ]);
    const all: number[] = [];
    ob.forEachLevel('bid', 99, (p) => all.push(p));
    expect(all).toEqual([65114.2, 65114.1, 65113.8]);
    ob.forEachLevel('bid', 0, () => {
      throw new Error('must not be called');
    });
  });

  it('forEachLevel may be called again from inside its callback', () => {
    const ob = snap(book(), bids, asks);
    const pairs: string[] = [];
    ob.forEachLevel('bid', 2, (bp) => {
      ob.forEachLevel('ask', 2, (ap) => pairs.push(`${bp}/${ap}`));
      pairs.push(`${bp}`);
    });
    expect(pairs).toEqual([
      '65114.2/65114.3',
      '65114.2/65114.5',
      '65114.2',
      '65114.1/65114.3',
      '65114.1/65114.5',
      '65114.1',
    ]);
  });

  it('copyLevels copies best first, stops at n, refuses arrays too short, and leaves forEachLevel right', () => {
    const ob = snap(book(), bids, asks);
    const px = new Float64Array(4);
    const sz = new Float64Array(4);
    expect(ob.copyLevels('bid', 2, px, sz)).toBe(2);
    expect([...px.subarray(0, 2)]).toEqual([65114.2, 65114.1]);
    expect([...sz.subarray(0, 2)]).toEqual([6.054, 0.002]);
    expect(ob.copyLevels('ask', 4, px, sz)).toBe(3);
    expect([...px.subarray(0, 3)]).toEqual([65114.3, 65114.5, 65116.6]);
    expect(ob.copyLevels('ask', 0, px, sz)).toBe(0);
    expect(() => ob.copyLevels('ask', 5, px, sz)).toThrow(RangeError);
    ob.applyDelta([[65114.2, 0]], []);
    const seen: number[] = [];
    ob.forEachLevel('bid', 2, (p) => seen.push(p));
    expect(seen).toEqual([65114.1, 65113.8]);
  });

  it('revision changes with every snapshot, delta and clear, even one that failed, and not with reads', () => {
    const ob = book();
    const r0 = ob.revision();
    snap(ob, bids, asks);
    const r1 = ob.revision();
    expect(r1).not.toBe(r0);
    ob.levels('bid', 5);
    ob.copyLevels('ask', 2, new Float64Array(2), new Float64Array(2));
    ob.forEachLevel('bid', 3, () => undefined);
    expect(ob.bestBid() + ob.mid() + ob.depthWithin('bid', 1)).toBeGreaterThan(0);
    expect(ob.revision()).toBe(r1);
    ob.applyDelta([], []);
    const r2 = ob.revision();
    expect(r2).not.toBe(r1);
    expect(() => ob.applyDelta([[65114.25, 1]], [])).toThrow(OffTickError);
    const r3 = ob.revision();
    expect(r3).not.toBe(r2);
    ob.clear();
    expect(ob.revision()).not.toBe(r3);
  });
});

describe('OrderBook errors', () => {
  it('throws on an off-grid price, naming price and tick, and a bad snapshot leaves the book empty', () => {
    const ob = snap(book(), [[100, 1]], [[100.1, 1]]);
    expect(() => ob.applyDelta([[100.05, 1]], [])).toThrow(OffTickError);
    expect(() => ob.applyDelta([[100.05, 1]], [])).toThrow(/100\.05.*0\.1/);
    expect(() => ob.applySnapshot([[100, 1]], [[100.15, 1]])).toThrow(OffTickError);
    expect(ob.bidCount() + ob.askCount()).toBe(0);
  });

  it.each([-1, NaN])('rejects the size %d', (size) => {
    const ob = book();
    expect(() => ob.applyDelta([[100, size]], [])).toThrow(/invalid level size/);
    expect(() => ob.applyDelta([[1e9, size]], [])).toThrow(/invalid level size/);
  });
});

describe('OrderBook tick sizes and far levels', () => {
  it.each([
    [
      '0.0001',
      [
        [0.5123, 10],
        [0.5122, 5],
      ],
      [
        [0.5124, 7],
        [0.5127, 1],
      ],
      0.51235,
    ],
    [
      '0.00001',
      [
        [0.12345, 10],
        [0.1234, 5],
      ],
      [[0.12346, 7]],
      0.123455,
    ],
    [
      '0.5',
      [
        [65114.5, 1],
        [65110, 2],
      ],
      [[65115, 3]],
      65114.75,
    ],
    [
      '0.05',
      [[1.15, 1]],
      [
        [1.2, 3],
        [1.35, 1],
      ],
      1.175,
    ],
    ['10', [[65110, 1]], [[65120, 3]], 65115],
  ] as [string, Level[], Level[], number][])('tick %s', (tick, bids, asks, mid) => {
    const ob = snap(book(tick), bids, asks);
    expect(ob.levels('bid', 10)).toEqual(bids);
    expect(ob.levels('ask', 10)).toEqual(asks);
    expect(ob.mid()).toBe(mid);
  });

  it('keeps levels spread over a huge range (DOGE ticks, prices from 0.00001 to 1000)', () => {
    const ob = book('0.00001');
    const bids: Level[] = [
      [0.12345, 1],
      [0.12, 2],
      [0.05, 3],
      [0.00001, 4],
    ];
    const asks: Level[] = [
      [0.12346, 1],
      [0.2, 2],
      [7.5, 3],
      [1000, 4],
    ];
    ob.applySnapshot(bids, asks);
    expect(ob.levels('bid', 10)).toEqual(bids);
    expect(ob.levels('ask', 10)).toEqual(asks);
    // A bid jumps far above the ladder and is taken back: the ladder follows, nothing is lost.
    ob.applyDelta([[500, 9]], [[500.00001, 9]]);
    expect(ob.bestBid()).toBe(500);
    expect(ob.bestAsk()).toBe(0.12346);
    expect(ob.isCrossed()).toBe(true);
    expect(ob.sizeAt('ask', 500.00001)).toBe(9);
    ob.applyDelta([[500, 0]], [[500.00001, 0]]);
    expect(ob.levels('bid', 10)).toEqual(bids);
    expect(ob.levels('ask', 10)).toEqual(asks);
    expect(ob.depthWithin('bid', 0.12344)).toBe(10);
    expect(ob.depthWithin('ask', 7.4)).toBe(6);
    for (const [p, s] of [...bids]) {
      expect(ob.sizeAt('bid', p)).toBe(s);
      ob.applyDelta([[p, 0]], []);
    }
    expect(ob.bidCount()).toBe(0);
    expect(ob.bestBid()).toBeNaN();
  });
});
