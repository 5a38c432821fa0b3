// Is the replayed session the model's own training data on another clock? A copy of a training session (same
// fingerprint) or the simulator's same random seed is the same market path, wherever its timestamps lie: the
// training span is then mapped onto the replayed session's clock, so in-sample decisions are counted there too.
import { provablyOtherData, sameData, sessionIdentity, type DataIdentity } from '../model/dataIdentity.ts';
import type { Db } from '../store/db.ts';

/** The training session the replayed one repeats, and the shift between their clocks (replayed − training, ms). */
export interface SameDataMatch {
  reason: 'fingerprint' | 'seed';
  /** The training session's id in the model's training database. */
  training_session: number;
  source: string;
  seed: number | null;
  offset_ms: number;
}

/** The first training session (of `data`, the model's metadata training.data) that the session `here` repeats. */
export function sameDataAs(
  here: DataIdentity | null,
  data: readonly DataIdentity[] | undefined,
): SameDataMatch | null {
  if (!data || data.length === 0 || !here) return null;
  for (const d of data) {
    const reason = sameData(here, d);
    if (reason)
      return {
        reason,
        training_session: d.session,
        source: d.source,
        seed: d.seed,
        offset_ms: Number.isFinite(here.first_recv_ts - d.first_recv_ts)
          ? here.first_recv_ts - d.first_recv_ts
          : 0,
      };
  }
  return null;
}

/**
 * Whether a decision's time inside the training span makes it in-sample for these sessions (their identities, null
 * for one that is not there): false only when every session is provably other data than every training session
 * (simulated under other random seeds), true when the model's metadata does not say what it trained on (older models:
 * time is all there is to compare).
 */
export function timeOverlapCounts(
  sessions: readonly (DataIdentity | null)[],
  data: readonly DataIdentity[] | undefined,
): boolean {
  if (!data || data.length === 0 || sessions.length === 0) return true;
  return !sessions.every((here) => here !== null && data.every((d) => provablyOtherData(here, d)));
}

/** timeOverlapCounts of sessions stored in `db`. */
export function storedTimeOverlapCounts(
  db: Db,
  sessionIds: readonly number[],
  data: readonly DataIdentity[] | undefined,
): boolean {
  return timeOverlapCounts(
    sessionIds.map((id) => sessionIdentity(db, id)),
    data,
  );
}

/** Words for reports: why this session counts as the model's training data. */
export function sameDataNote(m: SameDataMatch): string {
  const why =
    m.reason === 'seed'
      ? `the simulator's random seed ${m.seed} of the model's training session ${m.training_session}`
      : `the same data as the model's training session ${m.training_session}`;
  return m.offset_ms === 0
    ? `(this session is ${why})`
    : `(this session is ${why}, on a clock shifted by ${formatShift(m.offset_ms)})`;
}

function formatShift(ms: number): string {
  const a = Math.abs(ms);
  const sign = ms < 0 ? '−' : '+';
  if (a >= 86_400_000) return `${sign}${(a / 86_400_000).toFixed(1)} d`;
  if (a >= 3_600_000) return `${sign}${(a / 3_600_000).toFixed(1)} h`;
  return `${sign}${Math.round(a / 1000)} s`;
}
