// `l2desk sim calibrate --db FILE|clickhouse://… [--session ID] [--hours 1] [--seed N] [--sim-params FILE] [--write FILE] [--json]`:
// the calibration statistics of a stored session (volatility per √s, 10 s return autocorrelation, spread, message
// rates, trade sizes, touch depth, the edge of imbalance and order flow) beside the simulator's, and with --write a
// parameter file fitted to the session that `collect`, `trade` and `web` take with --sim-params (or sim.params_file).
import { loadConfig } from '../config/loadConfig.ts';
import { type MarketStats, MarketStatsCollector } from '../market/sim/marketStats.ts';
import { fitSimParams, simulatedStats, type SimInstrument } from '../market/sim/simCalibration.ts';
import { DEFAULT_SIM_PARAMS, type SimParams } from '../market/sim/simGenerator.ts';
import { readSimParamsFile, SimParamsError, writeSimParamsFile } from '../market/sim/simParamsFile.ts';
import { resolveSimSeed } from '../market/sim/simSeed.ts';
import { SIM_TARGET_BANDS } from '../market/sim/simTargets.ts';
import { eachEvent, openSessionStore, type SessionStore } from '../store/sessionStore.ts';
import type { SessionInfo } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary =
  'simulated market: `sim calibrate` compares a stored session with the simulator and fits it';

const USAGE = `usage: l2desk sim calibrate [--db FILE|clickhouse://HOST:PORT/DATABASE] [--session ID] [--hours 1] [--seed N]
                          [--sim-params FILE] [--write FILE] [--rounds 2] [--config FILE] [--set key=value] [--json]
  Measures a stored session (default: the newest) and the simulator on the same instrument: volatility per √s
  (from 10 s returns), lag-1 autocorrelation of 10 s returns, spread, book and trade messages per second, trade
  sizes, size at the touch, and the rank correlation (IC) of top-5 imbalance and of the last 10 s order flow with
  the next 10 s return. A simulator figure outside the Bybit BTCUSDT band is marked "!".
  --hours       simulated time measured (default 1; more gives steadier figures)
  --seed        the simulator's random seed (default: a fresh one, printed)
  --sim-params  start from these parameters (default: sim.params_file, else the built-in ones)
  --write FILE  fit the simulator's parameters to the session and write them (JSON, or YAML for .yaml/.yml);
                use them with --sim-params FILE or sim.params_file. Figures the session is too short to
                support keep their parameter, with a note.
  --rounds      fitting rounds (each simulates --hours again with the refined parameters)
  --set         any config key for the simulator, e.g. --set sim.book_rate_hz=10 for a depth-200 session`;

const ROWS: { key: keyof MarketStats; label: string; digits: number }[] = [
  { key: 'span_s', label: 'span (s)', digits: 0 },
  { key: 'vol_bps_per_sqrt_s', label: 'volatility (bps/√s, 10 s returns)', digits: 3 },
  { key: 'vol_1s_bps_per_sqrt_s', label: 'volatility (bps/√s, 1 s returns)', digits: 3 },
  { key: 'ret10_autocorr', label: 'autocorrelation of 10 s returns', digits: 3 },
  { key: 'ret10_n', label: '10 s returns', digits: 0 },
  { key: 'spread_one_tick_share', label: 'spread one tick (share)', digits: 3 },
  { key: 'spread_mean_ticks', label: 'spread mean (ticks)', digits: 2 },
  { key: 'spread_p90_ticks', label: 'spread p90 (ticks)', digits: 0 },
  { key: 'book_msgs_per_s', label: 'book messages/s', digits: 1 },
  { key: 'trade_msgs_per_s', label: 'trade messages/s', digits: 2 },
  { key: 'trades_per_s', label: 'trades/s', digits: 2 },
  { key: 'trade_size_p50', label: 'trade size median', digits: 4 },
  { key: 'trade_size_mean', label: 'trade size mean', digits: 4 },
  { key: 'trade_size_p90', label: 'trade size p90', digits: 4 },
  { key: 'trade_size_p99', label: 'trade size p99', digits: 4 },
  { key: 'touch_size_mean', label: 'size at the touch (mean)', digits: 3 },
  { key: 'top5_size_mean', label: 'size in the top 5 levels (mean)', digits: 3 },
  { key: 'imbalance_ic', label: 'IC top-5 imbalance → next 10 s', digits: 3 },
  { key: 'flow_ic', label: 'IC 10 s order flow → next 10 s', digits: 3 },
];

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function band(key: keyof MarketStats): string {
  const b = SIM_TARGET_BANDS[key];
  return b ? `${b[0]}…${b[1]}` : '';
}

