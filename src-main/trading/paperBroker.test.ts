import { describe, expect, it } from 'vitest';
import { OrderBook } from '../book/orderBook.ts';
import { TickScale } from '../book/tickScale.ts';
import type { Level, Side, Trade } from '../../src-shared/market.ts';
import { NotionalFees } from './fees.ts';
import { JitterLatency } from './jitterLatency.ts';
import { ConstantLatency, type LatencyModel } from './latency.ts';
import { ConsumedLiquidity, UnlimitedLiquidity, type LiquidityModel } from './liquidity.ts';
import { PaperBroker } from './paperBroker.ts';
import { PowerProbQueue } from './powerProbQueue.ts';
import { ProRataCancelQueue, type QueueModel } from './queueModel.ts';
import { RiskAverseQueue } from './riskAverseQueue.ts';
import type { BrokerEvent, Fill, Order } from './types.ts';

const TAKER = 0.00055;
const MAKER = 0.0002;

function book(bids: Level[], asks: Level[]): OrderBook {
  const b = new OrderBook(new TickScale('0.1'));
  b.applySnapshot(bids, asks);
  return b;
}
const standard = () =>
  book(
    [
      [100.0, 1],
      [99.9, 2],
      [99.8, 5],
    ],
    [
      [100.1, 1],
      [100.2, 2],
      [100.3, 3],
    ],
  );

function harness(latencyMs = 0, liquidity?: LiquidityModel) {
  const broker = new PaperBroker({
    fees: new NotionalFees(TAKER, MAKER),
    latency: new ConstantLatency(latencyMs),
    liquidity,
  });
  const fills: Fill[] = [];
  const orders: Order[] = [];
  broker.onEvent((e: BrokerEvent) => (e.kind === 'fill' ? fills.push(e.fill) : orders.push(e.order)));
  const last = (id: number) => orders.filter((o) => o.id === id).at(-1) as Order;
  return { broker, fills, orders, last };
}
const trade = (side: Side, price: number, size: number, ts = 0): Trade => ({
  ts,
  side,
  price,
  size,
  id: String(ts),
  blockTrade: false,
  seq: 0,
});

describe('market orders walk the visible book', () => {
  it.each([
    // side, qty, expected VWAP, expected filled qty, final status
    ['Buy', 0.5, 100.1, 0.5, 'filled'],
    ['Buy', 1, 100.1, 1, 'filled'],
    ['Buy', 2, (100.1 + 100.2) / 2, 2, 'filled'],
    ['Buy', 4, (100.1 + 2 * 100.2 + 100.3) / 4, 4, 'filled'],
    ['Sell', 3, (100 + 2 * 99.9) / 3, 3, 'filled'],
    // Larger than the visible book: fills what is there, the rest is cancelled (IOC), never invented.
    ['Buy', 10, (100.1 + 2 * 100.2 + 3 * 100.3) / 6, 6, 'cancelled'],
    ['Sell', 8.5, (100 + 2 * 99.9 + 5 * 99.8) / 8, 8, 'cancelled'],
  ] as const)('%s %s → VWAP %s, %s filled, %s', (side, qty, vwap, filled, status) => {
    const { broker, fills, last } = harness();
    const b = standard();
    const o = broker.submit({ side, type: 'market', qty, reason: 't' }, 0);
    broker.advance(0, b);
    expect(fills).toHaveLength(1);
    expect(fills[0].price).toBeCloseTo(vwap, 10);
    expect(fills[0].qty).toBeCloseTo(filled, 12);
    expect(fills[0].liquidity).toBe('taker');
    expect(fills[0].fee).toBeCloseTo(vwap * filled * TAKER, 10);
    expect(last(o.id).status).toBe(status);
    expect(last(o.id).filledQty).toBeCloseTo(filled, 12);
    expect(broker.working()).toHaveLength(0);
  });

  it('on an empty side the order is cancelled with a reason', () => {
    const { broker, fills, last } = harness();
    const o = broker.submit({ side: 'Buy', type: 'market', qty: 1, reason: 't' }, 0);
    broker.advance(0, book([[100, 1]], []));
    expect(fills).toHaveLength(0);
    expect(last(o.id)).toMatchObject({ status: 'cancelled', note: 'no liquidity on the book' });
  });
});

