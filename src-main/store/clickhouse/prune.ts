// `db prune` of a ClickHouse store: the SQLite retention rule (retention.ts) on the partitioned tables. Raw book
// updates and trades received more than `days` before `now` go, except that a session with data after the cutoff
// keeps the last snapshot before it and what follows (its later deltas build on it), that snapshot being written
// first at the cutoff when the book there is known (../pruneCheckpoint.ts). Whole days that hold nothing
// to keep are dropped as partitions (instant on any size); the rest goes through ALTER TABLE … DELETE mutations,
// which this waits for. Both are SQL that ClickHouse 18.16 and current servers accept. Gaps are kept, as in SQLite.
import { CheckpointFold, type CheckpointPlan } from '../pruneCheckpoint.ts';
import type { PruneResult } from '../retention.ts';
import { getSessionRecord } from './catalogue.ts';
import { alterRows, localName, systemTable } from './cluster.ts';
import {
  describeClickHouseError,
  insertRowBinary,
  int,
  lit,
  queryJson,
  type ClickHouseStore,
} from './connection.ts';
import { readSession } from './reader.ts';
import { RowBinaryWriter } from './rowBinary.ts';
import { L2_COLUMNS, writeBookRow } from './writer.ts';

const DAY_MS = 86_400_000;
const TABLES = ['l2_updates', 'trades'] as const;

export interface ClickHousePruneOptions {
  days: number;
  now: number;
  /** How long to wait for the delete mutations (ms). */
  mutationTimeoutMs?: number;
  /** Poll interval while waiting (ms). */
  pollMs?: number;
  /**
   * Whole day partitions only: the cutoff moves back to the start of its day (the server's, as the partitions are),
   * a session spanning it is cut at its first book message of that day, and no delete mutation runs (one rewrites
   * every part of the day it touches: hourly, on a store of months, that is most of the disk's work). Up to a day
   * more than `days` is kept. What a collector pruning as it records asks for.
   */
  wholeDays?: boolean;
}

export interface ClickHousePruneResult extends PruneResult {
  /** Day partitions dropped whole, per table (YYYYMMDD). */
  droppedPartitions: Record<string, number[]>;
}

/** Where a session's kept rows start: received at `ts`, and in that millisecond from row `id` on (0: all of it). */
export interface Bound {
  ts: number;
  id: number;
}

/** A checkpoint folded, not yet written, and the bound the session falls back to without it. */
export interface PendingCheckpoint {
  symbol: string;
  plan: CheckpointPlan;
  fallback: Bound;
}

/** Per session with data older than the cutoff: where its kept rows start, and the checkpoints that would start them. */
async function keepBounds(
  store: ClickHouseStore,
  cutoff: number,
  wholeDays: boolean,
): Promise<{ keep: Map<number, Bound>; pending: Map<number, PendingCheckpoint> }> {
  const old = await queryJson<{ s: string }>(
    store,
    `SELECT DISTINCT session AS s FROM (
       SELECT session FROM ${store.table('l2_updates')} WHERE recv_ts < ${int(cutoff)}
       UNION ALL SELECT session FROM ${store.table('trades')} WHERE recv_ts < ${int(cutoff)})`,
  );
  const out = new Map<number, Bound>();
  const pending = new Map<number, PendingCheckpoint>();
  if (old.length === 0) return { keep: out, pending };
  const ids = old.map((r) => int(Number(r.s))).join(',');
  // Sessions that also have newer book data keep the last snapshot before the cutoff, or a checkpoint after it.
  const rows = await queryJson<{ s: string; newer: string; has: string }>(
    store,
    `SELECT session AS s, countIf(recv_ts >= ${int(cutoff)}) AS newer,
            countIf(is_snapshot = 1 AND recv_ts < ${int(cutoff)}) AS has
     FROM ${store.table('l2_updates')} WHERE session IN (${ids}) GROUP BY session`,
  );
  for (const r of old) out.set(Number(r.s), { ts: cutoff, id: 0 });
  for (const r of rows) {
    if (!(Number(r.newer) > 0 && Number(r.has) > 0)) continue;
    const sid = Number(r.s);
    const cp = await planCheckpoint(store, sid, cutoff, wholeDays);
    if (cp.pending) pending.set(sid, cp.pending);
    out.set(sid, cp.bound);
  }
  return { keep: out, pending };
}

