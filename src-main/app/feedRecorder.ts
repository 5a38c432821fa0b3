// Stores the feed the app trades on (bybit or sim) as a session, one per pipeline start, so Retrain (and live
// retraining, retrain.every) find recent data without anyone pressing Collect. A bounded rolling store: about
// retrain.feed_keep of recorded feed is kept, newest first; older recorded sessions of the feed are deleted, and so is
// the head of the one being recorded once it alone spans more.
import type { Config } from '../../src-shared/config.ts';
import type { SourceSpec } from '../../src-shared/ipc.ts';
import type { MarketMessage } from '../../src-shared/market.ts';
import type { MarketSource } from '../market/source.ts';
import { LiveSessionRows } from '../model/liveRows.ts';
import { datasetParamsFromConfig } from '../model/featureCache.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import type { Db } from '../store/db.ts';
import { pruneRawDataGently } from '../store/retention.ts';
import { SessionRecorder, type WrittenEvent } from '../store/sessionRecorder.ts';
import { listSessions, type SessionInfo } from '../store/sessions.ts';

/** `meta.origin` of the sessions this recorder writes ('app (live retraining)': what older versions wrote). */
export const FEED_ORIGIN = 'app (live feed)';
const FEED_ORIGINS: readonly string[] = [FEED_ORIGIN, 'app (live retraining)'];
/** A long-running feed prunes older recordings this often too, not only when a feed starts. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Rows deleted per transaction: a large old session never holds the database (or this thread) for long. */
const DELETE_CHUNK = 5000;
const DAY_MS = 86_400_000;

export function isFeedRecording(s: Pick<SessionInfo, 'meta'>): boolean {
  return FEED_ORIGINS.includes(String(s.meta.origin));
}

