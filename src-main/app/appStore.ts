// The app's store behind one interface: what the app service's ports need (sessions, their replay and quality,
// Collect, Retrain, Backtest) and where the traded feed is recorded, over an SQLite file or a ClickHouse store
// (clickhouseApp.ts). createApp builds the app from an AppStore and never asks which store it is.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import type { MarketSource } from '../market/source.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb, type Db } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import type { AppServiceDeps } from './appService.ts';
import { makeBacktester } from './backtester.ts';
import { FEED_WORK_FILE, makeClickHouseApp } from './clickhouseApp.ts';
import { makeCollector } from './collector.ts';
import type { Backtester } from './ports.ts';
import { makeReplaySource } from './replay.ts';
import { sessionQualityView } from './sessionQuality.ts';
import { makeTrainer } from './trainer.ts';

export type AppStore = Pick<
  AppServiceDeps,
  'collector' | 'trainer' | 'listSessions' | 'refreshSessions' | 'sessionQuality'
> & {
  /** Where the traded feed is recorded (live retraining reads it back): the store's file, or a local working file. */
  readonly feedDb: Db;
  readonly feedFile: string;
  /** Local paths a page never sees, with the words it sees instead (redactPaths.ts). */
  readonly knownPaths: { path: string; label: string }[];
  /** The store as the app shows it: a file by its name only. */
  readonly view: NonNullable<AppServiceDeps['store']>;
  replaySource(sessionId: number, speed: number): MarketSource;
  backtester(o: { modelPath: () => string; nativeBinding?: string; walkForwardDir: string }): Backtester;
  close(): Promise<void>;
};

export interface OpenAppStoreOptions {
  /** A folder of the app's own (beside the models folder): a ClickHouse store's feed working file goes there. */
  workDir: string;
  /** better-sqlite3 binary built for Electron (packaged app); undefined under Node. */
  nativeBinding?: string;
}

/** The store `config.db` names: a ClickHouse address, or an SQLite file. */
export async function openAppStore(config: Config, o: OpenAppStoreOptions): Promise<AppStore> {
  return isClickHouseUrl(config.db) ? clickHouseAppStore(config, o) : sqliteAppStore(config, o);
}

function sqliteAppStore(config: Config, o: OpenAppStoreOptions): AppStore {
  const db = openDb(config.db, { nativeBinding: o.nativeBinding });
  return {
    feedDb: db,
    feedFile: config.db,
    knownPaths: [config.db, path.resolve(config.db)].map((p) => ({ path: p, label: 'the database' })),
    view: { kind: 'sqlite', name: path.basename(config.db) },
    listSessions: () => listSessions(db).map((s) => ({ ...s })),
    replaySource: (sessionId, speed) => makeReplaySource(db, sessionId, speed),
    sessionQuality: (id) => sessionQualityView(db, id),
    collector: makeCollector(config, sqliteSessionStore(db, config.db)),
    trainer: makeTrainer({ config, db }),
    backtester: (b) => makeBacktester({ config, db, modelPath: b.modelPath, nativeBinding: b.nativeBinding }),
    close: () =>
      Promise.resolve().then(() => {
        db.close();
      }),
  };
}

/**
 * A ClickHouse store holds the sessions and runs; the traded feed kept for live retraining goes to a local working
 * file beside the models folder (clickhouseApp.ts says why).
 */
async function clickHouseAppStore(config: Config, o: OpenAppStoreOptions): Promise<AppStore> {
  const store = await openClickHouse(config.db);
  const ch = await makeClickHouseApp(config, store).catch((e: unknown) =>
    store.close().then(() => Promise.reject(e)),
  );
  const feedFile = path.join(o.workDir, FEED_WORK_FILE);
  let db: Db;
  try {
    fs.mkdirSync(o.workDir, { recursive: true });
    db = openDb(feedFile, { nativeBinding: o.nativeBinding });
  } catch (e) {
    await ch.close();
    throw e;
  }
  return {
    feedDb: db,
    feedFile,
    knownPaths: [{ path: feedFile, label: 'the recorded-feed file' }],
    view: { kind: 'clickhouse', name: store.name },
    listSessions: () => ch.listSessions().map((s) => ({ ...s })),
    refreshSessions: () => ch.refreshSessions(),
    replaySource: (sessionId, speed) => ch.replaySource(sessionId, speed),
    sessionQuality: (id) => ch.sessionQuality(id),
    collector: ch.collector,
    trainer: ch.trainer(db),
    backtester: (b) => ch.backtester(b),
    close: async () => {
      db.close();
      await ch.close();
    },
  };
}
