// The port every market-data source implements (live Bybit, the simulator, a replay), so the engine and
// the collector never know which one they are fed by.
import type { FeedHealth, Gap, Instrument, MarketMessage } from '../../src-shared/market.ts';

export interface SourceEvents {
  /** A parsed book or trade message, in arrival order. */
  message: (msg: MarketMessage) => void;
  /** A gap opened (endTs null) or closed (endTs set): the book is invalid in between. */
  gap: (gap: Gap) => void;
  /** Connection state or counters changed. */
  health: (health: FeedHealth) => void;
  /** A non-fatal problem worth logging (malformed message, failed subscription, reconnect, ...). */
  warning: (text: string) => void;
  /** Purely informational: nothing went wrong (where the tick size came from, ...). Never counted as a warning. */
  notice: (text: string) => void;
}

export interface MarketSource {
  readonly kind: 'bybit' | 'sim' | 'replay';
  readonly instrument: Instrument;
  /** The simulator's random seed (sim only): the same seed repeats the same market path. */
  readonly seed?: number;
  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void;
  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void;
  /** Starts producing; resolves once connected/subscribed (live) or started (sim, replay). */
  start(): Promise<void>;
  /** Stops and releases sockets and timers; resolves when nothing more will be emitted. */
  stop(): Promise<void>;
  health(): FeedHealth;
}

/** A fresh health record for a source that has not started: idle, every counter zero. */
export function idleFeedHealth(): FeedHealth {
  return { state: 'idle', messages: 0, malformed: 0, unknown: 0, gaps: 0, reconnects: 0, latencyMs: 0 };
}
