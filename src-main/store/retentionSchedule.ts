// Retention while recording: a collector that runs for weeks prunes its store as it goes (store.retention_days), not
// only when it starts, so the store stays bounded without a cron job. One prune at a time; a failed one is reported
// and tried again at the next turn, and never stops the recording. A store partitioned by day (ClickHouse) drops whole
// days only: pruning hourly must not rewrite a day of data each time.
import type { SessionStore, StorePruneResult } from './sessionStore.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** How often a store keeping `days` of data is pruned: hourly, or 24 times per retention window when it is shorter. */
export function retentionIntervalMs(days: number): number {
  return Math.min(HOUR_MS, Math.max(1000, (days * DAY_MS) / 24));
}

export interface RetentionScheduleOptions {
  /** Days of raw data to keep (> 0). */
  days: number;
  onPruned?: (r: StorePruneResult) => void;
  onError?: (e: Error) => void;
}

/** What a prune that deleted something says (collect's line, the app's Collect notice); null when it deleted nothing. */
export function prunedText(r: StorePruneResult, days: number): string | null {
  if (r.l2Deleted + r.tradesDeleted === 0) return null;
  return `retention: pruned ${r.l2Deleted} L2 updates and ${r.tradesDeleted} trades older than ${days} days`;
}

/** What a failed prune says: the cause, and that the recording goes on. */
export function pruneFailedText(e: unknown): string {
  return `retention: the prune failed (${e instanceof Error ? e.message : String(e)}); it is tried again later`;
}

export interface RetentionSchedule {
  /** Prunes now (once the one running, if any, has finished). */
  runNow(): Promise<void>;
  /** No more prunes; resolves once the one running, if any, has finished (a half-done prune is never abandoned). */
  stop(): Promise<void>;
}

export function scheduleRetention(store: SessionStore, o: RetentionScheduleOptions): RetentionSchedule {
  const interval = retentionIntervalMs(o.days);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const once = (): Promise<void> => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        o.onPruned?.(await store.prune({ days: o.days, now: Date.now(), wholeDays: true }));
      } catch (e) {
        o.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    });
    return running;
  };
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(() => void once().then(arm), interval);
    // The recording keeps the process alive; retention alone never does.
    timer.unref();
  };
  arm();
  return {
    runNow: once,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      return running;
    },
  };
}
