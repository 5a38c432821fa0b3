// Which store the desktop app opens. Its SQLite file lives in the app's own data folder (a relative `db` from a config
// file would land wherever the app happened to be started), unless L2DESK_DB names an absolute path; a ClickHouse
// store (`db: clickhouse://HOST:PORT/DATABASE` in the config file, or in L2DESK_DB) is a server, not a path, and is
// used as given.
import path from 'node:path';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';

export function appDb(configured: string, env: string | undefined, userData: string): string {
  const fromEnv = env?.trim() ?? '';
  if (fromEnv && (path.isAbsolute(fromEnv) || isClickHouseUrl(fromEnv))) return fromEnv;
  if (isClickHouseUrl(configured)) return configured;
  return path.join(userData, 'l2desk.db');
}
