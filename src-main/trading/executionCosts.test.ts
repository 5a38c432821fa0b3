import { describe, expect, it } from 'vitest';
import type { Level, Side, Trade } from '../../src-shared/market.ts';
import { OrderBook } from '../book/orderBook.ts';
import { TickScale } from '../book/tickScale.ts';
import {
  addFillCost,
  emptyCostTotals,
  fillCost,
  formatCostsLine,
  orderCost,
  summarizeCosts,
} from './executionCosts.ts';
import { NotionalFees } from './fees.ts';
import { ConstantLatency } from './latency.ts';
import { PaperBroker } from './paperBroker.ts';
import type { Fill, Order, OrderIntent } from './types.ts';

const TAKER = 0.00055;
const MAKER = 0.0002;

function book(bids: Level[], asks: Level[]): OrderBook {
  const b = new OrderBook(new TickScale('0.1'));
  b.applySnapshot(bids, asks);
  return b;
}
// Mid 100.05, spread 0.1.
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
// The same book one tick higher (mid 100.15): the market moved up while the order travelled.
const upOneTick = () =>
  book(
    [
      [100.1, 1],
      [100.0, 2],
      [99.9, 5],
    ],
    [
      [100.2, 1],
      [100.3, 2],
      [100.4, 3],
    ],
  );
const trade = (side: Side, price: number, size: number, ts: number): Trade => ({
  ts,
  side,
  price,
  size,
  id: String(ts),
  blockTrade: false,
  seq: 0,
});

describe('fillCost: shortfall = latency drift + spread & walk, a cost positive for both sides', () => {
  it.each([
    // side, qty, price, fee, decision mid, arrival mid → shortfall, latency, spread+walk (quote)
    ['buy, market moved up while travelling', 'Buy', 2, 100.2, 0.11, 100, 100.1, 0.4, 0.2, 0.2],
    ['sell, market moved down while travelling', 'Sell', 2, 99.8, 0.11, 100, 99.9, 0.4, 0.2, 0.2],
    ['sell, market moved up (latency helped)', 'Sell', 1, 100.1, 0.05, 100, 100.2, -0.1, -0.2, 0.1],
    ['buy passive at the touch: spread earned (negative)', 'Buy', 1, 99.95, 0.02, 100, 100, -0.05, 0, -0.05],
    [
      'sell passive at the touch: spread earned (negative)',
      'Sell',
      1,
      100.05,
      0.02,
      100,
      100,
      -0.05,
      0,
      -0.05,
    ],
    ['zero latency: arrival = decision, no drift', 'Buy', 1, 100.05, 0.05, 100, 100, 0.05, 0, 0.05],
    ['no arrival mid: all of it is spread+walk', 'Buy', 1, 100.1, 0, 100, NaN, 0.1, 0, 0.1],
    ['no decision mid: the arrival mid stands in', 'Sell', 1, 99.9, 0, NaN, 100, 0.1, 0, 0.1],
    ['no mid at all: no cost', 'Buy', 1, 100.1, 0, NaN, NaN, 0, 0, 0],
  ] as const)('%s', (_name, side, qty, price, fee, dm, am, shortfall, latency, spreadWalk) => {
    const c = fillCost({ side, qty, price, fee, decisionMid: dm, arrivalMid: am });
    expect(c.shortfall).toBeCloseTo(shortfall, 9);
    expect(c.latency).toBeCloseTo(latency, 9);
    expect(c.spreadWalk).toBeCloseTo(spreadWalk, 9);
    expect(c.fee).toBe(fee);
    const ref = dm === dm ? dm : am === am ? am : price;
    expect(c.notional).toBeCloseTo(qty * ref, 9);
    expect(c.shortfallBps).toBeCloseTo((shortfall / (qty * ref)) * 1e4, 6);
    expect(c.latencyBps + c.spreadWalkBps).toBeCloseTo(c.shortfallBps, 9);
    expect(c.feeBps).toBeCloseTo((fee / (qty * ref)) * 1e4, 6);
  });
});

interface BrokerCase {
  name: string;
  intent: OrderIntent;
  latencyMs: number;
  /** Book at arrival (default: unchanged). */
  arrival?: () => OrderBook;
  /** After arrival: public trades, then optionally a cross (passive timeout). */
  trades?: [Side, number, number][];
  cross?: boolean;
  want: {
    arrivalMid: number;
    filled: number;
    liquidity: string[];
    latency: number;
    spreadWalk: number;
  };
}

