// The shape of one numbered schema migration (see ./index.ts for how they are registered).
import type Database from 'better-sqlite3';

export interface Migration {
  /** Unique version number: 1-99 store, 100-199 features/models, 200-299 trading/runs. */
  version: number;
  /** Short snake_case name, recorded in schema_migrations. */
  name: string;
  /** SQL run once, inside a transaction, when the database is below this version. */
  up: string;
  /**
   * Data conversion too large for one transaction: after `up`, and on every open until it reports done, it runs
   * in its own short transactions, so a killed process resumes where it stopped (no loss, no duplicate).
   */
  convert?: DataConversion;
}

export interface DataConversion {
  /** True while rows remain to convert (cheap: a schema lookup). */
  pending(db: Database.Database): boolean;
  /** Converts everything left, reporting progress after each batch. */
  run(db: Database.Database, onProgress?: (p: ConversionProgress) => void): void;
}

export interface ConversionProgress {
  /** What is being converted, for a progress line ("book messages to store layout v2"). */
  what: string;
  done: number;
  /** Best estimate of the total (the session counters); done may pass it on a file whose counters are stale. */
  total: number;
  finished: boolean;
}
