// The walk-forward part of a backtest report: per window, when it traded, what its model was trained on and how
// well that model did (validation at training time, and out of sample on the window it traded). Plain data (the
// JSON report's schema, snake_case) and the CLI's table.
import { formatDuration } from '../../src-shared/duration.ts';

export interface WalkForwardModelRow {
  window: number;
  /** The window's decisions: times in [trade_from, trade_to) (epoch ms). */
  trade_from: number;
  trade_to: number;
  /** The data its model was asked to learn from: received in [train_from, train_to] (epoch ms). */
  train_from: number;
  train_to: number;
  /** The model file trading this window (a previous window's when this one could not be trained); null: none. */
  model: string | null;
  /** False: this window's training failed for lack of data (see note); the previous model kept trading. */
  trained: boolean;
  note: string;
  /** The trading model's metadata span: first and last training row (decision times, epoch ms). */
  training: { from_ts: number; to_ts: number } | null;
  /** Dataset rows of this window's training (0 when not trained). */
  rows: number;
  n_train: number;
  n_valid: number;
  /** Validation R² and IC of this window's model at training time (null when not trained). */
  r2: number | null;
  ic: number | null;
  /** 95% intervals of r2 and ic (block bootstrap over the validation rows); null when not trained or unknown. */
  r2_ci?: [number, number] | null;
  ic_ci?: [number, number] | null;
  /** Decisions made in the window, and how many of them lie inside the deciding model's training span. */
  decisions: number;
  in_sample: number;
  /**
   * Out of sample on the window it traded: Spearman IC and directional hit rate of its predictions against the
   * realised mid return over the horizon, taken from the replay's own mids at the decision times t and t + H.
   */
  oos_ic: number | null;
  oos_hit_rate: number | null;
  oos_n: number;
  /** 95% intervals of oos_ic and oos_hit_rate: a block bootstrap with blocks of at least one horizon (the window's
   * labels overlap); null with too few decisions. */
  oos_ic_ci?: [number, number] | null;
  oos_hit_rate_ci?: [number, number] | null;
}

export interface WalkForwardSection {
  train_window_ms: number;
  every_ms: number;
  horizon_ms: number;
  /** Between the end of a window's training data and its first decision: labels never reach into the window. */
  embargo_ms: number;
  /** First decision time any model may trade at (session start + train window). */
  first_trade_ts: number;
  out_dir: string;
  models: WalkForwardModelRow[];
}

const hhmmss = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 19) : '–');
const f = (x: number | null, d = 3) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));
/** "[lo, hi]" (95% interval), or "[–]" when there is none, so the columns stay aligned. */
const ci = (c: [number, number] | null | undefined, scale = 1, d = 3) =>
  c ? `[${(c[0] * scale).toFixed(d)}, ${(c[1] * scale).toFixed(d)}]` : '[–]';

/** The CLI's walk-forward table: a header line, then one line per window. */
export function formatWalkForwardTable(s: WalkForwardSection): string[] {
  const head =
    `walk-forward: train window ${formatDuration(s.train_window_ms)}, retrain every ${formatDuration(s.every_ms)}, ` +
    `embargo ${formatDuration(s.embargo_ms)} (one horizon); no trading before ${new Date(s.first_trade_ts).toISOString()}; models in ${s.out_dir}; ` +
    '[lo, hi]: 95% block-bootstrap intervals';
  const lines = s.models.map((m) => {
    const model = m.model === null ? 'none' : m.model.replace(/^.*[\\/]/, '');
    return (
      `  window ${String(m.window).padStart(2)}  trades ${hhmmss(m.trade_from)}–${hhmmss(m.trade_to)}  ` +
      `trained on ${hhmmss(m.train_from)}–${hhmmss(m.train_to)}  rows ${String(m.rows).padStart(5)}  ` +
      `r2 ${f(m.r2).padStart(6)}  ic ${f(m.ic).padStart(6)}  decisions ${String(m.decisions).padStart(5)}  ` +
      `oos_ic ${f(m.oos_ic).padStart(6)} ${ci(m.oos_ic_ci)}  oos_hit ${m.oos_hit_rate === null ? '  –' : (m.oos_hit_rate * 100).toFixed(1) + '%'} ${ci(m.oos_hit_rate_ci, 100, 1)}  model ${model}` +
      (m.trained ? '' : `  (${m.note})`)
    );
  });
  return [head, ...lines];
}