describe('latency', () => {
  it('an order executes against the book of its arrival time, not of its sending time', () => {
    const { broker, fills, last } = harness(50);
    const o = broker.submit({ side: 'Buy', type: 'market', qty: 1, reason: 't' }, 1000);
    const b = standard();
    broker.advance(1049, b);
    expect(last(o.id).status).toBe('pending');
    b.applyDelta([], [[100.1, 0]]); // the best ask leaves before our order arrives
    broker.advance(1050, b);
    expect(fills[0]).toMatchObject({ price: 100.2, ts: 1050 });
    expect(last(o.id).arrivedTs).toBe(1050);
  });

  it('a resting order can fill while its cancel is in flight; a cancel that arrives first wins', () => {
    const { broker, fills, last } = harness(10);
    const b = standard();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 100, reason: 't' }, 0);
    broker.advance(10, b);
    expect(last(o.id).status).toBe('open');
    broker.cancel(o.id, 20);
    broker.onTrades([trade('Sell', 99.9, 3, 25)], 25); // prints through our price before the cancel lands
    broker.advance(30, b);
    expect(fills).toHaveLength(1);
    expect(last(o.id).status).toBe('filled');

    const h2 = harness(10);
    const o2 = h2.broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 100, reason: 't' }, 0);
    h2.broker.advance(10, b);
    h2.broker.cancel(o2.id, 20);
    h2.broker.advance(30, b);
    h2.broker.onTrades([trade('Sell', 99.9, 3, 35)], 35);
    expect(h2.fills).toHaveLength(0);
    expect(h2.last(o2.id).status).toBe('cancelled');
  });
});

describe('requests of one order reach the exchange in the order they were sent', () => {
  function fifoHarness(latency: LatencyModel) {
    const broker = new PaperBroker({ fees: new NotionalFees(TAKER, MAKER), latency });
    const fills: Fill[] = [];
    const orders: Order[] = [];
    broker.onEvent((e: BrokerEvent) => (e.kind === 'fill' ? fills.push(e.fill) : orders.push(e.order)));
    return { broker, fills, orders };
  }

  // [name, limit price, qty, cancel or cross, expected statuses, expected fills as [liquidity, qty]]
  it.each<[string, number, number, 'cancel' | 'cross', string[], [string, number][]]>([
    [
      'a resting limit: it rests, then the cancel lands',
      100,
      1,
      'cancel',
      ['pending', 'open', 'cancelled'],
      [],
    ],
    // Marketable on arrival: it takes the 1 at 100.1 before the (faster) cancel can land, the rest is cancelled.
    [
      'a marketable limit trades on arrival before its cancel',
      100.1,
      1.5,
      'cancel',
      ['pending', 'pending', 'open', 'cancelled'], // the taker fill is reported before the rest is placed
      [['taker', 1]],
    ],
    // A cross that arrived first used to find a pending order and do nothing, leaving crossPending set forever.
    [
      'a cross lands after the order: the remainder goes at market',
      100,
      2,
      'cross',
      ['pending', 'open', 'filled'],
      [['taker', 2]],
    ],
  ])('%s', (_name, price, qty, kind, statuses, wantFills) => {
    // Orders take 100 ms, cancels and crosses 10 ms: sent 5 ms after the order, the cancel would arrive at 15.
    const { broker, fills, orders } = fifoHarness(new ConstantLatency(100, 10));
    const b = standard();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty, price, reason: 't' }, 0);
    expect(kind === 'cancel' ? broker.cancel(o.id, 5) : broker.cross(o.id, 5)).toBe(true);
    broker.advance(50, b);
    expect(orders.at(-1)?.status).toBe('pending');
    broker.advance(100, b);
    expect(orders.map((x) => x.status)).toEqual(statuses);
    expect(orders.at(-1)).toMatchObject({ arrivedTs: 100, doneTs: 100 });
    expect(fills.map((f) => [f.liquidity, f.qty])).toEqual(wantFills);
    expect(broker.busy).toBe(false);
  });

  it('with jittered delays, no cancel ever reaches the exchange before its order', () => {
    const { broker, orders } = fifoHarness(new JitterLatency(0, 50, 9));
    const b = standard();
    const ids: number[] = [];
    for (let ts = 0; ts < 2000; ts += 10) {
      const o = broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 99.8, reason: 't' }, ts);
      ids.push(o.id);
      broker.cancel(o.id, ts + 1);
      broker.advance(ts + 5, b);
    }
    broker.advance(1e9, b);
    let overtaken = 0;
    for (const id of ids) {
      const mine = orders.filter((x) => x.id === id);
      const last = mine.at(-1) as Order;
      expect(mine.map((x) => x.status)).toEqual(['pending', 'open', 'cancelled']);
      expect(last.doneTs).toBeGreaterThanOrEqual(last.arrivedTs);
      // The cancel drew a shorter delay than the placement it follows (so the ordering rule was needed).
      if (last.doneTs === last.arrivedTs) overtaken++;
    }
    expect(overtaken).toBeGreaterThan(20);
  });
});