const cases: BrokerCase[] = [
  {
    name: 'market buy, zero latency: walks two levels, no latency drift',
    intent: { side: 'Buy', type: 'market', qty: 2, reason: 't' },
    latencyMs: 0,
    want: {
      arrivalMid: 100.05,
      filled: 2,
      liquidity: ['taker'],
      latency: 0,
      spreadWalk: 2 * (100.15 - 100.05),
    },
  },
  {
    name: 'market sell, zero latency: walks down the bids',
    intent: { side: 'Sell', type: 'market', qty: 3, reason: 't' },
    latencyMs: 0,
    want: { arrivalMid: 100.05, filled: 3, liquidity: ['taker'], latency: 0, spreadWalk: 3 * 100.05 - 299.8 },
  },
  {
    name: 'market buy, 50 ms: the book moved up one tick on the way (latency costs)',
    intent: { side: 'Buy', type: 'market', qty: 1, reason: 't' },
    latencyMs: 50,
    arrival: upOneTick,
    want: { arrivalMid: 100.15, filled: 1, liquidity: ['taker'], latency: 0.1, spreadWalk: 0.05 },
  },
  {
    name: 'market sell, 50 ms: the book moved up on the way (latency helped: negative)',
    intent: { side: 'Sell', type: 'market', qty: 1, reason: 't' },
    latencyMs: 50,
    arrival: upOneTick,
    want: { arrivalMid: 100.15, filled: 1, liquidity: ['taker'], latency: -0.1, spreadWalk: 0.05 },
  },
  {
    name: 'larger than the visible book: the cost is over what filled (the rest is cancelled)',
    intent: { side: 'Buy', type: 'market', qty: 10, reason: 't' },
    latencyMs: 0,
    want: {
      arrivalMid: 100.05,
      filled: 6,
      liquidity: ['taker'],
      latency: 0,
      spreadWalk: 100.1 + 2 * 100.2 + 3 * 100.3 - 6 * 100.05,
    },
  },
  {
    // A trade through our price is volume that first clears the 1 ahead of us (issue 8: no whole fill for free).
    name: 'passive buy at the bid, filled by a trade through it: the half spread is earned',
    intent: { side: 'Buy', type: 'limit', qty: 1, price: 100, reason: 't' },
    latencyMs: 0,
    trades: [['Sell', 99.9, 2]],
    want: { arrivalMid: 100.05, filled: 1, liquidity: ['maker'], latency: 0, spreadWalk: -0.05 },
  },
  {
    name: 'passive sell at the ask in two partial fills (queue, then a trade through)',
    intent: { side: 'Sell', type: 'limit', qty: 2, price: 100.1, reason: 't' },
    latencyMs: 0,
    trades: [
      ['Buy', 100.1, 1.5],
      ['Buy', 100.2, 1.5],
    ],
    want: { arrivalMid: 100.05, filled: 2, liquidity: ['maker', 'maker'], latency: 0, spreadWalk: -0.1 },
  },
  {
    name: 'passive buy sent as the book moved up, partly filled, rest crossed at market',
    intent: { side: 'Buy', type: 'limit', qty: 2, price: 100, reason: 't' },
    latencyMs: 5,
    arrival: upOneTick,
    trades: [['Sell', 100, 2.5]],
    cross: true,
    want: {
      arrivalMid: 100.15,
      filled: 2,
      liquidity: ['maker', 'taker'],
      latency: 2 * 0.1,
      // 0.5 at 100 (queue of 2 ahead at 100 on the moved book), then 1.5 taken at 100.2 and 100.3
      spreadWalk: 0.5 * 100 + (100.2 + 0.5 * 100.3) - 2 * 100.15,
    },
  },
];

