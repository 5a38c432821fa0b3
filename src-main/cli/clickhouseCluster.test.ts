// The CLI over a store sharded over a ClickHouse cluster (`?cluster=NAME`): a real two-shard cluster on loopback
// (two clickhouse-servers and the ZooKeeper their ON CLUSTER statements need), each command compared with an
// SQLite file holding the same data: db check, book --json (read through either node), train, backtest, runs and
// db prune, whose multi-day sessions spread over both shards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../store/clickhouse/catalogue.ts';
import { openClickHouse, queryJson } from '../store/clickhouse/connection.ts';
import { expectDistinctIds } from '../store/clickhouse/idClaimsScenario.ts';
import { SHARD_BY_SESSION_DAY } from '../store/clickhouse/schema.ts';
import { copySessionToClickHouse } from '../store/clickhouse/mirror.ts';
import {
  clusterSkipReason,
  freePorts,
  startTestCluster,
  startTestServer,
  type TestCluster,
} from '../store/clickhouse/testServer.ts';
import { ClickHouseSessionWriter } from '../store/clickhouse/writer.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession as createSqliteSession } from '../store/sessions.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { pruneScenarioMessages, pruneScenarioSession, writePruneScenario } from './testing/pruneScenario.ts';
import { json, l2desk } from './testing/runCli.ts';
import { sameTraining, trainJson } from './testing/trainCli.ts';
import { withStore } from './testing/withStore.ts';

const skip = clusterSkipReason();
if (skip) console.warn(skip);

/** `collect` of the simulated market at full speed into `db`. */
function collectSim(db: string, seed: string, duration: string) {
  return l2desk(
    'collect',
    '--source',
    'sim',
    '--seed',
    seed,
    '--speed',
    'max',
    '--duration',
    duration,
    '--db',
    db,
    '--quiet',
  );
}

interface CheckReport {
  ok: boolean;
  tables: Record<string, number>;
  sessions: {
    id: number;
    bookMessages: number;
    trades: number;
    firstRecvTs: number;
    lastRecvTs: number | null;
  }[];
}

