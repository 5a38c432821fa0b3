// `l2desk exchange-sim`: a Bybit v5-compatible public WebSocket on 127.0.0.1 serving the simulator or a stored
// session, with scheduled (--fault KIND@SECONDS) or typed (stdin: a fault name + Enter) fault injection.
import readline from 'node:readline';
import { knownTickSize, TickScale } from '../book/tickScale.ts';
import type { Category } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import {
  ExchangeSimServer,
  FAULT_HELP,
  FAULTS,
  type Fault,
} from '../market/exchangeSim/exchangeSimServer.ts';
import { sessionFeed, simFeed, type MarketFeed } from '../market/exchangeSim/feeds.ts';
import { stageClickHouseSession } from '../store/clickhouse/stagedSession.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb, type Db } from '../store/db.ts';
import { Args, UsageError } from './args.ts';
import { readSimParamsFile } from '../market/sim/simParamsFile.ts';
import { resolveSimSeed, seedNote } from '../market/sim/simSeed.ts';

export const summary =
  'serve a Bybit-compatible WebSocket on 127.0.0.1 (simulator or stored session), with faults';

const USAGE = `usage: l2desk exchange-sim [--port N] [--symbol BTCUSDT[,ETHUSDT:0.01:3400,...]] [--spot-only SYMBOL,...]
                           [--category linear|spot] [--seed N] [--speed N]
                           [--tick-size 0.1] [--start-price 65000]
                           [--session ID --db FILE|clickhouse://HOST:PORT/DATABASE]
                           [--fault KIND@SECONDS ...] [--config FILE]
  Serves wss-compatible ws://127.0.0.1:PORT/v5/public/{linear|spot} (127.0.0.1 only), e.g.
    l2desk exchange-sim --port 8765 --fault gap@10 --fault drop@20
    l2desk collect --source bybit --url ws://127.0.0.1:8765/v5/public/linear --duration 1m
  --port     listening port (default 0: any free port, printed on start)
  --session  serve a stored session (with --db) instead of the simulator; a ClickHouse store's session is copied
             into a temporary file first
  --speed    market time per wall time (default 1)
  --tick-size, --start-price
             the simulated market's tick and first price (default config tick_size / sim.*), e.g.
             --symbol XRPUSDT --tick-size 0.0001 --start-price 0.52; sizes come in lots worth about 100 USDT
  --symbol   the symbol served, or several separated by commas, each its own simulated market: the first takes
             --tick-size and --start-price; each further one is SYMBOL:TICK:PRICE, or SYMBOL alone for a symbol
             whose tick is known (ETHUSDT, SOLUSDT, ...). A topic of any other symbol is refused as Bybit refuses it:
    l2desk exchange-sim --port 8765 --symbol BTCUSDT,ETHUSDT,SOLUSDT:0.001:150
    l2desk collect --source bybit --url ws://127.0.0.1:8765/v5/public/linear --symbol BTCUSDT,ETHUSDT,SOLUSDT
  --spot-only
             symbols listed on spot only (served at /v5/public/spot, refused at /v5/public/linear); every other
             symbol is listed on both
  --depth    accepted for symmetry with collect: clients choose the depth by topic (1, 50, 200, 1000)
  --fault    inject KIND after SECONDS; repeatable. While running, type a KIND and Enter to inject it now.
  faults:
${FAULTS.map((f) => `    ${f.padEnd(10)} ${FAULT_HELP[f]}`).join('\n')}`;

const KNOWN = [
  'port',
  'spot-only',
  'session',
  'db',
  'symbol',
  'category',
  'depth',
  'seed',
  'speed',
  'tick-size',
  'start-price',
  'fault',
  'config',
  'help',
];

function isFault(s: string): s is Fault {
  return (FAULTS as readonly string[]).includes(s);
}

