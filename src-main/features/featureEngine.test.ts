import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Level, Trade } from '../../src-shared/market.ts';
import { OrderBook } from '../book/orderBook.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { syntheticEvents } from './testing/syntheticMarket.ts';
import { IMBALANCE_WEIGHTS, bookImbalance, weightedBookImbalance } from './bookImbalance.ts';
import { depthSlope } from './depthSlope.ts';
import { FeatureEngine } from './featureEngine.ts';
import { FEATURE_SET, N_FEATURES, featureIndex, type FeatureName } from './featureSet.ts';
import { BYBIT_RECORDING, repeatedRecording } from '../testing/bybitRecording.ts';

const T0 = 1_700_000_000_000;
const scale = new TickScale('0.1');

function bookOf(bids: readonly Level[], asks: readonly Level[]): OrderBook {
  const b = new OrderBook(scale);
  b.applySnapshot(bids, asks);
  return b;
}

describe('FeatureEngine on a hand-made book', () => {
  const bids: [number, number][] = [
    [100.0, 3],
    [99.9, 1],
    [99.8, 1],
    [99.7, 1],
    [99.6, 1],
    [99.5, 10],
  ];
  const asks: [number, number][] = [
    [100.2, 1],
    [100.3, 2],
    [100.4, 2],
  ];
  const engine = new FeatureEngine();
  const book = bookOf(bids, asks);
  const out = new Float64Array(N_FEATURES);
  const f = (name: FeatureName) => out[featureIndex(name)];

  it('answers false until the warm-up (30 s) has passed, and leaves the output alone', () => {
    engine.onBook(book, T0);
    out.fill(-7);
    expect(engine.compute(T0 + 29_999, out)).toBe(false);
    expect(out.every((v) => v === -7)).toBe(true);
    expect(engine.compute(T0 + 30_000, out)).toBe(true);
  });

  it.each([
    ['spread_bps', (0.2 / 100.1) * 1e4],
    ['microprice_bps', ((100.2 * 3 + 100.0 * 1) / 4 / 100.1 - 1) * 1e4],
    ['imb_l1', (3 - 1) / 4],
    ['imb_l5', (7 - 5) / 12],
    ['imb_l10', (17 - 5) / 22],
    ['ofi_1s', 0], // nothing changed yet
    ['ret_30s', 0],
    ['rv_30s', 0],
    ['trade_rate_30s', 0],
    ['tfi_30s', 0],
    ['time_since_trade_s', 60],
  ] as [FeatureName, number][])('%s = %d', (name, want) => {
    engine.compute(T0 + 30_000, out);
    expect(f(name)).toBeCloseTo(want, 9);
  });

  it('reacts to trades and quote changes within their windows only', () => {
    const e = new FeatureEngine();
    const b = bookOf(bids, asks);
    e.onBook(b, T0);
    const trade = (ts: number, side: 'Buy' | 'Sell', size: number): Trade => ({
      ts,
      side,
      size,
      price: 100,
      id: String(ts),
      blockTrade: false,
      seq: 0,
    });
    e.onTrade(trade(T0 + 31_000, 'Buy', 3));
    e.onTrade(trade(T0 + 33_500, 'Sell', 1));
    b.applyDelta([[100.0, 5]], []); // bid size +2: e_n = +2, touch depth (5+1)/2 = 3
    e.onBook(b, T0 + 34_000);
    e.compute(T0 + 34_500, out);
    expect(f('tfi_5s')).toBeCloseTo((3 - 1) / 4, 12);
    expect(f('trade_rate_5s')).toBeCloseTo(2 / 5, 12);
    expect(f('trade_vol_30s')).toBeCloseTo(4 / 30, 12);
    expect(f('time_since_trade_s')).toBeCloseTo(1, 12);
    expect(f('ofi_1s')).toBeCloseTo(2 / 3, 12);
    e.compute(T0 + 36_100, out); // the buy left the 5 s window; the OFI event left the 1 s window
    expect(f('tfi_5s')).toBe(-1);
    expect(f('ofi_1s')).toBe(0);
    expect(f('ofi_5s')).toBeCloseTo(2 / 3, 12);
  });

  it('an empty side or a reset makes it answer false until warm again', () => {
    const e = new FeatureEngine();
    const b = bookOf(bids, asks);
    e.onBook(b, T0);
    expect(e.compute(T0 + 40_000, out)).toBe(true);
    b.applyDelta(
      [],
      asks.map(([p]) => [p, 0]),
    );
    e.onBook(b, T0 + 40_001);
    expect(e.compute(T0 + 40_002, out)).toBe(false);
    b.applyDelta([], asks);
    e.onBook(b, T0 + 41_000);
    expect(e.compute(T0 + 70_999, out)).toBe(false);
    expect(e.compute(T0 + 71_000, out)).toBe(true);
    e.reset();
    expect(e.compute(T0 + 200_000, out)).toBe(false);
  });

  it('reads the deeper levels as the last onBook left them, and never from a book changed since', () => {
    const e = new FeatureEngine();
    const b = bookOf(bids, asks);
    e.onBook(b, T0);
    expect(e.compute(T0 + 40_000, out)).toBe(true);
    const imb10 = f('imb_l10');
    // Levels read for a decision stay those of that message; a second decision without a message agrees.
    expect(e.compute(T0 + 41_000, out)).toBe(true);
    expect(f('imb_l10')).toBe(imb10);
    // A caller that changes the book and neither calls onBook nor resets: no decision, and the warm-up restarts,
    // rather than features that mix the old touch with the new depth.
    e.onBook(b, T0 + 41_500);
    b.applyDelta([[99.5, 50]], []);
    expect(e.compute(T0 + 42_000, out)).toBe(false);
    expect(e.staleBookReads).toBe(1);
    e.onBook(b, T0 + 42_500);
    expect(e.compute(T0 + 43_000, out)).toBe(false);
    expect(e.compute(T0 + 72_500, out)).toBe(true);
    expect(f('imb_l10')).not.toBe(imb10);
    // A delta that failed half-way (off the tick grid) also counts as a change.
    e.onBook(b, T0 + 73_000);
    expect(() => b.applyDelta([[99.45, 1]], [])).toThrow();
    expect(e.compute(T0 + 73_500, out)).toBe(false);
    expect(e.staleBookReads).toBe(2);
  });
});

