// The engine's injected clock: the *local* clock (when our process received things), never the exchange's. Live:
// wall time, and the engine's decision timer (schedule) fires on it at each grid time. Replay: the clock follows the
// receive stamps of the messages it is fed and never schedules: the stream itself says when a grid time has passed
// (the first message received after it), so a replay at any speed makes the decisions a live run made.
export interface Clock {
  readonly kind: 'real' | 'replay';
  /** Current local time (ms since epoch). */
  now(): number;
  /** The engine processed a message received at `ts` (a replay clock advances to it; wall time ignores it). */
  observe(ts: number): void;
  /**
   * Live clocks only: calls `fn` once, as soon as now() > `at` (strictly: a message stamped `at` by the same clock
   * is then already queued before the call). Returns a cancel function.
   */
  schedule?(at: number, fn: () => void): () => void;
}

/** Fires `fn` once `now()` has passed `at`, re-arming when a timer fires early (timers have ~1 ms slack). */
function scheduleOn(now: () => number, rate: number, at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  let cancelled = false;
  const arm = () => {
    const wait = Math.max(0, Math.ceil((at - now() + 1) / rate));
    timer = setTimeout(() => {
      if (cancelled) return;
      if (now() > at) fn();
      else arm();
    }, wait);
  };
  arm();
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
  };
}

export class RealClock implements Clock {
  readonly kind = 'real' as const;
  now(): number {
    return Date.now();
  }
  observe(): void {}
  schedule(at: number, fn: () => void): () => void {
    return scheduleOn(() => this.now(), 1, at, fn);
  }
}

/**
 * A live clock running `rate` times faster than wall time from (`startMs` at the moment it is built): for a
 * simulated exchange that plays its market faster than real time, so that receive stamps (give `now` to the source)
 * and the decision timer stay on the market's time scale.
 */
export class ScaledClock implements Clock {
  readonly kind = 'real' as const;
  private readonly wall0 = Date.now();
  constructor(
    readonly startMs: number,
    readonly rate: number,
  ) {
    if (!(rate > 0)) throw new RangeError(`clock rate must be > 0, got ${rate}`);
  }
  readonly now = (): number => Math.floor(this.startMs + (Date.now() - this.wall0) * this.rate);
  observe(): void {}
  schedule(at: number, fn: () => void): () => void {
    return scheduleOn(this.now, this.rate, at, fn);
  }
}

export class ReplayClock implements Clock {
  readonly kind = 'replay' as const;
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  observe(ts: number): void {
    if (ts > this.t) this.t = ts;
  }
}
