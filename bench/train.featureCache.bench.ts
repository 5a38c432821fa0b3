// train.featureCache: how long building a training dataset takes from a real SQLite file with the per-session
// feature cache warm (its entry is current: rows read from the cache) beside cold (no entry: raw depth replayed
// through the book and the features, then stored). `value` is the cold/warm speed-up; both times are printed.
// Data: a stored session of the deterministic synthetic tick-grid stream (BTC-like, 50 Hz, 25 levels).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syntheticEvents } from '../src-main/features/testing/syntheticMarket.ts';
import { clearFeatureCache } from '../src-main/model/featureCache.ts';
import { datasetFromDb } from '../src-main/model/trainPipeline.ts';
import { openDb } from '../src-main/store/db.ts';
import { storeEvents } from '../src-main/store/testing/storeEvents.ts';
import { emit, failBench, fullGc, measure, median } from './lib/report.ts';

const DURATION_MS = Number(process.env.BENCH_CACHE_MS ?? 30 * 60_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const T0 = 1_700_000_000_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bench-fcache-'));
try {
  const file = path.join(dir, 'cache.db');
  const db = openDb(file);
  const events = syntheticEvents({ durationMs: DURATION_MS, seed: 3 });
  const sid = storeEvents(db, events, { startedAt: T0, endedAt: T0 + DURATION_MS });
  db.close();
  const spec = { dbFile: file, sessionIds: [sid], decisionIntervalMs: 1000, horizonMs: 10_000 };

  const clear = () => {
    const d = openDb(file, { mustExist: true });
    try {
      clearFeatureCache(d);
    } finally {
      d.close();
    }
  };
  const cold: number[] = [];
  const coldCpu: number[] = [];
  const warm: number[] = [];
  const warmCpu: number[] = [];
  let rows = -1;
  for (let i = 0; i < RUNS; i++) {
    clear();
    fullGc();
    // Cold: a miss replays the raw depth and stores the entry; warm: the next build is a hit.
    const c = measure(() => {
      rows = datasetFromDb(spec).nRows;
    });
    fullGc();
    let hitRows = -1;
    const w = measure(() => {
      hitRows = datasetFromDb(spec).nRows;
    });
    if (hitRows !== rows) failBench('train.featureCache', `warm build gave ${hitRows} rows, cold ${rows}`);
    cold.push(c.wall);
    coldCpu.push(c.cpu);
    warm.push(w.wall);
    warmCpu.push(w.cpu);
  }
  emit({
    bench: 'train.featureCache',
    value: Number((median(cold) / median(warm)).toFixed(1)),
    unit: 'x faster warm (cold/warm dataset build)',
    warm_ms: Number((median(warm) * 1000).toFixed(1)),
    warm_cpu_ms: Number((median(warmCpu) * 1000).toFixed(1)),
    peer: 'cold build (raw depth replayed)',
    peer_value_ms: Number((median(cold) * 1000).toFixed(1)),
    peer_cpu_ms: Number((median(coldCpu) * 1000).toFixed(1)),
    n: events.length,
    rows,
    runs: RUNS,
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
