// Builds the market source the config asks for (live Bybit or the simulator); replay sources are built
// from a stored session by their own module.
import type { Config } from '../../src-shared/config.ts';
import { limitsFromConfig } from '../book/plausibility.ts';
import { knownTickSize } from '../book/tickScale.ts';
import { BybitSource, type BybitSourceOptions } from './bybit/bybitSource.ts';
import { restBaseForStream } from './bybit/instrumentInfo.ts';
import type { MarketSource } from './source.ts';
import { readSimParamsFile } from './sim/simParamsFile.ts';
import { SimMarket } from './sim/simMarket.ts';

export interface CreateSourceOptions {
  /** WebSocket URL overriding config `bybit.url` (e.g. a local exchange-sim). */
  url?: string;
  /** Clock for receive stamps (tests). */
  now?: () => number;
  /** Sim only: stop after this much simulated time. */
  durationMs?: number;
}

export class SourceConfigError extends Error {
  override name = 'SourceConfigError';
}

/** The live Bybit options of `symbol` from the config (tick: configured, known, else asked or inferred). */
function bybitOptions(config: Config, symbol: string, opts: CreateSourceOptions): BybitSourceOptions {
  // Unconfigured and not in the known table: the source infers it from the first snapshot (and refines it).
  // Instruments-info is asked first (on the REST host of the stream URL); its failure falls back to that.
  // A configured tick_size belongs to config.symbol only.
  const tickSize =
    (symbol === config.symbol ? config.tick_size : undefined) ?? knownTickSize(symbol, config.category);
  const url = opts.url ?? config.bybit.url ?? undefined;
  return {
    symbol,
    category: config.category,
    depth: config.depth,
    tickSize,
    url,
    restBase: tickSize ? undefined : (restBaseForStream(url) ?? undefined),
    pingIntervalMs: config.bybit.ping_interval,
    staleTimeoutMs: config.bybit.stale_timeout,
    reconnect: {
      initialMs: config.bybit.reconnect_initial,
      maxMs: config.bybit.reconnect_max,
      jitter: config.bybit.reconnect_jitter,
    },
    now: opts.now,
    maxFrameBytes: config.bybit.max_frame_bytes,
    plausibility: limitsFromConfig(config.plausibility),
  };
}

/**
 * Several live Bybit symbols over one connection (`collect --symbol A,B,C`): one source per symbol, each with its
 * own book, tick and gaps; the subscribe requests are split to the category's per-request limit.
 */
export function createBybitSources(
  config: Config,
  symbols: readonly string[],
  opts: CreateSourceOptions = {},
): BybitSource[] {
  const each = symbols.map((s) => bybitOptions(config, s, opts));
  const { symbol: _first, tickSize: _tick, ...shared } = each[0];
  // instruments-info is asked per symbol whose tick is unknown: the shared REST base is the stream's.
  const restBase = restBaseForStream(shared.url) ?? undefined;
  return BybitSource.group({
    ...shared,
    restBase,
    symbols: each.map((o) => ({ symbol: o.symbol, tickSize: o.tickSize })),
  });
}

export function createSource(config: Config, opts: CreateSourceOptions = {}): MarketSource {
  switch (config.source) {
    case 'bybit':
      return new BybitSource(bybitOptions(config, config.symbol, opts));
    case 'sim':
      return new SimMarket({
        // null: the simulator draws a fresh seed (read back from source.seed, printed and stored with the session).
        seed: config.sim.seed,
        params: config.sim.params_file ? readSimParamsFile(config.sim.params_file) : undefined,
        symbol: config.symbol,
        category: config.category,
        startPrice: config.sim.start_price,
        tickSize: config.tick_size ?? config.sim.tick_size,
        levels: config.sim.levels,
        bookRateHz: config.sim.book_rate_hz,
        depth: config.depth,
        speed: config.sim.speed,
        durationMs: opts.durationMs,
        now: opts.now,
      });
    case 'replay':
      throw new SourceConfigError(
        'source "replay" plays a stored session: use the replay source with a database and session id, not createSource',
      );
  }
}