describe('the broker records decision and arrival mids per order and per fill', () => {
  it.each(cases)('$name', (c) => {
    const broker = new PaperBroker({
      fees: new NotionalFees(TAKER, MAKER),
      latency: new ConstantLatency(c.latencyMs),
    });
    const fills: Fill[] = [];
    const orders: Order[] = [];
    broker.onEvent((e) => (e.kind === 'fill' ? fills.push(e.fill) : orders.push(e.order)));
    const decision = standard();
    const o = broker.submit(c.intent, 0, decision.mid());
    expect(o.decisionMid).toBe(100.05);
    expect(o.arrivalMid).toBeNaN(); // pending
    const b = c.arrival ? c.arrival() : decision;
    broker.advance(c.latencyMs, b);
    let ts = c.latencyMs;
    for (const [side, price, size] of c.trades ?? []) {
      ts++;
      broker.onTrades([trade(side, price, size, ts)], ts);
    }
    if (c.cross) {
      expect(broker.cross(o.id, ts)).toBe(true);
      broker.advance(ts + c.latencyMs, b);
    }
    const last = orders.filter((x) => x.id === o.id).at(-1) as Order;
    expect(last.decisionMid).toBe(100.05);
    expect(last.arrivalMid).toBe(c.want.arrivalMid);
    expect(last.filledQty).toBeCloseTo(c.want.filled, 12);
    expect(fills.map((f) => f.liquidity)).toEqual(c.want.liquidity);
    for (const f of fills) expect([f.decisionMid, f.arrivalMid]).toEqual([100.05, c.want.arrivalMid]);

    // Per order (at its VWAP) and per fill agree: the same costs, split or not.
    const oc = orderCost(last);
    if (!oc) throw new Error('no fill');
    const totals = emptyCostTotals();
    for (const f of fills) addFillCost(totals, f);
    const perFill = fills.map(fillCost);
    const sum = (k: 'latency' | 'spreadWalk' | 'shortfall' | 'fee') => perFill.reduce((a, x) => a + x[k], 0);
    expect(oc.latency).toBeCloseTo(c.want.latency, 9);
    expect(oc.spreadWalk).toBeCloseTo(c.want.spreadWalk, 9);
    expect(oc.shortfall).toBeCloseTo(c.want.latency + c.want.spreadWalk, 9);
    if (c.latencyMs === 0) expect(Math.abs(oc.latency)).toBe(0); // exactly: the same book at decision and arrival
    for (const k of ['latency', 'spreadWalk', 'shortfall'] as const) expect(sum(k)).toBeCloseTo(oc[k], 9);
    expect(sum('fee')).toBeCloseTo(last.fees, 12);
    expect(totals.latency).toBeCloseTo(oc.latency, 9);
    expect(totals.spreadWalk).toBeCloseTo(oc.spreadWalk, 9);
    expect(totals.fees).toBeCloseTo(last.fees, 12);
    expect(totals.notional).toBeCloseTo(c.want.filled * 100.05, 9);
    // Maker fills at the touch earn the spread: their own spread+walk is negative.
    for (let i = 0; i < fills.length; i++)
      if (fills[i].liquidity === 'maker' && fills[i].arrivalMid === fills[i].decisionMid)
        expect(perFill[i].spreadWalk).toBeLessThan(0);
  });

  it('an order with no fill has no cost', () => {
    const broker = new PaperBroker();
    const o = broker.submit({ side: 'Buy', type: 'limit', qty: 1, price: 99, reason: 't' }, 0, 100.05);
    broker.advance(0, standard());
    expect(orderCost(o)).toBeNull();
    expect(o.arrivalMid).toBe(100.05);
  });
});

describe('summarizeCosts', () => {
  it('nets the attribution: gross alpha − spread+walk − latency − fees, the open position at the mark', () => {
    const t = emptyCostTotals();
    const f = (side: Side, qty: number, price: number, fee: number, dm: number, am: number): Fill => ({
      orderId: 1,
      ts: 0,
      side,
      qty,
      price,
      fee,
      liquidity: 'taker',
      reason: 't',
      decisionMid: dm,
      arrivalMid: am,
    });
    addFillCost(t, f('Buy', 2, 100.3, 0.1, 100, 100.2));
    addFillCost(t, f('Sell', 1, 101, 0.05, 101.2, 101.1));
    const c = summarizeCosts(t, 1, 102);
    // cash at decision mids −200 + 101.2, open 1 × 102
    expect(c.grossAlpha).toBeCloseTo(3.2, 9);
    expect(c.latency).toBeCloseTo(0.4 + 0.1, 9);
    expect(c.spreadWalk).toBeCloseTo(0.2 + 0.1, 9);
    expect(c.fees).toBeCloseTo(0.15, 12);
    // the cash-flow P&L: −200.6 + 101 + 102 − 0.15
    expect(c.netPnl).toBeCloseTo(2.25, 9);
    expect(c.shortfallBps).toBeCloseTo((0.8 / 301.2) * 1e4, 6);
    expect(c.unmeasured).toBe(0);
    expect(formatCostsLine(c)).toBe(
      `costs: shortfall +${c.shortfallBps.toFixed(3)} bps (latency +${c.latencyBps.toFixed(3)}, spread+walk +${c.spreadWalkBps.toFixed(3)}), ` +
        `fees ${c.feesBps.toFixed(3)} bps; alpha 3.20 → net 2.25`,
    );
    // A drift that rounds to nothing prints as 0.000, never -0.000.
    expect(formatCostsLine({ ...c, latencyBps: -1e-9, unmeasured: 2 })).toMatch(
      /\(latency 0\.000, .*\(2 fill\(s\) without a mid\)$/,
    );
  });
});
