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
