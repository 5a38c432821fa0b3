// Transaction-cost analysis: where the paper P&L goes between the signal and the fill (implementation shortfall,
// Perold 1988). Every fill is measured against two mids its order carries: the decision mid (the book the signal
// saw when the order was sent) and the arrival mid (the book when it reached the exchange, after latency):
//   shortfall    = side × (fill price − decision mid)  = latency drift + spread & walk
//   latency      = side × (arrival mid − decision mid)    what the market moved while the order travelled
//   spread+walk  = side × (fill price − arrival mid)      half the spread plus the book walk (taker fills); negative
//                  for passive (maker) fills at the touch: we earned the half spread. For a limit order it also holds
//                  the move while it rested (and a crossed remainder's walk), since the order's arrival mid is its only one.
// side is +1 buy, −1 sell, so a cost is positive. Fees are counted apart. Amounts are in quote currency (× qty);
// bps are relative to the decision notional (qty × decision mid), so the bps components add up like the amounts.
// Attribution of a run: gross alpha = the P&L of the same fills traded at their decision mids, the position still
// open marked like the portfolio's (last mid); gross alpha − spread+walk − latency − fees = net P&L, exactly.
import { sideSign, type Fill, type Order, type Side } from './types.ts';

/** Running sums over fills (O(1) per fill, no allocation): what the metrics summarise. */
export interface CostTotals {
  fills: number;
  /** Σ qty × decision mid: the notional bps are relative to. */
  notional: number;
  /** Σ side × qty × (arrival mid − decision mid). */
  latency: number;
  /** Σ side × qty × (fill price − arrival mid). */
  spreadWalk: number;
  fees: number;
  /** Σ −side × qty × decision mid: the fills' cash flow had they traded at their decision mids. */
  decisionCash: number;
  /** Fills whose order lacked a decision or arrival mid (that component then counts as 0). */
  unmeasured: number;
}

/** What one fill (or one order's fills at their VWAP) cost against its decision and arrival mids. */
export interface FillCost {
  /** qty × decision mid. */
  notional: number;
  shortfall: number;
  latency: number;
  spreadWalk: number;
  fee: number;
  shortfallBps: number;
  latencyBps: number;
  spreadWalkBps: number;
  feeBps: number;
}

/** The costs of a run and its P&L attribution (Metrics.costs). */
export interface ExecutionCosts {
  fills: number;
  unmeasured: number;
  notional: number;
  /** Quote currency; a cost is positive. shortfall = latency + spreadWalk. */
  shortfall: number;
  latency: number;
  spreadWalk: number;
  fees: number;
  /** Notional-weighted averages, in bps of the decision notional. */
  shortfallBps: number;
  latencyBps: number;
  spreadWalkBps: number;
  feesBps: number;
  /** P&L had every fill traded at its decision mid (open position marked at the last mid). */
  grossAlpha: number;
  /** grossAlpha − spreadWalk − latency − fees: equals the run's net P&L (the identity the tests check). */
  netPnl: number;
}

export interface CostInput {
  side: Side;
  qty: number;
  /** Fill price (an order's: its VWAP). */
  price: number;
  fee: number;
  decisionMid: number;
  arrivalMid: number;
}

export function emptyCostTotals(): CostTotals {
  return { fills: 0, notional: 0, latency: 0, spreadWalk: 0, fees: 0, decisionCash: 0, unmeasured: 0 };
}

// A missing mid counts as no cost in its component, so the identity still holds: no decision mid → the arrival
// mid stands in (no latency drift); no arrival mid → the decision mid does (all of it is spread+walk); neither →
// the fill price (no cost at all).
const decisionOf = (x: CostInput) =>
  x.decisionMid === x.decisionMid ? x.decisionMid : x.arrivalMid === x.arrivalMid ? x.arrivalMid : x.price;
const arrivalOf = (x: CostInput, dm: number) => (x.arrivalMid === x.arrivalMid ? x.arrivalMid : dm);

const bps = (x: number, notional: number) => (notional > 0 ? (x / notional) * 1e4 : 0);

