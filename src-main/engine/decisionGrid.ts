// The local (receive) clock and the decision grid on it: which messages have been received by a decision time D,
// and which grid times are decided. One definition shared by the trading Engine and the training dataset builder
// (model/dataset.ts), so that the rows a model trains on are exactly the rows it is fed when it trades.
//
// A message's local time is its receive stamp; on data with one clock (recvTs == ts: imports, the simulator) it is
// its exchange time + the configured feed latency. Local times are made non-decreasing in arrival order. Decisions
// happen at k × interval; the decision at D sees exactly the messages whose local time is ≤ D, and a grid time is
// decided only while the feed is not silent (at most maxSilence after the latest message).

/** The two stamps the local clock needs from a message. */
export interface Stamped {
  ts: number;
  recvTs: number;
}

export interface DecisionGridOptions {
  /** Grid period (ms), config `features.decision_interval`. */
  decisionIntervalMs: number;
  /** Local time of a message without a receive stamp = ts + this (ms), config `trading.feed_latency`; default 0. */
  feedLatencyMs?: number;
  /** No message for longer than this (ms) is a silence: no decision spans it, features restart; default 30 s. */
  maxSilenceMs?: number;
}

/** Default silence (ms) after which the features restart their warm-up. */
export const DEFAULT_MAX_SILENCE_MS = 30_000;

/** A message's local time before ordering: its receive stamp, or exchange time + feed latency on one-clock data. */
export function receiveTime(m: Stamped, feedLatencyMs = 0): number {
  return m.recvTs === m.ts || !Number.isFinite(m.recvTs) ? m.ts + feedLatencyMs : m.recvTs;
}

export class DecisionGrid {
  readonly every: number;
  readonly feedLatencyMs: number;
  readonly maxSilenceMs: number;
  /** Local time of the latest message received (non-decreasing); -Infinity before the first. */
  lastLocal = -Infinity;
  /** The next grid time to decide; NaN until a message starts the grid (and after a silence). */
  next = NaN;

  constructor(o: DecisionGridOptions) {
    if (!(o.decisionIntervalMs > 0))
      throw new RangeError(`decision interval must be > 0 ms, got ${o.decisionIntervalMs}`);
    const lat = o.feedLatencyMs ?? 0;
    if (!(lat >= 0) || !Number.isFinite(lat))
      throw new RangeError(`feed latency must be >= 0 ms, got ${lat}`);
    this.every = o.decisionIntervalMs;
    this.feedLatencyMs = lat;
    this.maxSilenceMs = o.maxSilenceMs ?? DEFAULT_MAX_SILENCE_MS;
  }

  /** Starts over (a new session): no message received yet. `floor`: the local time of events before these ones. */
  reset(floor = -Infinity): void {
    this.lastLocal = floor;
    this.next = NaN;
  }

  /** Local time of message `m` (not yet received): never before the latest one, nor before `floor`. */
  localTime(m: Stamped, floor = -Infinity): number {
    let r = receiveTime(m, this.feedLatencyMs);
    if (r < floor) r = floor;
    return r >= this.lastLocal ? r : this.lastLocal;
  }

  /**
   * The next grid time strictly before local time `t` still to decide (and marks it decided), or NaN when none:
   * call it until NaN before receiving a message at `t`, so every decision sees only what arrived by then.
   */
  takeDue(t: number): number {
    const d = this.next;
    if (!(d < t) || d - this.lastLocal > this.maxSilenceMs) return NaN;
    this.next = d + this.every;
    return d;
  }

  /** True when the next grid time is past the silence limit (a live timer need not be armed for it). */
  get silentAtNext(): boolean {
    return this.next !== this.next || this.next - this.lastLocal > this.maxSilenceMs;
  }

  /**
   * Receives a message at local time `local` (from localTime, after takeDue). True when it ends a silence: the
   * features must restart their warm-up (the grid restarts after it on its own).
   */
  receive(local: number): boolean {
    const silent = this.lastLocal > -Infinity && local - this.lastLocal > this.maxSilenceMs;
    if (silent) this.next = NaN;
    if (this.next !== this.next) this.next = Math.floor(local / this.every) * this.every + this.every;
    this.lastLocal = local;
    return silent;
  }

  /** Forget the grid position (after a gap): it restarts at the next message received. */
  restart(): void {
    this.next = NaN;
  }
}
