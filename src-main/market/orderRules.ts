// The exchange's order rules for a symbol (its lot and minimum order value, from the instrument info a live source
// fetched) are kept in the recorded session's meta, so that a replay of it (a backtest, paper trading on a replay)
// sizes orders by the same rules as live trading on it did, instead of the known-lot table or the sizes' finest step.
import type { Instrument } from '../../src-shared/market.ts';
import { positiveDecimal } from './bybit/instrumentInfo.ts';

/** What a session's meta holds under `instrument`: only the rules the source knew, as decimal strings. */
export interface OrderRulesMeta {
  qtyStep?: string;
  minNotional?: string;
}

/** The rules among v's fields that are positive plain decimal strings; anything else is left out. */
function validRules(v: Record<string, unknown>): OrderRulesMeta {
  const out: OrderRulesMeta = {};
  const qtyStep = positiveDecimal(v.qtyStep);
  const minNotional = positiveDecimal(v.minNotional);
  if (qtyStep) out.qtyStep = qtyStep;
  if (minNotional) out.minNotional = minNotional;
  return out;
}

/** The meta patch for a source's instrument: `{ instrument: {...} }`, or {} when it knows no rule. */
export function orderRulesMeta(i: Instrument): { instrument?: OrderRulesMeta } {
  const rules = validRules({ qtyStep: i.qtyStep, minNotional: i.minNotional });
  return rules.qtyStep || rules.minNotional ? { instrument: rules } : {};
}

/**
 * A stored session's instrument: its symbol, category and tick, and the order rules its meta holds. A meta value
 * that is not a positive decimal string (a hand-edited or foreign file) is ignored: the engine then learns the lot
 * as for a session without rules, and only risk.min_order_notional applies.
 */
export function sessionInstrument(s: {
  symbol: string;
  category: Instrument['category'];
  tickSize: string;
  meta: Record<string, unknown>;
}): Instrument {
  const base: Instrument = { symbol: s.symbol, category: s.category, tickSize: s.tickSize };
  const rules = s.meta.instrument;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) return base;
  return { ...base, ...validRules(rules as Record<string, unknown>) };
}
