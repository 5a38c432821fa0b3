// parseFrame on inputs real feeds and dumps have been seen to carry (or could): numbers instead of strings,
// exponent prices, missing optional fields, extra fields, and number texts that are not decimals.
import { describe, expect, it } from 'vitest';
import { parseFrame } from './protocol.ts';

const book = (b: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    topic: 'orderbook.50.XRPUSDT',
    type: 'delta',
    ts: 1786000000000,
    data: { s: 'XRPUSDT', b, a: [], u: 7, ...extra },
  });

describe('parseFrame, odd but valid', () => {
  it('reads numbers, exponent texts and missing cts/seq', () => {
    const f = parseFrame(
      book([
        [0.5123, 100],
        ['5.122e-1', '1e2'],
        ['0.5121', '0E-8'],
      ]),
      1,
    );
    expect(f.type).toBe('book');
    if (f.type !== 'book') return;
    expect(f.msg.bids).toEqual([
      [0.5123, 100],
      [0.5122, 100],
      [0.5121, 0],
    ]);
    expect(f.msg).toMatchObject({ cts: 0, seq: 0, depth: 50, u: 7 });
  });

  it('reads spot and linear trades with or without BT, seq, L, RPI and with unknown fields', () => {
    const f = parseFrame(
      JSON.stringify({
        topic: 'publicTrade.XRPUSDT',
        ts: 1786000000000,
        type: 'snapshot',
        data: [
          { i: 1, T: 1786000000000, p: 0.5, v: 3, S: 'Buy', s: 'XRPUSDT' },
          {
            i: 'x2',
            T: 1786000000001,
            p: '0.5',
            v: '3',
            S: 'Sell',
            L: 'ZeroMinusTick',
            RPI: false,
            BT: true,
            seq: 9,
            z: [1],
          },
        ],
      }),
      1,
    );
    expect(f.type).toBe('trades');
    if (f.type !== 'trades') return;
    expect(f.msg.trades.map((t) => [t.id, t.blockTrade, t.seq])).toEqual([
      ['1', false, 0],
      ['x2', true, 9],
    ]);
  });
});

describe('parseFrame, number texts that are not decimals', () => {
  it.each(['0x10', '0X1A', '0b11', '0o7', 'Infinity', '-1', '', '1e400', '1,5'])('rejects price %j', (p) => {
    expect(parseFrame(book([[p, '1']]), 1).type).toBe('malformed');
  });
});