interface BookRowAt {
  id: number;
  recvTs: number;
  symbol: string;
}

/** One book row of session `sid` (`where` on recv_ts and id), the last or the first in arrival order. */
async function bookRow(
  store: ClickHouseStore,
  sid: number,
  where: string,
  last: boolean,
): Promise<BookRowAt | undefined> {
  const dir = last ? 'DESC' : 'ASC';
  const [r] = await queryJson<{ id: string; recv_ts: string; symbol: string }>(
    store,
    `SELECT id, recv_ts, symbol FROM ${store.table('l2_updates')} WHERE session = ${int(sid)} AND ${where}
     ORDER BY recv_ts ${dir}, id ${dir} LIMIT 1`,
  );
  return r && { id: Number(r.id), recvTs: Number(r.recv_ts), symbol: r.symbol };
}

/**
 * Folds retention's checkpoint of session `sid` (../pruneCheckpoint.ts): its last book row before the cutoff (or,
 * whole days, its first at or after it) as a snapshot of the whole book there. Without a known book there, the bound
 * is the last snapshot before that row.
 */
export async function planCheckpoint(
  store: ClickHouseStore,
  sid: number,
  cutoff: number,
  wholeDays: boolean,
): Promise<{ bound: Bound; pending?: PendingCheckpoint }> {
  // The row that becomes the session's first: its last book row before the cutoff, or (whole days) its first at or
  // after it, so that every row of the days before can go with their partitions.
  const last = wholeDays
    ? await bookRow(store, sid, `recv_ts >= ${int(cutoff)}`, false)
    : await bookRow(store, sid, `recv_ts < ${int(cutoff)}`, true);
  const upTo = last
    ? `(recv_ts < ${int(last.recvTs)} OR (recv_ts = ${int(last.recvTs)} AND id <= ${int(last.id)}))`
    : `recv_ts < ${int(cutoff)}`;
  const snap = await bookRow(store, sid, `is_snapshot = 1 AND ${upTo}`, true);
  if (!snap) return { bound: { ts: cutoff, id: 0 } };
  const kept = { bound: { ts: snap.recvTs, id: snap.id } };
  const session = await getSessionRecord(store, sid);
  if (!last || last.id <= snap.id || !session) return kept;
  const fold = new CheckpointFold(session.tickSize);
  let ok = true;
  for await (const ev of readSession(store, sid, { fromId: snap.id, toId: last.id }))
    if (!fold.step(ev)) {
      ok = false;
      break;
    }
  const plan = ok ? fold.plan(last.id, last.recvTs) : null;
  if (!plan) return kept;
  return {
    bound: { ts: plan.recvTs, id: plan.id },
    pending: { symbol: last.symbol, plan, fallback: kept.bound },
  };
}

/**
 * Writes a checkpoint: the row stored again as the snapshot, same key, so the reader (which takes a row's snapshot
 * copy first) and the table's merges keep it.
 */
export async function writeCheckpoint(
  store: ClickHouseStore,
  sid: number,
  cp: PendingCheckpoint,
): Promise<void> {
  const w = new RowBinaryWriter();
  writeBookRow(w, cp.symbol, sid, cp.plan.id, cp.plan.snapshot);
  await insertRowBinary(store, store.table('l2_updates'), L2_COLUMNS, w.toBuffer());
}

const DAY_OF = 'toYYYYMMDD(toDateTime(intDiv(recv_ts, 1000)))';

/** Per table, the days that hold only rows before their session's bound. */
async function droppableDays(store: ClickHouseStore, where: string): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const t of TABLES) {
    const days = await queryJson<{ p: string }>(
      store,
      `SELECT ${DAY_OF} AS p FROM ${store.table(t)} GROUP BY p HAVING countIf(NOT (${where})) = 0 ORDER BY p`,
    );
    out[t] = days.map((d) => Number(d.p));
  }
  return out;
}

