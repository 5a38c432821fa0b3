// Simulated market data for the bundled default model, the trainer benchmark and tests: the sim generator's v5
// frames, parsed exactly as a live feed is, from a fixed start time, so that a dataset built from it (and a model
// trained on it) is the same for the same seed. Optionally stored as a session through the store's writer.
import type { Config } from '../../src-shared/config.ts';
import type { MarketMessage } from '../../src-shared/market.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { SimGenerator, type SimParams } from '../market/sim/simGenerator.ts';
import type { Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';

/** 2026-01-01T00:00:00Z: the simulated clock's fixed origin. */
export const SIM_EPOCH_MS = 1_767_225_600_000;

/** The seed of benchmarks and tests that name none (the configured seed wins): a fixed path, not the model's. */
export const FIXED_DATA_SEED = 42;

/** The parts of the configuration the simulator reads. */
export type SimConfig = Pick<Config, 'symbol' | 'category' | 'depth' | 'tick_size'> & {
  sim: Omit<Config['sim'], 'params_file'> & { params_file?: string | null };
};

export interface SimDataOptions {
  config: SimConfig;
  durationMs: number;
  startMs?: number;
  /** Default: config sim.seed, else FIXED_DATA_SEED (this data is meant to be reproducible). */
  seed?: number;
  /** Simulator parameters over the defaults (a calibrated params file). */
  params?: Partial<SimParams>;
}

/** The seed `o` generates with. */
export function simDataSeed(o: SimDataOptions): number {
  return o.seed ?? o.config.sim.seed ?? FIXED_DATA_SEED;
}

/** Parsed messages of `durationMs` of simulated market, in order (recvTs = the simulated time). */
export function* simMessages(o: SimDataOptions): Generator<MarketMessage> {
  const c = o.config;
  const start = o.startMs ?? SIM_EPOCH_MS;
  const gen = new SimGenerator({
    seed: simDataSeed(o),
    symbol: c.symbol,
    startPrice: c.sim.start_price,
    tickSize: c.tick_size ?? c.sim.tick_size,
    levels: c.sim.levels,
    bookRateHz: c.sim.book_rate_hz,
    depth: c.depth,
    startMs: start,
    params: o.params,
    numeric: true,
  });
  while (true) {
    const step = gen.next();
    if (step.atMs > start + o.durationMs) return;
    for (const f of step.frames) {
      const p = parseRawMessage(f, step.atMs);
      if (p.type === 'book' || p.type === 'trades') yield p.msg;
    }
  }
}

/** An open session of `config`'s simulated market, with no data yet (what simMessages are written into). */
export function createSimSession(
  db: Db,
  config: SimConfig,
  o: { startMs?: number; seed?: number; meta?: Record<string, unknown> } = {},
): number {
  return createSession(db, {
    source: 'sim',
    symbol: config.symbol,
    category: config.category,
    depth: config.depth,
    tickSize: config.tick_size ?? config.sim.tick_size,
    startedAt: o.startMs ?? SIM_EPOCH_MS,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.meta ? { meta: o.meta } : {}),
  });
}

/** Stores `simMessages` as one session of `db`; returns its id. */
export function writeSimSession(db: Db, o: SimDataOptions): number {
  const start = o.startMs ?? SIM_EPOCH_MS;
  let clock = start;
  const seed = simDataSeed(o);
  const id = createSimSession(db, o.config, {
    startMs: start,
    seed,
    meta: {
      seed,
      durationMs: o.durationMs,
      generatedBy: 'simData',
      ...(o.params ? { params: o.params } : {}),
    },
  });
  const w = new SessionWriter(db, id, { now: () => clock, maxRows: 50_000 });
  for (const m of simMessages(o)) {
    clock = m.recvTs;
    w.writeMessage(m);
  }
  w.close(start + o.durationMs);
  return id;
}
