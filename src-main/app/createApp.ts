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
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';
import { AppService } from './appService.ts';
import { makeBacktester } from './backtester.ts';
import { makeCollector } from './collector.ts';
import { sessionQualityView } from './sessionQuality.ts';
import { enginePipelineFactory } from './enginePipeline.ts';
import { makeFeedRecorder } from './feedRecorder.ts';
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

export async function createApp(o: CreateAppOptions): Promise<AppContext> {
  const { config } = o;
  // The app's collector, trainer, backtester and feed recorder work on one SQLite file; a ClickHouse store is for the CLI.
  if (isClickHouseUrl(config.db))
    throw new Error(
      `db ${config.db}: the app (and l2desk web) keep sessions, runs and models in an SQLite file; set db to a file. ` +
        'A ClickHouse store is used from the command line (collect, import, book, db, export, backtest, train, ' +
        'predictions, diagnose, runs)',
    );
  const db = openDb(config.db, { nativeBinding: o.nativeBinding });
  // The service talks on its own bus; what transports forward to pages, and what commands answer, names no local
  // folder (see redactPaths.ts): the database by its role, any other file by its name.
  const serviceBus = new EventBus();
  const bus = new EventBus();
  const known = [config.db, path.resolve(config.db)].map((p) => ({ path: p, label: 'the database' }));
  // ... and speaks the app's words: no `l2desk …` advice a page cannot follow (guiWording.ts).
  const redact = (m: string) => guiWording(redactPaths(m, known));
  serviceBus.onAny((event, payload) => bus.emit(event, redactEvent(event, payload, redact)));
  const bundledDir = path.dirname(path.resolve(PROJECT_ROOT, config.model.path));
  let activeModel = path.resolve(PROJECT_ROOT, config.model.path);
  const makeSource = (spec: SourceSpec) =>
    spec.kind === 'replay'
      ? makeReplaySource(db, spec.sessionId, spec.speed)
      : createSource(
          spec.kind === 'bybit' && spec.symbol && spec.symbol !== config.symbol
            ? // Another symbol than the config's: its tick comes from the exchange, not the config's tick_size.
              { ...config, source: 'bybit', symbol: spec.symbol, tick_size: null }
            : { ...config, source: spec.kind },
        );
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
        onPruneError: (e) =>
          serviceBus.emit('app/error', {
            where: 'store',
            message: `deleting older recorded feed: ${e.message}`,
            t: Date.now(),
          }),
      }),
    }),
    collector: makeCollector(config, db),
    trainer: makeTrainer({ config, db }),
    backtester: makeBacktester({
      config,
      db,
      modelPath: () => activeModel,
      nativeBinding: o.nativeBinding,
    }),
    listSessions: () => listSessions(db).map((s) => ({ ...s })),
    sessionQuality: (id) => sessionQualityView(db, id),
    listModels: () =>
      listModels([bundledDir, o.modelsDir].filter((d, i, a) => a.indexOf(d) === i && fs.existsSync(d))),
    modelsDir: o.modelsDir,
    onModelAccepted: (p) => (activeModel = p),
    autoRetrainer: await makeAutoRetrainer({
      config,
      dbFile: config.db,
      modelsDir: o.modelsDir,
      championPath: activeModel,
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
    },
  };
}