/**
 * Whole days: a checkpoint is written only where every row of its session before the cutoff goes with a dropped day.
 * A checkpoint left behind older rows would sit in the middle of its session for good: readers take it as the book
 * continuing (SequencedBook.continuesWith), but the session would then start with rows kept only for their day, deltas
 * no book can take. A session whose older rows share a day with rows another session keeps falls back to its last
 * snapshot, which may keep more days in turn: repeated until nothing changes.
 */
async function settleWholeDays(
  store: ClickHouseStore,
  keep: Map<number, Bound>,
  pending: Map<number, PendingCheckpoint>,
  cutoff: number,
): Promise<Record<string, number[]>> {
  for (;;) {
    const days = await droppableDays(store, oldRows(keep));
    let changed = false;
    for (const [sid, cp] of pending) {
      let stays = 0;
      for (const t of TABLES) {
        const [r] = await queryJson<{ n: string }>(
          store,
          `SELECT count() AS n FROM ${store.table(t)} WHERE session = ${int(sid)} AND recv_ts < ${int(cutoff)}
           AND ${DAY_OF} NOT IN (${days[t].map(int).join(',') || '0'})`,
        );
        stays += Number(r.n);
      }
      if (stays === 0) continue;
      keep.set(sid, cp.fallback);
      pending.delete(sid);
      changed = true;
    }
    if (!changed) return days;
  }
}

/** The rows before each listed session's bound (others are untouched). */
function oldRows(keep: Map<number, Bound>): string {
  const ids = [...keep.keys()].map(int).join(',');
  // Typed elements: literals would be the smallest unsigned type, with no common type with Int64 for 18.16.
  const typed = (t: string, xs: number[]) => xs.map((x) => `to${t}(${int(x)})`).join(',');
  const idList = typed('UInt64', [...keep.keys()]);
  const bound = (t: string, xs: number[]) => `transform(session, [${idList}], [${typed(t, xs)}], to${t}(0))`;
  const ts = bound(
    'Int64',
    [...keep.values()].map((b) => b.ts),
  );
  const firstId = bound(
    'UInt64',
    [...keep.values()].map((b) => b.id),
  );
  return `session IN (${ids}) AND (recv_ts < ${ts} OR (recv_ts = ${ts} AND id < ${firstId}))`;
}

