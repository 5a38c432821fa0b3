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
import { AppService } from './appService.ts';
import { enginePipelineFactory } from './enginePipeline.ts';
import { makeFeedRecorder, type FeedRowsSlot } from './feedRecorder.ts';
import { guiWording } from './guiWording.ts';
import { listModels } from './modelsCatalog.ts';
import { redactEvent, redactHandlers, redactPaths } from './redactPaths.ts';
import { makeAutoRetrainer } from './trainer.ts';
import { openAppStore } from './appStore.ts';

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

export async function createApp(o: CreateAppOptions): Promise<AppContext> {
  const { config } = o;
  // An SQLite file or a ClickHouse store (appStore.ts); for the latter the traded feed kept for live retraining goes
  // to a local working file beside the models folder.
  const workDir = path.dirname(path.resolve(o.modelsDir));
  const store = await openAppStore(config, { workDir, nativeBinding: o.nativeBinding });
  const db = store.feedDb;
  const dbFile = store.feedFile;
  // The service talks on its own bus; what transports forward to pages, and what commands answer, names no local
  // folder (see redactPaths.ts): the database by its role, any other file by its name.
  const serviceBus = new EventBus();
  const bus = new EventBus();
  const known = store.knownPaths;
  // ... and speaks the app's words: no `l2desk …` advice a page cannot follow (guiWording.ts).
  const redact = (m: string) => guiWording(redactPaths(m, known));
  serviceBus.onAny((event, payload) => bus.emit(event, redactEvent(event, payload, redact)));
  const bundledDir = path.dirname(path.resolve(PROJECT_ROOT, config.model.path));
  let activeModel = path.resolve(PROJECT_ROOT, config.model.path);
  const makeSource = (spec: SourceSpec) =>
    spec.kind === 'replay'
      ? store.replaySource(spec.sessionId, spec.speed)
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
    collector: store.collector,
    trainer: store.trainer,
    backtester: store.backtester({
      modelPath: () => activeModel,
      nativeBinding: o.nativeBinding,
      walkForwardDir: workDir,
    }),
    listSessions: store.listSessions,
    refreshSessions: store.refreshSessions,
    // The file by its name only: a page never learns local folders (redactPaths.ts).
    store: store.view,
    sessionQuality: store.sessionQuality,
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
      await store.close();
    },
  };
}
