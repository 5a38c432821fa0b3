import { describe, expect, it } from 'vitest';
import { FeedLatency } from './feedLatency.ts';

describe('FeedLatency', () => {
  // [name, base, factor, observations as [exchangeTs, recvTs], expected order delay]
  it.each<[string, number, number, [number, number][], number]>([
    ['nothing observed yet: the base', 10, 2, [], 10],
    ['one clock (imports, the simulator): receive == exchange time, the base', 10, 2, [[1000, 1000]], 10],
    ['a 15 ms feed latency, round trip: 10 + 2 × 15', 10, 2, [[1000, 1015]], 40],
    ['factor 1: one way', 10, 1, [[1000, 1015]], 25],
    ['factor 0: the feed is ignored', 10, 0, [[1000, 1015]], 10],
    ['whole milliseconds: 1.5 × 15 = 22.5 → 23', 0, 1.5, [[1000, 1015]], 23],
    [
      'the latest book message counts, not the worst',
      10,
      2,
      [
        [1000, 1900],
        [1001, 1006],
      ],
      20,
    ],
    ['a receive clock behind the exchange (negative difference) counts as 0', 10, 2, [[1000, 990]], 10],
    ['no receive time (NaN) counts as 0', 10, 2, [[1000, NaN]], 10],
  ])('%s', (_name, base, factor, obs, want) => {
    const l = new FeedLatency(base, factor);
    for (const [ex, recv] of obs) l.observeFeed(ex, recv);
    expect(l.order(0)).toBe(want);
    expect(l.cancel(0)).toBe(want);
  });

  it('has its own cancel base; the delay does not depend on the send time', () => {
    const l = new FeedLatency(30, 2, 5);
    l.observeFeed(0, 7);
    expect([l.order(0), l.cancel(0), l.order(1e12), l.feedLatencyMs]).toEqual([44, 19, 44, 7]);
  });

  it.each([
    [-1, 2],
    [10, -1],
    [10, Infinity],
    [NaN, 2],
  ])('rejects base %s, factor %s', (base, factor) => {
    expect(() => new FeedLatency(base, factor)).toThrow(RangeError);
  });
});
