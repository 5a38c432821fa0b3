// store.sessions.clickhouse: listing a ClickHouse store's sessions with their exact counters (what `db check`, the
// app's session list and every `--session` lookup read), on a store of many rows: one BTCUSDT session of BENCH_ROWS
// book messages (default 20M, 4.6 days at 50 messages/s), plus a copy of 0.5% of them as a retried batch leaves
// until the table merges. Ours counts through FINAL (copies merged as read, bounded memory); the peer is the distinct
// count of ids the store used before, the same exact figure by a hash set of every id (it ran out of memory at 100M
// rows under a 2 GB query limit). Both must give the same counts. Debian's clickhouse-server, started here.
import { committed, createSession, listSessions } from '../src-main/store/clickhouse/catalogue.ts';
import { openClickHouse, queryJson } from '../src-main/store/clickhouse/connection.ts';
import { clickhouseServerBinary, startTestServer } from '../src-main/store/clickhouse/testServer.ts';
import { emit, failBench, median } from './lib/report.ts';

const BENCH = 'store.sessions.clickhouse';
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

if (!clickhouseServerBinary()) failBench(BENCH, 'clickhouse-server is not installed (npm run setup:system)');
const server = await startTestServer();
try {
  const store = await openClickHouse(server.url('sessions'), { mustExist: false, requestTimeoutMs: 900_000 });
  const id = await createSession(store, {
    source: 'bench',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 200,
    tickSize: '0.1',
    startedAt: 1_767_225_600_000,
    meta: {},
    seed: null,
  });
  const rows = (from: number, n: number) =>
    `INSERT INTO ${store.table('l2_updates')} SELECT 'BTCUSDT', ${id}, number + 1, 1767225600000 + number * 20,
     1767225600000 + number * 20, 0, number + 1, 0, 0, [], [], [], [] FROM system.numbers LIMIT ${n} OFFSET ${from}`;
  const t0 = performance.now();
  await store.client.command({ query: rows(0, ROWS) });
  const dup = Math.floor(ROWS * 0.005);
  await store.client.command({ query: rows(Math.floor(ROWS / 2), dup) });
  await store.client.command({
    query: `INSERT INTO ${store.table('commits')} VALUES ('BTCUSDT', ${id}, ${ROWS})`,
  });
  process.stderr.write(
    `${BENCH}: ${ROWS + dup} rows stored in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const ours: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const [s] = await listSessions(store);
    ours.push(performance.now() - t);
    t = performance.now();
    const [p] = await queryJson<{ n: string }>(
      store,
      `SELECT uniqExact(id) AS n FROM ${committed(store, 'l2_updates')} WHERE id <= w GROUP BY session`,
    );
    peer.push(performance.now() - t);
    if (s.bookMessages !== ROWS || Number(p.n) !== ROWS)
      throw new Error(`counts differ: ours ${s.bookMessages}, distinct count ${p.n}, stored ${ROWS}`);
  }
  const value = median(ours);
  const peerValue = median(peer);
  emit({
    bench: BENCH,
    value: Math.round(value),
    unit: 'ms (list sessions with exact counters)',
    peer: 'distinct count of ids (uniqExact) over the same committed rows',
    peer_value: Math.round(peerValue),
    rows_per_s: Math.round(ROWS / (value / 1000)),
    peer_rows_per_s: Math.round(ROWS / (peerValue / 1000)),
    ratio: Number((peerValue / value).toFixed(2)),
    rows: ROWS,
    duplicate_rows: dup,
    runs: RUNS,
    server: 'clickhouse 18.16 (local, loopback)',
  });
  await store.close();
} finally {
  await server.stop();
}
