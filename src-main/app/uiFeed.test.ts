import { describe, expect, it } from 'vitest';
import type { EventName, Events } from '../../src-shared/ipc.ts';
import { OrderBook } from '../book/orderBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { EventBus } from '../bridge/eventBus.ts';
import { UiFeed } from './uiFeed.ts';

function setup() {
  const bus = new EventBus();
  const got: { event: EventName; payload: Events[EventName] }[] = [];
  bus.onAny((event, payload) => got.push({ event, payload }));
  const feed = new UiFeed(bus, { bookHz: 20, symbol: 'BTCUSDT', tickSize: '0.1' });
  const book = new OrderBook(new TickScale('0.1'));
  const bids = Array.from({ length: 30 }, (_, i) => [100 - i * 0.1, 1 + i] as const);
  const asks = Array.from({ length: 30 }, (_, i) => [100.1 + i * 0.1, 2 + i] as const);
  book.applySnapshot(bids, asks);
  return { bus, got, feed, book };
}

describe('UiFeed coalescing', () => {
  it('sends the book once per flush however many updates arrived, with the top 20 read at flush time', () => {
    const { got, feed, book } = setup();
    for (let i = 0; i < 50; i++) {
      book.applyDelta([[100, 1 + i]], []);
      feed.onBook(book, 1_000 + i * 20, 1_001 + i * 20, true);
    }
    feed.flushBook();
    feed.flushBook(); // nothing new: nothing sent
    const books = got.filter((g) => g.event === 'market/book').map((g) => g.payload as Events['market/book']);
    expect(books).toHaveLength(1);
    expect(books[0].bids).toHaveLength(20);
    expect(books[0].asks).toHaveLength(20);
    expect(books[0].bids[0]).toEqual([100, 50]);
    expect(books[0].asks[0]).toEqual([100.1, 2]);
    expect(books[0].recvTs).toBe(1_001 + 49 * 20);
    expect(books[0].mid).toBeCloseTo(100.05, 9);
  });

  it('appends series incrementally: each flush carries only the points since the last one', () => {
    const { got, feed, book } = setup();
    for (let i = 0; i < 10; i++) feed.onBook(book, 1_000 + i * 100, 1_000 + i * 100, true); // mids sampled every 200 ms
    feed.onPrediction({ t: 1_000, value: 0.5, threshold: 1 });
    feed.flushSeries();
    feed.onPrediction({ t: 2_000, value: -0.7, threshold: 1 });
    feed.flushSeries();
    feed.flushSeries();
    const prices = got
      .filter((g) => g.event === 'market/prices')
      .map((g) => g.payload as Events['market/prices']);
    const preds = got
      .filter((g) => g.event === 'model/predictions')
      .map((g) => g.payload as Events['model/predictions']);
    expect(prices).toHaveLength(1);
    expect(prices[0].map((p) => p.t)).toEqual([1_000, 1_200, 1_400, 1_600, 1_800]);
    expect(preds.map((p) => p.map((x) => x.value))).toEqual([[0.5], [-0.7]]);
    expect(feed.predictions.items).toHaveLength(2);
  });

  it('an invalid book is sent flagged, and reset forgets the history', () => {
    const { got, feed, book } = setup();
    feed.onBook(book, 1_000, 1_000, true);
    feed.onBook(book, 1_100, 1_100, false);
    feed.flushBook();
    expect((got.at(-1)!.payload as Events['market/book']).valid).toBe(false);
    feed.reset('ETHUSDT', '0.01');
    expect(feed.mids.items).toHaveLength(0);
    expect(feed.bookView()).toBeNull();
  });
});

