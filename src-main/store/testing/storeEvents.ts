// Test fixture: stores a stream of events (e.g. features/testing/syntheticMarket's) as one closed session of a
// real SQLite file, through the real SessionWriter.
import type { Db } from '../db.ts';
import type { StoredEvent } from '../sessionReader.ts';
import { SessionWriter, type SessionWriterOptions } from '../sessionWriter.ts';
import { createSession } from '../sessions.ts';

/** A `sim` BTCUSDT linear session (depth 50, tick 0.1) started at `startedAt`, ended at `endedAt`; returns its id. */
export function storeEvents(
  db: Db,
  events: Iterable<StoredEvent>,
  o: { startedAt: number; endedAt: number; writer?: Omit<SessionWriterOptions, 'now'> },
): number {
  const sid = createSession(db, {
    source: 'sim',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: o.startedAt,
  });
  const w = new SessionWriter(db, sid, { ...o.writer, now: () => o.startedAt });
  for (const ev of events) {
    if (ev.kind === 'gap') w.writeGap(ev.gap);
    else w.writeMessage(ev);
  }
  w.close(o.endedAt);
  return sid;
}