/** The cost of one fill, or of an order (qty = filled quantity, price = its VWAP, fee = its fees). */
export function fillCost(x: CostInput): FillCost {
  const s = sideSign(x.side);
  const dm = decisionOf(x);
  const am = arrivalOf(x, dm);
  const notional = x.qty * dm;
  const latency = s * x.qty * (am - dm);
  const spreadWalk = s * x.qty * (x.price - am);
  const shortfall = s * x.qty * (x.price - dm);
  return {
    notional,
    shortfall,
    latency,
    spreadWalk,
    fee: x.fee,
    shortfallBps: bps(shortfall, notional),
    latencyBps: bps(latency, notional),
    spreadWalkBps: bps(spreadWalk, notional),
    feeBps: bps(x.fee, notional),
  };
}

/** An order's cost over what it filled, at its VWAP; null before its first fill. */
export function orderCost(o: Order): FillCost | null {
  if (!(o.filledQty > 0)) return null;
  return fillCost({
    side: o.side,
    qty: o.filledQty,
    price: o.avgFillPrice,
    fee: o.fees,
    decisionMid: o.decisionMid,
    arrivalMid: o.arrivalMid,
  });
}

/** Adds one fill to the running sums (the engine calls it per fill; no allocation). */
export function addFillCost(t: CostTotals, f: Fill): void {
  const s = sideSign(f.side);
  const dm = decisionOf(f);
  const am = arrivalOf(f, dm);
  t.fills++;
  if (f.decisionMid !== f.decisionMid || f.arrivalMid !== f.arrivalMid) t.unmeasured++;
  t.notional += f.qty * dm;
  t.latency += s * f.qty * (am - dm);
  t.spreadWalk += s * f.qty * (f.price - am);
  t.fees += f.fee;
  t.decisionCash -= s * f.qty * dm;
}

/**
 * Summarises the sums with the position still open valued at `mark` (the portfolio's last mid; a position without
 * a mark counts as 0, as the portfolio's unrealized P&L does).
 */
export function summarizeCosts(t: Readonly<CostTotals>, position: number, mark: number): ExecutionCosts {
  const open = position !== 0 && mark === mark ? position * mark : 0;
  const grossAlpha = t.decisionCash + open;
  const shortfall = t.latency + t.spreadWalk;
  return {
    fills: t.fills,
    unmeasured: t.unmeasured,
    notional: t.notional,
    shortfall,
    latency: t.latency,
    spreadWalk: t.spreadWalk,
    fees: t.fees,
    shortfallBps: bps(shortfall, t.notional),
    latencyBps: bps(t.latency, t.notional),
    spreadWalkBps: bps(t.spreadWalk, t.notional),
    feesBps: bps(t.fees, t.notional),
    grossAlpha,
    netPnl: grossAlpha - t.spreadWalk - t.latency - t.fees,
  };
}

const fx = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');
// bps with 3 decimals: a BTCUSDT half spread is under 0.01 bps.
const signedBps = (x: number) => {
  const t = fx(x, 3);
  return t === '-0.000' || t === '0.000' ? '0.000' : (x > 0 ? '+' : '') + t;
};

/** The one-line summary the CLI prints: "costs: shortfall X bps (latency Y, spread+walk Z), fees W bps; alpha A → net N". */
export function formatCostsLine(
  c: Pick<
    ExecutionCosts,
    'shortfallBps' | 'latencyBps' | 'spreadWalkBps' | 'feesBps' | 'grossAlpha' | 'netPnl'
  > & {
    unmeasured?: number;
  },
): string {
  return (
    `costs: shortfall ${signedBps(c.shortfallBps)} bps (latency ${signedBps(c.latencyBps)}, spread+walk ${signedBps(c.spreadWalkBps)}), ` +
    `fees ${fx(c.feesBps, 3)} bps; alpha ${fx(c.grossAlpha, 2)} → net ${fx(c.netPnl, 2)}` +
    (c.unmeasured ? ` (${c.unmeasured} fill(s) without a mid)` : '')
  );
}
