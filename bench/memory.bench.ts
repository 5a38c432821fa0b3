// memory.main: the main process over one simulated hour of live trading (DESIGN §8 "the main process memory does
// not grow over an hour"). The real pipeline: createApp on the simulated market (50 book updates/s, sped up
// MEMORY_BENCH_SPEED× — 60 by default, so an hour takes about a minute), the default model deciding every second,
// the traded feed recorded to SQLite (live retraining's recorder), the WS bridge with a connected client consuming
// every event. Every simulated 5 min the heap is measured after a full GC. Value: heap growth from minute 10 (once
// the bounded histories are warm... they keep 30 min, so some growth up to minute 30 is expected) to minute 60;
// the goal is no trend (< 10 MB). slope_mb_per_h: least-squares slope over minutes 30-60, where nothing may grow.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createApp } from '../src-main/app/createApp.ts';
import { startWsBridge } from '../src-main/bridge/wsBridge.ts';
import { connectBridge } from '../src-main/bridge/wsClient.ts';
import { loadConfig } from '../src-main/config/loadConfig.ts';
import { IPC_VERSION } from '../src-shared/ipc.ts';
import { emit } from './lib/report.ts';

const SPEED = Number(process.env.MEMORY_BENCH_SPEED ?? 60);
const SIM_MINUTES = Number(process.env.MEMORY_BENCH_MINUTES ?? 60);
const SAMPLE_MIN = 5;
/** Give up (and report what was reached) after this much wall time: a shared box may not keep up with SPEED. */
const WALL_LIMIT_MS = Number(process.env.MEMORY_BENCH_WALL_S ?? 600) * 1000;
const MB = 1024 * 1024;

/** A full collection: node --expose-gc's gc(), or the same function obtained without the flag. */
function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

interface Sample {
  min: number;
  heap_mb: number;
  rss_mb: number;
  external_mb: number;
  wall_s: number;
}

function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const gc = getGc();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-memory-'));
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: {
      db: path.join(dir, 'bench.db'),
      source: 'sim',
      'sim.speed': SPEED,
      'sim.book_rate_hz': 50,
      // Turns on the live feed recorder (the auto-retrainer itself only runs when asked to, which we never do).
      'retrain.every': '24h',
    },
  });
  const ctx = await createApp({ config, modelsDir: path.join(dir, 'models') });
  const bridge = await startWsBridge({ port: 0, dispatch: ctx.dispatch, bus: ctx.bus });
  const client = await connectBridge(bridge.wsUrl);
  let events = 0;
  let bookFrames = 0;
  for (const ev of [
    'market/book',
    'market/prices',
    'model/predictions',
    'trading/signals',
    'trading/fills',
    'trading/equity',
    'trading/portfolio',
    'app/status',
    'app/error',
  ] as const)
    client.on(ev, () => {
      events++;
      if (ev === 'market/book') bookFrames++;
    });
  let fills = 0;
  let predictions = 0;
  client.on('trading/fills', (f) => (fills += f.length));
  client.on('model/predictions', (p) => (predictions += p.length));

  // Simulated time, from the mids the UI feed samples (stamped with the messages' simulated exchange time).
  let firstT = NaN;
  let lastT = NaN;
  const offPrices = ctx.bus.on('market/prices', (pts) => {
    if (pts.length === 0) return;
    if (firstT !== firstT) firstT = pts[0].t;
    lastT = pts[pts.length - 1].t;
  });

  await client.invoke('app/hello', { version: IPC_VERSION });
  await client.invoke('market/start', {});

  const samples: Sample[] = [];
  const wall0 = Date.now();
  const measure = (min: number) => {
    gc();
    gc();
    const m = process.memoryUsage();
    const s: Sample = {
      min,
      heap_mb: round(m.heapUsed / MB),
      rss_mb: round(m.rss / MB),
      external_mb: round(m.external / MB),
      wall_s: round((Date.now() - wall0) / 1000),
    };
    samples.push(s);
    process.stderr.write(`memory.bench: ${JSON.stringify(s)}\n`);
  };
  let next = SAMPLE_MIN;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const simMin = lastT === lastT ? (lastT - firstT) / 60_000 : 0;
      while (simMin >= next && next <= SIM_MINUTES) {
        measure(next);
        next += SAMPLE_MIN;
      }
      if (next > SIM_MINUTES || Date.now() - wall0 > WALL_LIMIT_MS) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });

  const status = await client.invoke('market/stop', {});
  client.close();
  offPrices();
  await bridge.close();
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const at = (min: number) => samples.find((s) => s.min === min);
  const from = at(10);
  const to = samples[samples.length - 1];
  const late = samples.filter((s) => s.min >= 30);
  emit({
    bench: 'memory.main',
    value: from && to ? round(to.heap_mb - from.heap_mb) : NaN,
    unit: 'MB',
    peer: 'heap at minute 10',
    peer_value: from?.heap_mb ?? NaN,
    rss_growth_mb: from && to ? round(to.rss_mb - from.rss_mb) : NaN,
    slope_mb_per_h: round(
      slope(
        late.map((s) => s.min / 60),
        late.map((s) => s.heap_mb),
      ),
    ),
    goal: 10,
    sim_minutes: to?.min ?? 0,
    speed: SPEED,
    wall_s: round((Date.now() - wall0) / 1000),
    messages: status.messages,
    book_frames: bookFrames,
    events,
    predictions,
    fills,
    samples,
  });
}

await main();
