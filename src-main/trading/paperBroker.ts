// A paper broker honest enough to trust its P&L (hftbacktest-style realism, one small model per rule). It is the
// simulated exchange: it lives on the exchange's clock, and its caller (the engine) feeds it the market in exchange
// time and delays what it reports back to the strategy (acknowledgements) by a response latency.
//  - requests (new orders, cancels, crosses) reach the exchange after the latency model's delay (constant, following
//    the feed latency, or jittered), and in the order they were sent for the same order: a cancel sent with a
//    shorter delay than its order's placement still lands after it (the exchange never sees a cancel first). A
//    request arriving at exchange time A meets the book after every market message stamped ≤ A; one that would
//    arrive before the last message already applied (our clock behind the exchange's) arrives right after it;
//  - a market order walks the visible book level by level at arrival (VWAP fill, slippage) and pays the taker fee.
//    Whatever the visible book cannot fill is cancelled (IOC, like a Bybit market order), never invented;
//  - a limit order that is marketable on arrival takes liquidity up to its price (taker), the rest rests;
//  - a resting limit order keeps a queue position (queue model): cancels shrink the queue ahead (pro rata by default;
//    risk-averse or hftbacktest's power model are the others); trades at or through its price first consume the
//    queue ahead, and only what they leave fills it: partial fills (maker fee each), never more than traded. When
//    the opposite best price reaches its price without such trades, the queue model still decides (our level must be
//    gone from the book, so nothing is ahead), and the fill is bounded by the opposite size at or through our price
//    that our own fills have not used yet (liquidity model);
//  - what our fills took from a level stays unavailable to our next orders until the feed updates that level
//    (liquidity model; the default). Beyond that there is no impact model: the replayed book does not move for us;
//  - every order carries the mid its decision saw (passed in by the caller) and the mid at its arrival (read from the
//    book it arrives at), and so does each of its fills: the benchmarks of transaction-cost analysis (executionCosts.ts).
// The book is read only through OrderBook's query methods; time is always an argument.
import type { OrderBook } from '../book/orderBook.ts';
import type { Trade } from '../../src-shared/market.ts';
import { NotionalFees, type FeeModel } from './fees.ts';
import { ConstantLatency, type LatencyModel } from './latency.ts';
import { ConsumedLiquidity, type LiquidityModel } from './liquidity.ts';
import { ProRataCancelQueue, type QueueModel, type QueueState } from './queueModel.ts';
import { type BrokerEvent, type Fill, type Liquidity, type Order, type OrderIntent } from './types.ts';

export interface PaperBrokerOptions {
  fees?: FeeModel;
  latency?: LatencyModel;
  queue?: QueueModel;
  liquidity?: LiquidityModel;
}

type Request = { arriveTs: number; kind: 'new' | 'cancel' | 'cross'; orderId: number; reason: string };

/** Relative tolerance for price comparisons (prices are parsed decimals; ticks are far coarser). */
const EPS = 1e-9;
const le = (a: number, b: number) => a <= b + EPS * Math.abs(b);
const DUST = 1e-12;

export class PaperBroker {
  private readonly fees: FeeModel;
  private readonly latency: LatencyModel;
  private readonly queue: QueueModel;
  private readonly liquidity: LiquidityModel;
  private readonly live: Order[] = [];
  private readonly queues = new Map<number, QueueState>();
  private readonly requests: Request[] = [];
  private nextId = 1;
  /** Exchange time of the latest market event or request delivered: nothing can arrive before it. */
  private exchTs = -Infinity;
  private readonly listeners: ((e: BrokerEvent) => void)[] = [];
  // Scratch for the level walk (no closure allocation per order matters little, but keeps it simple).
  private walkLeft = 0;
  private walkQty = 0;
  private walkCost = 0;
  private walkFee = 0;
  private walkLimit = NaN;
  private walkDone = false;

  constructor(opts: PaperBrokerOptions = {}) {
    this.fees = opts.fees ?? new NotionalFees();
    this.latency = opts.latency ?? new ConstantLatency(0);
    this.queue = opts.queue ?? new ProRataCancelQueue();
    this.liquidity = opts.liquidity ?? new ConsumedLiquidity();
  }

