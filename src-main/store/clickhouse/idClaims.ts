// New ids in a ClickHouse store (sessions, runs, models, decisions). ClickHouse has no transactions or sequences,
// and "highest + 1" alone lets two writers that read the same highest id take the same one: two collectors
// starting together would then write one session's rows into another's. So an id block is claimed: the writer
// stores a claim (its range and a random token) and reads back every claim overlapping it. It wins only if its own
// is the only one there. Two winners are impossible: each read comes after its own insert, so the later of the two
// reads sees the other's claim. Two losers both retry, after a random pause, above every claim stored by then.
import { randomUUID } from 'node:crypto';
import { ensureTable } from './cluster.ts';
import { int, insertJson, lit, queryJson, type ClickHouseStore } from './connection.ts';

export const ID_CLAIMS_DDL = (db: string): string => `CREATE TABLE IF NOT EXISTS ${db}.id_claims (
    kind String,
    first_id UInt64,
    last_id UInt64,
    token String,
    claimed_at Int64
  ) ENGINE = MergeTree() ORDER BY (kind, first_id)`;

export interface ClaimOptions {
  /** Attempts before giving up (each lost attempt means another writer claimed at the same instant). */
  attempts?: number;
  /** Upper bound of the random pause after a lost attempt (ms), growing with each attempt. */
  pauseMs?: number;
}

/**
 * Claims `count` consecutive new ids of `kind` above the store's highest (`highestSql`: a query of one row whose
 * column `m` is the highest id in use) and above every earlier claim; returns the first.
 */
export async function claimIds(
  store: ClickHouseStore,
  kind: string,
  count: number,
  highestSql: string,
  opts: ClaimOptions = {},
): Promise<number> {
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new Error(`claimIds: bad count ${count}`);
  const table = store.table('id_claims');
  await ensureTable(store, ID_CLAIMS_DDL(store.url.database), 'first_id');
  const attempts = opts.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    // (New names: an alias equal to the column it converts is a cyclic alias to older servers.)
    const [r] = await queryJson<{ top: string }>(
      store,
      `SELECT max(c) AS top FROM (SELECT toUInt64(m) AS c FROM (${highestSql})
       UNION ALL SELECT toUInt64(max(last_id)) AS c FROM ${table} WHERE kind = ${lit(kind)})`,
    );
    const first = Number(r?.top ?? 0) + 1;
    const last = first + count - 1;
    const token = randomUUID();
    await insertJson(store, table, [{ kind, first_id: first, last_id: last, token, claimed_at: Date.now() }]);
    const [other] = await queryJson<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${table}
       WHERE kind = ${lit(kind)} AND first_id <= ${int(last)} AND last_id >= ${int(first)} AND token != ${lit(token)}`,
    );
    if (Number(other?.n ?? 0) === 0) return first;
    if (attempt >= attempts)
      throw new Error(
        `could not take a new ${kind} id after ${attempts} attempts: other writers kept taking the same ones`,
      );
    const pause = Math.random() * (opts.pauseMs ?? 50) * attempt;
    await new Promise((res) => setTimeout(res, pause));
  }
}
