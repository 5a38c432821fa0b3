import { describe, expect, it } from 'vitest';
import { Executor } from './executor.ts';
import type { Order } from './types.ts';

function order(p: Partial<Order> & Pick<Order, 'id' | 'side' | 'type' | 'qty'>): Order {
  return {
    price: NaN,
    reason: 'signal',
    sentTs: 0,
    arrivedTs: 50,
    status: 'open',
    filledQty: 0,
    avgFillPrice: NaN,
    fees: 0,
    cancelPending: false,
    crossPending: false,
    queueAhead: NaN,
    note: '',
    doneTs: NaN,
    decisionMid: NaN,
    arrivalMid: NaN,
    ...p,
  };
}
const book = { bestBid: 100, bestAsk: 100.5 };

describe('Executor, market mode', () => {
  const ex = new Executor({ mode: 'market', passiveTimeoutMs: 5000, minQty: 0.0005 });
  it.each([
    // target, position, working, expected actions
    [
      'enter long',
      0.02,
      0,
      [],
      [{ kind: 'place', intent: { side: 'Buy', type: 'market', qty: 0.02, reason: 'signal' } }],
    ],
    [
      'flip',
      -0.02,
      0.02,
      [],
      [{ kind: 'place', intent: { side: 'Sell', type: 'market', qty: 0.04, reason: 'signal' } }],
    ],
    ['already there', 0.02, 0.02, [], []],
    ['below min qty', 0.0203, 0.02, [], []],
    [
      'market order in flight counts',
      0.02,
      0,
      [order({ id: 1, side: 'Buy', type: 'market', qty: 0.02, status: 'pending' })],
      [],
    ],
    [
      'partly filled order in flight counts its remainder',
      0.03,
      0.01,
      [order({ id: 1, side: 'Buy', type: 'market', qty: 0.02, filledQty: 0.01, status: 'pending' })],
      [{ kind: 'place', intent: { side: 'Buy', type: 'market', qty: 0.01, reason: 'signal' } }],
    ],
  ] as const)('%s', (_name, target, position, working, want) => {
    const got = ex.plan(target, { ts: 1000, position, ...book, working }, 'signal');
    expect(
      got.map((a) =>
        a.kind === 'place' ? { ...a, intent: { ...a.intent, qty: +a.intent.qty.toFixed(9) } } : a,
      ),
    ).toEqual(want);
  });
});

describe('Executor, passive mode', () => {
  const ex = new Executor({ mode: 'passive', passiveTimeoutMs: 5000, minQty: 0.0005 });
  const v = (ts: number, position: number, working: Order[]) => ({ ts, position, ...book, working });

  it('joins the touch: buy at the best bid, sell at the best ask', () => {
    expect(ex.plan(0.02, v(0, 0, []), 'signal')).toEqual([
      { kind: 'place', intent: { side: 'Buy', type: 'limit', qty: 0.02, price: 100, reason: 'signal' } },
    ]);
    expect(ex.plan(-0.02, v(0, 0, []), 'signal')).toEqual([
      { kind: 'place', intent: { side: 'Sell', type: 'limit', qty: 0.02, price: 100.5, reason: 'signal' } },
    ]);
  });

  it('leaves a working order alone before the timeout and crosses it after', () => {
    const w = [order({ id: 7, side: 'Buy', type: 'limit', qty: 0.02, price: 100, sentTs: 1000 })];
    expect(ex.plan(0.02, v(5999, 0, w), 'signal')).toEqual([]);
    expect(ex.plan(0.02, v(6000, 0, w), 'signal')).toEqual([
      { kind: 'cross', orderId: 7, reason: 'passive_timeout' },
    ]);
    w[0].crossPending = true;
    expect(ex.plan(0.02, v(7000, 0, w), 'signal')).toEqual([]);
  });

  it('cancels an order going the wrong way and waits for the cancel before replacing', () => {
    const w = [order({ id: 3, side: 'Buy', type: 'limit', qty: 0.02, price: 100 })];
    expect(ex.plan(-0.02, v(100, 0, w), 'signal')).toEqual([{ kind: 'cancel', orderId: 3 }]);
    w[0].cancelPending = true;
    expect(ex.plan(-0.02, v(120, 0, w), 'signal')).toEqual([]);
    expect(ex.plan(-0.02, v(200, 0, []), 'signal')).toHaveLength(1);
  });

  it('cancels orders that together overshoot a smaller target', () => {
    const w = [order({ id: 4, side: 'Buy', type: 'limit', qty: 0.04, price: 100 })];
    expect(ex.plan(0.02, v(100, 0, w), 'signal')).toEqual([{ kind: 'cancel', orderId: 4 }]);
    expect(ex.plan(0, v(100, 0, w), 'signal')).toEqual([{ kind: 'cancel', orderId: 4 }]);
  });

  it('an urgent exit crosses agreeing orders, cancels others and sends the rest at market at once', () => {
    const w = [
      order({ id: 5, side: 'Sell', type: 'limit', qty: 0.01, price: 100.5 }),
      order({ id: 6, side: 'Buy', type: 'limit', qty: 0.01, price: 100 }),
    ];
    expect(ex.plan(0, v(100, 0.02, w), 'stop_loss', true)).toEqual([
      { kind: 'cross', orderId: 5, reason: 'stop_loss' },
      { kind: 'cancel', orderId: 6 },
      { kind: 'place', intent: { side: 'Sell', type: 'market', qty: 0.01, reason: 'stop_loss' } },
    ]);
  });

  it('places nothing passive when the book side is empty', () => {
    expect(ex.plan(0.02, { ts: 0, position: 0, bestBid: NaN, bestAsk: 100, working: [] }, 'signal')).toEqual(
      [],
    );
  });
});

describe('Executor with a lot size and a minimum order value', () => {
  const ex = new Executor({ mode: 'market', passiveTimeoutMs: 5000, minNotional: 5 });
  it.each([
    // case, target, position, touch price, lot, expected order (signed qty) or null
    ['BTC entry', 0.02, 0, 50_000, 0.001, 0.02],
    ['BTC float noise is still one whole lot', 0.02, 0.019000000000000003, 50_000, 0.001, 0.001],
    ['BTC under a lot: nothing', 0.02, 0.0191, 50_000, 0.001, null],
    ['DOGE entry in whole coins', 6666.7, 0, 0.15, 1, 6666],
    ['DOGE flip', -6666, 6666, 0.15, 1, -13332],
    ['DOGE top-up under 5 USDT: nothing', 6666, 6640, 0.15, 1, null],
    ['DOGE top-up over 5 USDT', 6666, 6600, 0.15, 1, 66],
    ['flattening closes exactly what is held, off-lot dust included', 0, 0.0153, 50_000, 0.001, -0.0153],
    ['flattening is exempt from the minimum order value', 0, 20, 0.15, 1, -20],
    ['no lot known: not rounded', 1923.0769, 0, 0.52, 0, 1923.0769],
  ] as const)('%s', (_name, target, position, price, lot, want) => {
    const got = ex.plan(
      target,
      { ts: 0, position, bestBid: price, bestAsk: price, working: [], qtyStep: lot },
      'signal',
    );
    if (want === null) return expect(got).toEqual([]);
    expect(got).toHaveLength(1);
    const a = got[0];
    if (a.kind !== 'place') throw new Error(`expected an order, got ${a.kind}`);
    expect(a.intent.side).toBe(want > 0 ? 'Buy' : 'Sell');
    expect(a.intent.qty).toBe(Math.abs(want));
  });
});