  /** Receives every order update (as a copy) and fill, in the order they happen. */
  onEvent(fn: (e: BrokerEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Orders not yet done (pending or resting); the executor plans against these. */
  working(): readonly Order[] {
    return this.live;
  }

  /** True when something could still happen (orders or requests in flight). */
  get busy(): boolean {
    return this.live.length > 0 || this.requests.length > 0;
  }

  /** `decisionMid`: the mid of the book the decision to send it saw (NaN if unknown), recorded for cost analysis. */
  submit(intent: OrderIntent, ts: number, decisionMid = NaN): Order {
    if (!(intent.qty > 0)) throw new RangeError(`order quantity must be > 0, got ${intent.qty}`);
    if (intent.type === 'limit' && !(intent.price !== undefined && intent.price > 0))
      throw new RangeError('a limit order needs a price > 0');
    const o: Order = {
      id: this.nextId++,
      side: intent.side,
      type: intent.type,
      qty: intent.qty,
      price: intent.type === 'limit' ? (intent.price as number) : NaN,
      reason: intent.reason,
      sentTs: ts,
      arrivedTs: NaN,
      status: 'pending',
      filledQty: 0,
      avgFillPrice: NaN,
      fees: 0,
      cancelPending: false,
      crossPending: false,
      queueAhead: NaN,
      note: '',
      doneTs: NaN,
      decisionMid,
      arrivalMid: NaN,
    };
    this.live.push(o);
    this.request({
      arriveTs: ts + this.latency.order(ts),
      kind: 'new',
      orderId: o.id,
      reason: intent.reason,
    });
    this.emitOrder(o);
    return o;
  }

  /** Requests a cancel; false when the order is unknown, done, or already being cancelled. */
  cancel(orderId: number, ts: number): boolean {
    const o = this.find(orderId);
    if (!o || o.cancelPending) return false;
    o.cancelPending = true;
    this.request({ arriveTs: ts + this.latency.cancel(ts), kind: 'cancel', orderId, reason: 'cancel' });
    return true;
  }

  /** Requests that a resting limit order's remainder execute at market (the smart executor's timeout). */
  cross(orderId: number, ts: number, reason = 'passive_timeout'): boolean {
    const o = this.find(orderId);
    if (!o || o.type !== 'limit' || o.cancelPending || o.crossPending) return false;
    o.crossPending = true;
    this.request({ arriveTs: ts + this.latency.cancel(ts), kind: 'cross', orderId, reason });
    return true;
  }

  /** Exchange time of the latest market message the broker was told of (-Infinity before any). */
  get exchangeTs(): number {
    return this.exchTs;
  }

  /**
   * Delivers every request that reaches the exchange at or before `ts`, against `book` as it stands (the book of
   * that time: nothing else happens on the exchange until `ts`), and moves the exchange clock to `ts`.
   */
  advance(ts: number, book: OrderBook): void {
    this.deliver(ts, book, false);
  }

  /**
   * Delivers every request that reaches the exchange before `ts` against `book`, and moves the exchange clock to
   * `ts`. The engine calls this before applying a market message stamped `ts`: a request arriving at A meets the
   * book after every message stamped ≤ A.
   */
  advanceBefore(ts: number, book: OrderBook): void {
    this.deliver(ts, book, true);
  }

  private deliver(ts: number, book: OrderBook, strict: boolean): void {
    if (ts > this.exchTs) this.exchTs = ts;
    while (
      this.requests.length > 0 &&
      (strict ? this.requests[0].arriveTs < ts : this.requests[0].arriveTs <= ts)
    ) {
      const r = this.requests.shift() as Request;
      const o = this.find(r.orderId);
      if (!o) continue; // already done (filled before the cancel arrived)
      if (r.kind === 'new') this.arrive(o, r.arriveTs, book);
      else if (r.kind === 'cancel') this.finish(o, 'cancelled', r.arriveTs, 'cancelled');
      else if (o.status === 'open') {
        o.crossPending = false;
        this.take(o, book, Infinity, r.arriveTs, r.reason);
        if (o.status === 'open') this.finish(o, 'cancelled', r.arriveTs, 'crossed: visible book exhausted');
      }
    }
  }

  /**
   * After a book update: queue positions follow the level at each resting price. A book whose opposite side reached
   * our price fills us (maker) only once the queue model has nothing ahead of us, and at most the opposite size at or
   * through our price that our fills have not used yet.
   */
  onBook(ts: number, book: OrderBook): void {
    if (ts > this.exchTs) this.exchTs = ts;
    for (let i = 0; i < this.live.length; i++) {
      const o = this.live[i];
      if (o.status !== 'open') continue;
      const q = this.queues.get(o.id) as QueueState;
      const buy = o.side === 'Buy';
      this.queue.onLevel(q, book.sizeAt(buy ? 'bid' : 'ask', o.price));
      o.queueAhead = q.ahead;
      const opposite = buy ? book.bestAsk() : book.bestBid();
      if (!(opposite === opposite && (buy ? le(opposite, o.price) : le(o.price, opposite)))) continue;
      if (q.ahead > DUST) continue;
      const qty = this.crossingSize(o, book);
      if (qty > DUST) {
        const before = this.live.length;
        this.fill(o, qty, o.price, 'maker', ts, o.reason);
        if (this.live.length < before) i--;
      }
    }
  }

  /** Opposite size at or through `o`'s price still available to our fills (up to its remainder); marks it taken. */
  private crossingSize(o: Order, book: OrderBook): number {
    const buy = o.side === 'Buy';
    const side = buy ? 'ask' : 'bid';
    this.walkLeft = o.qty - o.filledQty;
    this.walkQty = 0;
    this.walkLimit = o.price;
    this.walkDone = false;
    this.liquidity.prune((s, p) => book.sizeAt(s, p));
    book.forEachLevel(side, buy ? book.askCount() : book.bidCount(), (price, size) => {
      if (this.walkDone) return;
      if (buy ? !le(price, this.walkLimit) : !le(this.walkLimit, price)) {
        this.walkDone = true;
        return;
      }
      const q = Math.min(this.liquidity.available(side, price, size), this.walkLeft);
      if (q <= 0) return;
      this.liquidity.took(side, price, size, q);
      this.walkQty += q;
      this.walkLeft -= q;
      if (this.walkLeft <= DUST) this.walkDone = true;
    });
    return this.walkQty;
  }

  /**
   * Public trades (exchange time `ts`): a trade at or through our price on the side that hits us first consumes the
   * queue ahead (queue model); only what it leaves fills us, so a fill never exceeds the volume traded.
   */
  onTrades(trades: readonly Trade[], ts: number): void {
    if (ts > this.exchTs) this.exchTs = ts;
    if (this.live.length === 0) return;
    for (const t of trades) {
      for (let i = 0; i < this.live.length; i++) {
        const o = this.live[i];
        if (o.status !== 'open') continue;
        // A resting buy is hit by sell aggressors, a resting sell by buy aggressors.
        if ((o.side === 'Buy') === (t.side === 'Buy')) continue;
        const reaches = o.side === 'Buy' ? le(t.price, o.price) : le(o.price, t.price);
        if (!reaches) continue;
        const q = this.queues.get(o.id) as QueueState;
        const qty = Math.min(this.queue.onTrade(q, t.size), o.qty - o.filledQty);
        o.queueAhead = q.ahead;
        if (qty > DUST) {
          const before = this.live.length;
          this.fill(o, qty, o.price, 'maker', ts, o.reason);
          if (this.live.length < before) i--;
        }
      }
    }
  }

  private arrive(o: Order, ts: number, book: OrderBook): void {
    o.arrivedTs = ts;
    o.arrivalMid = book.mid();
    // A cancel in flight lands after this (requests of one order keep their order): until then the order trades.
    if (o.type === 'market') {
      const n = this.take(o, book, Infinity, ts, o.reason);
      if (o.status !== 'filled') {
        const shown = o.side === 'Buy' ? book.askCount() : book.bidCount();
        const note =
          n > 0
            ? 'visible book exhausted: rest cancelled'
            : shown > 0
              ? 'no liquidity left: our earlier fills took what the book shows'
              : 'no liquidity on the book';
        this.finish(o, 'cancelled', ts, note);
      }
      return;
    }
    // Limit: take what crosses (taker), rest the remainder with a queue position.
    this.take(o, book, o.price, ts, o.reason);
    if (o.status === 'filled') return;
    o.status = 'open';
    const q = this.queue.join(book.sizeAt(o.side === 'Buy' ? 'bid' : 'ask', o.price));
    this.queues.set(o.id, q);
    o.queueAhead = q.ahead;
    this.emitOrder(o);
  }

  /** Walks the opposite side best first up to `limit`, filling as taker at the VWAP; returns levels used. */
  private take(o: Order, book: OrderBook, limit: number, ts: number, reason: string): number {
    const buy = o.side === 'Buy';
    const side = buy ? 'ask' : 'bid';
    this.walkLeft = o.qty - o.filledQty;
    this.walkQty = 0;
    this.walkCost = 0;
    this.walkFee = 0;
    this.walkLimit = limit;
    this.walkDone = false;
    let levels = 0;
    this.liquidity.prune((s, p) => book.sizeAt(s, p));
    book.forEachLevel(side, buy ? book.askCount() : book.bidCount(), (price, size) => {
      if (this.walkDone) return;
      if (this.walkLimit !== Infinity && (buy ? !le(price, this.walkLimit) : !le(this.walkLimit, price))) {
        this.walkDone = true;
        return;
      }
      const q = Math.min(this.liquidity.available(side, price, size), this.walkLeft);
      if (q <= 0) return;
      this.liquidity.took(side, price, size, q);
      this.walkQty += q;
      this.walkCost += q * price;
      this.walkFee += this.fees.fee(price, q, 'taker');
      this.walkLeft -= q;
      levels++;
      if (this.walkLeft <= DUST) this.walkDone = true;
    });
    if (this.walkQty > DUST)
      this.fill(o, this.walkQty, this.walkCost / this.walkQty, 'taker', ts, reason, this.walkFee);
    return levels;
  }

  private fill(
    o: Order,
    qty: number,
    price: number,
    liquidity: Liquidity,
    ts: number,
    reason: string,
    fee?: number,
  ): void {
    const f = fee ?? this.fees.fee(price, qty, liquidity);
    const prevQty = o.filledQty;
    o.filledQty = prevQty + qty;
    o.avgFillPrice = prevQty === 0 ? price : (o.avgFillPrice * prevQty + price * qty) / o.filledQty;
    o.fees += f;
    const fill: Fill = {
      orderId: o.id,
      ts,
      side: o.side,
      price,
      qty,
      fee: f,
      liquidity,
      reason,
      decisionMid: o.decisionMid,
      arrivalMid: o.arrivalMid,
    };
    for (const fn of this.listeners) fn({ kind: 'fill', fill });
    if (o.qty - o.filledQty <= DUST * Math.max(1, o.qty)) this.finish(o, 'filled', ts, '');
    else this.emitOrder(o);
  }

  private finish(o: Order, status: 'filled' | 'cancelled' | 'rejected', ts: number, note: string): void {
    o.status = status;
    o.doneTs = ts;
    o.note = note;
    o.cancelPending = false;
    o.crossPending = false;
    const i = this.live.indexOf(o);
    if (i >= 0) this.live.splice(i, 1);
    this.queues.delete(o.id);
    this.emitOrder(o);
  }

  private find(id: number): Order | undefined {
    for (const o of this.live) if (o.id === id) return o;
    return undefined;
  }

  private request(r: Request): void {
    // Our clock behind the exchange's: the request cannot reach a book the exchange has already moved past.
    if (r.arriveTs < this.exchTs) r.arriveTs = this.exchTs;
    // A request never overtakes an earlier one of the same order (a cancel drawing a shorter delay than its
    // order's placement arrives right after it), as over one connection to the exchange.
    for (let j = 0; j < this.requests.length; j++) {
      const e = this.requests[j];
      if (e.orderId === r.orderId && e.arriveTs > r.arriveTs) r.arriveTs = e.arriveTs;
    }
    // Stable insertion by arrival time: equal times keep the order they were sent in.
    let i = this.requests.length;
    while (i > 0 && this.requests[i - 1].arriveTs > r.arriveTs) i--;
    this.requests.splice(i, 0, r);
  }

  private emitOrder(o: Order): void {
    if (this.listeners.length === 0) return;
    const copy = { ...o };
    for (const fn of this.listeners) fn({ kind: 'order', order: copy });
  }
}
