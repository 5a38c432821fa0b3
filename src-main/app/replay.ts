// Replay adapter: a stored session as the live screen's market source, at the chosen speed.
import type { MarketSource } from '../market/source.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import type { Db } from '../store/db.ts';

export function makeReplaySource(db: Db, sessionId: number, speed: number): MarketSource {
  return new ReplaySource({ db, sessionId, speed });
}
