import { describe, expect, it } from 'vitest';
import type { BookMessage, Level, Trade, TradeMessage } from '../../src-shared/market.ts';
import {
  checkBookMessage,
  checkTrade,
  checkTradeMessage,
  DEFAULT_PLAUSIBILITY,
  describeFindings,
  type FindingKind,
} from './plausibility.ts';
import { TickScale } from './tickScale.ts';

const NOW = Date.UTC(2024, 4, 1);
const HOUR = 3_600_000;
const YEAR_275760 = 8.64e15;

function book(
  type: 'snapshot' | 'delta',
  bids: Level[],
  asks: Level[],
  over: Partial<BookMessage> = {},
): BookMessage {
  return {
    kind: 'book',
    type,
    symbol: 'BTCUSDT',
    depth: 50,
    ts: NOW,
    cts: NOW,
    recvTs: NOW,
    u: 2,
    seq: 1,
    bids,
    asks,
    ...over,
  };
}

function trade(over: Partial<Trade> = {}): Trade {
  return { ts: NOW, side: 'Buy', price: 65000.1, size: 0.01, id: 't1', blockTrade: false, seq: 1, ...over };
}

const ctx = { refBid: 65000, refAsk: 65000.1, clockTs: NOW, wallTs: NOW };

describe('checkBookMessage', () => {
  const cases: [string, BookMessage, FindingKind | null][] = [
    ['a normal snapshot', book('snapshot', [[65000, 1]], [[65000.1, 2]]), null],
    ['a normal delta with a delete', book('delta', [[64999, 0]], [[65001, 3]]), null],
    ['a delete far away is fine (deletes are not priced)', book('delta', [[1, 0]], []), null],
    ['size 1e300', book('delta', [[65000, 1e300]], []), 'size'],
    ['size above the cap', book('snapshot', [[65000, 2e12]], [[65001, 1]]), 'size'],
    [
      'size 0 in a snapshot is skipped, not refused',
      book(
        'snapshot',
        [
          [65000, 0],
          [64999, 1],
        ],
        [[65001, 1]],
      ),
      null,
    ],
    ['a market a few ticks wide at tiny prices', book('snapshot', [[1e-8, 1]], [[3e-8, 1]]), null],
    ['negative size', book('delta', [[65000, -1]], []), 'size'],
    ['NaN size', book('delta', [[65000, NaN]], []), 'size'],
    ['price 1e300 in a delta', book('delta', [], [[1e300, 1]]), 'price'],
    ['price 1e-28 in a delta', book('delta', [[1e-28, 1]], []), 'price'],
    [
      'a snapshot with one level far from its own mid',
      book(
        'snapshot',
        [
          [65000, 1],
          [10, 1],
        ],
        [[65001, 1]],
      ),
      'price',
    ],
    ['a snapshot whose only ask is 1e300', book('snapshot', [[65000, 1]], [[1e300, 1]]), 'price'],
    ['book time 100 years ahead', book('delta', [], [], { ts: NOW + 100 * 365 * 24 * HOUR }), 'time'],
    ['book time two hours behind', book('delta', [], [], { ts: NOW - 2 * HOUR }), 'time'],
    ['cts in year 275760', book('delta', [], [], { cts: YEAR_275760 }), 'time'],
    ['cts absent (0) is fine', book('delta', [], [], { cts: 0 }), null],
    ['59 minutes of skew is fine', book('delta', [], [], { ts: NOW + 59 * 60_000 }), null],
  ];
  it.each(cases)('%s', (_name, msg, kind) => {
    const f = checkBookMessage(msg, ctx);
    expect(f?.kind ?? null).toBe(kind);
    if (f) expect(f.detail.length).toBeGreaterThan(10);
  });

  it('without a feed clock, only the absolute bounds apply (before 2009, ahead of the wall clock)', () => {
    const noClock = { refBid: 65000, refAsk: 65000.1, clockTs: NaN, wallTs: NOW };
    const at = (ts: number) => checkBookMessage(book('delta', [], [], { ts, cts: 0 }), noClock)?.kind ?? null;
    expect(at(NOW - 300 * 24 * HOUR)).toBeNull(); // a replay server's old data
    expect(at(NOW + 2 * HOUR)).toBe('time');
    expect(at(Date.UTC(2008, 0, 1))).toBe('time');
  });

  it('a delta on a book without a mid has no price band, but sizes and times still count', () => {
    const noRef = { refBid: NaN, refAsk: NaN, clockTs: NOW, wallTs: NOW };
    expect(checkBookMessage(book('delta', [[1e300, 1]], []), noRef)).toBeNull();
    expect(checkBookMessage(book('delta', [[1, 1e300]], []), noRef)?.kind).toBe('size');
  });

  it('honours configured limits', () => {
    const tight = { ...DEFAULT_PLAUSIBILITY, maxPriceDeviation: 0.01 };
    expect(checkBookMessage(book('delta', [[64000, 1]], []), ctx, tight)?.kind).toBe('price');
    expect(checkBookMessage(book('delta', [[64000, 1]], []), ctx)).toBeNull();
  });
});

describe('checkTrade', () => {
  const tick = new TickScale('0.1');
  const cases: [string, Trade, FindingKind | null][] = [
    ['a normal trade', trade(), null],
    ['price 1e-28', trade({ price: 1e-28 }), 'price'],
    ['price 1e300', trade({ price: 1e300 }), 'price'],
    ['size 1e300', trade({ size: 1e300 }), 'size'],
    ['size 0', trade({ size: 0 }), 'size'],
    ['time in year 275760', trade({ ts: YEAR_275760 }), 'time'],
    ['off the tick grid', trade({ price: 65000.15 }), 'tick'],
  ];
  it.each(cases)('%s', (_name, t, kind) => {
    expect(checkTrade(t, { ...ctx, scale: tick })?.kind ?? null).toBe(kind);
  });

  it('skips the grid when no tick is given (the tick is still being inferred)', () => {
    expect(checkTrade(trade({ price: 65000.15 }), ctx)).toBeNull();
  });
});

describe('checkTradeMessage', () => {
  const msg = (trades: Trade[], ts = NOW): TradeMessage => ({
    kind: 'trades',
    symbol: 'BTCUSDT',
    ts,
    recvTs: NOW,
    trades,
  });

  it('keeps the plausible trades and reports the others', () => {
    const r = checkTradeMessage(
      msg([trade({ id: 'a' }), trade({ id: 'b', price: 1e-28 }), trade({ id: 'c' })]),
      ctx,
    );
    expect(r.msg?.trades.map((t) => t.id)).toEqual(['a', 'c']);
    expect(r.findings).toHaveLength(1);
    expect(describeFindings(r.findings)).toMatch(/^implausible price: trade b price 1e-28/);
  });

  it('returns the same message when all is well, and null when nothing is left', () => {
    const ok = msg([trade()]);
    expect(checkTradeMessage(ok, ctx).msg).toBe(ok);
    expect(checkTradeMessage(msg([trade({ size: 1e300 })]), ctx).msg).toBeNull();
    expect(checkTradeMessage(msg([trade()], NOW + 100 * 365 * 24 * HOUR), ctx).msg).toBeNull();
  });
});
