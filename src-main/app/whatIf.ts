// What a threshold would have done over the recent window, recomputed from the stored predictions and mids:
// signal count, hit rate over the label horizon, and net P&L after taker fees when trading the configured
// notional at the mid. Pure: the slider calls it on every move, so it must be cheap and deterministic.
import { SignalPolicy } from '../trading/signalPolicy.ts';

export interface WhatIfInput {
  /** Predictions in time order. */
  predictions: readonly { t: number; value: number }[];
  /** Mid prices in time order. */
  mids: readonly { t: number; mid: number }[];
  threshold: number;
  /** Label horizon: a signal is a hit when the mid moved its way over this span. */
  horizonMs: number;
  /** Quote notional per position (USDT). */
  notional: number;
  /** Fee per unit notional traded (taker). */
  feeRate: number;
  hysteresis?: number;
  minHoldMs?: number;
  /** No shorts (spot): a sell signal closes a long and stays flat, as the risk manager does. */
  longOnly?: boolean;
}

export interface WhatIfOutput {
  samples: number;
  signals: number;
  trades: number;
  hits: number;
  judged: number;
  hitRate: number;
  netPnl: number;
  fees: number;
}

/** Index of the last mid at or before t, or -1. */
export function midIndexAt(mids: readonly { t: number }[], t: number): number {
  let lo = 0;
  let hi = mids.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (mids[m].t <= t) {
      ans = m;
      lo = m + 1;
    } else hi = m - 1;
  }
  return ans;
}

export function computeWhatIf(inp: WhatIfInput): WhatIfOutput {
  const policy = new SignalPolicy({
    threshold: inp.threshold,
    hysteresis: inp.hysteresis ?? 0,
    minHoldMs: inp.minHoldMs ?? 0,
  });
  const { mids } = inp;
  const lastMidT = mids.length ? mids[mids.length - 1].t : -Infinity;
  let signals = 0;
  let hits = 0;
  let judged = 0;
  let trades = 0;
  let qty = 0; // base units, signed
  let cash = 0; // quote, before fees
  let fees = 0;
  let lastMid = NaN;
  for (const p of inp.predictions) {
    const i = midIndexAt(mids, p.t);
    if (i < 0) continue;
    const mid = mids[i].mid;
    lastMid = mid;
    const s = policy.decide(p.value, p.t);
    if (s !== 0) {
      signals++;
      if (p.t + inp.horizonMs <= lastMidT) {
        const later = mids[midIndexAt(mids, p.t + inp.horizonMs)].mid;
        judged++;
        if (Math.sign(later - mid) === s) hits++;
      }
    }
    // A position is sized once when entered and held while the direction is unchanged (no re-sizing churn).
    const side = inp.longOnly && s < 0 ? 0 : s;
    if (side !== Math.sign(qty)) {
      const target = side === 0 ? 0 : (side * inp.notional) / mid;
      const dq = target - qty;
      trades++;
      cash -= dq * mid;
      fees += Math.abs(dq) * mid * inp.feeRate;
      qty = target;
    }
  }
  // Open position is marked at the last mid.
  const markMid = mids.length ? mids[mids.length - 1].mid : lastMid;
  const gross = qty !== 0 ? cash + qty * markMid : cash;
  return {
    samples: inp.predictions.length,
    signals,
    trades,
    hits,
    judged,
    hitRate: judged > 0 ? hits / judged : 0,
    netPnl: gross - fees,
    fees,
  };
}
