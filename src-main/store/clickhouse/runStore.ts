// Runs (paper and backtest) in a ClickHouse store: the run tables of the SQLite schema (runs and every table with a
// run_id: predictions, signals, orders, fills, equity, run models, halts, features; and feature_sets), one ClickHouse
// MergeTree table each with the same columns, created from the SQLite schema itself so the two never drift (a column
// added by a later migration is added here with ALTER TABLE … ADD COLUMN on the next save).
//
// A run is recorded by the engine's SQLite recorder (a backtest over a ClickHouse store records into an in-memory
// database), then saved here whole: every row carries the save's number, and the save counts only once its marker
// row in run_saves is stored, so a save cut short or retried never shows half a run or a run twice (readers take the
// newest committed save of each run). Commands that read runs load them into an in-memory SQLite database and run
// the same code as on an SQLite store.
import { openDb, type Db } from '../db.ts';
import { createSession as createSqliteSession } from '../sessions.ts';
import { getSession, nextVersion } from './catalogue.ts';
import { addColumn, ensureTable } from './cluster.ts';
import { claimIds } from './idClaims.ts';
import {
  describeClickHouseError,
  insertRowBinary,
  int,
  lit,
  queryBytes,
  queryJson,
  type ClickHouseStore,
} from './connection.ts';
import { RowBinaryReader, RowBinaryWriter } from './rowBinary.ts';

type ColumnType = 'Int64' | 'Float64' | 'String' | 'Blob';

interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

interface TableSpec {
  name: string;
  columns: Column[];
  /** Whether rows belong to a run (a run_id column); feature_sets is the one shared table. */
  perRun: boolean;
  /** An INTEGER PRIMARY KEY `id` of rows of a run (fills): renumbered by the database rows are loaded into. */
  rowId: boolean;
}

const SAVES = 'run_saves';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** SQLite's declared type to the stored one (by affinity, as SQLite reads a declared type). */
function columnType(decl: string): ColumnType {
  const d = decl.toUpperCase();
  if (d.includes('INT')) return 'Int64';
  if (d.includes('REAL') || d.includes('FLOA') || d.includes('DOUB')) return 'Float64';
  if (d.includes('BLOB') || d === '') return 'Blob';
  return 'String';
}

/** The run tables of an SQLite database's schema, runs first and feature_sets before features (load order). */
export function runTables(db: Db): TableSpec[] {
  const names = (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all() as string[]
  ).filter((n) => IDENT.test(n));
  const specs: TableSpec[] = [];
  for (const name of names) {
    const info = db.prepare(`PRAGMA table_info(${name})`).all() as {
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }[];
    const perRun = info.some((c) => c.name === 'run_id');
    if (name !== 'runs' && name !== 'feature_sets' && !perRun) continue;
    if (!info.every((c) => IDENT.test(c.name))) continue;
    const columns = info.map((c) => ({
      name: c.name,
      type: columnType(c.type),
      nullable: c.notnull === 0 && c.pk === 0,
    }));
    const rowId =
      name !== 'runs' && info.some((c) => c.name === 'id' && c.pk === 1 && columnType(c.type) === 'Int64');
    specs.push({ name, columns, perRun, rowId });
  }
  const rank = (t: TableSpec) => (t.name === 'runs' ? 0 : t.name === 'feature_sets' ? 1 : 2);
  return specs.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function chType(c: Column): string {
  const t = c.type === 'Blob' ? 'String' : c.type;
  return c.nullable ? `Nullable(${t})` : t;
}

/** Creates the run tables (and adds columns a newer schema has) in the store. */
async function ensureTables(ch: ClickHouseStore, specs: readonly TableSpec[]): Promise<void> {
  const db = ch.url.database;
  await ensureTable(
    ch,
    `CREATE TABLE IF NOT EXISTS ${db}.${SAVES} (run_id UInt64, save UInt64, saved_at Int64)
     ENGINE = MergeTree() ORDER BY (run_id, save)`,
    'run_id',
  );
  for (const t of specs) {
    const cols = t.columns.map((c) => `${c.name} ${chType(c)}`).join(', ');
    const order = t.perRun ? 'run_id, _save, _row' : t.name === 'runs' ? 'id, _save' : '_save, _row';
    // On a cluster: a run's rows on one shard (tables of no run by save).
    await ensureTable(
      ch,
      `CREATE TABLE IF NOT EXISTS ${db}.${t.name} (${cols}, _save UInt64, _row UInt64)
       ENGINE = MergeTree() ORDER BY (${order})`,
      t.perRun ? 'run_id' : t.name === 'runs' ? 'id' : '_save',
    );
    const have = new Set(
      (
        await queryJson<{ name: string }>(
          ch,
          `SELECT name FROM system.columns WHERE database = ${lit(db)} AND table = ${lit(t.name)}`,
        )
      ).map((r) => r.name),
    );
    for (const c of t.columns) if (!have.has(c.name)) await addColumn(ch, t.name, `${c.name} ${chType(c)}`);
  }
}

function encode(w: RowBinaryWriter, c: Column, v: unknown, table: string): void {
  if (c.nullable) {
    if (v === null || v === undefined) {
      w.uint8(1);
      return;
    }
    w.uint8(0);
  } else if (v === null || v === undefined) {
    throw new Error(`${table}.${c.name} is null in a NOT NULL column`);
  }
  switch (c.type) {
    case 'Int64': {
      const n = typeof v === 'bigint' ? Number(v) : (v as number);
      if (typeof n !== 'number' || !Number.isSafeInteger(n))
        throw new Error(`${table}.${c.name} holds ${String(v)}, not an integer`);
      w.int64(n);
      return;
    }
    case 'Float64':
      if (typeof v !== 'number' && typeof v !== 'bigint')
        throw new Error(`${table}.${c.name} holds ${String(v)}, not a number`);
      w.float64(Number(v));
      return;
    case 'Blob':
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) w.bytes(v);
      else w.string(String(v));
      return;
    default:
      w.string(String(v));
  }
}

