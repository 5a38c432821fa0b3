import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BookMessage, Level } from '../../src-shared/market.ts';
// The recording test is an integration test of the real parser feeding the book; the book itself never imports it.
// eslint-disable-next-line no-restricted-imports
import { parseFrame } from '../market/bybit/protocol.ts';
import { SequencedBook } from './sequencedBook.ts';
import { TickScale } from './tickScale.ts';
import { BYBIT_RECORDING as RECORDING } from '../testing/bybitRecording.ts';

function msg(type: 'snapshot' | 'delta', u: number, bids: Level[] = [], asks: Level[] = []): BookMessage {
  return {
    kind: 'book',
    type,
    symbol: 'BTCUSDT',
    depth: 200,
    ts: 1000 + u,
    cts: 0,
    recvTs: 1000 + u,
    u,
    seq: u,
    bids,
    asks,
  };
}

const SNAP = (u: number) =>
  msg(
    'snapshot',
    u,
    [
      [100, 1],
      [99.9, 2],
    ],
    [
      [100.1, 3],
      [100.2, 4],
    ],
  );

describe('SequencedBook', () => {
  type Step = [BookMessage, string, boolean /* valid after */];
  const cases: { name: string; steps: Step[] }[] = [
    {
      name: 'deltas before the first snapshot are ignored',
      steps: [
        [msg('delta', 5, [[100, 1]]), 'ignored', false],
        [SNAP(10), 'applied', true],
        [msg('delta', 11, [[100, 5]]), 'applied', true],
      ],
    },
    {
      name: 'a skipped u is a gap, the book stays invalid until the next snapshot',
      steps: [
        [SNAP(10), 'applied', true],
        [msg('delta', 12), 'gap:sequence', false],
        [msg('delta', 13), 'ignored', false],
        [SNAP(20), 'applied', true],
        [msg('delta', 21), 'applied', true],
      ],
    },
    {
      name: 'a repeated u with other levels, or an older u, is a gap too',
      steps: [
        [SNAP(10), 'applied', true],
        [msg('delta', 11, [[99, 1]]), 'applied', true],
        [msg('delta', 11, [[99, 2]]), 'gap:sequence', false],
      ],
    },
    {
      name: 'an exact duplicate of the last delta is ignored and the book stays valid',
      steps: [
        [SNAP(10), 'applied', true],
        [msg('delta', 11, [[99, 1]]), 'applied', true],
        [msg('delta', 11, [[99, 1]]), 'ignored', true],
        [msg('delta', 12), 'applied', true],
        [msg('delta', 10), 'gap:sequence', false],
      ],
    },
    {
      name: 'a crossed book after a delta is a gap',
      steps: [
        [SNAP(10), 'applied', true],
        [msg('delta', 11, [[100.1, 1]]), 'gap:crossed', false],
        [msg('delta', 12), 'ignored', false],
        [SNAP(13), 'applied', true],
      ],
    },
    {
      name: 'a crossed snapshot is a gap',
      steps: [[msg('snapshot', 10, [[101, 1]], [[100, 1]]), 'gap:crossed', false]],
    },
    {
      name: 'depth-1 re-pushes the same snapshot with the same u',
      steps: [
        [SNAP(10), 'applied', true],
        [SNAP(10), 'applied', true],
        [SNAP(10), 'applied', true],
        [SNAP(11), 'applied', true],
      ],
    },
    {
      name: 'an off-grid price invalidates instead of corrupting',
      steps: [
        [SNAP(10), 'applied', true],
        [msg('delta', 11, [[99.95, 1]]), 'gap:sequence', false],
        [msg('snapshot', 12, [[99.95, 1]]), 'gap:sequence', false],
        [SNAP(13), 'applied', true],
      ],
    },
  ];
  it.each(cases)('$name', ({ steps }) => {
    const sb = new SequencedBook(new TickScale('0.1'));
    expect(sb.valid).toBe(false);
    for (const [m, expected, valid] of steps) {
      const r = sb.apply(m);
      const got = r.status === 'gap' ? `gap:${r.reason}` : r.status;
      expect(got, `u=${m.u} ${JSON.stringify(r)}`).toBe(expected);
      expect(sb.valid, `u=${m.u}`).toBe(valid);
      if (r.status === 'gap') expect(r.detail).toMatch(/u=/);
    }
  });

  it('a gap reports the expected and the received u', () => {
    const sb = new SequencedBook(new TickScale('0.1'));
    sb.apply(SNAP(10));
    expect(sb.apply(msg('delta', 15))).toEqual({
      status: 'gap',
      reason: 'sequence',
      detail: 'expected u=11, got u=15',
    });
    expect(sb.lastU).toBe(10);
  });

  it('reports a service restart (snapshot u = 1 after data) and resets the book', () => {
    const sb = new SequencedBook(new TickScale('0.1'));
    expect(sb.apply(msg('snapshot', 1, [[100, 1]], [[100.1, 1]]))).toEqual({ status: 'applied' });
    sb.apply(msg('delta', 2, [[99, 7]]));
    expect(sb.apply(SNAP(500))).toEqual({ status: 'applied' });
    sb.apply(msg('delta', 501, [[98, 7]]));
    const r = sb.apply(msg('snapshot', 1, [[50, 1]], [[50.1, 2]]));
    expect(r).toEqual({ status: 'applied', restarted: true });
    expect(sb.valid).toBe(true);
    expect(sb.lastU).toBe(1);
    expect(sb.book.levels('bid', 10)).toEqual([[50, 1]]);
    expect(sb.book.sizeAt('bid', 98)).toBe(0);
    // Depth 1 re-pushing that u = 1 snapshot is not another restart.
    expect(sb.apply(msg('snapshot', 1, [[50, 1]], [[50.1, 2]]))).toEqual({ status: 'applied' });
    expect(sb.apply(msg('delta', 2, [[49.9, 1]]))).toEqual({ status: 'applied' });
  });

  it('invalidate() holds the book invalid until the next snapshot', () => {
    const sb = new SequencedBook(new TickScale('0.1'));
    sb.apply(SNAP(10));
    sb.invalidate();
    expect(sb.valid).toBe(false);
    expect(sb.apply(msg('delta', 11)).status).toBe('ignored');
    expect(sb.apply(SNAP(30)).status).toBe('applied');
    expect(sb.valid).toBe(true);
  });

  it('continuesWith: only a snapshot carrying the next u after a valid book continues the stream', () => {
    const sb = new SequencedBook(new TickScale('0.1'));
    expect(sb.continuesWith(SNAP(10))).toBe(false); // no book yet
    sb.apply(SNAP(10));
    sb.apply(msg('delta', 11, [[99.8, 1]]));
    expect(sb.continuesWith(SNAP(12))).toBe(true);
    expect(sb.continuesWith(msg('delta', 12))).toBe(false); // a delta is not a snapshot
    expect(sb.continuesWith(SNAP(11))).toBe(false); // nothing new: not the next u
    expect(sb.continuesWith(SNAP(40))).toBe(false); // updates were missed: a resync
    expect(sb.continuesWith(SNAP(1))).toBe(false); // a service restart
    sb.invalidate();
    expect(sb.continuesWith(SNAP(12))).toBe(false); // the book was distrusted: the snapshot resyncs it
  });
  it('replays the real Bybit recording to the known final top of book', () => {
    const sb = new SequencedBook(new TickScale('0.1'));
    const counts: Record<string, number> = {};
    let deltas = 0;
    for (const line of fs.readFileSync(RECORDING, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const f = parseFrame(line, 0);
      if (f.type !== 'book') continue;
      if (f.msg.type === 'delta') deltas++;
      const r = sb.apply(f.msg);
      counts[r.status] = (counts[r.status] ?? 0) + 1;
    }
    expect(deltas).toBe(413);
    expect(counts).toEqual({ applied: 414 });
    expect(sb.valid).toBe(true);
    expect(sb.lastU).toBe(15077365);
    const ob = sb.book;
    expect([ob.bestBid(), ob.bestBidSize()]).toEqual([65114.2, 5.974]);
    expect([ob.bestAsk(), ob.bestAskSize()]).toEqual([65114.3, 9.06]);
    expect(ob.spread()).toBe(0.1);
    expect(ob.mid()).toBe(65114.25);
    expect(ob.bidCount()).toBe(200);
    expect(ob.askCount()).toBe(200);
  });
});