describe('the queue model is pluggable', () => {
  // A buy at 100.0 behind the visible 1.0; others join (3.0), then 1.5 is cancelled; then a sell of 0.75 at 100.
  it.each<[string, QueueModel, number, number]>([
    ['pro rata: half the level cancelled, half of what is ahead', new ProRataCancelQueue(), 0.5, 0.25],
    ['risk-averse: the cancel was behind us', new RiskAverseQueue(), 1, 0],
    // 1 ahead, 2 behind, 1.5 cancelled: 1.5 × 1/(1 + 2²) = 0.3 of it ahead.
    ['power 2: mostly behind us, the shorter side', new PowerProbQueue(2), 0.7, 0.05],
  ])('%s', (_name, queue, ahead, filled) => {
    const broker = new PaperBroker({ fees: new NotionalFees(TAKER, MAKER), queue });
    const fills: Fill[] = [];
    broker.onEvent((e) => e.kind === 'fill' && fills.push(e.fill));
    const b = standard();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 100, reason: 't' }, 0);
    broker.advance(0, b);
    for (const [ts, level] of [
      [1, 3],
      [2, 1.5],
    ]) {
      b.applyDelta([[100, level]], []);
      broker.onBook(ts, b);
    }
    expect(broker.working()[0].queueAhead).toBeCloseTo(ahead, 12);
    broker.onTrades([trade('Sell', 100, 0.75, 3)], 3);
    expect(fills.reduce((a, f) => a + f.qty, 0)).toBeCloseTo(filled, 12);
    expect(o.id).toBe(1);
  });
});