async function waitForMutations(store: ClickHouseStore, table: string, timeoutMs: number, pollMs: number) {
  const t0 = Date.now();
  for (;;) {
    const [r] = await queryJson<{ n: string; err: string }>(
      store,
      `SELECT count() AS n, any(latest_fail_reason) AS err FROM ${systemTable(store, 'mutations')}
       WHERE database = ${lit(store.url.database)} AND table = ${lit(localName(store, table))} AND is_done = 0`,
    ).catch(
      // 18.16's system.mutations has no latest_fail_reason column.
      () =>
        queryJson<{ n: string; err: string }>(
          store,
          `SELECT count() AS n, '' AS err FROM ${systemTable(store, 'mutations')}
           WHERE database = ${lit(store.url.database)} AND table = ${lit(localName(store, table))} AND is_done = 0`,
        ),
    );
    if (Number(r.n) === 0) return;
    if (r.err) throw new Error(`the delete on ${table} failed on the server: ${r.err}`);
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `the delete on ${table} is still running on the server after ${Math.round(timeoutMs / 1000)} s; ` +
          'it finishes there on its own (see system.mutations)',
      );
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

/**
 * Deletes the cached feature rows of sessions that lost data: their data key no longer matches, so nothing would
 * read them again (as in an SQLite file). A store that predates the cache has no table: nothing to delete.
 */
async function dropCachedFeatures(
  store: ClickHouseStore,
  sessions: number[],
  opts: ClickHousePruneOptions,
): Promise<number> {
  if (sessions.length === 0) return 0;
  const [has] = await queryJson<{ n: string }>(
    store,
    `SELECT count() AS n FROM system.tables WHERE database = ${lit(store.url.database)} AND name = 'feature_cache'`,
  );
  if (Number(has.n) === 0) return 0;
  const where = `session IN (${sessions.map(int).join(',')})`;
  const [n] = await queryJson<{ n: string }>(
    store,
    `SELECT count() AS n FROM ${store.table('feature_cache')} WHERE ${where}`,
  );
  if (Number(n.n) === 0) return 0;
  await alterRows(store, 'feature_cache', `DELETE WHERE ${where}`);
  await waitForMutations(store, 'feature_cache', opts.mutationTimeoutMs ?? 600_000, opts.pollMs ?? 100);
  return Number(n.n);
}

/** Deletes raw data older than the retention; `days` <= 0 keeps everything. */
export async function pruneClickHouse(
  store: ClickHouseStore,
  opts: ClickHousePruneOptions,
): Promise<ClickHousePruneResult> {
  let cutoff = opts.now - opts.days * DAY_MS;
  const wholeDays = opts.wholeDays === true && opts.days > 0;
  if (wholeDays) {
    const [d] = await queryJson<{ t: string }>(
      store,
      `SELECT toUnixTimestamp(toStartOfDay(toDateTime(intDiv(${int(cutoff)}, 1000)))) AS t`,
    ).catch((e: unknown) => Promise.reject(describeClickHouseError(store.name, e)));
    cutoff = Number(d.t) * 1000;
  }
  const result: ClickHousePruneResult = {
    cutoff,
    l2Deleted: 0,
    tradesDeleted: 0,
    sessionsTouched: [],
    featureCacheDeleted: 0,
    droppedPartitions: {},
    checkpoints: 0,
  };
  if (!(opts.days > 0)) return result;
  try {
    const { keep, pending } = await keepBounds(store, cutoff, wholeDays);
    if (keep.size === 0) return result;
    const settled = wholeDays ? await settleWholeDays(store, keep, pending, cutoff) : null;
    // Checkpoints first: stopped after them, every session still replays as before.
    const lost = new Set<number>();
    for (const [sid, cp] of pending) {
      await writeCheckpoint(store, sid, cp);
      result.checkpoints++;
      lost.add(sid);
    }
    const where = oldRows(keep);
    const dropping = settled ?? (await droppableDays(store, where));
    for (const t of TABLES) {
      const table = store.table(t);
      // The rows to go, one per id (FINAL merges a retried batch's second copy with the first as it reads, in
      // bounded memory: see sessionCounts): whole days only, when asked.
      const days = dropping[t];
      const going = wholeDays ? `${where} AND ${DAY_OF} IN (${days.map(int).join(',') || '0'})` : where;
      const per = await queryJson<{ s: string; n: string }>(
        store,
        `SELECT session AS s, count() AS n FROM ${table} FINAL WHERE ${going} GROUP BY session`,
      );
      const n = per.reduce((sum, r) => sum + Number(r.n), 0);
      result[t === 'l2_updates' ? 'l2Deleted' : 'tradesDeleted'] = n;
      if (n === 0) continue;
      for (const r of per) lost.add(Number(r.s));
      result.droppedPartitions[t] = days;
      for (const d of days) await alterRows(store, t, `DROP PARTITION ${int(d)}`);
      // What is left of the old rows shares its days with rows to keep (left there, for whole days).
      if (wholeDays) continue;
      const [rest] = await queryJson<{ n: string }>(
        store,
        `SELECT count() AS n FROM ${table} WHERE ${where}`,
      );
      if (Number(rest.n) > 0) {
        await alterRows(store, t, `DELETE WHERE ${where}`);
        await waitForMutations(store, t, opts.mutationTimeoutMs ?? 600_000, opts.pollMs ?? 100);
      }
    }
    result.sessionsTouched = [...keep.keys()].sort((a, b) => a - b);
    result.featureCacheDeleted = await dropCachedFeatures(store, [...lost], opts);
    return result;
  } catch (e) {
    throw describeClickHouseError(store.name, e);
  }
}
