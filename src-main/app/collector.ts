// Collector adapter: runs a fresh source (bybit or sim) for one symbol/depth and records every message and gap into
// a new stored session through SessionRecorder (batched writer; the session keeps the tick the source finally inferred),
// in the SQLite file or in the ClickHouse store the app was opened on.
import type { Config } from '../../src-shared/config.ts';
import type { FeedHealth } from '../../src-shared/market.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { createSource } from '../market/createSource.ts';
import type { MarketSource } from '../market/source.ts';
import { awaitSubscribed, HeldSource } from '../market/heldSource.ts';
import type { ClickHouseStore } from '../store/clickhouse/connection.ts';
import type { Db } from '../store/db.ts';
import { SessionRecorder, type RecorderOptions } from '../store/sessionRecorder.ts';
import type { Collector } from './ports.ts';

/** A ClickHouse store rather than an SQLite connection (better-sqlite3's Database has no `client`). */
const isClickHouse = (s: Db | ClickHouseStore): s is ClickHouseStore => 'client' in s && 'table' in s;

export function makeCollector(config: Config, store: Db | ClickHouseStore): Collector {
  const record = async (source: MarketSource, opts: RecorderOptions) =>
    isClickHouse(store)
      ? SessionRecorder.toClickHouse(store, source, opts)
      : new SessionRecorder(store, source, opts);
  return async ({ symbol, depth, source, onError, onNotice }) => {
    const cfg: Config = { ...config, symbol, depth, source };
    const made = createSource(cfg);
    // A live feed is started first: a symbol the exchange refuses fails this command with the refusal and leaves no
    // empty session. An exchange that cannot be reached is recorded as before (the recorder waits for it).
    const held = made instanceof BybitSource ? await startLive(made, onError, onNotice) : null;
    // The app service stops the job at the requested duration; the recorder runs until then.
    const rec = await record(held ?? made, {
      durationMs: Infinity,
      clock: 'wall',
      depth,
      batchIntervalMs: cfg.store.batch_interval,
      busyGiveUpMs: cfg.store.busy_give_up,
      busyBufferBytes: cfg.store.busy_buffer_mb * 2 ** 20,
      meta: { origin: 'ui' },
      onWarning: onError,
      onNotice,
    });
    // Not awaited: a live source starts only once subscribed, which may take long (or forever, offline); the job
    // must be stoppable meanwhile. A source that cannot start ends the recording, and the job with it (`ended`).
    held?.release(); // the recorder listens now: what arrived while subscribing (the first snapshot) goes to it
    rec.start().catch(() => {});
    const ended = rec.finished.then(() => undefined);
    return {
      sessionId: rec.sessionId,
      messages: () => rec.progress().messages,
      gaps: () => rec.progress().gaps,
      ended,
      // What ended the recording badly (a write error, a source that failed) is the job's error: shown once, in
      // the Collect panel, by the app service.
      stop: async () => {
        const r = await rec.stop();
        if (r.error) throw r.error;
      },
    };
  };
}

/**
 * Starts a live source held (its data kept for the recorder) and waits for the exchange's first answer: accepted,
 * or not reachable (a reconnect began; the recorder goes on waiting) give the held source; a refusal is thrown.
 */
async function startLive(
  source: BybitSource,
  onError: (m: string) => void,
  onNotice: (m: string) => void,
): Promise<HeldSource> {
  const held = new HeldSource(source);
  held.on('warning', onError);
  held.on('notice', onNotice);
  let unreachable: (reason: string) => void = () => {};
  const stop = new Promise<string>((r) => (unreachable = r));
  const onHealth = (h: FeedHealth) => {
    if (h.state === 'reconnecting') unreachable('reconnecting');
  };
  source.on('health', onHealth);
  try {
    await awaitSubscribed([held], Infinity, stop);
  } finally {
    source.off('health', onHealth);
    held.off('warning', onError);
    held.off('notice', onNotice);
  }
  const refused = source.refusal();
  if (refused) {
    await source.stop();
    throw refused;
  }
  return held;
}