describe('limit orders: queue position', () => {
  // A buy at 100.0 joins behind the visible 1.0 there.
  type Step = {
    trade?: [Side, number, number];
    level?: number;
    /** The ask moves to this price, our level emptied (askSize there, default 1). */
    ask?: number;
    askSize?: number;
    /** An ask at our price while our level still shows this size (a crossed feed). */
    crossedAsk?: number;
    want: number;
    ahead?: number;
  };
  const cases: { name: string; steps: Step[]; status: string }[] = [
    {
      name: 'trades at our price consume the queue ahead first, then fill us (partial fill)',
      steps: [
        { trade: ['Sell', 100, 0.6], want: 0, ahead: 0.4 },
        { trade: ['Sell', 100, 0.7], want: 0.3, ahead: 0 },
        { trade: ['Sell', 100, 0.5], want: 0.8, ahead: 0 },
      ],
      status: 'open',
    },
    {
      name: 'buy-aggressor trades and trades above our bid do not touch us',
      steps: [
        { trade: ['Buy', 100, 5], want: 0, ahead: 1 },
        { trade: ['Sell', 100.1, 5], want: 0, ahead: 1 },
      ],
      status: 'open',
    },
    {
      // Issue 8: a through trade used to fill the whole remainder whatever its size.
      name: 'a trade through our price is traded volume at our price: the queue ahead first, then at most the rest',
      steps: [
        { trade: ['Sell', 99.9, 0.01], want: 0, ahead: 0.99 },
        { trade: ['Sell', 99.8, 1.49], want: 0.5, ahead: 0 },
        { trade: ['Sell', 99.8, 2], want: 1 },
      ],
      status: 'filled',
    },
    {
      name: 'cancels (a size decrease no trade explains) shrink the queue ahead pro rata',
      steps: [
        { level: 3, want: 0, ahead: 1 }, // orders joined behind us: nothing ahead changes
        { level: 1.5, want: 0, ahead: 0.5 }, // half the level cancelled: half of what is ahead of us
        { trade: ['Sell', 100, 0.5], want: 0, ahead: 0 }, // queue exactly consumed
        { level: 1.0, want: 0, ahead: 0 },
        { trade: ['Sell', 100, 0.25], want: 0.25 },
      ],
      status: 'open',
    },
    {
      name: 'a decrease explained by trades is not counted again as cancels',
      steps: [
        { trade: ['Sell', 100, 0.4], want: 0, ahead: 0.6 },
        { level: 0.6, want: 0, ahead: 0.6 },
      ],
      status: 'open',
    },
    {
      name: 'the queue ahead never exceeds the level',
      steps: [{ level: 0.2, want: 0, ahead: 0.2 }],
      status: 'open',
    },
    {
      name: 'the ask reaching our price means our level was taken: filled as maker',
      steps: [{ ask: 100, want: 1 }],
      status: 'filled',
    },
    {
      // Issue 8: a crossing ask used to fill the whole order whatever its size.
      name: 'a crossing ask fills at most its size at or through our price, once (until the feed updates it)',
      steps: [
        { ask: 100, askSize: 0.4, want: 0.4, ahead: 0 },
        { level: 0, want: 0.4 }, // the same ask still shown: already used by us
        { ask: 100, askSize: 0.8, want: 1 }, // the feed shows a new size there: what it shows is available
      ],
      status: 'filled',
    },
    {
      name: 'an ask at our price while our level still shows size (queue ahead, a crossed feed) fills nothing',
      steps: [{ crossedAsk: 1, want: 0, ahead: 1 }],
      status: 'open',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { broker, fills, last } = harness();
      const b = standard();
      const o = broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 100, reason: 't' }, 0);
      broker.advance(0, b);
      expect(last(o.id)).toMatchObject({ status: 'open', queueAhead: 1 });
      let ts = 0;
      for (const s of c.steps) {
        ts += 100;
        if (s.trade) broker.onTrades([trade(s.trade[0], s.trade[1], s.trade[2], ts)], ts);
        if (s.level !== undefined) {
          b.applyDelta([[100, s.level]], []);
          broker.onBook(ts, b);
        }
        if (s.ask !== undefined) {
          b.applyDelta([[100, 0]], [[s.ask, s.askSize ?? 1]]);
          broker.onBook(ts, b);
        }
        if (s.crossedAsk !== undefined) {
          b.applyDelta([[100, s.crossedAsk]], [[100, 1]]);
          broker.onBook(ts, b);
        }
        const filled = fills.reduce((a, f) => a + f.qty, 0);
        expect({ ts, filled: +filled.toFixed(9) }).toEqual({ ts, filled: s.want });
        if (s.ahead !== undefined)
          expect(broker.working().find((x) => x.id === o.id)?.queueAhead).toBeCloseTo(s.ahead, 9);
      }
      expect(last(o.id).status).toBe(c.status);
      for (const f of fills) {
        expect(f).toMatchObject({ price: 100, liquidity: 'maker' });
        expect(f.fee).toBeCloseTo(100 * f.qty * MAKER, 12);
      }
    });
  }

  it('a sell limit mirrors the buy side', () => {
    const { broker, fills } = harness();
    const b = standard();
    broker.submit({ side: 'Sell', type: 'limit', qty: 1, price: 100.2, reason: 't' }, 0);
    broker.advance(0, b);
    broker.onTrades([trade('Buy', 100.2, 2.5, 1)], 1);
    expect(fills.map((f) => +f.qty.toFixed(9))).toEqual([0.5]);
    // Through our price: traded volume, bounded by its size (0.01 of a 0.5 remainder), each fill its own event.
    broker.onTrades([trade('Buy', 100.3, 0.01, 2)], 2);
    expect(fills.map((f) => +f.qty.toFixed(9))).toEqual([0.5, 0.01]);
    broker.onTrades([trade('Buy', 100.3, 3, 3)], 3);
    expect(fills.map((f) => +f.qty.toFixed(9))).toEqual([0.5, 0.01, 0.49]);
  });

  it('a marketable limit takes liquidity up to its price as taker and rests the rest', () => {
    const { broker, fills, last } = harness();
    const b = standard();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty: 5, price: 100.2, reason: 't' }, 0);
    broker.advance(0, b);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ liquidity: 'taker', qty: 3 });
    expect(fills[0].price).toBeCloseTo((100.1 + 2 * 100.2) / 3, 10);
    expect(last(o.id)).toMatchObject({ status: 'open', filledQty: 3, queueAhead: 0 });
  });

  it('crossing a resting order (passive timeout) sends its remainder at market', () => {
    const { broker, fills, last } = harness(5);
    const b = standard();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty: 2, price: 100, reason: 'signal' }, 0);
    broker.advance(5, b);
    broker.onTrades([trade('Sell', 100, 1.5, 6)], 6); // 0.5 fills passively
    expect(broker.cross(o.id, 10)).toBe(true);
    expect(broker.cross(o.id, 11)).toBe(false);
    broker.advance(15, b);
    expect(fills.map((f) => [f.liquidity, +f.qty.toFixed(9), f.reason])).toEqual([
      ['maker', 0.5, 'signal'],
      ['taker', 1.5, 'passive_timeout'],
    ]);
    expect(fills[1].price).toBeCloseTo((100.1 + 0.5 * 100.2) / 1.5, 10);
    expect(last(o.id).status).toBe('filled');
  });

  it('rejects nonsense orders', () => {
    const { broker } = harness();
    expect(() => broker.submit({ side: 'Buy', type: 'market', qty: 0, reason: 't' }, 0)).toThrow(/quantity/);
    expect(() => broker.submit({ side: 'Buy', type: 'limit', qty: 1, reason: 't' }, 0)).toThrow(/price/);
  });
});

