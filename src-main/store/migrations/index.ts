// Every schema migration, in one explicit list (static imports, so bundlers and tsx see them all).
// TO ADD A MIGRATION: create `NNN_name.ts` beside this file exporting `version`, `name` and `up` (SQL),
// then append one `import * as mNNN from './NNN_name.ts';` and `mNNN,` to the list below.
// Version ranges: 1-99 store, 100-199 features/models, 200-299 trading/runs. Never edit a released
// migration: add a new one. openDb applies every listed migration the database lacks (each in its own
// transaction, in version order) and refuses a database holding a version this list does not know.
import type { Migration } from './types.ts';
import * as m001 from './001_market_data.ts';
import * as m100 from './100_features.ts';
import * as m110 from './110_models.ts';
import * as m200 from './200_trading.ts';
import * as m210 from './210_run_models.ts';
import * as m220 from './220_order_mids.ts';
import * as m240 from './240_session_seed.ts';
import * as m250 from './250_run_halts.ts';
import * as m260 from './260_store_v2.ts';
import * as m270 from './270_feature_cache.ts';

export type { Migration };

export const MIGRATIONS: readonly Migration[] = [
  m001,
  m100,
  m110,
  m200,
  m210,
  m220,
  m240,
  m250,
  m260,
  m270,
  // append new migrations here
];
