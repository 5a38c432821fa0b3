// backtest.throughput: messages/s through the whole backtest path (SQLite read → book → features → model at the
// decision interval → signal → risk → broker → portfolio), beside its ceiling in the same run: only reading and
// parsing the same messages from SQLite (readSession). Session: ≥ 1M messages from the seeded simulator (50 Hz
// book + trades), built once into bench/.cache/ (SimGenerator at speed max → parser → SessionWriter).
// Model: models/default.onnx if it matches the feature set, else a small GBDT trained once on a separate session.
// Store layout v2 beside v1 in the same run: the same session copied once into a v1 file (the v1 writer kept for
// this), replayed through the same backtest; both record their runs (orders, fills, equity) as `l2desk backtest` does.
// Both read the session ahead in a worker thread, as `l2desk backtest` does for a session this long; the same v2
// backtest on one thread (store.read_ahead off) is shown beside.
import fs from 'node:fs';
import path from 'node:path';
import { runPass } from '../src-main/backtest/backtest.ts';
import { writeSimSession } from '../src-main/backtest/simSession.ts';
import { testModelPath } from '../src-main/backtest/testing/testModel.ts';
import { loadConfig, PROJECT_ROOT } from '../src-main/config/loadConfig.ts';
import { PredictorModel } from '../src-main/engine/decisionModel.ts';
import { FEATURE_SET } from '../src-main/features/featureSet.ts';
import { Predictor } from '../src-main/model/predictor.ts';
import { openDb } from '../src-main/store/db.ts';
import { readSession } from '../src-main/store/sessionReader.ts';
import { listSessions } from '../src-main/store/sessions.ts';
import { V1_MIGRATIONS, openV1Db, writeV1Session } from '../src-main/store/testing/v1File.ts';
import type { Db } from '../src-main/store/db.ts';
import { emit, median } from './lib/report.ts';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const cacheDir = path.join(PROJECT_ROOT, 'bench', '.cache');
const dbFile = path.join(cacheDir, `backtest-${N}.db`);

fs.mkdirSync(cacheDir, { recursive: true });
const db = openDb(dbFile);
let sessions = listSessions(db);
if (!sessions.some((s) => s.meta.role === 'bench')) {
  process.stderr.write(`backtest.throughput: building a ${N}-message session in ${dbFile} (once)\n`);
  const train = writeSimSession(db, { seed: 101, durationMs: 900_000 });
  const big = writeSimSession(db, { seed: 102, durationMs: Infinity, messages: N });
  db.prepare(`UPDATE sessions SET meta = json_set(meta, '$.role', 'train') WHERE id = ?`).run(
    train.sessionId,
  );
  db.prepare(`UPDATE sessions SET meta = json_set(meta, '$.role', 'bench') WHERE id = ?`).run(big.sessionId);
  sessions = listSessions(db);
}
const bench = sessions.find((s) => s.meta.role === 'bench');
const train = sessions.find((s) => s.meta.role === 'train');
if (!bench || !train) throw new Error(`${dbFile} lacks the bench sessions: delete it and rerun`);
const v1File = path.join(cacheDir, `backtest-${N}-v1.db`);
if (!fs.existsSync(v1File)) {
  process.stderr.write(`backtest.throughput: copying the session into a layout v1 file ${v1File} (once)\n`);
  const d = openV1Db(`${v1File}.tmp`);
  const b = bench;
  writeV1Session(d, b, readSession(db, b.id));
  d.close();
  fs.renameSync(`${v1File}.tmp`, v1File);
}
const db1 = openDb(v1File, { migrations: V1_MIGRATIONS });
const bench1 = listSessions(db1)[0];
const model = await testModelPath(db, train.id, cacheDir);
const predictor = await Predictor.load(model.path, FEATURE_SET);
const config = loadConfig({ ignoreUserFile: true });

/** CPU seconds of this process (all threads): on a shared machine wall time also measures the neighbours. */
function cpuSecs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function readOnly(): { messages: number; book: number; secs: number; cpu: number } {
  const t0 = performance.now();
  const c0 = cpuSecs();
  let messages = 0;
  let book = 0;
  let check = 0;
  for (const e of readSession(db, bench!.id, { reuseLevels: true })) {
    if (e.kind === 'gap') continue;
    messages++;
    if (e.kind === 'book') {
      book++;
      check += e.bids.length + e.asks.length;
    } else check += e.trades.length;
  }
  if (check === 0) throw new Error('empty session');
  return { messages, book, secs: (performance.now() - t0) / 1000, cpu: cpuSecs() - c0 };
}

