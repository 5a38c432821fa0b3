// The configuration contract: one schema validates the defaults (resources/config.yaml), the user's file and
// CLI flags, so a bad value is rejected with the key's path and what is allowed.
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { plainDecimal } from './plainNumber.ts';

const duration = (bareUnit: 'ms' | 's' | 'm' = 's') =>
  z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
    try {
      return parseDuration(v, bareUnit);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);
const decimalString = z
  .union([z.string(), z.number()])
  // YAML and --set read an unquoted 0.0000001 as a number, which String() writes as 1e-7.
  .transform((v) => (typeof v === 'number' ? plainDecimal(v) : v))
  .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0, 'a positive decimal such as "0.1" or "0.0001"');

export const BYBIT_DEPTHS = { linear: [1, 50, 200, 1000], spot: [1, 50, 200, 1000] } as const;

export const configSchema = z
  .object({
    source: z.enum(['bybit', 'sim', 'replay']),
    symbol: z.string().regex(/^[A-Z0-9]{2,30}$/, 'an upper-case symbol such as BTCUSDT'),
    category: z.enum(['linear', 'spot']),
    depth: z
      .number()
      .refine(
        (d) => [1, 50, 200, 1000].includes(d),
        'one of 1, 50, 200, 1000 (Bybit v5 depths; 500 is no longer served)',
      ),
    /** Tick size override; null means: from the known-instrument table, else inferred from the data. */
    tick_size: decimalString.nullable(),
    db: z.string().min(1),
    bybit: z.strictObject({
      url: z
        .string()
        .regex(/^wss?:\/\//, 'a ws:// or wss:// URL')
        .nullable(),
      ping_interval: duration('s').refine((v) => v > 0, 'must be > 0'),
      // 0 would resubscribe every few ms (a storm of snapshots): no socket is dead that soon.
      stale_timeout: duration('s').refine((v) => v >= 100, 'at least 100ms'),
      reconnect_initial: duration('ms'),
      reconnect_max: duration('ms'),
      reconnect_jitter: fraction,
      // A depth-1000 snapshot is about 60 KB: a frame far above that is garbage or an attack, refused unread.
      max_frame_bytes: z.number().int().min(65_536).max(104_857_600),
    }),
    /** Values outside these limits are refused on ingest and import, and stored as data-quality findings. */
    plausibility: z.strictObject({
      /** A price may sit at most this fraction above the reference (book mid) or as far below (its reciprocal). */
      max_price_deviation: z.number().positive().max(100),
      /** Largest size of a level or trade, in the base currency. */
      max_size: z.number().positive(),
      /** Largest distance of an exchange timestamp from the receive clock. */
      max_clock_skew: duration('m').refine((v) => v >= 1000, 'at least 1s'),
    }),
    sim: z.strictObject({
      /** Random seed of the simulated market; null: a fresh one each run (printed, stored with the session). */
      seed: z.number().int().min(0).max(0xffffffff).nullable(),
      /** A YAML/JSON file of simulator parameters (`l2desk sim calibrate --write`); null: the built-in defaults. */
      params_file: z.string().min(1).nullable(),
      speed: z.union([z.number().positive(), z.literal('max')]),
      start_price: z.number().positive(),
      tick_size: decimalString,
      book_rate_hz: z.number().positive().max(1000),
      levels: positiveInt.max(1000),
    }),
    store: z.strictObject({
      batch_interval: duration('ms').refine((v) => v > 0 && v <= 250, 'between 1ms and 250ms'),
      retention_days: z.number().nonnegative(),
      /** A database locked by another process is waited out this long (messages held in memory) before collecting stops. */
      busy_give_up: duration('s').refine((v) => v >= 1000, 'at least 1s'),
      /** Memory the collector may fill with messages while the database is locked (MiB). */
      busy_buffer_mb: z.number().positive().max(65536),
      /**
       * Backtests read the stored session ahead in a worker thread (a second core): auto for sessions of 100 000
       * messages or more, on, off (one core, or to compare).
       */
      read_ahead: z.enum(['auto', 'on', 'off']),
    }),
    features: z.strictObject({
      decision_interval: duration('ms'),
    }),
    model: z.strictObject({
      path: z.string().min(1),
      horizon: duration('s'),
      /** Size caps on a model's files, checked before reading (a wrong --model cannot fill memory). */
      max_onnx_mb: z.number().positive().max(4096),
      max_meta_mb: z.number().positive().max(1024),
    }),
    train: z.strictObject({
      max_depth: positiveInt.max(16),
      learning_rate: z.number().positive().max(1),
      rounds: positiveInt,
      min_samples_leaf: positiveInt,
      l2: z.number().nonnegative(),
      row_subsample: fraction,
      feature_subsample: fraction,
      early_stopping_rounds: positiveInt,
      bins: positiveInt.max(255),
      folds: positiveInt.max(20),
      ensemble: positiveInt.max(16),
      /** Fewest independent label horizons (covered time / horizon) training accepts: rows overlap, time does not. */
      min_horizons: positiveInt,
    }),
    tuning: z.strictObject({ trials: z.number().int().nonnegative() }),
    retrain: z.strictObject({
      every: duration('m').nullable(),
      window: duration('m'),
      /**
       * The app stores the feed it trades on (Retrain and live retraining learn from it) and keeps about this much of
       * it, newest first: older recorded sessions of the feed are deleted. 0: the feed is stored only for retrain.every.
       */
      feed_keep: duration('m'),
    }),
    trading: z.strictObject({
      threshold: z.number().nonnegative(),
      hysteresis: z.number().nonnegative(),
      min_hold: duration('s'),
      initial_balance: z.number().positive(),
      /** Fees of a linear (perpetual) symbol, as fractions of notional. */
      taker_fee: z.number().min(-0.01).max(0.01),
      maker_fee: z.number().min(-0.01).max(0.01),
      /** Fees of a spot symbol: Bybit's spot rates are not its linear ones (0.1 % both sides, non-VIP). */
      spot_taker_fee: z.number().min(-0.01).max(0.01).default(0.001),
      spot_maker_fee: z.number().min(-0.01).max(0.01).default(0.001),
      latency: duration('ms'),
      latency_model: z.enum(['constant', 'feed', 'jitter']),
      latency_feed_factor: z.number().nonnegative().max(100),
      latency_jitter: duration('ms'),
      latency_seed: z.number().int(),
      queue_model: z.enum(['pro_rata', 'risk_averse', 'power']),
      queue_power: z.number().positive().max(20),
      liquidity: z.enum(['consumed', 'unlimited']),
      /** From a decision to its order leaving (replay; live measures it and uses the longer). */
      compute: duration('ms'),
      /** From the exchange's fill or order state to our seeing it. */
      response_latency: duration('ms'),
      /** Receive time of data stored without one (imports, the simulator) = exchange time + this. */
      feed_latency: duration('ms'),
      executor: z.enum(['market', 'passive']),
      passive_timeout: duration('s'),
    }),
    risk: z.strictObject({
      sizing: z.enum(['fixed_notional', 'equity_fraction', 'vol_target']),
      notional: z.number().positive(),
      equity_fraction: fraction,
      vol_target_bps: z.number().positive(),
      /** Largest absolute position, quote currency (USDT) at the current mid: symbol-agnostic. */
      max_position_notional: z.number().positive(),
      /** Smallest order value (quote); Bybit's minimum is 5 USDT. */
      min_order_notional: z.number().nonnegative(),
      /** Same-direction resize only when the size changes by more than this fraction of the target. */
      rebalance_band: fraction,
      stop_loss_bps: z.number().nonnegative(),
      take_profit_bps: z.number().nonnegative(),
      max_daily_loss: z.number().nonnegative(),
      /** Fall from the equity peak (0.05 = 5 %) that halts trading for the rest of the run; 0 disables. */
      max_drawdown: fraction.refine((x) => x < 1, 'must be below 1 (0 disables)').default(0),
      cooldown: duration('s'),
      /**
       * Short positions on a spot symbol. Bybit spot sells only what the account holds (margin trading aside), so by
       * default a spot run is long-only: a sell signal closes a long and stays flat.
       */
      spot_shorts: z.boolean().default(false),
    }),
    /** Heavy jobs of the app (backtests, walk-forward runs, retraining): how many run at once; the rest queue. */
    jobs: z.strictObject({ concurrency: positiveInt.max(16) }),
    ui: z.strictObject({
      port: z.number().int().min(0).max(65535),
      book_hz: z.number().positive().max(60),
    }),
  })
  .strict();

/** Raw config as written in YAML (durations as strings or numbers). */
export type ConfigInput = z.input<typeof configSchema>;
/** Validated config: durations in milliseconds, decimals as strings. */
export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a merged config object; throws ConfigError naming the first bad key and what it allows. */
export function validateConfig(raw: unknown, origin = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(root)';
    return `${key}: ${describeIssue(issue)}`;
  });
  const key = result.error.issues[0]?.path.join('.') ?? '';
  throw new ConfigError(`invalid ${origin}:\n  ${lines.join('\n  ')}`, key);
}

/** Keys an older config may still hold, and what replaced them. */
const RENAMED: Readonly<Record<string, string>> = {
  max_position: 'use risk.max_position_notional, in quote currency (USDT), for any symbol',
};

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      // Own properties only: a key such as `toString` must not find Object.prototype's function.
      return `unknown config key${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .map((k) => (Object.hasOwn(RENAMED, k) ? `${k} (renamed: ${RENAMED[k]})` : k))
        .join(', ')}`;
    case 'invalid_union':
      return `${issue.message}; allowed: see resources/config.yaml`;
    default:
      return issue.message;
  }
}
