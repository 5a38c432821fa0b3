// What a stored session *is*, independent of its id and clock: its source, the simulator's random seed, and a
// fingerprint of its first messages with times relative to the first one. Stored in a model's metadata for each
// training session, it lets a backtest recognise the model's own training data even when the data was copied,
// re-imported or re-simulated with shifted timestamps (`--seed N` again later), where comparing times cannot.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { getSession, type SessionInfo } from '../store/sessions.ts';

/** Messages hashed: enough to tell any two real or simulated paths apart, cheap to read. */
export const FINGERPRINT_MESSAGES = 2000;

export interface DataIdentity {
  /** The session id in the training database (informational: ids are per database). */
  session: number;
  source: string;
  symbol: string;
  /** The simulator's random seed; null for recorded or imported data. */
  seed: number | null;
  /** sha256 (hex, 32 chars) of the first FINGERPRINT_MESSAGES messages, exchange times relative to the first. */
  fingerprint: string;
  /** Receive time of the first message (ms): maps the training span onto a copy of this data on another clock. */
  first_recv_ts: number;
}

/**
 * The fingerprint and first receive time of a session: book messages (type and levels) and trades (side, price,
 * size), each with its exchange time minus the first message's. Update ids, sequence numbers and trade ids are left
 * out: a re-import or another recording of the same messages may number them differently.
 */
export function sessionFingerprint(
  db: Db,
  sessionId: number,
  messages = FINGERPRINT_MESSAGES,
): { fingerprint: string; firstRecvTs: number } {
  return fingerprintOf(readSession(db, sessionId), messages);
}

/** sessionFingerprint of a session's events in arrival order, whichever store they come from. */
export function fingerprintOf(
  events: Iterable<StoredEvent>,
  messages = FINGERPRINT_MESSAGES,
): { fingerprint: string; firstRecvTs: number } {
  const h = createHash('sha256');
  let t0 = NaN;
  let firstRecvTs = NaN;
  let n = 0;
  for (const e of events) {
    if (e.kind === 'gap') continue;
    if (Number.isNaN(t0)) {
      t0 = e.ts;
      firstRecvTs = e.recvTs;
    }
    const rel = e.ts - t0;
    if (e.kind === 'book') h.update(JSON.stringify([e.type, rel, e.bids, e.asks]));
    else h.update(JSON.stringify([rel, e.trades.map((t) => [t.side, t.price, t.size])]));
    h.update('\n');
    if (++n >= messages) break;
  }
  // An empty session has no identity to match (two empty sessions are not the same data).
  return { fingerprint: n === 0 ? '' : h.digest('hex').slice(0, 32), firstRecvTs };
}

/** The identity of a session from its record and fingerprintOf its events. */
export function identityOf(s: SessionInfo, fp: { fingerprint: string; firstRecvTs: number }): DataIdentity {
  return {
    session: s.id,
    source: s.source,
    symbol: s.symbol,
    seed: s.source === 'sim' ? s.seed : null,
    fingerprint: fp.fingerprint,
    first_recv_ts: fp.firstRecvTs,
  };
}

/** The identity of a stored session; null when there is no such session. */
export function sessionIdentity(db: Db, sessionId: number): DataIdentity | null {
  const s = getSession(db, sessionId);
  if (!s) return null;
  return identityOf(s, sessionFingerprint(db, sessionId));
}

/** Why two sessions hold the same market data, or null: the same fingerprint, or the simulator's same seed. */
export function sameData(a: DataIdentity, b: DataIdentity): 'fingerprint' | 'seed' | null {
  if (a.fingerprint !== '' && a.fingerprint === b.fingerprint) return 'fingerprint';
  if (
    a.source === 'sim' &&
    b.source === 'sim' &&
    a.seed !== null &&
    a.seed === b.seed &&
    a.symbol === b.symbol
  )
    return 'seed';
  return null;
}

/**
 * Whether two sessions are provably different market data: both simulated, with known random seeds, and not the same
 * data (other seeds or symbols, other fingerprints). Then a time overlap means nothing: two seeds are two independent
 * market paths, as unrelated as two days. Recorded data is never provably other by this test: two recordings of one
 * market at one time are the same market.
 */
export function provablyOtherData(a: DataIdentity, b: DataIdentity): boolean {
  if (sameData(a, b)) return false;
  return a.source === 'sim' && b.source === 'sim' && a.seed !== null && b.seed !== null;
}
