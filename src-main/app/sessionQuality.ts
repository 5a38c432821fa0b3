// The data-quality report of a stored session for the app (after Collect, and on request): the same accumulator as
// `l2desk db quality`, fed in slices so that a long session never holds the event loop for more than a moment (the
// paged session reader leaves the connection free between events).
import type { QualityView } from '../../src-shared/ipc.ts';
import { SessionQuality } from '../quality/sessionQuality.ts';
import type { Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { getSession, type SessionInfo } from '../store/sessions.ts';

/** Events replayed between two yields to the event loop. */
const SLICE = 20_000;

export async function sessionQualityView(db: Db, sessionId: number): Promise<QualityView> {
  const s = getSession(db, sessionId);
  if (!s) throw new Error(`no stored session #${sessionId}`);
  return qualityViewOf(s, readSession(db, s.id));
}

/** The report of a session from its events, as read from either store (a ClickHouse store's reader is async). */
export async function qualityViewOf(
  s: SessionInfo,
  events: Iterable<StoredEvent> | AsyncIterable<StoredEvent>,
): Promise<QualityView> {
  const q = new SessionQuality(s.tickSize);
  let n = 0;
  if (Symbol.iterator in events) {
    // Not `for await`: a microtask per event would slow a long SQLite session for nothing.
    for (const ev of events) {
      q.onEvent(ev);
      if (++n % SLICE === 0) await new Promise<void>((r) => setImmediate(r));
    }
  } else
    for await (const ev of events) {
      q.onEvent(ev);
      if (++n % SLICE === 0) await new Promise<void>((r) => setImmediate(r));
    }
  const r = q.report();
  return {
    sessionId: s.id,
    spanMs: r.spanMs,
    messages: r.bookMessages + r.tradeMessages,
    latencyP99Ms: r.latencyMs?.p99 ?? null,
    silences: r.silence.count,
    replayGaps: r.replayGaps,
    storedGaps: r.storedGaps,
    invalidShare: r.invalidShare,
    spreadP50Ticks: r.spreadTicks?.p50 ?? null,
    findings: r.findings,
  };
}