describe('UiFeed history is bounded (a live run lasts days)', () => {
  it('keeps only the last keepMs of every series (within 25 % slack), newest kept', () => {
    const bus = new EventBus();
    const feed = new UiFeed(bus, { bookHz: 20, symbol: 'BTCUSDT', tickSize: '0.1', keepMs: 60_000 });
    const book = new OrderBook(new TickScale('0.1'));
    book.applySnapshot([[100, 1]], [[100.1, 1]]);
    // Three simulated hours: a book update every 20 ms, a decision every second, a fill every 10 s.
    let maxLen = 0;
    for (let t = 0; t <= 3 * 3_600_000; t += 20) {
      feed.onBook(book, t, t, true);
      if (t % 1000 === 0) {
        feed.onPrediction({ t, value: Math.sin(t), threshold: 1 });
        feed.onSignal({ t, signal: 1, prediction: 1, price: 100 });
        feed.onPortfolio({
          t,
          balance: 1,
          position: 0,
          entryPrice: NaN,
          realizedPnl: 0,
          unrealizedPnl: 0,
          fees: 0,
          equity: 1,
          drawdown: 0,
          metrics: {
            totalReturn: 0,
            sharpe: 0,
            maxDrawdown: 0,
            hitRate: 0,
            grossHitRate: 0,
            trades: 0,
            turnover: 0,
            avgHoldingMs: 0,
            fees: 0,
          },
        });
      }
      if (t % 10_000 === 0)
        feed.onFill({ t, side: 'Buy', price: 100, size: 1, fee: 0, liquidity: 'taker', reason: 'x' });
      if (t % 200 === 0) feed.flushSeries(); // the renderer's batches
      maxLen = Math.max(maxLen, feed.mids.items.length);
    }
    const end = 3 * 3_600_000;
    for (const h of [feed.mids, feed.predictions, feed.signals, feed.fills, feed.equity]) {
      expect(h.items.length).toBeGreaterThan(0);
      expect(h.items[0].t).toBeGreaterThanOrEqual(end - 60_000 * 1.25);
      expect(h.items.at(-1)!.t).toBe(end);
    }
    expect(maxLen).toBeLessThanOrEqual(Math.ceil((60_000 * 1.25) / 200) + 1);
  });

  it('caps the count even when everything is recent', () => {
    const feed = new UiFeed(new EventBus(), { bookHz: 20, symbol: 'X', tickSize: '1', keepMs: 1e12 });
    for (let t = 0; t < 100_000; t++) feed.onPrediction({ t, value: 0, threshold: 1 });
    expect(feed.predictions.items.length).toBeLessThanOrEqual(25_000);
    expect(feed.predictions.items.at(-1)!.t).toBe(99_999);
  });
});

describe('UiFeed features', () => {
  const featureSet = { version: 't-1', names: ['a', 'b', 'c'] };

  it('sends only the latest row per flush, copied (the engine reuses its buffer), with running statistics', () => {
    const bus = new EventBus();
    const sent: Events['model/features'][] = [];
    bus.onAny((event, payload) => {
      if (event === 'model/features') sent.push(payload as Events['model/features']);
    });
    const feed = new UiFeed(bus, { bookHz: 20, symbol: 'X', tickSize: '1', featureSet });
    feed.flushFeatures(); // nothing yet: nothing sent
    expect(feed.featuresView()).toBeNull();
    const buf = new Float32Array(3);
    for (const [t, a, b, c] of [
      [1_000, 1, 10, NaN],
      [2_000, 2, 20, 5],
      [3_000, 6, 30, 7],
    ]) {
      buf.set([a, b, c]);
      feed.onFeatures(t, buf);
    }
    buf.fill(99); // the engine's next decision overwrites its buffer
    feed.flushFeatures();
    feed.flushFeatures(); // nothing new: nothing sent
    expect(sent).toHaveLength(1);
    const v = sent[0];
    expect(v).toMatchObject({ t: 3_000, featureSetVersion: 't-1', names: ['a', 'b', 'c'], n: 3 });
    expect(v.values).toEqual([6, 30, 7]);
    expect(v.mean[0]).toBeCloseTo(3, 12);
    expect(v.std[0]).toBeCloseTo(Math.sqrt(7), 12); // 1 2 6: squared deviations 4 1 9 over n − 1 = 2
    expect(v.mean[1]).toBeCloseTo(20, 12);
    expect(v.std[1]).toBeCloseTo(10, 12);
    // The first row's NaN is left out of c's statistics, and is null (JSON safe) where it is shown.
    expect(v.mean[2]).toBeCloseTo(6, 12);
    expect(v.std[2]).toBeCloseTo(Math.SQRT2, 12);
    feed.onFeatures(4_000, new Float32Array([NaN, 1, 1]));
    expect(feed.featuresView()?.values[0]).toBeNull();
    expect(JSON.parse(JSON.stringify(feed.featuresView()))).toEqual(feed.featuresView());
  });

  it('reset forgets the row and its statistics', () => {
    const feed = new UiFeed(new EventBus(), { bookHz: 20, symbol: 'X', tickSize: '1', featureSet });
    feed.onFeatures(1_000, [1, 2, 3]);
    feed.onFeatures(2_000, [3, 2, 1]);
    feed.reset('Y', '1');
    expect(feed.featuresView()).toBeNull();
    feed.onFeatures(3_000, [5, 5, 5]);
    expect(feed.featuresView()).toMatchObject({ n: 1, mean: [5, 5, 5], std: [null, null, null] });
  });
});