function decode(r: RowBinaryReader, c: Column): unknown {
  if (c.nullable && r.uint8() === 1) return null;
  switch (c.type) {
    case 'Int64':
      return r.int64();
    case 'Float64':
      return r.float64();
    case 'Blob':
      return r.bytes();
    default:
      return r.string();
  }
}

/**
 * Saves runs recorded in an SQLite database into the store under new ids (after the store's highest); returns
 * the new id of each. Sessions keep their ids (the runs replayed the store's own sessions).
 */
export async function saveRuns(
  ch: ClickHouseStore,
  db: Db,
  runIds: readonly number[] = db.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[],
): Promise<Map<number, number>> {
  const ids = new Map<number, number>();
  if (runIds.length === 0) return ids;
  try {
    const specs = runTables(db);
    await ensureTables(ch, specs);
    // Claimed (idClaims.ts): two runs saved at the same instant never share an id.
    let next = await claimIds(
      ch,
      'runs',
      runIds.length,
      `SELECT max(m) AS m FROM (SELECT max(run_id) AS m FROM ${ch.url.database}.${SAVES}
       UNION ALL SELECT toUInt64(max(id)) AS m FROM ${ch.url.database}.runs)`,
    );
    for (const id of runIds) ids.set(id, next++);
    for (const [local, remote] of ids) await withRetry(() => saveRun(ch, db, specs, local, remote));
    return ids;
  } catch (e) {
    throw describeClickHouseError(ch.name, e);
  }
}

/**
 * Retries a failed save with backoff for up to 30 s. Each attempt is a new save number: rows of an attempt whose
 * marker never got stored are never read, so a retry after a lost answer cannot show a row twice.
 */
async function withRetry(f: () => Promise<void>, giveUpMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() - t0 >= giveUpMs) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** One attempt at saving one run: every table's rows, then the marker. */
async function saveRun(
  ch: ClickHouseStore,
  db: Db,
  specs: readonly TableSpec[],
  local: number,
  remote: number,
): Promise<void> {
  const save = nextVersion();
  for (const t of specs) {
    if (t.name === 'feature_sets') continue;
    const rows = db
      .prepare(`SELECT * FROM ${t.name} WHERE ${t.perRun ? 'run_id' : 'id'} = ?`)
      .all(local) as Record<string, unknown>[];
    if (rows.length === 0) continue;
    const w = new RowBinaryWriter();
    rows.forEach((row, i) => {
      for (const c of t.columns) {
        const v =
          (t.perRun && c.name === 'run_id') || (t.name === 'runs' && c.name === 'id') ? remote : row[c.name];
        encode(w, c, v, t.name);
      }
      w.uint64(save);
      w.uint64(i);
    });
    const cols = [...t.columns.map((c) => c.name), '_save', '_row'].join(', ');
    await insertRowBinary(ch, `${ch.url.database}.${t.name}`, cols, w.toBuffer());
  }
  const fs = specs.find((t) => t.name === 'feature_sets');
  if (fs) {
    const rows = db.prepare('SELECT * FROM feature_sets').all() as Record<string, unknown>[];
    if (rows.length > 0) {
      const w = new RowBinaryWriter();
      rows.forEach((row, i) => {
        for (const c of fs.columns) encode(w, c, row[c.name], 'feature_sets');
        w.uint64(save);
        w.uint64(i);
      });
      const cols = [...fs.columns.map((c) => c.name), '_save', '_row'].join(', ');
      await insertRowBinary(ch, `${ch.url.database}.feature_sets`, cols, w.toBuffer());
    }
  }
  // The marker last: the run is visible from here on.
  const w = new RowBinaryWriter();
  w.uint64(remote);
  w.uint64(save);
  w.int64(Date.now());
  await insertRowBinary(ch, `${ch.url.database}.${SAVES}`, 'run_id, save, saved_at', w.toBuffer());
}