describe('our taker fills use up the levels they took until the feed updates them', () => {
  const buy = (qty: number) => ({ side: 'Buy', type: 'market', qty, reason: 't' }) as const;

  it.each([
    // first qty, second qty, second VWAP, second filled: the second order starts where the first one stopped.
    [1.5, 1.5, 100.2, 1.5],
    [0.5, 1, (0.5 * 100.1 + 0.5 * 100.2) / 1, 1],
    [2, 3, (1 * 100.2 + 2 * 100.3) / 3, 3],
    [5, 3, 100.3, 1], // only 1 left of the 6 shown: the rest is cancelled, never invented
  ])('buy %s then buy %s on an unchanged book → VWAP %s for %s', (q1, q2, vwap, filled) => {
    const { broker, fills } = harness();
    const b = standard();
    broker.submit(buy(q1), 0);
    broker.advance(0, b);
    broker.submit(buy(q2), 1);
    broker.advance(1, b);
    expect(fills).toHaveLength(2);
    expect(fills[1].price).toBeCloseTo(vwap, 10);
    expect(fills[1].qty).toBeCloseTo(filled, 12);
  });

  it('the unlimited model lets every order see the whole visible book (the old assumption)', () => {
    const { broker, fills } = harness(0, new UnlimitedLiquidity());
    const b = standard();
    for (const ts of [0, 1]) {
      broker.submit(buy(1.5), ts);
      broker.advance(ts, b);
    }
    expect(fills[1].price).toBeCloseTo(fills[0].price, 12);
  });

  it('a feed update at a level restores it to what the feed shows', () => {
    const { broker, fills } = harness();
    const b = standard();
    broker.submit(buy(1), 0);
    broker.advance(0, b);
    b.applyDelta([], [[100.1, 0.7]]); // others refilled 100.1 to 0.7
    broker.submit(buy(1), 1);
    broker.advance(1, b);
    expect(fills[1].price).toBeCloseTo((0.7 * 100.1 + 0.3 * 100.2) / 1, 10);
  });

  it('sells use up bids the same way; the two sides are separate', () => {
    const { broker, fills } = harness();
    const b = standard();
    broker.submit({ side: 'Sell', type: 'market', qty: 1, reason: 't' }, 0);
    broker.advance(0, b);
    broker.submit(buy(1), 1);
    broker.advance(1, b);
    broker.submit({ side: 'Sell', type: 'market', qty: 1, reason: 't' }, 2);
    broker.advance(2, b);
    expect(fills.map((f) => f.price)).toEqual([100, 100.1, 99.9]);
  });

  it('when our fills took the whole side, the order is cancelled saying so', () => {
    const { broker, fills, last } = harness();
    const b = standard();
    broker.submit(buy(6), 0);
    broker.advance(0, b);
    const o = broker.submit(buy(1), 1);
    broker.advance(1, b);
    expect(fills).toHaveLength(1);
    expect(last(o.id).status).toBe('cancelled');
    expect(last(o.id).note).toMatch(/our earlier fills took/);
  });

  it('a marketable limit order also sees only what is left', () => {
    const { broker, fills } = harness();
    const b = standard();
    broker.submit(buy(1), 0);
    broker.advance(0, b);
    broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 100.1, reason: 't' }, 1);
    broker.advance(1, b);
    expect(fills).toHaveLength(1); // nothing left at 100.1: the limit rests instead of filling twice
    expect(broker.working()).toHaveLength(1);
  });

  it('remembers only levels the feed still shows unchanged', () => {
    const liquidity = new ConsumedLiquidity();
    const { broker } = harness(0, liquidity);
    const b = standard();
    broker.submit(buy(4), 0);
    broker.advance(0, b);
    expect(liquidity.size).toBe(3);
    b.applyDelta(
      [],
      [
        [100.1, 0],
        [100.2, 5],
      ],
    );
    broker.submit({ side: 'Sell', type: 'market', qty: 0.1, reason: 't' }, 1);
    broker.advance(1, b);
    expect(liquidity.size).toBe(2); // 100.3 (unchanged) and the bid just taken
  });
});

