// Turns a target position into order actions (a smart executor): either a market order for the
// difference, or a passive limit at the touch (buy at the best bid, sell at the best ask) that is converted to a
// market order ("crossed") when it has not filled within `passiveTimeoutMs`. Stateless: it looks at the position
// and the broker's working orders each time, so it never double-counts an order in flight. Orders are whole lots
// of the symbol (except a flattening order, which closes exactly what is held) and worth at least `minNotional`.
import { floorToLot } from './lotSize.ts';
import { sideSign, type Order, type OrderIntent, type Side } from './types.ts';

export type ExecutionMode = 'market' | 'passive';

export interface ExecutorOptions {
  mode: ExecutionMode;
  passiveTimeoutMs: number;
  /** Smallest quantity worth an order (base units) when no lot size is known; below it differences are ignored. */
  minQty?: number;
  /** Smallest order value (quote) that opens or resizes a position; flattening orders are exempt. Default 0. */
  minNotional?: number;
}

export interface ExecutorView {
  ts: number;
  position: number;
  bestBid: number;
  bestAsk: number;
  /** The broker's orders that are not done (pending or open). */
  working: readonly Order[];
  /** The symbol's lot size (base units); 0 or absent: not known, quantities are not rounded. */
  qtyStep?: number;
}

export type ExecAction =
  | { kind: 'place'; intent: OrderIntent }
  | { kind: 'cancel'; orderId: number }
  | { kind: 'cross'; orderId: number; reason: string };

const remaining = (o: Order) => o.qty - o.filledQty;
const signedRemaining = (o: Order) => sideSign(o.side) * remaining(o);

export class Executor {
  private readonly minQty: number;

  constructor(private readonly o: ExecutorOptions) {
    this.minQty = o.minQty ?? 1e-9;
  }

  /** The smallest order value that opens or resizes a position (the risk manager's, kept in step with it). */
  setMinNotional(value: number): void {
    this.o.minNotional = value;
  }

  get mode(): ExecutionMode {
    return this.o.mode;
  }

  /**
   * Actions that move the position towards `target`. `urgent` (stops, daily loss) exits at market at once and
   * crosses any passive order going the same way.
   */
  plan(target: number, v: ExecutorView, reason: string, urgent = false): ExecAction[] {
    const out: ExecAction[] = [];
    const step = v.qtyStep ?? 0;
    // Positions are whole lots: a difference under half a lot is float noise, not a need.
    const minQty = step > 0 ? step / 2 : this.minQty;
    const need = target - v.position;
    const needSign = Math.abs(need) < minQty ? 0 : Math.sign(need);
    let committed = 0;
    let cancelling = false;
    for (const o of v.working) committed += o.cancelPending ? 0 : signedRemaining(o);
    // Working orders that go the wrong way, or together overshoot the need, are cancelled (limits only: a market
    // order in flight executes on arrival and the next decision corrects what it did).
    const overshoot =
      needSign === 0
        ? committed !== 0
        : Math.sign(committed) === -needSign || Math.abs(committed) > Math.abs(need) + minQty;
    for (const o of v.working) {
      if (o.cancelPending) {
        cancelling = true;
        continue;
      }
      if (o.type !== 'limit') continue;
      const agrees = sideSign(o.side) === needSign;
      if (overshoot || !agrees) {
        out.push({ kind: 'cancel', orderId: o.id });
        committed -= signedRemaining(o);
        cancelling = true;
      } else if (!o.crossPending && (urgent || v.ts - o.sentTs >= this.o.passiveTimeoutMs)) {
        out.push({ kind: 'cross', orderId: o.id, reason: urgent ? reason : 'passive_timeout' });
      }
    }
    const residual = need - committed;
    if (Math.abs(residual) < minQty) return out;
    // An order placed while a cancel is in flight could overshoot if the cancelled order fills meanwhile; only
    // urgent exits accept that risk, everything else waits for the next decision.
    if (cancelling && !urgent) return out;
    const side: Side = residual > 0 ? 'Buy' : 'Sell';
    // Flattening closes exactly what is held (no dust left behind); anything else is rounded down to whole lots.
    const qty = target === 0 ? Math.abs(residual) : floorToLot(residual, step);
    if (qty < minQty) return out;
    if (target !== 0) {
      const touch = side === 'Buy' ? v.bestAsk : v.bestBid;
      if (qty * touch < (this.o.minNotional ?? 0)) return out;
    }
    if (this.o.mode === 'market' || urgent) {
      out.push({ kind: 'place', intent: { side, type: 'market', qty, reason } });
    } else {
      const price = side === 'Buy' ? v.bestBid : v.bestAsk;
      if (!Number.isFinite(price)) return out;
      out.push({ kind: 'place', intent: { side, type: 'limit', qty, price, reason } });
    }
    return out;
  }
}