function outOfBand(key: keyof MarketStats, v: number): boolean {
  const b = SIM_TARGET_BANDS[key];
  return b !== undefined && Number.isFinite(v) && (v < b[0] || v > b[1]);
}

/** The side-by-side table: one row per statistic, a column per measured stream. */
export function statsTable(cols: { title: string; stats: MarketStats; marks: boolean }[]): string {
  const head = ['statistic', ...cols.map((c) => c.title), 'BTCUSDT band'];
  const rows = ROWS.map((r) => [
    r.label,
    ...cols.map(
      (c) => fmt(c.stats[r.key], r.digits) + (c.marks && outOfBand(r.key, c.stats[r.key]) ? ' !' : ''),
    ),
    band(r.key),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** The instrument of a session as the simulator sees it: its symbol, tick, depth and first mid. */
function instrumentOf(s: SessionInfo, firstMid: number, bookRateHz: number, levels: number): SimInstrument {
  return { symbol: s.symbol, startPrice: firstMid, tickSize: s.tickSize, depth: s.depth, bookRateHz, levels };
}

/**
 * The session's statistics (gaps reset the book) and the mid of its first snapshot with both sides (the simulator
 * starts there, so sizes and ticks are in the same units), in one pass over whichever store holds it.
 */
async function measureSession(
  store: SessionStore,
  s: SessionInfo,
): Promise<{ stats: MarketStats; mid: number }> {
  const c = new MarketStatsCollector(s.tickSize);
  let mid = NaN;
  await eachEvent(store.read(s.id), (e) => {
    if (e.kind === 'gap') {
      c.gap();
      return;
    }
    c.add(e);
    if (mid === mid || e.kind !== 'book' || e.type !== 'snapshot') return;
    const bid = e.bids.length ? Math.max(...e.bids.map((l) => l[0])) : NaN;
    const ask = e.asks.length ? Math.min(...e.asks.map((l) => l[0])) : NaN;
    if (Number.isFinite(bid) && Number.isFinite(ask)) mid = (bid + ask) / 2;
  });
  return { stats: c.summary(), mid };
}

async function calibrate(args: Args): Promise<number> {
  args.rejectUnknown([
    'db',
    'session',
    'hours',
    'seed',
    'sim-params',
    'write',
    'rounds',
    'json',
    'config',
    'set',
    'help',
  ]);
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: {
      ...args.sets(),
      ...(args.str('db') ? { db: args.str('db') } : {}),
      ...(args.str('seed') !== undefined ? { 'sim.seed': args.num('seed') } : {}),
    },
  });
  const hours = args.num('hours') ?? 1;
  if (!(hours > 0 && hours <= 48)) throw new UsageError('--hours must be between 0 and 48');
  const rounds = args.num('rounds') ?? 2;
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 10))
    throw new UsageError('--rounds must be an integer from 1 to 10');
  const paramsFile = args.str('sim-params') ?? config.sim.params_file;
  let start: Partial<SimParams> = {};
  try {
    if (paramsFile) start = readSimParamsFile(paramsFile);
  } catch (e) {
    if (e instanceof SimParamsError) throw new UsageError(e.message);
    throw e;
  }
  const store = await openSessionStore(config.db, { mustExist: true });
  try {
    const sid = args.str('session') !== undefined ? args.num('session') : (await store.latest())?.id;
    const s = sid === undefined ? undefined : await store.get(sid);
    if (!s)
      throw new UsageError(
        sid === undefined
          ? `no session in ${store.name}`
          : `no session ${sid} in ${store.name} (see \`l2desk db check\`)`,
      );
    const { stats: real, mid } = await measureSession(store, s);
    if (!(mid > 0))
      throw new UsageError(`session ${s.id} holds no book snapshot with both sides: nothing to measure`);
    const inst = instrumentOf(s, mid, config.sim.book_rate_hz, config.sim.levels);
    const seed = resolveSimSeed(config.sim.seed);
    const durationMs = hours * 3600_000;
    const sim = simulatedStats(inst, start, seed, durationMs);
    const write = args.str('write');
    const fit = write ? fitSimParams(real, inst, { start, seed, durationMs, rounds, startStats: sim }) : null;
    if (fit && write) {
      writeSimParamsFile(write, fit.params, {
        about: `simulator parameters fitted by l2desk sim calibrate to session ${s.id} of ${store.name}`,
        session: { id: s.id, source: s.source, symbol: s.symbol, span_s: Math.round(real.span_s) },
        notes: fit.notes,
      });
    }
    if (args.bool('json')) {
      console.log(
        JSON.stringify({
          session: { id: s.id, source: s.source, symbol: s.symbol, tick_size: s.tickSize, stats: real },
          simulator: {
            seed,
            hours,
            params: { ...DEFAULT_SIM_PARAMS, ...start },
            stats: sim,
          },
          bands: SIM_TARGET_BANDS,
          ...(fit
            ? { fitted: { file: write, params: fit.params, stats: fit.fitted, notes: fit.notes } }
            : {}),
        }),
      );
      return 0;
    }
    console.log(
      `session ${s.id}: ${s.source} ${s.symbol} depth ${s.depth}, tick ${s.tickSize}; simulator: ${hours} h from ` +
        `${mid.toFixed(2)}, random seed ${seed}${paramsFile ? `, parameters ${paramsFile}` : ', built-in parameters'}`,
    );
    const cols = [
      { title: `session ${s.id}`, stats: real, marks: false },
      { title: 'simulator', stats: sim, marks: true },
      ...(fit ? [{ title: 'fitted', stats: fit.fitted, marks: true }] : []),
    ];
    console.log(statsTable(cols));
    if (real.span_s < 3600)
      console.log(
        `note: the session spans ${Math.round(real.span_s)} s; volatility, autocorrelation and ICs need hours to settle`,
      );
    const rate = real.book_msgs_per_s / sim.book_msgs_per_s;
    if (Number.isFinite(rate) && (rate < 0.67 || rate > 1.5))
      console.log(
        `note: the session has ${fmt(real.book_msgs_per_s, 1)} book messages/s and the simulator ${fmt(sim.book_msgs_per_s, 1)}: ` +
          `the simulator pushes sim.book_rate_hz times a second (Bybit: every 20 ms at depth 50, 100 ms at depth 200); ` +
          `match it with --set sim.book_rate_hz=${Math.max(1, Math.round(real.book_msgs_per_s))}`,
      );
    if (fit && write) {
      for (const n of fit.notes) console.log(`note: ${n}`);
      console.log(`wrote ${write}: use it with --sim-params ${write} (or sim.params_file in the config)`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  const sub = args.positionals[0];
  if (args.bool('help') || !sub) {
    console.log(USAGE);
    return sub || args.bool('help') ? 0 : 2;
  }
  if (sub === 'calibrate') return calibrate(args);
  throw new UsageError(`unknown sim command "${sub}": try \`l2desk sim calibrate\``);
}
