// The calibration statistics on a hand-built series whose answers are known exactly.
import { describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage, TradeMessage } from '../../../src-shared/market.ts';
import { marketStats } from './marketStats.ts';

const T0 = 1_700_000_000_000;

function book(
  ts: number,
  u: number,
  bid: number,
  ask: number,
  bidSize: number,
  askSize: number,
): BookMessage {
  return {
    kind: 'book',
    type: 'snapshot',
    symbol: 'BTCUSDT',
    depth: 50,
    ts,
    cts: ts,
    recvTs: ts,
    u,
    seq: u,
    bids: [[bid, bidSize]],
    asks: [[ask, askSize]],
  };
}

function trade(ts: number, size: number, buy: boolean): TradeMessage {
  return {
    kind: 'trades',
    symbol: 'BTCUSDT',
    ts,
    recvTs: ts,
    trades: [{ ts, side: buy ? 'Buy' : 'Sell', price: 1000, size, id: `t${ts}`, blockTrade: false, seq: 0 }],
  };
}

/**
 * 600 s of a book quoted every second with a 2-tick spread (tick 0.1) whose mid steps one tick up at 10 s, 30 s,
 * 50 s… and one tick down at 20 s, 40 s…: the 10 s returns alternate in sign (lag-1 autocorrelation near −1). The
 * imbalance announces the next step's direction (bid-heavy before an up step): the imbalance IC is 1. 100 trades
 * of 1..100 lots, one every 6 s.
 */
function series(): { msgs: MarketMessage[]; mids: number[] } {
  const msgs: MarketMessage[] = [];
  const mids: number[] = [];
  let u = 1;
  for (let s = 0; s <= 600; s++) {
    const step = Math.floor(s / 10);
    const up = step % 2 === 1; // after 10 s: +1 tick, after 20 s: back, …
    const bid = up ? 1000.1 : 1000.0;
    const nextUp = (step + 1) % 2 === 1;
    const ts = T0 + s * 1000;
    msgs.push(book(ts, u++, bid, bid + 0.2, nextUp ? 3 : 1, nextUp ? 1 : 3));
    mids.push(bid + 0.1);
    if (s % 6 === 0 && s < 600) msgs.push(trade(ts + 1, s / 6 + 1, s % 12 === 0));
  }
  return { msgs, mids };
}

describe('marketStats', () => {
  it('measures volatility, autocorrelation, spread, rates, trade sizes and the edge of a known series', () => {
    const { msgs, mids } = series();
    const s = marketStats(msgs, '0.1');
    expect(s.span_s).toBeCloseTo(600, 6);
    expect(s.book_msgs_per_s).toBeCloseTo(601 / 600, 6);
    expect(s.trade_msgs_per_s).toBeCloseTo(100 / 600, 6);
    expect(s.trades_per_s).toBeCloseTo(100 / 600, 6);
    // Non-overlapping 10 s returns on the 1 s grid (the last grid time is not sampled: nothing follows it).
    const r: number[] = [];
    for (let i = 0; i + 10 < 600; i += 10) r.push(Math.log(mids[i + 10] / mids[i]) * 1e4);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    expect(s.ret10_n).toBe(r.length);
    expect(s.vol_bps_per_sqrt_s).toBeCloseTo(sd / Math.sqrt(10), 9);
    expect(s.vol_bps_per_sqrt_s).toBeGreaterThan(0.2);
    expect(s.ret10_autocorr).toBeLessThan(-0.9);
    expect(s.spread_one_tick_share).toBe(0);
    expect(s.spread_mean_ticks).toBe(2);
    expect(s.spread_p90_ticks).toBe(2);
    expect(s.trade_size_mean).toBeCloseTo(50.5, 9);
    expect(s.trade_size_p50).toBe(50);
    expect(s.trade_size_p90).toBe(90);
    expect(s.trade_size_p99).toBe(99);
    expect(s.touch_size_mean).toBe(2);
    expect(s.imbalance_ic).toBeCloseTo(1, 9);
    expect(s.ic_n).toBeGreaterThan(500);
  });

  it('takes no sample while the book is invalid after a gap, and reports NaN where nothing was measured', () => {
    const { msgs } = series();
    const withGap = [...msgs.slice(0, 100), { kind: 'gap' as const }, ...msgs.slice(100)];
    // The series is all snapshots: the next one restores the book, so only the statistics change, not crash.
    const s = marketStats(withGap, '0.1');
    expect(Number.isFinite(s.vol_bps_per_sqrt_s)).toBe(true);
    const empty = marketStats([], '0.1');
    expect(empty.span_s).toBe(0);
    expect(empty.vol_bps_per_sqrt_s).toBeNaN();
    expect(empty.trade_size_mean).toBeNaN();
    expect(empty.imbalance_ic).toBeNaN();
  });
});
