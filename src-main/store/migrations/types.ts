// The shape of one numbered schema migration (see ./index.ts for how they are registered).

export interface Migration {
  /** Unique version number: 1-99 store, 100-199 features/models, 200-299 trading/runs. */
  version: number;
  /** Short snake_case name, recorded in schema_migrations. */
  name: string;
  /** SQL run once, inside a transaction, when the database is below this version. */
  up: string;
}