export interface RunsCopyOptions {
  /** Only these runs (default: all). */
  runIds?: readonly number[];
  /** Only the runs table (listing runs needs nothing else). */
  runsOnly?: boolean;
}

/** Whether the store has ever had runs saved in it. */
async function hasRuns(ch: ClickHouseStore): Promise<boolean> {
  const [r] = await queryJson<{ n: string }>(
    ch,
    `SELECT count() AS n FROM system.tables WHERE database = ${lit(ch.url.database)} AND name = ${lit(SAVES)}`,
  );
  return Number(r.n) > 0;
}

/**
 * An in-memory SQLite database holding the store's committed runs (the newest save of each) and, for the sessions
 * they replayed, the store's session rows with their counters (no market data): the commands that read runs
 * (runs, runs show, runs report) work on it unchanged. The caller closes it.
 */
export async function openRunsCopy(ch: ClickHouseStore, opts: RunsCopyOptions = {}): Promise<Db> {
  const db = openDb(':memory:');
  // A read-only working copy: runs of sessions since deleted from the store load too.
  db.pragma('foreign_keys = OFF');
  try {
    if (!(await hasRuns(ch))) return db;
    const specs = runTables(db).filter((t) => !opts.runsOnly || t.name === 'runs');
    const have = new Set(
      (
        await queryJson<{ t: string; name: string }>(
          ch,
          `SELECT table AS t, name FROM system.columns WHERE database = ${lit(ch.url.database)}`,
        )
      ).map((r) => `${r.t}.${r.name}`),
    );
    const only = opts.runIds ? ` AND run_id IN (${opts.runIds.map(int).join(',') || '0'})` : '';
    // Every run's row (so a missing id is reported against all of them), the other tables of the selected runs only.
    const saves = (w: string) =>
      `SELECT toInt64(run_id), max(save) FROM ${ch.url.database}.${SAVES} WHERE 1${w} GROUP BY run_id`;
    const sessionIds = new Set<number>();
    for (const t of specs) {
      if (!have.has(`${t.name}.${t.perRun ? 'run_id' : '_save'}`)) continue;
      // Columns the store lacks (saved by an older L2 Desk) take the SQLite default.
      const cols = t.columns.filter((c) => have.has(`${t.name}.${c.name}`) && !(t.rowId && c.name === 'id'));
      const list = cols.map((c) => c.name).join(', ');
      const where =
        t.name === 'runs'
          ? `(id, _save) IN (${saves('')})`
          : t.perRun
            ? `(run_id, _save) IN (${saves(only)})`
            : `_save IN (SELECT save FROM ${ch.url.database}.${SAVES})`;
      const order =
        t.name === 'runs'
          ? 'id'
          : t.perRun
            ? 'run_id, _row'
            : `${cols[0].name}, _save DESC LIMIT 1 BY ${cols[0].name}`;
      const body = await queryBytes(
        ch,
        `SELECT ${list} FROM ${ch.url.database}.${t.name} WHERE ${where} ORDER BY ${order} FORMAT RowBinary`,
      );
      const r = new RowBinaryReader(body);
      const ins = db.prepare(
        `INSERT OR IGNORE INTO ${t.name} (${list}) VALUES (${cols.map(() => '?').join(', ')})`,
      );
      const rows: unknown[][] = [];
      while (!r.done) rows.push(cols.map((c) => decode(r, c)));
      // The sessions of the selected runs (a report names its session), as stand-ins without market data.
      if (t.name === 'runs' && opts.runIds) {
        const at = cols.findIndex((c) => c.name === 'session_id');
        const idAt = cols.findIndex((c) => c.name === 'id');
        for (const row of rows)
          if (at >= 0 && row[at] !== null && opts.runIds.includes(row[idAt] as number))
            sessionIds.add(row[at] as number);
        await standInSessions(ch, db, [...sessionIds]);
      }
      db.transaction(() => {
        for (const row of rows) ins.run(...row);
      })();
    }
    return db;
  } catch (e) {
    db.close();
    throw describeClickHouseError(ch.name, e);
  }
}

/**
 * The store's session rows (fields and counters, no market data) under their own ids: the runs recorded in (or
 * loaded into) an SQLite database refer to them.
 */
export async function standInSessions(ch: ClickHouseStore, db: Db, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    // Already there (a copy of the session with its data).
    if (db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(id)) continue;
    const s = await getSession(ch, id);
    // A session since deleted from the store: the run keeps its id, without a session to name.
    if (!s) continue;
    const created = createSqliteSession(db, { ...s });
    db.prepare(
      `UPDATE sessions SET id = ?, ended_at = ?, book_messages = ?, trade_messages = ?, trades = ?, gaps = ?,
       first_recv_ts = ?, last_recv_ts = ? WHERE id = ?`,
    ).run(
      id,
      s.endedAt,
      s.bookMessages,
      s.tradeMessages,
      s.trades,
      s.gaps,
      s.firstRecvTs,
      s.lastRecvTs,
      created,
    );
  }
}
