// What training, `predictions` and `diagnose` read, whatever the store. Their worker reads an SQLite file
// synchronously: over an SQLite store that is the file itself (its feature cache and model registry live in it);
// over a ClickHouse store it is a temporary file of the sessions' records, beside the sessions' rows read from the
// store's feature cache or built straight from the store (clickhouse/trainingCopy.ts), and a model is registered in
// the store's registry. The commands take a TrainingData and never ask which store it came from.
import type { NewModel } from '../model/modelRegistry.ts';
import { isClickHouseUrl } from './clickhouse/url.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import type { CopyStep, StoreRowsParams } from './clickhouse/trainingCopy.ts';
import type { StoreCheckReport } from './sessions.ts';

/** How a ClickHouse store's feature cache served the sessions. */
export interface StoreCacheUse {
  /** Sessions whose rows came from the store's feature cache. */
  read: number[];
  /** Sessions whose rows were built from the store's raw data. */
  built: number[];
  /** Of those, the closed ones whose rows were stored in the store's cache (`store: true`). */
  stored: number[];
  /** Why storing some rows failed (they were still used: the cache only saves time); null when none failed. */
  storeError: string | null;
}

export interface TrainingData {
  /** The store as the user named it, any password masked. */
  readonly storeName: string;
  /** The SQLite file the trainer reads. */
  readonly file: string;
  /** The sessions to learn from; as given over an SQLite file (the trainer applies its rule to an empty list). */
  readonly sessionIds: number[];
  /** The sessions' rows when they come from the store rather than from `file`. */
  readonly storeFeatures?: StoreFeatures;
  /** A ClickHouse store's feature cache use; null over an SQLite file (its cache is the trainer's, in the file). */
  readonly storeCache: StoreCacheUse | null;
  /** The store's own check, when asked for (`check`) and the file is not the store (else check the file). */
  readonly storeReport?: StoreCheckReport;
  /** Registers a trained model in the store; absent when the trainer registers it in `file` itself. */
  readonly registerModel?: (m: NewModel) => Promise<number>;
  /** Deletes what was made for this read (nothing over an SQLite file). */
  dispose(): void;
}

export interface TrainingDataOptions {
  /** Called as each session's rows are read from a ClickHouse store (with the store's name, for messages). */
  onStep?: (step: CopyStep, storeName: string) => void;
  /** Aborting stops reading at the next page; nothing is left behind. */
  signal?: AbortSignal;
  /** Also run the store's own check (diagnose judges the sessions on it). */
  check?: boolean;
}

/**
 * The training data of `sessionIds` in store `db` for these feature parameters. An SQLite file is not opened here
 * (the caller opens it, and reports a missing or damaged one in its own terms); a ClickHouse store must exist.
 */
export async function openTrainingData(
  db: string,
  sessionIds: readonly number[],
  features: StoreRowsParams,
  o: TrainingDataOptions = {},
): Promise<TrainingData> {
  if (!isClickHouseUrl(db))
    return { storeName: db, file: db, sessionIds: [...sessionIds], storeCache: null, dispose: () => {} };
  // Loaded only here: training on an SQLite file never loads the ClickHouse client.
  const [{ openClickHouse }, { copyForTraining }, { checkClickHouse }, { registerModelIn }] =
    await Promise.all([
      import('./clickhouse/connection.ts'),
      import('./clickhouse/trainingCopy.ts'),
      import('./clickhouse/check.ts'),
      import('./clickhouse/modelStore.ts'),
    ]);
  const ch = await openClickHouse(db, { mustExist: true });
  try {
    const storeReport = o.check ? await checkClickHouse(ch) : undefined;
    const copy = await copyForTraining(ch, sessionIds, features, {
      signal: o.signal,
      onStep: o.onStep && ((st) => o.onStep?.(st, ch.name)),
    });
    return {
      storeName: ch.name,
      file: copy.file,
      sessionIds: copy.sessionIds,
      storeFeatures: copy.storeFeatures,
      storeCache: {
        read: copy.fromCache,
        built: copy.built,
        stored: copy.stored,
        storeError: copy.storeError,
      },
      storeReport,
      // A connection of its own: training takes minutes, longer than an idle connection should be held.
      registerModel: async (m) => {
        const store = await openClickHouse(db, { mustExist: true });
        try {
          return await registerModelIn(store, m);
        } finally {
          await store.close();
        }
      },
      dispose: copy.dispose,
    };
  } finally {
    await ch.close();
  }
}
