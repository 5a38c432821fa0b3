// Where `trade --paper` records and replays, whatever the store: the engine records a run row by row into an SQLite
// database, and live retraining reads the traded feed back from one. Over an SQLite file that is the file itself;
// over a ClickHouse store it is a working file saved into the store when the run ends (tradeClickHouse.ts). `trade`
// takes a TradeStore and never asks which store it came from.
import path from 'node:path';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import type { StoreRowsParams } from '../store/clickhouse/trainingCopy.ts';
import { openDb, type Db } from '../store/db.ts';
import { getSession, latestSession, type SessionInfo } from '../store/sessions.ts';

export interface StoredReplay {
  source: ReplaySource;
  session: SessionInfo;
  /** The session's dataset rows when live retraining cannot read them from `db` (a ClickHouse store). */
  rows: StoreFeatures | null;
}

export interface TradeStore {
  /** The store as the user named it, any password masked. */
  readonly name: string;
  /** The SQLite database the run (and the feed live retraining reads back) is recorded in. */
  readonly db: Db;
  /** Its path: live retraining's worker opens it. */
  readonly file: string;
  /** Where live retraining writes its models. */
  readonly modelsDir: string;
  /** False when the run is saved into the store at the end under a new id (the id recorded here means nothing). */
  readonly runIdsFinal: boolean;
  /** Where run `runId` is recorded, for the line that starts the run. */
  describeRun(runId: number): string;
  /** A replay of a stored session (the newest when `sessionId` is undefined), or null when there is no such one. */
  replay(
    sessionId: number | undefined,
    speed: number | 'max',
    features?: StoreRowsParams,
  ): Promise<StoredReplay | null>;
  /** Session `id` of `db` is the traded feed. */
  noteFeed(id: number): void;
  /** Saves the run and the feed (either may be absent) where the store keeps them; resolves with lines to print. */
  finish(runId: number | undefined, feedSession: number | null): Promise<string[]>;
  close(): Promise<void>;
}

/** `mustExist`: a replay needs the store; a live run records into a new file or database. */
export async function openTradeStore(
  db: string,
  mustExist: boolean,
  log: (line: string) => void,
): Promise<TradeStore> {
  if (isClickHouseUrl(db)) {
    // Loaded only here: a run on an SQLite file never loads the ClickHouse client.
    const { clickHouseTradeStore } = await import('./tradeClickHouse.ts');
    return clickHouseTradeStore(db, mustExist, log);
  }
  const file = openDb(db, { mustExist });
  return {
    name: db,
    db: file,
    file: db,
    modelsDir: path.join(path.dirname(path.resolve(db)), 'retrained'),
    runIdsFinal: true,
    describeRun: (runId) => `run ${runId} in ${db}`,
    replay: (sessionId, speed) =>
      Promise.resolve().then(() => {
        const id = sessionId ?? latestSession(file)?.id;
        const session = id === undefined ? undefined : getSession(file, id);
        if (!session) return null;
        return { source: new ReplaySource({ db: file, sessionId: session.id, speed }), session, rows: null };
      }),
    noteFeed: () => {},
    finish: () => Promise.resolve([]),
    close: () =>
      Promise.resolve().then(() => {
        file.close();
      }),
  };
}