async function engine(
  store: Db = db,
  sessionId: number = bench!.id,
  readAhead?: boolean,
): Promise<{
  messages: number;
  book: number;
  secs: number;
  cpu: number;
  predictions: number;
  fills: number;
}> {
  const t0 = performance.now();
  const c0 = cpuSecs();
  const p = await runPass({
    db: store,
    sessionId,
    config,
    model: new PredictorModel(predictor),
    threshold: config.trading.threshold,
    samplingMs: 60_000,
    record: true,
    readAhead,
  });
  const secs = (performance.now() - t0) / 1000;
  return {
    messages: p.messages,
    book: bench!.bookMessages,
    secs,
    cpu: cpuSecs() - c0,
    predictions: p.predictions,
    fills: p.fills.length,
  };
}

const eng: number[] = [];
const ceil: number[] = [];
const v1: number[] = [];
const engCpu: number[] = [];
const ceilCpu: number[] = [];
const v1Cpu: number[] = [];
const one: number[] = [];
const oneCpu: number[] = [];
let last: Awaited<ReturnType<typeof engine>> | null = null;
let lastV1: Awaited<ReturnType<typeof engine>> | null = null;
const cases: (() => Promise<void>)[] = [
  async () => {
    const c = readOnly();
    ceil.push(c.messages / c.secs);
    ceilCpu.push(c.messages / c.cpu);
  },
  async () => {
    last = await engine();
    eng.push(last.messages / last.secs);
    engCpu.push(last.messages / last.cpu);
  },
  async () => {
    const r = await engine(db, bench!.id, false);
    one.push(r.messages / r.secs);
    oneCpu.push(r.messages / r.cpu);
  },
  async () => {
    lastV1 = await engine(db1, bench1.id);
    v1.push(lastV1.messages / lastV1.secs);
    v1Cpu.push(lastV1.messages / lastV1.cpu);
  },
];
for (let r = 0; r < RUNS; r++) {
  // Rotate which goes first so none always gets the warm cache.
  for (let k = 0; k < cases.length; k++) await cases[(r + k) % cases.length]();
}
await predictor.close();
db.close();
db1.close();
const done = last as Awaited<ReturnType<typeof engine>> | null;
const doneV1 = lastV1 as Awaited<ReturnType<typeof engine>> | null;
if (done && doneV1 && (done.messages !== doneV1.messages || done.fills !== doneV1.fills))
  throw new Error(
    `backtest.throughput: v2 replayed ${done.messages} messages/${done.fills} fills, v1 ${doneV1.messages}/${doneV1.fills}`,
  );
const value = median(eng);
const ceiling = median(ceil);
emit({
  bench: 'backtest.throughput',
  value: Math.round(value),
  unit: 'messages/s',
  ceiling: 'readSession only (SQLite read + decode)',
  ceiling_value: Math.round(ceiling),
  ceiling_ratio: Number((value / ceiling).toFixed(3)),
  // The same per CPU second of this process: what the code does when it has a core to itself.
  cpu_value: Math.round(median(engCpu)),
  cpu_ceiling_value: Math.round(median(ceilCpu)),
  // The same backtest over the same session stored in layout v1
  v1_value: Math.round(median(v1)),
  v1_cpu_value: Math.round(median(v1Cpu)),
  ratio_vs_v1: Number((value / median(v1)).toFixed(3)),
  // value and v1_value read the session ahead in a worker thread (store.read_ahead auto, as l2desk backtest does
  // for a session this long): this is the same backtest with everything on one thread
  one_thread_value: Math.round(median(one)),
  one_thread_cpu_value: Math.round(median(oneCpu)),
  record: true,
  n: done?.messages ?? 0,
  book_messages: done?.book ?? 0,
  predictions: done?.predictions ?? 0,
  fills: done?.fills ?? 0,
  model: model.bundled ? 'models/default.onnx' : 'tiny GBDT (bench/.cache)',
  runs: RUNS,
  goal: { value: 300_000, ceiling_ratio: 0.4 },
});
