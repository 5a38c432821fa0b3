// Composition root shared by Electron and web mode: opens the database, builds the adapters, the app service,
// the event bus and the validating dispatcher.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src-shared/config.ts';
import type { SourceSpec } from '../../src-shared/ipc.ts';
import { createDispatcher, type Dispatch } from '../bridge/dispatcher.ts';
import { EventBus } from '../bridge/eventBus.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { createSource } from '../market/createSource.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb, type Db } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { AppService } from './appService.ts';
import { makeBacktester } from './backtester.ts';
import { FEED_WORK_FILE, makeClickHouseApp } from './clickhouseApp.ts';
import { makeCollector } from './collector.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { sessionQualityView } from './sessionQuality.ts';
import { enginePipelineFactory } from './enginePipeline.ts';
import { makeFeedRecorder, type FeedRowsSlot } from './feedRecorder.ts';
import { guiWording } from './guiWording.ts';
import { listModels } from './modelsCatalog.ts';
import { redactEvent, redactHandlers, redactPaths } from './redactPaths.ts';
import { makeReplaySource } from './replay.ts';
import { makeAutoRetrainer, makeTrainer } from './trainer.ts';

export interface AppContext {
  service: AppService;
  bus: EventBus;
  dispatch: Dispatch;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  config: Config;
  /** Where retrained models go (created on demand). */
  modelsDir: string;
  /** better-sqlite3 binary built for Electron (packaged app); undefined under Node. */
  nativeBinding?: string;
}

/** The app's ClickHouse side: the store opened (created if missing) and its sessions read. */
async function clickHouseApp(config: Config) {
  const store = await openClickHouse(config.db);
  try {
    return await makeClickHouseApp(config, store);
  } catch (e) {
    await store.close();
    throw e;
  }
}

export async function createApp(o: CreateAppOptions): Promise<AppContext> {
  const { config } = o;
  // A ClickHouse store (clickhouse://HOST:PORT/DATABASE) holds the sessions and runs; the traded feed kept for live
  // retraining goes to a local working file beside the models folder (clickhouseApp.ts says why).
  const ch = isClickHouseUrl(config.db) ? await clickHouseApp(config) : null;
  const workDir = path.dirname(path.resolve(o.modelsDir));
  const dbFile = ch ? path.join(workDir, FEED_WORK_FILE) : config.db;
  let db: Db;
  try {
    if (ch) fs.mkdirSync(workDir, { recursive: true });
    db = openDb(dbFile, { nativeBinding: o.nativeBinding });
  } catch (e) {
    await ch?.close();
    throw e;
  }
  // The service talks on its own bus; what transports forward to pages, and what commands answer, names no local
  // folder (see redactPaths.ts): the database by its role, any other file by its name.
  const serviceBus = new EventBus();
  const bus = new EventBus();
  const known = ch
    ? [{ path: dbFile, label: 'the recorded-feed file' }]
    : [config.db, path.resolve(config.db)].map((p) => ({ path: p, label: 'the database' }));
  // ... and speaks the app's words: no `l2desk …` advice a page cannot follow (guiWording.ts).
  const redact = (m: string) => guiWording(redactPaths(m, known));
  serviceBus.onAny((event, payload) => bus.emit(event, redactEvent(event, payload, redact)));
  const bundledDir = path.dirname(path.resolve(PROJECT_ROOT, config.model.path));
  let activeModel = path.resolve(PROJECT_ROOT, config.model.path);
  const makeSource = (spec: SourceSpec) =>
    spec.kind === 'replay'
      ? ch
        ? ch.replaySource(spec.sessionId, spec.speed)
        : makeReplaySource(db, spec.sessionId, spec.speed)
      : createSource(
          spec.kind === 'bybit' && spec.symbol && spec.symbol !== config.symbol
            ? // Another symbol than the config's: its tick comes from the exchange, not the config's tick_size.
              { ...config, source: 'bybit', symbol: spec.symbol, tick_size: null }
            : { ...config, source: spec.kind },
        );
  // The traded feed's dataset rows, built as the feed is stored: live retraining learns from them.
  const feedRows: FeedRowsSlot = { current: null };
  const service = new AppService({
    config,
    bus: serviceBus,
    // Live retraining learns from stored data: the traded feed is stored on this one connection, like Collect's, so
    // the two writers never contend for the file (each batch is one synchronous transaction).
    pipeline: enginePipelineFactory({
      config,
      makeSource,
      modelPath: () => activeModel,
      recordFeed: makeFeedRecorder(config, db, {
        feedRows,
        onPruneError: (e) =>
          serviceBus.emit('app/error', {
            where: 'store',
            message: `deleting older recorded feed: ${e.message}`,
            t: Date.now(),
          }),
      }),
    }),
    collector: ch ? ch.collector : makeCollector(config, sqliteSessionStore(db, config.db)),
    trainer: ch ? ch.trainer(db) : makeTrainer({ config, db }),
    backtester: ch
      ? ch.backtester({
          modelPath: () => activeModel,
          nativeBinding: o.nativeBinding,
          walkForwardDir: workDir,
        })
      : makeBacktester({
          config,
          db,
          modelPath: () => activeModel,
          nativeBinding: o.nativeBinding,
        }),
    listSessions: ch
      ? () => ch.listSessions().map((s) => ({ ...s }))
      : () => listSessions(db).map((s) => ({ ...s })),
    refreshSessions: ch ? () => ch.refreshSessions() : undefined,
    // The file by its name only: a page never learns local folders (redactPaths.ts).
    store: ch
      ? { kind: 'clickhouse', name: ch.store.name }
      : { kind: 'sqlite', name: path.basename(config.db) },
    sessionQuality: ch ? (id) => ch.sessionQuality(id) : (id) => sessionQualityView(db, id),
    listModels: () =>
      listModels([bundledDir, o.modelsDir].filter((d, i, a) => a.indexOf(d) === i && fs.existsSync(d))),
    modelsDir: o.modelsDir,
    onModelAccepted: (p) => (activeModel = p),
    autoRetrainer: await makeAutoRetrainer({
      config,
      dbFile,
      modelsDir: o.modelsDir,
      championPath: activeModel,
      liveRows: () => feedRows.current?.() ?? null,
    }),
  });
  const dispatch = createDispatcher(redactHandlers(service.handlers(), redact));
  return {
    service,
    bus,
    dispatch,
    close: async () => {
      await service.close();
      db.close();
      await ch?.close();
    },
  };
}