/** What the live pipeline needs from a recording: stop it (flush + close the session) when the feed stops. */
export interface FeedRecording {
  readonly sessionId: number;
  /** Settles when the recording ends; `error` is set when writing failed (the feed itself keeps running). */
  readonly finished: Promise<{ error?: Error }>;
  stop(): Promise<unknown>;
  /** Stops it and deletes its session: the feed never started (a refused symbol), so nothing of it is kept. */
  discard?(): Promise<void>;
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

/**
 * Recorded feed sessions beyond the newest `keepMs` of data: walking from the newest, sessions are kept until their
 * data spans add up to `keepMs`; the older ones are returned. `running` (being written) is never returned. Data time,
 * not the wall clock: a simulator at 100x fills its quota a hundred times faster, and a stale database stays as is.
 */
export function feedSessionsToPrune(
  sessions: readonly SessionInfo[],
  keepMs: number,
  running?: number,
): number[] {
  const feed = sessions
    .filter(isFeedRecording)
    .sort((a, b) => (b.lastRecvTs ?? b.startedAt) - (a.lastRecvTs ?? a.startedAt) || b.id - a.id);
  const out: number[] = [];
  let kept = 0;
  for (const s of feed) {
    if (s.id !== running && kept >= keepMs) out.push(s.id);
    else kept += Math.max(0, (s.lastRecvTs ?? 0) - (s.firstRecvTs ?? s.lastRecvTs ?? 0));
  }
  return out;
}

/** Deletes a session's rows in small transactions, yielding between them, then the session itself. */
async function deleteSession(db: Db, id: number): Promise<void> {
  const tables = ['l2_updates', 'trades'];
  for (const t of tables) {
    const del = db.prepare(
      `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE session_id = ? LIMIT ${DELETE_CHUNK})`,
    );
    while (db.transaction(() => del.run(id).changes).immediate() >= DELETE_CHUNK)
      await new Promise((r) => setImmediate(r));
  }
  // What is left (gaps, findings, ...) goes by ON DELETE CASCADE; runs keep their results (session set to null).
  db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
}

/**
 * Keeps about `keepMs` of recorded feed: deletes the older recordings, and the head of the one being recorded once it
 * alone spans more (retention's checkpoint keeps the rest readable: store/pruneCheckpoint.ts), so an app trading for
 * weeks keeps a bounded file. Resolves with the deleted session ids.
 */
export async function pruneFeedRecordings(db: Db, keepMs: number, running?: number): Promise<number[]> {
  const sessions = listSessions(db);
  const ids = feedSessionsToPrune(sessions, keepMs, running);
  for (const id of ids) await deleteSession(db, id);
  const r = sessions.find((s) => s.id === running);
  // Data time, as below: the newest keepMs of what was received.
  if (r?.firstRecvTs != null && r.lastRecvTs != null && r.lastRecvTs - r.firstRecvTs > keepMs)
    await pruneRawDataGently(db, { days: keepMs / DAY_MS, now: r.lastRecvTs, sessionIds: [r.id] });
  return ids;
}

/** Where the feed being recorded offers its dataset rows to live retraining (null while none is recorded). */
export interface FeedRowsSlot {
  current: (() => StoreFeatures | null) | null;
}

/** Most messages held before the feed's tick size is known (a source that learns it from its first snapshot). */
const MAX_EARLY_MESSAGES = 10_000;

/**
 * The dataset rows of one recording, built from what its recorder wrote (model/liveRows.ts). Messages that came
 * before the tick size was known are held and replayed once it is; a later change of the tick (the stored session is
 * then read on the new one) or of anything else liveRows gives up on ends them.
 */
function recordingRows(config: Config, sessionId: () => number) {
  const params = datasetParamsFromConfig(config);
  let rows: LiveSessionRows | null = null;
  let early: MarketMessage[] = [];
  let broken = false;
  return {
    written(e: WrittenEvent): void {
      if (broken) return;
      if (e.kind === 'gap') {
        broken = true;
        rows?.gap(e.gap);
        return;
      }
      if (!e.tickSize) {
        early.push(e.message);
        if (early.length > MAX_EARLY_MESSAGES) broken = true;
        return;
      }
      if (!rows) {
        rows = new LiveSessionRows(sessionId(), e.tickSize, config.depth, params);
        for (const m of early) rows.message(m);
        early = [];
      } else if (e.tickSize !== rows.tickSize) rows.giveUp(`the tick size changed to ${e.tickSize}`);
      rows.message(e.message);
    },
    giveUp(): void {
      broken = true;
    },
    rows: (): StoreFeatures | null => (broken ? null : (rows?.rows() ?? null)),
  };
}

/**
 * Records every live feed (not a replay: that is a stored session already) unless retrain.feed_keep is 0 and live
 * retraining is off; undefined then. Live retraining keeps at least its retrain.window. With `feedRows`, the
 * recording's dataset rows are built as it is stored and offered there (live retraining learns from them instead of
 * replaying the recorded session each round).
 */
export function makeFeedRecorder(
  config: Config,
  db: Db,
  opts: { onPruneError?: (e: Error) => void; feedRows?: FeedRowsSlot } = {},
): FeedRecorderFactory | undefined {
  const r = config.retrain;
  if (!(r.feed_keep > 0) && r.every === null) return undefined;
  const keepMs = Math.max(r.feed_keep, r.every !== null ? r.window : 0);
  const prune = (running: number) =>
    pruneFeedRecordings(db, keepMs, running).catch((e: Error) => opts.onPruneError?.(e));
  return (source, spec) => {
    if (spec.kind === 'replay' || source.kind === 'replay') return null;
    const live =
      opts.feedRows && config.retrain.every !== null ? recordingRows(config, () => rec.sessionId) : null;
    const rec: SessionRecorder = new SessionRecorder(db, listenOnly(source), {
      durationMs: Infinity,
      clock: 'wall',
      depth: config.depth,
      batchIntervalMs: config.store.batch_interval,
      meta: { origin: FEED_ORIGIN },
      onWritten: live ? (e) => live.written(e) : undefined,
    });
    const slot = opts.feedRows;
    if (live && slot) {
      const offer = () => live.rows();
      slot.current = offer;
      // A write that failed leaves the stored session behind the rows; a stopped recording offers nothing more.
      void rec.finished.then((r) => {
        if (r.error) live.giveUp();
        if (slot.current === offer) slot.current = null;
      });
    }
    void prune(rec.sessionId);
    const timer = setInterval(() => void prune(rec.sessionId), PRUNE_EVERY_MS);
    timer.unref?.();
    void rec.finished.finally(() => clearInterval(timer));
    return {
      sessionId: rec.sessionId,
      finished: rec.finished,
      stop: () => rec.stop(),
      discard: async () => {
        await rec.stop();
        await deleteSession(db, rec.sessionId);
      },
    };
  };
}
