// Collector adapter: runs a fresh source (bybit or sim) for one symbol/depth and records every message and gap into
// a new stored session through SessionRecorder (batched writer; the session keeps the tick the source finally inferred).
import type { Config } from '../../src-shared/config.ts';
import { createSource } from '../market/createSource.ts';
import type { Db } from '../store/db.ts';
import { SessionRecorder } from '../store/sessionRecorder.ts';
import type { Collector } from './ports.ts';

export function makeCollector(config: Config, db: Db): Collector {
  return async ({ symbol, depth, source, onError, onNotice }) => {
    const cfg: Config = { ...config, symbol, depth, source };
    // The app service stops the job at the requested duration; the recorder runs until then.
    const rec = new SessionRecorder(db, createSource(cfg), {
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