describe.skipIf(skip !== null)('--db clickhouse://…?cluster= (a real two-shard ClickHouse cluster)', () => {
  let cluster: TestCluster;
  let dir: string;
  /** Rows of a table on one node alone (its local table), straight over HTTP. */
  const onNode = async (node: number, sql: string): Promise<number> => {
    const r = await fetch(cluster.nodes[node].httpUrl, { method: 'POST', body: sql });
    const text = await r.text();
    expect(r.ok, text).toBe(true);
    return Number(text.trim());
  };
  beforeAll(async () => {
    // Three servers, two of them the cluster at first: the last test adds the third.
    cluster = await startTestCluster(3, 2);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chclu-'));
  }, 120_000);
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await cluster?.stop();
  }, 60_000);

  it('collect, db check, book --json from either node, train and backtest agree with the SQLite store', async () => {
    const file = path.join(dir, 'ref.db');
    const ch = cluster.url('clu');
    const collect = (db: string) => collectSim(db, '42', '20m');
    const a = await collect(file);
    expect(a.code, a.err).toBe(0);
    const b = await collect(ch);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain(`store ${ch}`);
    // The tables on every node: local tables and Distributed ones over them.
    for (const node of [0, 1])
      expect(
        await onNode(
          node,
          "SELECT count() FROM system.tables WHERE database = 'clu' AND name IN ('l2_updates', 'l2_updates_local') AND engine IN ('Distributed', 'ReplacingMergeTree')",
        ),
      ).toBe(2);
    const collected = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    const reference = await json<CheckReport>('db', 'check', '--db', file, '--json');
    expect(collected.ok).toBe(true);
    const plain = await l2desk('db', 'check', '--db', ch);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toMatch(/integrity ok; \d+\.\d\d MB on the shards' disk\n/);
    expect(collected.sessions[0].bookMessages).toBe(reference.sessions[0].bookMessages);
    expect(collected.sessions[0].trades).toBe(reference.sessions[0].trades);

    // The SQLite session's rows in a second cluster database (the collect above ran on its own wall clock).
    const copy = cluster.url('clu_copy');
    await withStore(copy, async (store) => {
      const src = openDb(file, { mustExist: true });
      try {
        expect(await copySessionToClickHouse(src, 1, store)).toBe(1);
      } finally {
        src.close();
      }
    });
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', cluster.url('clu_copy', 1), '--json');
    expect(cq.ok).toBe(true);
    expect(cq.sessions).toEqual(sq.sessions);
    for (const t of ['sessions', 'l2_updates', 'trades', 'gaps']) expect(cq.tables[t], t).toBe(sq.tables[t]);

    // The book at several times, read through each node.
    const span = (sq.sessions[0].lastRecvTs as number) - sq.sessions[0].firstRecvTs;
    for (const f of [0.2, 0.6, null]) {
      const at = f === null ? [] : ['--at', String(sq.sessions[0].firstRecvTs + Math.round(span * f))];
      const x = await json<unknown>('book', '--db', file, '--json', '--depth', '20', ...at);
      for (const node of [0, 1])
        expect(
          await json<unknown>(
            'book',
            '--db',
            cluster.url('clu_copy', node),
            '--json',
            '--depth',
            '20',
            ...at,
          ),
        ).toEqual(x);
    }

    // train: the same model; the second reads the features the first stored in the cluster.
    const train = (db: string, name: string) => trainJson(db, name, dir);
    const same = sameTraining;
    const ts = await train(file, 'sq');
    const tc = await train(copy, 'ch');
    expect(same(tc)).toEqual(same(ts));
    expect(tc.store_cache).toEqual({ read: [], built: [1], stored: [1] });
    const tc2 = await train(cluster.url('clu_copy', 1), 'ch2');
    expect(tc2.store_cache).toEqual({ read: [1], built: [], stored: [] });
    expect(same(tc2)).toEqual(same(ts));
    const models = await json<{ models: { id: number; name: string }[] }>('models', '--db', copy, '--json');
    expect(models.models.map((m) => [m.id, m.name])).toEqual([
      [2, 'ch2'],
      [1, 'ch'],
    ]);

    // backtest: the same fills; a recorded run is listed by `runs` through the other node.
    const backtest = async (db: string, name: string, ...extra: string[]) => {
      const report = path.join(dir, `${name}.json`);
      const r = await l2desk(
        'backtest',
        '--db',
        db,
        '--session',
        '1',
        '--sweep',
        '0.2,1',
        '--report',
        report,
        ...extra,
      );
      expect(r.code, r.err).toBe(0);
      return JSON.parse(fs.readFileSync(report, 'utf8')) as { rows: Record<string, unknown>[] };
    };
    const bs = await backtest(file, 'sqlite', '--no-record');
    const bc = await backtest(copy, 'cluster', '--no-record');
    expect(bc.rows).toEqual(bs.rows);
    expect(Number(bs.rows[0].trades)).toBeGreaterThan(0);
    await backtest(copy, 'recorded');
    await backtest(file, 'recorded-sqlite');
    const listed = async (db: string) =>
      (await json<{ runs: Record<string, unknown>[] }>('runs', '--db', db, '--json')).runs.map(
        ({ id: _i, started_at: _s, ended_at: _e, ...rest }) => rest, // ids and wall-clock times differ
      );
    const runsSqlite = await listed(file);
    expect(runsSqlite.length).toBeGreaterThan(0);
    expect(await listed(cluster.url('clu_copy', 1))).toEqual(runsSqlite);
  }, 400_000);

  it('db prune drops what SQLite prune drops, on every shard; multi-day sessions spread over both', async () => {
    const now = Date.now();
    const file = path.join(dir, 'prune.db');
    const ch = cluster.url('clu_pruned');
    const db = openDb(file);
    await withStore(ch, async (store) => {
      await writePruneScenario(db, store, now);
    });
    db.close();
    const local = (node: number) => onNode(node, 'SELECT count() FROM clu_pruned.l2_updates_local');
    const before = [await local(0), await local(1)];
    // Rows are sharded by session and day: each of the 5 days of data went to one shard, and both shards got some.
    expect(before[0]).toBeGreaterThan(0);
    expect(before[1]).toBeGreaterThan(0);
    expect(before[0] + before[1]).toBe(800);

    const ps = await l2desk('db', 'prune', '--db', file, '--days', '2');
    expect(ps.code, ps.err).toBe(0);
    const pc = await l2desk('db', 'prune', '--db', ch, '--days', '2');
    expect(pc.code, pc.err).toBe(0);
    const counts = (t: string) => t.replace(/^.*?Z: /, '').replace(/ from .*/, '');
    expect(counts(pc.out)).toBe(counts(ps.out));
    expect(pc.out).toMatch(/day partition\(s\) dropped whole/);
    const after = [await local(0), await local(1)];
    expect(after[0] + after[1]).toBeLessThan(800);
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    const emptied = (x: CheckReport['sessions'][number]) =>
      x.bookMessages + x.trades === 0 ? { ...x, lastRecvTs: null } : x;
    expect(cq.sessions).toEqual(sq.sessions.map(emptied));
    expect(after[0] + after[1]).toBe(cq.tables.l2_updates);
    const x = await json<unknown>('book', '--db', file, '--session', '2', '--json');
    expect(await json<unknown>('book', '--db', ch, '--session', '2', '--json')).toEqual(x);
  }, 240_000);

  it('import: a recording imported into the cluster reads back as from the SQLite file; a second import is refused', async () => {
    const file = path.join(dir, 'import.db');
    const ch = cluster.url('clu_imported');
    const a = await l2desk('import', '--db', file, BYBIT_RECORDING, '--quiet');
    expect(a.code, a.err).toBe(0);
    const b = await l2desk('import', '--db', ch, BYBIT_RECORDING, '--quiet');
    expect(b.code, b.err).toBe(0);
    expect(b.out).toBe(a.out);
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', cluster.url('clu_imported', 1), '--json');
    expect(cq.sessions).toEqual(sq.sessions);
    const end = sq.sessions[0].lastRecvTs as number;
    const at = String(Math.round((sq.sessions[0].firstRecvTs + end) / 2));
    expect(await json<unknown>('book', '--db', ch, '--json', '--depth', '50', '--at', at)).toEqual(
      await json<unknown>('book', '--db', file, '--json', '--depth', '50', '--at', at),
    );
    const again = await l2desk('import', '--db', ch, BYBIT_RECORDING, '--quiet');
    expect(again.code).toBe(1);
    expect(again.err).toContain('was imported before (same content) as session 1: skipped');
  }, 120_000);

  it('gives writers on different nodes creating sessions, id blocks and models at the same instant distinct ids', async () => {
    // Two collectors, each connected to its own node of the cluster.
    const a = await openClickHouse(cluster.url('clu_claims', 0));
    const b = await openClickHouse(cluster.url('clu_claims', 1));
    try {
      await expectDistinctIds(a, b, dir);
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);

  it('refuses a cluster the server does not know, and a store opened the other way than it was made', async () => {
    const collect = (db: string) => collectSim(db, '1', '5s');
    const unknown = await collect(`${cluster.nodes[0].url('clu_refused')}?cluster=nope`);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('has no cluster nope in its remote_servers config (it has: ');
    expect(unknown.err).toContain(cluster.name);
    // The cluster store without ?cluster=: its Distributed tables would be written without waiting for the shards.
    const made = await collect(cluster.url('clu_refused'));
    expect(made.code, made.err).toBe(0);
    const plain = await l2desk('book', '--db', cluster.nodes[1].url('clu_refused'), '--json');
    expect(plain.code).toBe(1);
    expect(plain.err).toContain(
      `database clu_refused holds a store sharded over cluster ${cluster.name}: add ?cluster=${cluster.name}`,
    );
    // A one-server store (made on node 0 alone) named with ?cluster=.
    const one = await collect(cluster.nodes[0].url('solo'));
    expect(one.code, one.err).toBe(0);
    const mixed = await l2desk('book', '--db', cluster.url('solo'), '--json');
    expect(mixed.code).toBe(1);
    expect(mixed.err).toContain(`database solo holds a store of one server`);
    expect(mixed.err).toContain(`drop ?cluster=${cluster.name} from the address`);
    // Named through the other node, which has no such database: a writing command would have made a cluster store
    // beside it, with node 0's one-server tables in the way.
    const elsewhere = await collect(cluster.url('solo', 1));
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.err).toContain(`database solo holds a store of one server`);
    // A server whose config names a cluster of itself but no ZooKeeper: ON CLUSTER cannot run there.
    const [http, tcp] = await freePorts(2);
    const lone = await startTestServer({
      ports: { http, tcp },
      extraConfig: `<remote_servers><solo><shard><replica><host>127.0.0.1</host><port>${tcp}</port></replica></shard></solo></remote_servers>`,
    });
    try {
      const r = await collectSim(`${lone.url('x')}?cluster=solo`, '1', '1s');
      expect(r.code).toBe(1);
      expect(r.err).toContain('every node needs <zookeeper> and <distributed_ddl> in its config');
    } finally {
      await lone.stop();
    }
  }, 120_000);

  // It kills a node, and starts it again.
  it('keeps rows in memory while one shard is down and stores them once it is back, as with one server', async () => {
    const msgs = pruneScenarioMessages(2, Date.now());
    const file = path.join(dir, 'outage.db');
    const db = openDb(file);
    const w = new SessionWriter(db, createSqliteSession(db, pruneScenarioSession(msgs)));
    for (const m of msgs) w.writeMessage(m);
    w.close(msgs.at(-1)!.recvTs);
    db.close();
    const stores = [
      await openClickHouse(cluster.url('clu_outage', 0)),
      await openClickHouse(cluster.url('clu_outage', 1)),
    ];
    try {
      const sid = await createSession(stores[0], pruneScenarioSession(msgs));
      // The shard that holds the last message's rows goes down; the writer talks to the other node.
      const [k] = await queryJson<{ k: string }>(
        stores[0],
        `SELECT toString(${SHARD_BY_SESSION_DAY} % 2) AS k
         FROM (SELECT toUInt64(${sid}) AS session, toInt64(${msgs.at(-1)!.recvTs}) AS recv_ts)`,
      );
      const down = Number(k.k);
      const rowsThere = () => onNode(down, 'SELECT count() FROM clu_outage.l2_updates_local');
      const cw = ClickHouseSessionWriter.forNewSession(stores[1 - down], sid, 'BTCUSDT', {
        maxRows: 50,
        batchIntervalMs: 10,
        retryFirstMs: 20,
        giveUpMs: 120_000,
      });
      const half = msgs.length / 2;
      for (const m of msgs.slice(0, half)) cw.writeMessage(m);
      await cw.drain();
      const before = await rowsThere();
      await cluster.nodes[down].kill();
      for (const m of msgs.slice(half)) cw.writeMessage(m);
      await new Promise((r) => setTimeout(r, 800));
      const during = cw.stats();
      expect(during.busySince).not.toBeNull();
      expect(during.pending).toBeGreaterThan(0);
      // Reading the store through the live node fails while a shard is down, saying which.
      const check = await l2desk('db', 'check', '--db', cluster.url('clu_outage', 1 - down));
      expect(check.code).toBe(1);
      expect(check.out).toContain(`a node of cluster ${cluster.name} does not answer`);
      await cluster.nodes[down].start();
      await cw.close(msgs.at(-1)!.recvTs);
      expect(cw.stats().pending).toBe(0);
      // The rows held for the shard that was down are there now.
      expect(await rowsThere()).toBeGreaterThan(before);
    } finally {
      for (const s of stores) await s.close();
    }
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', cluster.url('clu_outage', 1), '--json');
    expect(cq.sessions).toEqual(sq.sessions);
    expect(await json<unknown>('book', '--db', cluster.url('clu_outage'), '--json')).toEqual(
      await json<unknown>('book', '--db', file, '--json'),
    );
  }, 180_000);

  // Last: it adds the third node to the cluster.
  it('a node added to the cluster gets the store from the next command, and its share of new rows', async () => {
    const file = path.join(dir, 'grow.db');
    const ch = cluster.url('clu_grow');
    // A fixed clock, so that the days of the rows (and so their shards) are the same on every run.
    const now = Date.UTC(2026, 10, 20, 12);
    const db = openDb(file);
    await withStore(ch, (store) => writePruneScenario(db, store, now));
    db.close();
    const before = await json<CheckReport>('db', 'check', '--db', ch, '--json');
    await cluster.list(3);
    const tablesOn = (node: number) =>
      onNode(
        node,
        "SELECT count() FROM system.tables WHERE database = 'clu_grow' AND name LIKE 'l2_updates%'",
      );
    expect(await tablesOn(2)).toBe(0);
    // A command that only reads, through an old node, gives the new node the tables (reads go there now).
    const after = await json<CheckReport>('db', 'check', '--db', cluster.url('clu_grow', 1), '--json');
    expect(after.sessions).toEqual(before.sessions);
    expect(await tablesOn(2)).toBe(2);
    // New rows spread over the three shards; everything reads back as from the SQLite file.
    await withStore(cluster.url('clu_grow', 2), async (store) => {
      const src = openDb(file, { mustExist: true });
      try {
        for (const sid of [1, 2]) await copySessionToClickHouse(src, sid, store);
      } finally {
        src.close();
      }
    });
    const onThird = await onNode(2, 'SELECT count() FROM clu_grow.l2_updates_local');
    expect(onThird).toBeGreaterThan(0);
    const sq = await json<CheckReport>('db', 'check', '--db', file, '--json');
    const cq = await json<CheckReport>('db', 'check', '--db', cluster.url('clu_grow', 2), '--json');
    expect(cq.sessions.slice(2).map((x) => ({ ...x, id: x.id - 2 }))).toEqual(sq.sessions);
    expect(cq.tables.l2_updates).toBe(2 * sq.tables.l2_updates);
    expect(
      await json<unknown>('book', '--db', cluster.url('clu_grow', 0), '--session', '4', '--json'),
    ).toEqual(await json<unknown>('book', '--db', file, '--session', '2', '--json'));
  }, 180_000);
});