describe('the exchange clock (issue 8)', () => {
  it.each([
    // arrival, stamp of the message that moves the ask, fill price
    [100, 99, 100.3],
    [100, 100, 100.3], // the book after every message stamped ≤ the arrival
    [100, 101, 100.1],
  ])(
    'a request arriving at %i, the ask moved by a message stamped %i: fills at %f',
    (arrival, stamp, price) => {
      const { broker, fills } = harness(arrival);
      const b = standard();
      broker.submit({ side: 'Buy', type: 'market', qty: 1, reason: 't' }, 0);
      broker.advanceBefore(stamp, b); // the engine, before it applies the message
      b.applyDelta(
        [],
        [
          [100.1, 0],
          [100.2, 0],
          [100.5, 5],
        ],
      );
      broker.onBook(stamp, b);
      broker.advanceBefore(stamp + 1000, b);
      expect(fills.map((f) => f.price)).toEqual([price]);
    },
  );

  it('a request that would arrive before the exchange’s latest message arrives right after it', () => {
    const { broker, last } = harness(100);
    const b = standard();
    broker.onBook(500, b); // the exchange is at 500 (our clock behind it)
    expect(broker.exchangeTs).toBe(500);
    const o = broker.submit({ side: 'Buy', type: 'market', qty: 1, reason: 't' }, 0);
    broker.advanceBefore(501, b);
    expect(last(o.id)).toMatchObject({ status: 'filled', arrivedTs: 500 });
  });
});
