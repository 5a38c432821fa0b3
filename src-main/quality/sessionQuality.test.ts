// Data-quality accumulator on small hand-made streams: each case plants one defect and checks it is measured, and
// nothing else is reported.
import { describe, expect, it } from 'vitest';
import type { BookMessage, Gap, Level, Side, TradeMessage } from '../../src-shared/market.ts';
import { SessionQuality, type QualityReport } from './sessionQuality.ts';

const T0 = Date.UTC(2026, 7, 9, 12);

function book(
  type: 'snapshot' | 'delta',
  u: number,
  t: number,
  bids: Level[],
  asks: Level[],
  latency = 0,
): BookMessage {
  return {
    kind: 'book',
    type,
    symbol: 'BTCUSDT',
    depth: 50,
    ts: T0 + t,
    cts: 0,
    recvTs: T0 + t + latency,
    u,
    seq: 0,
    bids,
    asks,
  };
}
function trades(t: number, list: Array<[Side, number, string]>, tsOverride?: number): TradeMessage {
  return {
    kind: 'trades',
    symbol: 'BTCUSDT',
    ts: T0 + t,
    recvTs: T0 + t,
    trades: list.map(([side, price, id]) => ({
      ts: T0 + (tsOverride ?? t),
      side,
      price,
      size: 0.01,
      id,
      blockTrade: false,
      seq: 0,
    })),
  };
}
type Ev = BookMessage | TradeMessage | { kind: 'gap'; gap: Gap };

/** A clean one-second stream: snapshot with a 1-tick spread, then 9 deltas 100 ms apart. */
function clean(): Ev[] {
  const out: Ev[] = [book('snapshot', 1, 0, [[100, 1]], [[100.1, 1]])];
  for (let i = 1; i < 10; i++) out.push(book('delta', 1 + i, 100 * i, [[100, 1 + i]], []));
  return out;
}

function run(events: Ev[], silenceMs?: number): QualityReport {
  const q = new SessionQuality('0.1', { silenceMs });
  for (const e of events) {
    if (e.kind === 'book') q.onBook(e);
    else if (e.kind === 'trades') q.onTrades(e);
    else q.onGap(e.gap);
  }
  return q.report();
}

describe('session quality', () => {
  it('a clean stream: counts, spread, no latency clock, no findings', () => {
    const r = run(clean());
    expect(r).toMatchObject({
      bookMessages: 10,
      snapshots: 1,
      spanMs: 900,
      replayGaps: 0,
      invalidMs: 0,
      crossed: 0,
      latencyMs: null,
      findings: [],
    });
    expect(r.spreadTicks).toEqual({ p50: 1, p95: 1, p99: 1, max: 1 });
    expect(r.messagesPerSec).toBeCloseTo(10 / 0.9, 9);
  });

  it.each<[string, (e: Ev[]) => Ev[], Partial<QualityReport>, RegExp]>([
    [
      'a missing u: invalid from the break to the next snapshot',
      (e) => [
        ...e.slice(0, 4),
        book('delta', 7, 400, [[100, 2]], []), // u 5 and 6 never came
        book('delta', 8, 500, [[100, 3]], []),
        book('snapshot', 20, 2000, [[100, 1]], [[100.1, 1]]),
        book('delta', 21, 2100, [[100, 2]], []),
      ],
      { replayGaps: 1, invalidMs: 1600 },
      /invalid 76\.\d% of the time \(1 sequence break/,
    ],
    [
      'a crossed book',
      (e) => [...e, book('delta', 11, 1000, [[100.2, 1]], [])],
      { crossed: 1, replayGaps: 1 },
      /1 crossed book/,
    ],
    [
      'a 6 s silence',
      (e) => [...e, book('delta', 11, 6900, [[100, 5]], [])],
      { silence: { thresholdMs: 5000, count: 1, maxMs: 6000, maxAtRecvTs: T0 + 900 } },
      /1 silence\(s\) longer than 5 s \(longest 6\.0 s\)/,
    ],
    [
      'an exchange timestamp running backwards',
      (e) => [...e, book('delta', 11, 850, [[100, 5]], [])],
      { bookTsBackwards: 1 },
      /1 book message\(s\) stamped earlier/,
    ],
    [
      'a duplicated trade id',
      (e) => [
        ...e,
        trades(950, [
          ['Buy', 100.1, 'a'],
          ['Buy', 100.1, 'b'],
        ]),
        trades(960, [['Buy', 100.1, 'a']]),
      ],
      { trades: 3, duplicateTradeIds: 1 },
      /1 duplicated trade id/,
    ],
    [
      'a buy printing below the bid and a sell above the ask (the book lagged)',
      (e) => [
        ...e,
        trades(950, [
          ['Buy', 99.8, 'a'],
          ['Sell', 100.3, 'b'],
          ['Buy', 100.1, 'c'], // at the ask: normal
          ['Sell', 99.9, 'd'], // one tick below the bid: within tolerance (a walk of one level)
        ]),
      ],
      { tradesThroughBook: 2 },
      /2 trade\(s\) printed on the wrong side/,
    ],
    [
      'trade fill times running backwards',
      (e) => [...e, trades(950, [['Buy', 100.1, 'a']]), trades(960, [['Buy', 100.1, 'b']], 940)],
      { tradeTsBackwards: 1 },
      /1 trade\(s\) with a fill time earlier/,
    ],
    [
      'stored gaps (the recorder dropped the broken stretch): their span counts as invalid, an open one to the end',
      (e) => [
        ...e.slice(0, 5),
        {
          kind: 'gap',
          gap: { symbol: 'BTCUSDT', reason: 'stale', startTs: T0 + 400, endTs: T0 + 600, detail: '' },
        },
        ...e.slice(5),
        {
          kind: 'gap',
          gap: { symbol: 'BTCUSDT', reason: 'stale', startTs: T0 + 800, endTs: null, detail: '' },
        },
      ],
      { storedGaps: 2, storedGapMs: 300, invalidMs: 300 },
      /invalid 33\.\d% of the time \(0 sequence break\(s\) on replay, 2 gap\(s\) stored\)/,
    ],
  ])('%s', (_name, edit, expected, finding) => {
    const r = run(edit(clean()));
    expect(r).toMatchObject(expected);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatch(finding);
  });

  it('feed latency quantiles from receive − exchange time', () => {
    const ev: Ev[] = [book('snapshot', 1, 0, [[100, 1]], [[100.1, 1]], 10)];
    for (let i = 1; i < 100; i++)
      ev.push(book('delta', 1 + i, 100 * i, [[100, 1 + i]], [], i === 99 ? 2500 : 10 + (i % 10)));
    const r = run(ev);
    expect(r.latencyMs).toEqual({ p50: 14, p95: 19, p99: 19, max: 2500 }); // ten each of 10..18 ms, nine of 19, one 2.5 s
    expect(r.findings).toEqual([]);
    const slow = run(ev.map((e) => (e.kind === 'book' ? { ...e, recvTs: e.recvTs + 1500 } : e)));
    expect(slow.findings.some((f) => /feed latency p99 15\d\d ms/.test(f))).toBe(true);
  });

  it('deltas without any snapshot cannot make a book', () => {
    const r = run(clean().slice(1));
    expect(r.snapshots).toBe(0);
    expect(r.findings[0]).toMatch(/no snapshot/);
    expect(run([]).findings).toEqual(['no order-book messages: nothing to rebuild a book from']);
  });
});