describe('FeatureEngine against a brute-force oracle on a synthetic stream', () => {
  it('every windowed feature equals its definition recomputed from the full history', () => {
    const events = syntheticEvents({ durationMs: 90_000, seed: 11 });
    const seq = new SequencedBook(scale);
    const engine = new FeatureEngine();
    const out = new Float64Array(N_FEATURES);
    type Top = { ts: number; bid: number; bs: number; ask: number; as: number; mid: number };
    const tops: Top[] = [];
    const trades: Trade[] = [];
    let nextT = T0 + 31_000;
    let checked = 0;
    const check = (T: number) => {
      expect(engine.compute(T, out)).toBe(true);
      const inW = <X extends { ts: number }>(xs: X[], W: number) =>
        xs.filter((x) => x.ts > T - W && x.ts <= T);
      const want: Partial<Record<FeatureName, number>> = {};
      for (const W of [1000, 5000, 30000]) {
        let sumE = 0;
        let sumD = 0;
        let n = 0;
        for (let i = 1; i < tops.length; i++) {
          const p = tops[i - 1];
          const c = tops[i];
          if (!(c.ts > T - W && c.ts <= T)) continue;
          if (c.bid === p.bid && c.ask === p.ask && c.bs === p.bs && c.as === p.as) continue;
          sumE +=
            (c.bid >= p.bid ? c.bs : 0) -
            (c.bid <= p.bid ? p.bs : 0) -
            (c.ask <= p.ask ? c.as : 0) +
            (c.ask >= p.ask ? p.as : 0);
          sumD += (c.bs + c.as) / 2;
          n++;
        }
        want[`ofi_${W / 1000}s` as FeatureName] = n ? sumE / (sumD / n) : 0;
        const midAt = tops.filter((t) => t.ts <= T - W).at(-1)!.mid;
        want[`ret_${W / 1000}s` as FeatureName] = Math.log(tops.at(-1)!.mid / midAt) * 1e4;
      }
      for (const W of [5000, 30000]) {
        const ws = inW(trades, W);
        const buy = ws.filter((t) => t.side === 'Buy').reduce((s, t) => s + t.size, 0);
        const sell = ws.filter((t) => t.side === 'Sell').reduce((s, t) => s + t.size, 0);
        want[`tfi_${W / 1000}s` as FeatureName] = buy + sell > 0 ? (buy - sell) / (buy + sell) : 0;
        want[`trade_rate_${W / 1000}s` as FeatureName] = ws.length / (W / 1000);
        want[`trade_vol_${W / 1000}s` as FeatureName] = (buy + sell) / (W / 1000);
        let ss = 0;
        for (let i = 1; i < tops.length; i++)
          if (tops[i].ts > T - W && tops[i].ts <= T)
            ss += (Math.log(tops[i].mid / tops[i - 1].mid) * 1e4) ** 2;
        want[`rv_${W / 1000}s` as FeatureName] = Math.sqrt(ss);
      }
      const top = tops.at(-1)!;
      want.spread_bps = ((top.ask - top.bid) / top.mid) * 1e4;
      const lb = seq.book.levels('bid', 5).reduce((s, l) => s + l[1], 0);
      const la = seq.book.levels('ask', 5).reduce((s, l) => s + l[1], 0);
      want.imb_l5 = (lb - la) / (lb + la);
      want.time_since_trade_s = Math.min(60, (T - trades.at(-1)!.ts) / 1000);
      for (const [name, v] of Object.entries(want)) {
        const got = out[featureIndex(name as FeatureName)];
        expect(Math.abs(got - v), `${name} at ${T - T0}: got ${got}, want ${v}`).toBeLessThan(
          1e-9 * Math.max(1, Math.abs(v)),
        );
      }
      checked++;
    };
    for (const ev of events) {
      if (ev.kind === 'gap') continue;
      while (nextT < ev.ts) {
        check(nextT);
        nextT += 1370; // off-grid decision times, between messages
      }
      if (ev.kind === 'book') {
        expect(seq.apply(ev).status).toBe('applied');
        engine.onBook(seq.book, ev.ts);
        const b = seq.book;
        tops.push({
          ts: ev.ts,
          bid: b.bestBid(),
          bs: b.bestBidSize(),
          ask: b.bestAsk(),
          as: b.bestAskSize(),
          mid: (b.bestBid() + b.bestAsk()) / 2,
        });
      } else {
        for (const t of ev.trades) {
          engine.onTrade(t);
          // the engine keeps one non-decreasing clock: a fill stamped before the last book update counts at it
          trades.push({
            ...t,
            ts: Math.max(t.ts, tops.at(-1)?.ts ?? -Infinity, trades.at(-1)?.ts ?? -Infinity),
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('names are unique, and the feature set has a version', () => {
    expect(new Set(FEATURE_SET.names).size).toBe(FEATURE_SET.names.length);
    expect(FEATURE_SET.version).toMatch(/^l2f-\d+$/);
  });
});

describe('FeatureEngine on the real Bybit recording', () => {
  it('reading the top levels only at decisions gives exactly the features of reading them after every message', () => {
    // The reference copies the top 10 levels after every message, as an eager reader would, and recomputes the
    // depth features from that copy at each decision: the engine's lazy read of the live book must agree bit for bit.
    const seq = new SequencedBook(scale);
    const engine = new FeatureEngine();
    const out = new Float64Array(N_FEATURES);
    const top = {
      bp: new Float64Array(10),
      bs: new Float64Array(10),
      ap: new Float64Array(10),
      as: new Float64Array(10),
    };
    let nb = 0;
    let na = 0;
    let next = NaN;
    let compared = 0;
    let messages = 0;
    for (const m of repeatedRecording({ reps: 1 })) {
      const ts = m.ts;
      if (next !== next) next = ts + 30_000;
      while (next < ts) {
        if (engine.compute(next, out)) {
          const mid = (top.bp[0] + top.ap[0]) / 2;
          const want: Partial<Record<FeatureName, number>> = {
            imb_l1: bookImbalance(top.bs, nb, top.as, na, 1),
            imb_l5: bookImbalance(top.bs, nb, top.as, na, 5),
            imb_l10: bookImbalance(top.bs, nb, top.as, na, 10),
            imb_weighted: weightedBookImbalance(top.bs, nb, top.as, na, IMBALANCE_WEIGHTS),
            depth_slope_bid: depthSlope(top.bp, top.bs, nb, mid),
            depth_slope_ask: depthSlope(top.ap, top.as, na, mid),
          };
          for (const [name, v] of Object.entries(want))
            expect(out[featureIndex(name as FeatureName)], `${name} at ${next}`).toBe(v);
          compared++;
        }
        next += 250;
      }
      if (m.kind === 'book') {
        if (seq.apply(m).status !== 'applied') continue;
        messages++;
        engine.onBook(seq.book, ts);
        const copy = (side: 'bid' | 'ask', px: Float64Array, sz: Float64Array): number =>
          seq.book.levels(side, 10).reduce((k, [p, q]) => {
            px[k] = p;
            sz[k] = q;
            return k + 1;
          }, 0);
        nb = copy('bid', top.bp, top.bs);
        na = copy('ask', top.ap, top.as);
      } else {
        for (const t of m.trades) engine.onTrade(t);
      }
    }
    expect(engine.staleBookReads).toBe(0);
    expect(messages).toBeGreaterThan(compared * 2); // most messages pass between decisions unread
    expect(compared).toBeGreaterThan(20);
  });

  it('gives finite, in-range features from a real orderbook.200 + publicTrade stream', () => {
    const seq = new SequencedBook(scale);
    const engine = new FeatureEngine();
    const out = new Float64Array(N_FEATURES);
    let next = NaN;
    let computed = 0;
    let trades = 0;
    for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as { ts: number };
      const f = parseRawMessage(obj, obj.ts);
      if (f.type !== 'book' && f.type !== 'trades') continue;
      const ts = f.msg.ts;
      if (next !== next) next = ts + 30_000;
      while (next < ts) {
        if (engine.compute(next, out)) {
          computed++;
          for (const v of out) expect(Number.isFinite(v)).toBe(true);
          const f = (n: FeatureName) => out[featureIndex(n)];
          expect(f('spread_bps')).toBeGreaterThanOrEqual((0.1 / 70_000) * 1e4);
          for (const n of [
            'imb_l1',
            'imb_l5',
            'imb_l10',
            'imb_weighted',
            'tfi_5s',
            'tfi_30s',
          ] as FeatureName[])
            expect(Math.abs(f(n))).toBeLessThanOrEqual(1);
          expect(f('rv_30s')).toBeGreaterThanOrEqual(0);
          expect(f('depth_slope_bid')).toBeGreaterThan(0);
          expect(f('depth_slope_ask')).toBeGreaterThan(0);
        }
        next += 1000;
      }
      if (f.type === 'book') {
        if (seq.apply(f.msg).status === 'applied') engine.onBook(seq.book, ts);
      } else {
        for (const t of f.msg.trades) {
          trades++;
          engine.onTrade(t);
        }
      }
    }
    expect(computed).toBeGreaterThanOrEqual(10);
    expect(trades).toBeGreaterThan(0);
    expect(out[featureIndex('trade_rate_30s')]).toBeGreaterThan(0);
  });
});
