// store.ingest.clickhouse: messages/s stored into ClickHouse through its session writer (RowBinary batches, commit
// markers, one batch in flight, waiting for the server whenever 60k rows are held, as import and collect do), beside
// the SQLite SessionWriter on the same messages in the same run. Messages: the real orderbook.200 + publicTrade
// recording in ../shared/data, repeated with fresh u/times. The server is Debian's clickhouse-server, started on a
// free loopback port with its own data directory (as the tests do); without it the bench fails: no figure.
// Also: bytes on the server's disk per message (active parts after the inserts) and the client's CPU per message.
// A second line, store.ingest.clickhouse_cluster: the same writer into a store sharded over a two-shard cluster on
// this machine (insert_distributed_sync: each batch waits until its shard stored it), beside the one server in the
// same run. All servers share these 2 cores: it measures what the cluster's guarantees cost, not its capacity.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemTable } from '../src-main/store/clickhouse/cluster.ts';
import { lit, openClickHouse, queryJson } from '../src-main/store/clickhouse/connection.ts';
import {
  clickhouseServerBinary,
  clusterSkipReason,
  startTestCluster,
  startTestServer,
} from '../src-main/store/clickhouse/testServer.ts';
import { openDb } from '../src-main/store/db.ts';
import { SessionWriter } from '../src-main/store/sessionWriter.ts';
import { createSession } from '../src-main/store/sessions.ts';
import { BYBIT_RECORDING as REC, repeatedRecording } from '../src-main/testing/bybitRecording.ts';
import type { MarketMessage } from '../src-shared/market.ts';
import { BENCH_SESSION, writeBenchSession } from './lib/clickhouseSession.ts';
import { failBench, fullGc, median } from './lib/report.ts';

const BENCH = 'store.ingest.clickhouse';
const N = Number(process.env.BENCH_N ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const loadMessages = (): MarketMessage[] => repeatedRecording({ count: N });

/** [messages/s wall, messages per CPU-second of this process] into a fresh SQLite file. */
function sqliteRun(dir: string, msgs: readonly MarketMessage[], i: number): [number, number] {
  const db = openDb(path.join(dir, `s${i}.db`));
  try {
    const w = new SessionWriter(db, createSession(db, BENCH_SESSION), { maxRows: 20_000 });
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const m of msgs) w.writeMessage(m);
    w.close(1);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return [msgs.length / wall, msgs.length / ((c.user + c.system) / 1e6)];
  } finally {
    db.close();
  }
}

/**
 * [messages/s wall, messages per CPU-second of this process, bytes on the servers' disks per message, server
 * version] into a fresh ClickHouse store (one server's, or a cluster's).
 */
async function clickhouseRun(
  url: string,
  msgs: readonly MarketMessage[],
): Promise<[number, number, number, string]> {
  const store = await openClickHouse(url);
  try {
    let c0 = process.cpuUsage();
    let t0 = process.hrtime.bigint();
    // The clock starts once the session exists, as before the first message of a collect.
    const w = await writeBenchSession(store, msgs, () => {
      c0 = process.cpuUsage();
      t0 = process.hrtime.bigint();
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const st = w.stats();
    if (st.bookMessages + st.tradeMessages !== msgs.length)
      throw new Error(`stored ${st.bookMessages + st.tradeMessages} of ${msgs.length} messages`);
    const [p] = await queryJson<{ b: string }>(
      store,
      `SELECT sum(bytes_on_disk) AS b FROM ${systemTable(store, 'parts')} WHERE database = ${lit(store.url.database)} AND active`,
    );
    const [v] = await queryJson<{ v: string }>(store, 'SELECT version() AS v');
    return [msgs.length / wall, msgs.length / ((c.user + c.system) / 1e6), Number(p.b) / msgs.length, v.v];
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  if (!clickhouseServerBinary())
    failBench(
      BENCH,
      'no clickhouse-server binary (apt-get install -y clickhouse-server clickhouse-client): no ClickHouse figure',
    );
  if (!fs.existsSync(REC)) failBench(BENCH, `the recording ${REC} is missing`);
  const msgs = loadMessages();
  const noCluster = clusterSkipReason();
  if (noCluster) failBench(`${BENCH}_cluster`, noCluster);
  const server = await startTestServer();
  const cluster = await startTestCluster(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bench-ch-'));
  try {
    const ch: number[] = [];
    const chCpu: number[] = [];
    const sq: number[] = [];
    const sqCpu: number[] = [];
    const cl: number[] = [];
    const clCpu: number[] = [];
    let bytesPerMessage = 0;
    let version = '';
    for (let i = 0; i < RUNS; i++) {
      // Alternate who goes first (page cache, a noisy neighbour), a full GC before each.
      const order = [
        ['ch', 'sq', 'cl'],
        ['sq', 'cl', 'ch'],
        ['cl', 'ch', 'sq'],
      ][i % 3];
      for (const which of order) {
        fullGc();
        if (which === 'sq') {
          const [w, c] = sqliteRun(dir, msgs, i);
          sq.push(w);
          sqCpu.push(c);
          continue;
        }
        const [w, c, bytes, v] = await clickhouseRun(
          which === 'ch' ? server.url(`bench${i}`) : cluster.url(`bench${i}`),
          msgs,
        );
        version = v;
        if (which === 'ch') {
          ch.push(w);
          chCpu.push(c);
          bytesPerMessage = bytes;
        } else {
          cl.push(w);
          clCpu.push(c);
        }
      }
    }
    const value = median(ch);
    const sqlite = median(sq);
    process.stdout.write(
      `${JSON.stringify({
        bench: BENCH,
        value: Math.round(value),
        unit: 'messages/s',
        peer: 'sqlite_session_writer',
        peer_value: Math.round(sqlite),
        ratio: Number((value / sqlite).toFixed(3)),
        // per CPU-second of this process (the client: encoding and HTTP); the server's own CPU is not counted
        value_cpu: Math.round(median(chCpu)),
        peer_value_cpu: Math.round(median(sqCpu)),
        server_bytes_per_message: Math.round(bytesPerMessage),
        server: `clickhouse ${version} (local, loopback)`,
        n: msgs.length,
        runs: RUNS,
      })}\n`,
    );
    const clustered = median(cl);
    process.stdout.write(
      `${JSON.stringify({
        bench: `${BENCH}_cluster`,
        value: Math.round(clustered),
        unit: 'messages/s',
        peer: 'clickhouse_one_server',
        peer_value: Math.round(value),
        ratio: Number((clustered / value).toFixed(3)),
        value_cpu: Math.round(median(clCpu)),
        peer_value_cpu: Math.round(median(chCpu)),
        server: `2 shards of clickhouse ${version} on this machine (loopback), insert_distributed_sync`,
        n: msgs.length,
        runs: RUNS,
      })}\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await server.stop();
    await cluster.stop();
  }
}

main().catch((e: unknown) => failBench(BENCH, (e as Error).message));
