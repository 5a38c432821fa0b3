// `db check` of a ClickHouse store: the same report as for an SQLite file (tables, sessions, their counters and open
// gaps), counting one row per id so retried inserts do not show; sizes are the active parts on the server's disk.
import { checkedSession, type StoreCheckReport } from '../sessions.ts';
import { committed, listSessions } from './catalogue.ts';
import { systemTable } from './cluster.ts';
import { lit, queryJson, shardDownHint, type ClickHouseStore } from './connection.ts';

export type ClickHouseCheck = StoreCheckReport;

const TABLES = ['gaps', 'l2_updates', 'sessions', 'trades'] as const;

/**
 * Rows of a table readers see: committed batches' rows, one per id of each session. The book and trade tables count
 * through FINAL (copies of a row share its sorting key: see sessionCounts), in bounded memory on a store of any size;
 * gaps (every version kept, few rows) and sessions count distinct ids.
 */
function countSql(store: ClickHouseStore, t: (typeof TABLES)[number]): string {
  if (t === 'sessions') return `SELECT uniqExact(id) AS n FROM ${store.table(t)}`;
  if (t === 'gaps')
    return `SELECT sum(k) AS n FROM (SELECT uniqExact(id) AS k FROM ${committed(store, t)} WHERE id <= w GROUP BY session)`;
  return `SELECT count() AS n FROM ${committed(store, t, true)} WHERE id <= w`;
}

/** Runs every check it can; a failing query yields ok = false with the error, not an exception. */
export async function checkClickHouse(store: ClickHouseStore): Promise<ClickHouseCheck> {
  const errors: string[] = [];
  const attempt = async <T>(what: string, f: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      errors.push(
        `${what}: ${shardDownHint(store.name, ((e as Error).message ?? String(e)).split('\n')[0])}`,
      );
      return fallback;
    }
  };
  const tables: Record<string, number> = {};
  for (const t of TABLES) {
    tables[t] = await attempt(
      `count ${t}`,
      async () => {
        const [r] = await queryJson<{ n: string }>(store, countSql(store, t));
        return Number(r.n);
      },
      -1,
    );
  }
  const bytes = await attempt(
    'system.parts',
    async () => {
      const [r] = await queryJson<{ b: string }>(
        store,
        `SELECT sum(bytes_on_disk) AS b FROM ${systemTable(store, 'parts')} WHERE database = ${lit(store.url.database)} AND active`,
      );
      return Number(r?.b ?? 0);
    },
    0,
  );
  const open = await attempt(
    'gaps',
    async () =>
      new Map(
        (
          await queryJson<{ s: string; n: string }>(
            store,
            `SELECT session AS s, countIf(isNull(e)) AS n
             FROM (SELECT session, id, argMax(end_ts, version) AS e FROM ${committed(store, 'gaps')}
                   WHERE id <= w AND version <= w GROUP BY session, id)
             GROUP BY session`,
          )
        ).map((r) => [Number(r.s), Number(r.n)]),
      ),
    new Map<number, number>(),
  );
  const sessions = await attempt('sessions', () => listSessions(store), []);
  return {
    file: store.name,
    integrity: errors.length ? errors : ['ok'],
    ok: errors.length === 0,
    fileBytes: bytes,
    walBytes: 0,
    schemaVersions: [],
    tables,
    sessions: sessions.map((s) => checkedSession(s, s.gaps, open.get(s.id) ?? 0)),
  };
}
