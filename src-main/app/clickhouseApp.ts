// The app over a ClickHouse store (config db = clickhouse://HOST:PORT/DATABASE), for a trader whose sessions live on
// a server. Collect records into the store; the session list, a session's quality, replays and Backtest read it (the
// backtest worker replays the session from the store page by page, as `l2desk backtest` does, and records its runs in
// a small temporary file). No raw data is copied to this machine: Retrain and a walk-forward Backtest's window models
// learn from rows that come from the store's feature cache or are built by replaying the session straight from the
// store (and stored in its cache when the session is closed), as `l2desk train` does; their workers get them beside a
// small file of session records. Backtest runs are saved back into the store, where `l2desk runs --db clickhouse://…`
// lists them. What stays on this machine: the models folder, walk-forward model folders beside it, and the traded
// feed kept for live retraining (retrain.feed_keep), a rolling working file there, which Retrain learns from too
// (copied into its temporary file beside the store's session records).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import type { QualityView } from '../../src-shared/ipc.ts';
import type { MarketSource } from '../market/source.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { getSession, listSessions } from '../store/clickhouse/catalogue.ts';
import type { ClickHouseStore } from '../store/clickhouse/connection.ts';
import { readSession, readSessionPages } from '../store/clickhouse/reader.ts';
import { clickHouseSessionStore } from '../store/clickhouse/sessionStore.ts';
import { saveRuns, standInSessions } from '../store/clickhouse/runStore.ts';
import { copySqliteSession } from '../store/clickhouse/mirror.ts';
import { copyForTraining, emptyTrainingCopy } from '../store/clickhouse/trainingCopy.ts';
import { openDb, type Db } from '../store/db.ts';
import { datasetParamsFromConfig } from '../model/featureCache.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import { listSessions as listSqliteSessions, type SessionInfo } from '../store/sessions.ts';
import { makeBacktester } from './backtester.ts';
import { makeCollector } from './collector.ts';
import { isFeedRecording } from './feedRecorder.ts';
import type { Backtester, Collector, Trainer } from './ports.ts';
import { qualityViewOf } from './sessionQuality.ts';
import { makeTrainer, noStoredData } from './trainer.ts';

/** The working file for the traded feed kept for live retraining, in the folder that holds the models folder. */
export const FEED_WORK_FILE = 'l2desk-feed.db';

export interface ClickHouseApp {
  readonly store: ClickHouseStore;
  /** The store's sessions as last read (the app service asks for them synchronously). */
  listSessions(): SessionInfo[];
  /** Reads the session list again; rejects (keeping the last list) when the server cannot be reached. */
  refreshSessions(): Promise<void>;
  replaySource(sessionId: number, speed: number): MarketSource;
  sessionQuality(sessionId: number): Promise<QualityView>;
  collector: Collector;
  /** Retrain over the store's sessions and, when none are named, the traded feed recorded in `feed` too. */
  trainer(feed: Db | null): Trainer;
  backtester(o: { modelPath: () => string; nativeBinding?: string; walkForwardDir: string }): Backtester;
  close(): Promise<void>;
}