export function parseFaultSchedule(specs: readonly string[]): Array<{ fault: Fault; atMs: number }> {
  return specs.map((spec) => {
    const m = /^([a-z]+)@(\d+(?:\.\d+)?)s?$/.exec(spec.trim());
    if (!m || !isFault(m[1]))
      throw new UsageError(
        `--fault ${spec}: expected KIND@SECONDS with KIND one of ${FAULTS.join(', ')} (e.g. gap@10)`,
      );
    const atMs = Number(m[2]) * 1000;
    // setTimeout fires at once beyond 2^31 − 1 ms: a fault scheduled that late would hit immediately.
    if (atMs > 2 ** 31 - 1)
      throw new UsageError(`--fault ${spec}: at most 2147483 s (24.8 days) from the start`);
    return { fault: m[1], atMs };
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const overrides: Record<string, unknown> = {};
  const symbolList = args
    .str('symbol')
    ?.split(',')
    .map((x) => x.trim());
  if (symbolList) overrides.symbol = symbolList[0];
  if (args.str('category') !== undefined) overrides.category = args.str('category');
  if (args.str('depth') !== undefined) overrides.depth = args.num('depth');
  if (args.str('seed') !== undefined) overrides['sim.seed'] = args.num('seed');
  if (args.str('tick-size') !== undefined) overrides.tick_size = args.str('tick-size');
  if (args.str('start-price') !== undefined) overrides['sim.start_price'] = args.num('start-price');
  const config = loadConfig({ configFile: args.str('config'), overrides });
  const port = args.num('port') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be an integer between 0 and 65535');
  const speedText = args.str('speed');
  const speed = speedText === undefined ? 1 : Number(speedText);
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new UsageError(`--speed must be a positive number, got "${speedText}"`);
  const schedule = parseFaultSchedule(args.all('fault'));

  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  let db: Db | undefined;
  // A ClickHouse session is served from a temporary SQLite copy (deleted when the server stops).
  let disposeDb: () => void = () => db?.close();
  let feed: MarketFeed;
  const moreFeeds: MarketFeed[] = [];
  if (symbolList && symbolList.length > 1 && args.str('session') !== undefined)
    throw new UsageError(
      '--session serves the stored session’s one symbol: give --symbol one symbol or none',
    );
  if (args.str('session') !== undefined) {
    const id = args.num('session');
    if (!Number.isInteger(id))
      throw new UsageError('--session must be a session id (see `l2desk db check --db FILE`)');
    const file = args.req('db');
    if (isClickHouseUrl(file)) {
      const staged = await stageClickHouseSession(file, id as number, log);
      db = staged.db;
      disposeDb = staged.dispose;
    } else {
      db = openDb(file, { mustExist: true });
    }
    try {
      feed = sessionFeed(db, id as number);
    } catch (e) {
      disposeDb();
      throw e;
    }
  } else {
    if (args.str('db') !== undefined) throw new UsageError('--db is only used with --session ID');
    const tickSize = config.tick_size ?? config.sim.tick_size;
    const scale = new TickScale(tickSize);
    // The simulated book spans about 2 × sim.levels ticks on each side of the price: keep bids above zero.
    if (!(config.sim.start_price * scale.ticksPerUnit >= 4 * config.sim.levels))
      throw new UsageError(
        `--start-price ${config.sim.start_price} is only ${Math.floor(config.sim.start_price * scale.ticksPerUnit)} ticks of ${tickSize}: ` +
          `the simulated book needs at least ${4 * config.sim.levels} ticks below it (a finer --tick-size or a higher price)`,
      );
    const seed = resolveSimSeed(config.sim.seed);
    if (config.sim.seed === null) console.error(seedNote(seed));
    feed = simFeed({
      seed,
      params: config.sim.params_file ? readSimParamsFile(config.sim.params_file) : undefined,
      symbol: config.symbol,
      startPrice: config.sim.start_price,
      tickSize,
      levels: config.sim.levels,
      bookRateHz: config.sim.book_rate_hz,
      startMs: Date.now(),
    });
    // Further symbols: each its own market, on its own grid, from the same random seed (offset, so they differ).
    for (const [i, spec] of (symbolList ?? []).slice(1).entries()) {
      const m = parseExtraMarket(spec, config.category);
      moreFeeds.push(
        simFeed({
          seed: seed + i + 1,
          params: config.sim.params_file ? readSimParamsFile(config.sim.params_file) : undefined,
          ...m,
          levels: config.sim.levels,
          bookRateHz: config.sim.book_rate_hz,
          startMs: Date.now(),
        }),
      );
    }
  }
  const spotOnly =
    args
      .str('spot-only')
      ?.split(',')
      .map((x) => x.trim()) ?? [];
  const served = [feed, ...moreFeeds].map((f) => f.symbol);
  for (const sym of spotOnly)
    if (!served.includes(sym)) {
      disposeDb();
      throw new UsageError(`--spot-only ${sym}: not a served symbol (${served.join(', ')})`);
    }
  const listings = Object.fromEntries(spotOnly.map((sym) => [sym, ['spot' as const]]));

  const server = await ExchangeSimServer.start({
    feed,
    moreFeeds,
    listings,
    port,
    category: config.category,
    speed,
    log,
  }).catch((e: unknown) => {
    disposeDb();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(
        `port ${port} on 127.0.0.1 is in use: choose another with --port N (0 = any free port)`,
      );
    throw e;
  });
  for (const f of [feed, ...moreFeeds])
    log(`exchange-sim serving ${f.symbol}: ${f.description} at ${server.url}`);
  const syms = server.symbols.length > 1 ? `{${server.symbols.join(',')}}` : server.symbol;
  log(
    `topics: orderbook.{1,50,200,1000}.${syms}, publicTrade.${syms}; type a fault (${FAULTS.join(', ')}) and Enter to inject it`,
  );

  const timers = schedule.map(({ fault, atMs }) => setTimeout(() => server.inject(fault), atMs));
  const rl =
    process.stdin.isTTY || process.env.L2DESK_STDIN_FAULTS
      ? readline.createInterface({ input: process.stdin })
      : null;
  rl?.on('line', (line) => {
    const f = line.trim();
    if (f === '') return;
    if (isFault(f)) server.inject(f);
    else log(`unknown fault "${f}": one of ${FAULTS.join(', ')}`);
  });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  for (const t of timers) clearTimeout(t);
  rl?.close();
  await server.close();
  disposeDb();
  log(`stopped after ${server.stats.connections} connection(s), ${server.stats.stepsPlayed} market steps`);
  return 0;
}

/** A further served symbol: SYMBOL:TICK:PRICE, or SYMBOL alone when its tick is known (its price then a plausible one). */
export function parseExtraMarket(
  spec: string,
  category: Category,
): { symbol: string; tickSize: string; startPrice: number } {
  const [symbol, tick, price, ...rest] = spec.split(':');
  const bad = (why: string) =>
    new UsageError(`--symbol ${spec}: ${why}; write SYMBOL:TICK:PRICE such as ETHUSDT:0.01:3400`);
  if (rest.length > 0 || !/^[A-Z0-9]{2,30}$/.test(symbol)) throw bad('not a symbol');
  const tickSize = tick ?? knownTickSize(symbol, category);
  if (!tickSize) throw bad(`the tick size of ${symbol} is not known`);
  let scale: TickScale;
  try {
    scale = new TickScale(tickSize);
  } catch (e) {
    throw bad((e as Error).message);
  }
  // Without a price: 650 000 ticks (BTCUSDT's 65000 on 0.1), far enough from zero for the simulated book.
  const startPrice = price === undefined ? Number(tickSize) * 650_000 : Number(price);
  if (!(startPrice * scale.ticksPerUnit >= 1000)) throw bad(`price ${price} is too few ticks above zero`);
  return { symbol, tickSize, startPrice };
}
