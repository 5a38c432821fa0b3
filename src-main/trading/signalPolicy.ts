// Turns a model prediction into a desired direction: +1 if prediction > threshold, -1 if < -threshold, else 0,
// with an optional exit band (hysteresis) and a minimum hold time so that noise around the threshold does not churn.
import type { SignalValue } from './types.ts';

export interface SignalPolicyOptions {
  /** Entry threshold in the label's units (bps); must be >= 0. */
  threshold: number;
  /**
   * Exit band: once long, stay long while prediction > threshold - hysteresis (and symmetrically for short).
   * 0 = no hysteresis (exit as soon as the prediction is back inside ±threshold).
   */
  hysteresis?: number;
  /** A non-zero signal is held at least this long (ms) before it may change; 0 disables. */
  minHoldMs?: number;
}

/** The stateless rule of DESIGN §5. */
export function rawSignal(prediction: number, threshold: number): SignalValue {
  if (!Number.isFinite(prediction)) return 0;
  if (prediction > threshold) return 1;
  if (prediction < -threshold) return -1;
  return 0;
}

export class SignalPolicy {
  private threshold: number;
  private readonly hysteresis: number;
  private readonly minHoldMs: number;
  private current: SignalValue = 0;
  private since = -Infinity;

  constructor(opts: SignalPolicyOptions) {
    this.threshold = checkThreshold(opts.threshold);
    this.hysteresis = Math.max(0, opts.hysteresis ?? 0);
    this.minHoldMs = Math.max(0, opts.minHoldMs ?? 0);
  }

  get value(): SignalValue {
    return this.current;
  }

  getThreshold(): number {
    return this.threshold;
  }

  /** Takes effect at the next decision (the state it holds is kept). */
  setThreshold(x: number): void {
    this.threshold = checkThreshold(x);
  }

  reset(): void {
    this.current = 0;
    this.since = -Infinity;
  }

  /** The signal at time `ts` for `prediction`; call once per decision, in time order. */
  decide(prediction: number, ts: number): SignalValue {
    const next = this.next(prediction);
    if (next === this.current) return next;
    // Minimum hold only protects an open direction; going from flat into a position is never delayed.
    if (this.current !== 0 && ts - this.since < this.minHoldMs) return this.current;
    this.current = next;
    this.since = ts;
    return next;
  }

  private next(p: number): SignalValue {
    const entry = rawSignal(p, this.threshold);
    if (entry !== 0 || this.current === 0 || this.hysteresis === 0 || !Number.isFinite(p)) return entry;
    // Inside the entry band while in a position: keep it until the prediction leaves the exit band.
    const exit = this.threshold - this.hysteresis;
    return this.current === 1 ? (p > exit ? 1 : 0) : p < -exit ? -1 : 0;
  }
}

function checkThreshold(x: number): number {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`threshold must be a finite number >= 0, got ${x}`);
  return x;
}
