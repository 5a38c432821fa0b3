// Stores the feed the app trades on (bybit or sim) as a session while live retraining is on, so the retrainer finds
// the newest retrain.window in the database without anyone pressing Collect. One session per pipeline start.
import type { Config } from '../../src-shared/config.ts';
import type { SourceSpec } from '../../src-shared/ipc.ts';
import type { MarketSource } from '../market/source.ts';
import type { Db } from '../store/db.ts';
import { SessionRecorder } from '../store/sessionRecorder.ts';

/** What the live pipeline needs from a recording: stop it (flush + close the session) when the feed stops. */
export interface FeedRecording {
  readonly sessionId: number;
  /** Settles when the recording ends; `error` is set when writing failed (the feed itself keeps running). */
  readonly finished: Promise<{ error?: Error }>;
  stop(): Promise<unknown>;
}

export type FeedRecorderFactory = (source: MarketSource, spec: SourceSpec) => FeedRecording | null;

/**
 * The engine owns the source's lifecycle; the recorder only listens. Without this view a recorder that stops (a write
 * error) would stop the source, and with it trading.
 */
function listenOnly(source: MarketSource): MarketSource {
  const done = (source as { done?: () => Promise<void> }).done;
  return {
    kind: source.kind,
    // The simulator's random seed, stored with the session (it repeats the path).
    seed: source.seed,
    // A getter: a source that infers or refines its tick reports it here, and the recorder stores the final one.
    get instrument() {
      return source.instrument;
    },
    on: (event, fn) => source.on(event, fn),
    off: (event, fn) => source.off(event, fn),
    start: async () => {},
    stop: async () => {},
    health: () => source.health(),
    ...(typeof done === 'function' ? { done: () => done.call(source) } : {}),
  };
}

/** Null when retrain.every is off; a replay is never recorded (it is a stored session already). */
export function makeFeedRecorder(config: Config, db: Db): FeedRecorderFactory | undefined {
  if (config.retrain.every === null) return undefined;
  return (source, spec) => {
    if (spec.kind === 'replay' || source.kind === 'replay') return null;
    return new SessionRecorder(db, listenOnly(source), {
      durationMs: Infinity,
      clock: 'wall',
      depth: config.depth,
      batchIntervalMs: config.store.batch_interval,
      meta: { origin: 'app (live retraining)' },
    });
  };
}
