// The engine's injected clock. Live: wall time. Replay: the clock follows the timestamps of the messages it is
// fed, so a replay at any speed (or as fast as possible) makes the same decisions at the same times.
export interface Clock {
  readonly kind: 'real' | 'replay';
  /** Current time (ms since epoch). */
  now(): number;
  /** The engine saw a message stamped `ts` (a replay clock advances to it; wall time ignores it). */
  observe(ts: number): void;
}

export class RealClock implements Clock {
  readonly kind = 'real' as const;
  now(): number {
    return Date.now();
  }
  observe(): void {}
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
