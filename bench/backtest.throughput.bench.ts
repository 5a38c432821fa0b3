// backtest.throughput: messages/s through the whole backtest path (SQLite read → book → features → model at the
// decision interval → signal → risk → broker → portfolio), beside its ceiling in the same run: only reading and
// parsing the same messages from SQLite (readSession). Session: ≥ 1M messages from the seeded simulator (50 Hz
// book + trades), built once into bench/.cache/ (SimGenerator at speed max → parser → SessionWriter).
// Model: models/default.onnx if it matches the feature set, else a small GBDT trained once on a separate session.
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
  for (const e of readSession(db, bench!.id)) {
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

async function engine(): Promise<{
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
    db,
    sessionId: bench!.id,
    config,
    model: new PredictorModel(predictor),
    threshold: config.trading.threshold,
    samplingMs: 60_000,
    record: false,
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
const engCpu: number[] = [];
const ceilCpu: number[] = [];
let last: Awaited<ReturnType<typeof engine>> | null = null;
for (let r = 0; r < RUNS; r++) {
  // Alternate which goes first so neither always gets the warm cache.
  if (r % 2 === 0) {
    const c = readOnly();
    ceil.push(c.messages / c.secs);
    ceilCpu.push(c.messages / c.cpu);
    last = await engine();
    eng.push(last.messages / last.secs);
    engCpu.push(last.messages / last.cpu);
  } else {
    last = await engine();
    eng.push(last.messages / last.secs);
    engCpu.push(last.messages / last.cpu);
    const c = readOnly();
    ceil.push(c.messages / c.secs);
    ceilCpu.push(c.messages / c.cpu);
  }
}
await predictor.close();
db.close();
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
  n: last?.messages ?? 0,
  book_messages: last?.book ?? 0,
  predictions: last?.predictions ?? 0,
  fills: last?.fills ?? 0,
  model: model.bundled ? 'models/default.onnx' : 'tiny GBDT (bench/.cache)',
  runs: RUNS,
  goal: { value: 150_000, ceiling_ratio: 0.4 },
});