export async function makeClickHouseApp(config: Config, ch: ClickHouseStore): Promise<ClickHouseApp> {
  let sessions = await listSessions(ch);
  // A stand-in for ReplaySource's SQLite handle, which it never reads when it is given the session's pages.
  const none = openDb(':memory:');
  const known = (id: number) => {
    const s = sessions.find((x) => x.id === id);
    if (!s) throw new Error(`no stored session #${id}`);
    return s;
  };
  const buildNote = (id: number, events: number) =>
    `building the features of session #${id} from ${ch.name} (${events} events read)`;
  return {
    store: ch,
    listSessions: () => sessions,
    refreshSessions: async () => {
      sessions = await listSessions(ch);
    },
    replaySource: (sessionId, speed) =>
      new ReplaySource({
        db: none,
        sessionId,
        speed,
        data: { session: known(sessionId), pages: (r) => readSessionPages(ch, sessionId, r) },
      }),
    sessionQuality: async (sessionId) => {
      const s = (await getSession(ch, sessionId)) ?? known(sessionId);
      return qualityViewOf(s, readSession(ch, s.id));
    },
    collector: makeCollector(config, clickHouseSessionStore(ch)),
    trainer: (feed) => async (a) => {
      // The same choice as over an SQLite file: the sessions named, else every stored session of the symbol, and
      // the app's own recorded feed, which lives in the local working file (as over a file, where it is stored).
      const named = a.sessionIds && a.sessionIds.length > 0;
      const ids = named
        ? (a.sessionIds as number[])
        : sessions.filter((s) => s.symbol === config.symbol && s.messages > 0).map((s) => s.id);
      const recorded =
        named || !feed
          ? []
          : listSqliteSessions(feed).filter(
              (s) => s.symbol === config.symbol && s.messages > 0 && isFeedRecording(s),
            );
      if (ids.length === 0 && recorded.length === 0) throw noStoredData(config);
      const note = (message: string) =>
        a.onProgress({ phase: 'dataset', fraction: 0.01, message, metrics: {} });
      // No raw data is copied: a closed session's features come from the store's cache when it holds them, the
      // others' are built straight from the store, and those built from closed sessions are stored in its cache.
      // (An empty list would make the copy pick the newest symbol's sessions: another rule than the app's.)
      const copy =
        ids.length === 0
          ? emptyTrainingCopy()
          : await copyForTraining(
              ch,
              ids,
              { ...datasetParamsFromConfig(config), store: true },
              {
                signal: a.signal,
                onStep: (st) => {
                  if ('fromCache' in st)
                    note(`session #${st.sessionId}: features from ${ch.name}'s feature cache`);
                  else if ('building' in st && !st.done) note(buildNote(st.sessionId, st.events));
                },
              },
            );
      try {
        const db = openDb(copy.file);
        let out: Awaited<ReturnType<Trainer>>;
        try {
          // The recorded feed goes in under new ids, after the store's (ids are per database; a model records what
          // it learnt from by content, not by id).
          const feedIds: number[] = [];
          for (const s of recorded) {
            note(`copying the recorded feed (session #${s.id} of this machine, ${s.messages} messages)`);
            feedIds.push(await copySqliteSession(feed as Db, s.id, db, a.signal));
          }
          a.signal?.throwIfAborted();
          out = await makeTrainer({ config, db, storeFeatures: copy.storeFeatures })({
            ...a,
            sessionIds: [...ids, ...feedIds],
          });
        } finally {
          db.close();
        }
        return out;
      } finally {
        copy.dispose();
      }
    },
    backtester: (o) => async (a) => {
      const id = known(a.sessionId).id;
      // The runs are the store's like the sessions: `l2desk runs --db clickhouse://…` shows them.
      const run = async (db: Db, storeFeatures?: StoreFeatures) => {
        const out = await makeBacktester({ config, db, ...o, clickhouse: ch.name, storeFeatures })(a);
        await saveRuns(ch, db).catch((e: Error) => {
          throw new Error(
            `the backtest ran, but saving its runs into ${ch.name} failed (${e.message}); run it again once the ` +
              'server answers',
          );
        });
        return out;
      };
      // A walk-forward run's window models learn from the session's rows (from the store's feature cache, or built
      // from the store and stored there); its file holds the session's record and the runs. The worker replays the
      // session from the store in both cases.
      if (a.walkForward) {
        const copy = await copyForTraining(
          ch,
          [id],
          { ...datasetParamsFromConfig(config), store: true },
          {
            signal: a.signal,
            onStep: (st) => {
              if ('building' in st && !st.done) a.onProgress(0, buildNote(st.sessionId, st.events));
            },
          },
        );
        try {
          const db = openDb(copy.file);
          try {
            return await run(db, copy.storeFeatures);
          } finally {
            db.close();
          }
        } finally {
          copy.dispose();
        }
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-backtest-'));
      try {
        const db = openDb(path.join(dir, 'runs.db'));
        try {
          await standInSessions(ch, db, [id]);
          return await run(db);
        } finally {
          db.close();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    close: async () => {
      none.close();
      await ch.close();
    },
  };
}
