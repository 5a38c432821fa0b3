// Fits the simulator's parameters to a real session's statistics: each parameter that drives one statistic is
// rescaled by the ratio of the target to what the simulator shows with the current parameters, and the simulator
// is measured again (a few fixed-point rounds; every statistic is close to proportional to its parameter). A
// statistic the session cannot support (a mid that never moved, too few trades, under an hour for the edge) leaves
// its parameter as it was, with a note saying why.
import type { MarketMessage } from '../../../src-shared/market.ts';
import { parseRawMessage } from '../bybit/protocol.ts';
import { marketStats, type MarketStats } from './marketStats.ts';
import { DEFAULT_SIM_PARAMS, SIM_PARAM_BOUNDS, SimGenerator, type SimParams } from './simGenerator.ts';

/** The instrument and clock a calibration simulates (the session's, so that units agree). */
export interface SimInstrument {
  symbol: string;
  startPrice: number;
  tickSize: string;
  depth: number;
  bookRateHz: number;
  levels: number;
}

/** Statistics of `durationMs` of the simulator with `params` from `seed`. */
export function simulatedStats(
  inst: SimInstrument,
  params: Partial<SimParams>,
  seed: number,
  durationMs: number,
): MarketStats {
  const startMs = Date.UTC(2026, 0, 1);
  const gen = new SimGenerator({ ...inst, seed, startMs, params });
  function* messages(): Generator<MarketMessage> {
    while (true) {
      const step = gen.next();
      if (step.atMs > startMs + durationMs) return;
      for (const f of step.frames) {
        const p = parseRawMessage(f, step.atMs);
        if (p.type === 'book' || p.type === 'trades') yield p.msg;
      }
    }
  }
  return marketStats(messages(), inst.tickSize);
}

/** Least data behind each fitted group (below it the parameter is kept). */
export const FIT_MIN = { ret10: 30, trades: 30, edgeSpanS: 3600 } as const;

/** Largest factor one round changes a parameter by. */
const MAX_STEP = 2;

function clampParam(k: keyof SimParams, v: number): number {
  const [lo, hi] = SIM_PARAM_BOUNDS[k];
  return Math.min(hi, Math.max(lo, v));
}

const ok = (x: number) => Number.isFinite(x) && x > 0;

/** One fixed-point round: `p` rescaled so that `sim` (measured with `p`) would move to `real`. */
export function rescale(
  p: SimParams,
  real: MarketStats,
  sim: MarketStats,
): { params: SimParams; notes: string[] } {
  const q = { ...p };
  const notes: string[] = [];
  // A round moves a parameter by at most MAX_STEP either way: the statistics are coupled (a faster market churns the
  // touch, which changes how many prints an order makes), and a noisy ratio must not throw the next round off.
  const scale = (k: keyof SimParams, target: number, now: number, power = 1) => {
    if (!(ok(target) && ok(now))) return;
    const r = Math.min(MAX_STEP, Math.max(1 / MAX_STEP, (target / now) ** power));
    q[k] = clampParam(k, p[k] * r);
  };
  if (real.ret10_n >= FIT_MIN.ret10 && ok(real.vol_bps_per_sqrt_s))
    scale('sigmaBps', real.vol_bps_per_sqrt_s, sim.vol_bps_per_sqrt_s);
  else
    notes.push(
      `volatility kept: the session has ${real.ret10_n} ten-second returns` +
        (real.vol_bps_per_sqrt_s === 0 ? ' and its mid never moved' : '') +
        ` (at least ${FIT_MIN.ret10} with a moving mid needed)`,
    );
  const trades = real.trades_per_s * real.span_s;
  if (trades >= FIT_MIN.trades) {
    scale('lambdaM', real.trades_per_s, sim.trades_per_s);
    scale('tradeMedianLots', real.trade_size_p50, sim.trade_size_p50);
    // The tail: ln(mean / median) of a log-normal is sd²/2.
    const lr = Math.log(real.trade_size_mean / real.trade_size_p50);
    const ls = Math.log(sim.trade_size_mean / sim.trade_size_p50);
    if (ok(lr) && ok(ls)) q.tradeLogSd = clampParam('tradeLogSd', p.tradeLogSd * Math.sqrt(lr / ls));
  } else
    notes.push(`trade rate and sizes kept: ${Math.round(trades)} trades (at least ${FIT_MIN.trades} needed)`);
  scale('touchMedianLots', real.touch_size_mean, sim.touch_size_mean);
  scale(
    'levelMedianLots',
    real.top5_size_mean - real.touch_size_mean,
    sim.top5_size_mean - sim.touch_size_mean,
  );
  // Spread: the share of wider-than-one-tick time scales with the chance that an emptied touch stays empty.
  const missReal = 1 - real.spread_one_tick_share;
  const missSim = 1 - sim.spread_one_tick_share;
  if (Number.isFinite(missReal) && ok(missSim))
    q.touchRefill = clampParam(
      'touchRefill',
      1 - ((1 - p.touchRefill) * Math.max(missReal, 0.002)) / missSim,
    );
  if (real.span_s >= FIT_MIN.edgeSpanS) {
    // Only an IC that stands out from noise (about span / 10 s independent samples) is worth matching.
    const clear = (ic: number, st: MarketStats) => ok(ic) && ic * Math.sqrt(st.ic_n / 10) > 3;
    if (clear(real.imbalance_ic, real) && clear(sim.imbalance_ic, sim))
      scale('kappa', real.imbalance_ic, sim.imbalance_ic);
    else notes.push('imbalance edge kept: its IC is not clearly above noise in the session or the simulator');
    if (clear(real.flow_ic, real) && clear(sim.flow_ic, sim)) scale('phi', real.flow_ic, sim.flow_ic);
    else
      notes.push('order-flow edge kept: its IC is not clearly above noise in the session or the simulator');
  } else
    notes.push(
      `edge (imbalance and flow on the next 10 s return) kept: the session spans ${Math.round(real.span_s)} s ` +
        `(at least ${FIT_MIN.edgeSpanS} s needed to tell an IC from noise)`,
    );
  return { params: q, notes };
}

export interface FitResult {
  params: SimParams;
  /** The simulator's statistics with the fitted parameters. */
  fitted: MarketStats;
  notes: string[];
  rounds: number;
}

/** Fits from `start` (default: the built-in parameters) in `rounds` rounds of `durationMs` simulated each. */
export function fitSimParams(
  real: MarketStats,
  inst: SimInstrument,
  o: {
    start?: Partial<SimParams>;
    seed: number;
    durationMs: number;
    rounds?: number;
    startStats?: MarketStats;
  },
): FitResult {
  let p: SimParams = { ...DEFAULT_SIM_PARAMS, ...o.start };
  let sim = o.startStats ?? simulatedStats(inst, p, o.seed, o.durationMs);
  let notes: string[] = [];
  const rounds = Math.max(1, o.rounds ?? 2);
  for (let i = 0; i < rounds; i++) {
    const r = rescale(p, real, sim);
    p = r.params;
    notes = r.notes;
    sim = simulatedStats(inst, p, o.seed, o.durationMs);
  }
  return { params: p, fitted: sim, notes, rounds };
}
