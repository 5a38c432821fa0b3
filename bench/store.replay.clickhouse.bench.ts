// store.replay.clickhouse: messages/s a backtest's replay reads from a ClickHouse store (readSessionPages: pages of
// events, every event with its levels, the best bid and ask of each book message touched), beside the same session
// read from an SQLite file as a backtest reads it (readSession, levels in reused tuples) in the same run. The session
// (1M messages, about 5.5 hours of BTCUSDT at 50 messages/s, so that a cost growing with the session's length shows):
// the real orderbook.200 + publicTrade recording in ../shared/data, repeated with fresh u/times, written once into each
// store (untimed). A second line, store.replay.clickhouse_cluster: the same read from a store sharded over a two-shard
// cluster on this machine, beside the one server. All servers share these 2 cores and the loopback: the figures are
// what one reader gets, not what a cluster of machines serves to many. Without clickhouse-server or ZooKeeper the
// bench fails: no figure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openClickHouse } from '../src-main/store/clickhouse/connection.ts';
import { readSessionPages } from '../src-main/store/clickhouse/reader.ts';
import { isClickHouseUrl } from '../src-main/store/clickhouse/url.ts';
import {
  clickhouseServerBinary,
  clusterSkipReason,
  startTestCluster,
  startTestServer,
} from '../src-main/store/clickhouse/testServer.ts';
import { openDb } from '../src-main/store/db.ts';
import { SessionWriter } from '../src-main/store/sessionWriter.ts';
import { readSession } from '../src-main/store/sessionReader.ts';
import { createSession } from '../src-main/store/sessions.ts';
import { BYBIT_RECORDING as REC, repeatedRecording } from '../src-main/testing/bybitRecording.ts';
import type { MarketMessage } from '../src-shared/market.ts';
import type { StoredEvent } from '../src-main/store/sessionReader.ts';
import { BENCH_SESSION, writeBenchSession } from './lib/clickhouseSession.ts';
import { failBench, fullGc, median } from './lib/report.ts';

const BENCH = 'store.replay.clickhouse';
const N = Number(process.env.BENCH_N ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function writeClickHouse(url: string, msgs: readonly MarketMessage[]): Promise<void> {
  const store = await openClickHouse(url);
  try {
    await writeBenchSession(store, msgs);
  } finally {
    await store.close();
  }
}

/** [messages/s wall, messages per CPU-second of this process, levels read] of one whole replay of session 1. */
async function replay(db: string): Promise<[number, number, number]> {
  let n = 0;
  let levels = 0;
  let touch = 0;
  const step = (e: StoredEvent): void => {
    n++;
    if (e.kind !== 'book') return;
    levels += e.bids.length + e.asks.length;
    if (e.bids.length > 0) touch += e.bids[0][0];
    if (e.asks.length > 0) touch += e.asks[0][1];
  };
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (isClickHouseUrl(db)) {
    const store = await openClickHouse(db, { mustExist: true });
    try {
      for await (const page of readSessionPages(store, 1)) for (const e of page) step(e);
    } finally {
      await store.close();
    }
  } else {
    const file = openDb(db, { mustExist: true });
    try {
      for (const e of readSession(file, 1, { reuseLevels: true })) step(e);
    } finally {
      file.close();
    }
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (!(touch > 0)) throw new Error(`${db}: the replay read no prices`);
  return [n / wall, n / ((c.user + c.system) / 1e6), levels];
}

async function main(): Promise<void> {
  if (!clickhouseServerBinary())
    failBench(BENCH, 'no clickhouse-server binary (apt-get install -y clickhouse-server clickhouse-client)');
  const noCluster = clusterSkipReason();
  if (noCluster) failBench(`${BENCH}_cluster`, noCluster);
  if (!fs.existsSync(REC)) failBench(BENCH, `the recording ${REC} is missing`);
  const msgs = repeatedRecording({ count: N });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bench-chr-'));
  const server = await startTestServer();
  const cluster = await startTestCluster(2);
  try {
    const file = path.join(dir, 'replay.db');
    const db = openDb(file);
    const w = new SessionWriter(db, createSession(db, BENCH_SESSION), { maxRows: 20_000 });
    for (const m of msgs) w.writeMessage(m);
    w.close(1);
    db.close();
    const stores = { sq: file, ch: server.url('replay'), cl: cluster.url('replay') };
    await writeClickHouse(stores.ch, msgs);
    await writeClickHouse(stores.cl, msgs);
    const wall: Record<keyof typeof stores, number[]> = { sq: [], ch: [], cl: [] };
    const cpu: Record<keyof typeof stores, number[]> = { sq: [], ch: [], cl: [] };
    const levels: Record<keyof typeof stores, number> = { sq: 0, ch: 0, cl: 0 };
    const orders: (keyof typeof stores)[][] = [
      ['ch', 'sq', 'cl'],
      ['sq', 'cl', 'ch'],
      ['cl', 'ch', 'sq'],
    ];
    for (let i = 0; i < RUNS; i++)
      for (const which of orders[i % 3]) {
        fullGc();
        const [w, c, l] = await replay(stores[which]);
        wall[which].push(w);
        cpu[which].push(c);
        levels[which] = l;
      }
    // The same events from every store, or the comparison means nothing.
    if (levels.ch !== levels.sq || levels.cl !== levels.sq)
      throw new Error(
        `levels read differ: SQLite ${levels.sq}, ClickHouse ${levels.ch}, cluster ${levels.cl}`,
      );
    const line = (
      bench: string,
      k: keyof typeof stores,
      peer: string,
      p: keyof typeof stores,
      server: string,
    ) =>
      process.stdout.write(
        `${JSON.stringify({
          bench,
          value: Math.round(median(wall[k])),
          unit: 'messages/s',
          peer,
          peer_value: Math.round(median(wall[p])),
          ratio: Number((median(wall[k]) / median(wall[p])).toFixed(3)),
          // per CPU-second of this process (the reader: HTTP, RowBinary decoding, message objects); the servers'
          // own CPU is not counted
          value_cpu: Math.round(median(cpu[k])),
          peer_value_cpu: Math.round(median(cpu[p])),
          server,
          n: msgs.length,
          runs: RUNS,
        })}\n`,
      );
    line(BENCH, 'ch', 'sqlite_session_reader', 'sq', 'clickhouse 18.16 (local, loopback)');
    line(`${BENCH}_cluster`, 'cl', 'clickhouse_one_server', 'ch', '2 shards on this machine (loopback)');
  } finally {
    await server.stop();
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => failBench(BENCH, (e as Error).message));
