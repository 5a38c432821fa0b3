// `l2desk trade --paper`: paper-trades a model on live Bybit data, the simulator, or a stored session replayed
// at any speed, through the same engine as `backtest`. Logs a status line every 10 s
// (prediction scaled and unscaled, signal, position, balance) and a BUY/SELL line per fill. Ctrl-C stops cleanly.
// There is no real-order path: without --paper it refuses to run.
import path from 'node:path';
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { defaultSamplingMs } from '../backtest/backtest.ts';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { modelFileLimits } from '../model/modelFileReader.ts';
import { RealClock, ReplayClock, type Clock } from '../engine/clock.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { describeExecution } from '../engine/describeExecution.ts';
import { END_OF_RUN, Engine, engineOptionsFromConfig } from '../engine/engine.ts';
import { RunRecorder } from '../engine/runRecorder.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { createSource } from '../market/createSource.ts';
import { awaitSubscribed, HeldSource, type Subscribing } from '../market/heldSource.ts';
import type { MarketSource } from '../market/source.ts';
import type { FeedHealth } from '../../src-shared/market.ts';
import { Predictor } from '../model/predictor.ts';
import { formatCostsLine } from '../trading/executionCosts.ts';
import { TrainCancelled } from '../model/trainer.ts';
import { LiveSessionRows } from '../model/liveRows.ts';
import { datasetParamsFromConfig } from '../model/featureCache.ts';
import type { StoreFeatures } from '../model/trainPipeline.ts';
import { retrainerFromConfig, type Retrainer } from '../model/retrainer.ts';
import type { Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';
import { safeText } from './safeText.ts';
import { openTradeStore, type TradeStore } from './tradeStore.ts';
import { seedNote } from '../market/sim/simSeed.ts';
import { formatHalt, type RiskHalt } from '../../src-shared/riskHalt.ts';
import { figureWithNote, hitRateReason, sharpeReason } from '../../src-shared/reliability.ts';
import { formatQty } from '../trading/lotSize.ts';

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const summary = 'paper-trade a model live (--paper), on bybit, sim or a replay';

const USAGE = `usage: l2desk trade --paper [--source bybit|sim|replay] [--db FILE] [--session ID] [--model PATH] [--threshold X]
                    [--symbol SYM] [--category linear|spot] [--tick-size T] [--speed N|max] [--duration D] [--url WS_URL]
                    [--executor market|passive] [--seed N] [--sim-params FILE] [--config FILE] [--set key=value] [--no-record] [--quiet]
  --paper      required: L2 Desk only paper-trades (there is no code path that sends a real order)
  --source     bybit (live, public data), sim (built-in simulated market) or replay (a stored session: --db, --session)
  --symbol     bybit/sim: the symbol (default from config); an unknown symbol's tick size is inferred from its first snapshot
  --tick-size  bybit/sim: the symbol's tick size, e.g. 0.0001 (default: known table, else inferred)
  --speed      replay/sim speed: 1 = real time, N times faster, max = as fast as possible
  --seed       sim: repeat the market path of this random seed (default: a fresh one, printed and stored)
  --sim-params sim: simulator parameters fitted by \`l2desk sim calibrate --write FILE\`
  --duration   stop after this long (data time): 90s, 10m, 2h; a bare number is minutes. Default: until Ctrl-C / end of replay
  --db         replay: the database holding the session; also where the run is recorded (default: config db).
               A ClickHouse store (clickhouse://HOST:PORT/DATABASE): the run is recorded in a temporary file and
               saved into the store when it ends (kept, with its path printed, if the store cannot take it then)
  --no-record  do not store the run (runs, predictions, signals, orders, fills, equity)
Live retraining: with retrain.every set (config file, or --config), the feed is also stored as a session in --db,
and every retrain.every (engine time) a challenger is trained in a worker on the newest retrain.window of it; it
replaces the running model only if it predicts the newest unseen data better. Each decision is a stderr line and a
row of model_decisions; challengers are written to retrained/ beside the database (in the working directory for a
ClickHouse store, where the feed is saved as a session when the run ends).`;

const KNOWN = [
  'set',
  'paper',
  'source',
  'symbol',
  'category',
  'tick-size',
  'db',
  'session',
  'model',
  'threshold',
  'speed',
  'duration',
  'url',
  'executor',
  'seed',
  'sim-params',
  'config',
  'no-record',
  'quiet',
  'help',
];
const LOG_EVERY_MS = 10_000;

const fmtTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['paper', 'no-record', 'quiet', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  if (!args.bool('paper')) {
    throw new UsageError(
      'only paper trading exists: add --paper (L2 Desk has no code path that sends a real order)',
    );
  }
  const overrides: Record<string, unknown> = {};
  if (args.str('source') !== undefined) overrides.source = args.str('source');
  if (args.str('threshold') !== undefined) overrides['trading.threshold'] = args.num('threshold');
  if (args.str('executor') !== undefined) overrides['trading.executor'] = args.str('executor');
  if (args.str('url') !== undefined) overrides['bybit.url'] = args.str('url');
  if (args.str('symbol') !== undefined) overrides.symbol = args.str('symbol')?.toUpperCase();
  if (args.str('category') !== undefined) overrides.category = args.str('category');
  if (args.str('tick-size') !== undefined) overrides.tick_size = args.str('tick-size');
  const speedArg = args.str('speed');
  const speed: number | 'max' | undefined =
    speedArg === undefined ? undefined : speedArg === 'max' ? 'max' : args.num('speed');
  if (speed !== undefined && speed !== 'max' && !(speed > 0))
    throw new UsageError('--speed must be > 0 or max');
  if (speed !== undefined) overrides['sim.speed'] = speed;
  if (args.str('seed') !== undefined) overrides['sim.seed'] = args.num('seed');
  if (args.str('sim-params') !== undefined) overrides['sim.params_file'] = args.str('sim-params');
  // A dedicated flag wins over the same key given with --set.
  const config = loadConfig({ configFile: args.str('config'), overrides: { ...args.sets(), ...overrides } });
  let durationMs = Infinity;
  if (args.str('duration') !== undefined) {
    try {
      durationMs = parseDuration(args.req('duration'), 'm');
    } catch (e) {
      throw new UsageError(`--duration: ${(e as Error).message}`);
    }
  }
  const quiet = args.bool('quiet');
  const modelArg = args.str('model') ?? config.model.path;
  const modelPath =
    args.str('model') !== undefined || path.isAbsolute(modelArg)
      ? modelArg
      : path.resolve(PROJECT_ROOT, modelArg);

  let db: Db | null = null;
  let source: MarketSource;
  let clock: Clock;
  let samplingMs: number | undefined;
  let sessionId: number | null = null;
  const dbFile = args.str('db') ?? config.db;
  // Where the run (and, with live retraining, the traded feed) is recorded and a replayed session read: the SQLite
  // file itself, or for a ClickHouse store a working file saved into it at the end (tradeStore.ts).
  let store: TradeStore | null = null;
  /** A replayed session's dataset rows when live retraining cannot read them from the recording database. */
  let replayRows: StoreFeatures | null = null;
  const log = (l: string) => console.error(l);
  if (config.source === 'replay') {
    if (args.str('db') === undefined)
      throw new UsageError('--source replay needs --db FILE (and --session ID, default the newest)');
    const ts = await openTradeStore(dbFile, true, log);
    store = ts;
    const want = args.str('session') !== undefined ? (args.num('session') as number) : undefined;
    // Live retraining learns from the replayed session: its rows come with it where the store cannot lend its file.
    const features =
      config.retrain.every === null ? undefined : { ...datasetParamsFromConfig(config), store: true };
    const r = await ts.replay(want, speed ?? 1, features).catch(async (e: unknown) => {
      await ts.close();
      throw e;
    });
    if (!r) {
      await ts.close();
      throw new UsageError(
        want === undefined ? `no session in ${ts.name}` : `no session ${want} in ${ts.name}`,
      );
    }
    db = ts.db;
    source = r.source;
    replayRows = r.rows;
    sessionId = r.session.id;
    // The clock follows the data: the same decisions at any speed, identical to a backtest of the session.
    clock = new ReplayClock();
    samplingMs = defaultSamplingMs((r.session.lastRecvTs ?? 0) - (r.session.firstRecvTs ?? 0));
  } else {
    source = createSource(config, {
      url: args.str('url'),
      durationMs: config.source === 'sim' && durationMs < Infinity ? durationMs : undefined,
    });
    if (source.seed !== undefined) process.stderr.write(`${seedNote(source.seed)}\n`);
    clock = config.source === 'sim' ? new ReplayClock() : new RealClock();
    if (!args.bool('no-record')) {
      store = await openTradeStore(dbFile, false, log);
      db = store.db;
    }
  }
  /** Closes the store (saving the run and feed where it keeps them first, when `saved` is given). */
  const closeStore = async (saved?: { runId: number | undefined; feedSession: number | null }) => {
    if (!store) return;
    if (saved) for (const line of await store.finish(saved.runId, saved.feedSession)) console.error(line);
    await store.close();
  };
  if (config.retrain.every !== null && !db)
    throw new UsageError(
      'retrain.every is set: live retraining trains on the stored feed, so drop --no-record (or set retrain.every: null)',
    );

  let predictor = await Predictor.load(modelPath, FEATURE_SET, modelFileLimits(config.model)).catch(
    async (e: unknown) => {
      await closeStore();
      throw e;
    },
  );
  // Ctrl-C and SIGTERM have one handler from here to the end of the run, across the wait for the feed and the run
  // itself: a signal between the two phases is neither lost nor met by the default action (an exit without the
  // summary, or with a listener of the first phase left, ignored while the run went on retrying).
  let stopReason = '';
  let requestStop!: (why: string) => void;
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = (why: string) => {
      if (!stopReason) stopReason = why;
      resolve();
    };
  });
  const onSignal = () => {
    if (stopReason === 'interrupted') {
      console.error('second interrupt: exiting now');
      process.exit(130);
    }
    if (!quiet) console.log('stopping (Ctrl-C again to force)…');
    requestStop('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // A live feed is started first and the run (and its stored feed) is made only once the exchange has accepted the
    // subscription: a refused symbol (unknown, or of the other category) fails at once and records nothing. What
    // arrives meanwhile (the first snapshot) is held for the engine.
    let held: HeldSource | null = null;
    const live = source;
    if (live instanceof BybitSource) {
      const waited = await awaitFeed(
        live,
        durationMs,
        quiet,
        stopRequested.then(() => stopReason),
      );
      if (waited.kind !== 'proceed') {
        await live.stop().catch(() => undefined);
        await predictor.close();
        await closeStore();
        if (waited.kind === 'failed') {
          console.error(`trade: ${safeText(waited.error.message)}; nothing was recorded`);
          return 1;
        }
        if (waited.reason !== 'duration reached') {
          console.error(`trade stopped (${waited.reason}) before the exchange accepted the subscription`);
          return 0;
        }
        console.error(
          `no market data received from the ${config.source} source in ${formatDuration(durationMs)}: ` +
            'the exchange was not reachable (see the warnings above) or sent nothing; nothing was recorded',
        );
        return 1;
      }
      held = waited.held;
      source = held;
    }
    const options = engineOptionsFromConfig(config, source.instrument, samplingMs);
    const sink =
      db && !args.bool('no-record')
        ? new RunRecorder(db, {
            kind: 'paper',
            source: config.source,
            sessionId,
            symbol: source.instrument.symbol,
            model: modelPath,
            threshold: options.threshold,
            params: { ...options, instrument: undefined },
            startedAt: Date.now(),
          })
        : undefined;
    const engine = new Engine(options, { source, clock, model: new PredictorModel(predictor), sink });
    let currentModel = modelPath;

    // Live retraining: store the feed (the retrainer reads it back from the database), and on the engine's clock
    // start a round when retrain.every has passed. Training and the holdout dataset run in a worker; a promoted
    // challenger is loaded first, then swapped in between two decisions, and the old model is closed after its last run.
    let writer: SessionWriter | null = null;
    let liveRows: LiveSessionRows | null = null;
    let feedSessionId: number | null = null;
    let retrainer: Retrainer | null = null;
    let round: Promise<void> | null = null;
    let engineStopped = false;
    if (config.retrain.every !== null && db) {
      let feedSession = sessionId;
      if (config.source !== 'replay') {
        feedSession = createSession(db, {
          source: config.source,
          symbol: source.instrument.symbol,
          category: source.instrument.category,
          depth: config.depth,
          tickSize: source.instrument.tickSize,
          startedAt: Date.now(),
          meta: { origin: 'trade --paper (live retraining)' },
          seed: source.seed ?? null,
        });
        // The feed's dataset rows are built as it is stored: a round learns from them without replaying the
        // session from its start (liveRows.ts; given up after a gap or a failed write).
        const rows = new LiveSessionRows(
          feedSession,
          source.instrument.tickSize,
          config.depth,
          datasetParamsFromConfig(config),
        );
        const w = new SessionWriter(db, feedSession, {
          batchIntervalMs: config.store.batch_interval,
          onError: (e) => {
            rows.giveUp('a write of the feed failed');
            console.error(`warning: storing the feed failed: ${safeText(e.message)}`);
          },
        });
        source.on('message', (m) => {
          try {
            w.writeMessage(m);
          } catch (e) {
            rows.giveUp('a write of the feed failed');
            throw e;
          }
          rows.message(m);
        });
        source.on('gap', (g) => {
          w.writeGap(g);
          rows.gap(g);
        });
        liveRows = rows;
        writer = w;
        feedSessionId = feedSession;
        store?.noteFeed(feedSession);
      }
      retrainer = retrainerFromConfig(config, {
        // It reads the feed back (and stores its decisions) where the feed is written: the working file for a
        // ClickHouse store.
        dbFile: store ? store.file : dbFile,
        championPath: modelPath,
        featureSet: FEATURE_SET,
        outDir: store ? store.modelsDir : path.join(path.dirname(path.resolve(dbFile)), 'retrained'),
        // The simulator restarts its clock per run: only this run's session is on this timeline.
        sessionIds: config.source === 'bybit' || feedSession === null ? undefined : [feedSession],
        liveRows: () => liveRows?.rows() ?? replayRows,
        log: (line) => console.error(line),
      });
    }
    const startRound = (now: number) => {
      const r = retrainer as Retrainer;
      writer?.flush(); // the worker reads the database: the newest batch must be in it
      round = r
        .runOnce(now)
        .then(async (d) => {
          // (the retrainer has logged the decision: outcome, both models' holdout metrics, data spans)
          if (!d.promoted || engineStopped) return;
          const next = await Predictor.load(d.modelPath, FEATURE_SET, modelFileLimits(config.model));
          const old = predictor;
          const swapAt = clock.now();
          engine.setModel(new PredictorModel(next));
          predictor = next;
          // Attribute the run's predictions: decisions after swapAt are the challenger's.
          sink?.modelChanged(swapAt, d.modelPath, currentModel);
          currentModel = d.modelPath;
          await old.close(); // waits for a prediction still running on it
          console.error(
            `retrain: now trading with ${d.modelPath} (from ${new Date(clock.now()).toISOString()})`,
          );
        })
        .catch((e: Error) =>
          console.error(
            e instanceof TrainCancelled ? 'retrain: round cancelled' : `retrain failed: ${e.message}`,
          ),
        )
        .finally(() => {
          round = null;
        });
    };
    const sym = source.instrument.symbol;
    const log = (s: string) => {
      if (!quiet) console.log(s);
    };
    // Prices with the decimals of the book's tick (known from the first snapshot on an unknown symbol).
    const px = (p: number) => {
      const tick = engine.tickSize;
      const dot = tick.indexOf('.');
      return p.toFixed(Math.max(2, dot < 0 ? 0 : tick.length - dot - 1));
    };
    const qty = (q: number) => formatQty(q, engine.qtyStep);

    // A refusal later on (a resubscription refused) ends the run with its message.
    if (live instanceof BybitSource) live.onRefused((e) => requestStop(`source failed: ${e.message}`));
    let firstTs = NaN;
    let nextLog = NaN;
    engine.on('fill', (f) => {
      const p = engine.portfolioNow();
      log(
        `${fmtTime(f.ts)} ${f.side === 'Buy' ? 'BUY ' : 'SELL'} ${qty(f.qty)} ${sym} @ ${px(f.price)} ` +
          `(${f.liquidity}, fee ${f.fee.toFixed(4)}, ${f.reason}) → position ${qty(p.position)}, balance ${p.balance.toFixed(2)}`,
      );
    });
    engine.on('portfolio', (p) => {
      if (firstTs !== firstTs) {
        firstTs = p.ts;
        nextLog = p.ts + LOG_EVERY_MS;
      }
      if (p.ts >= nextLog) {
        nextLog = p.ts - (p.ts % LOG_EVERY_MS) + LOG_EVERY_MS;
        const pred = engine.prediction;
        const h = engine.health();
        const predText =
          pred === pred
            ? `${pred >= 0 ? '+' : ''}${pred.toFixed(3)} bps (unscaled ${(pred / 1e4).toExponential(3)})`
            : 'none';
        log(
          `${fmtTime(p.ts)} prediction ${predText} | threshold ${engine.threshold} | signal ${signalNow > 0 ? '+1' : signalNow < 0 ? '-1' : '0'} | ` +
            `position ${qty(p.position)} | balance ${p.balance.toFixed(2)} | equity ${p.equity.toFixed(2)} | ${h.messages} msgs${h.paused ? ` | ${h.paused}` : ''}`,
        );
      }
      if (p.ts - firstTs >= durationMs) requestStop('duration reached');
      if (retrainer && !round && !stopReason) {
        const now = clock.now();
        if (retrainer.due(now)) startRound(now);
      }
    });
    let signalNow = 0;
    let cancelledAtEnd = 0;
    engine.on('order', (o) => {
      if (o.status === 'cancelled' && o.note.startsWith(END_OF_RUN)) cancelledAtEnd++;
    });
    engine.on('signal', (s) => (signalNow = s.signal));
    // Risk halts as they happen, and all of them again in the summary (a resumption replaces its halt).
    const halts: RiskHalt[] = [];
    engine.on('halt', (h) => {
      if (h.resumedTs === null) {
        halts.push(h);
        log(`${fmtTime(h.ts)} HALT ${h.reason}: trading halted`);
      } else {
        const i = halts.findIndex((x) => x.ts === h.ts && x.rule === h.rule);
        if (i >= 0) halts[i] = h;
        else halts.push(h);
        log(
          `${fmtTime(h.resumedTs)} RESUMED after the halt at ${fmtTime(h.ts)} (${h.resumeReason ?? h.reason})`,
        );
      }
    });
    // A live source emits a gap twice, when it opens and again with its end once the book resynced: say which.
    const openGaps = new Set<string>();
    engine.on('gap', ({ gap }) => {
      const key = `${gap.reason}|${gap.startTs}`;
      if (gap.endTs !== null && openGaps.delete(key))
        log(
          `${fmtTime(gap.endTs)} GAP ${gap.reason} closed: book resynced after ${gap.endTs - gap.startTs} ms`,
        );
      else {
        if (gap.endTs === null) openGaps.add(key);
        log(
          `${fmtTime(gap.startTs)} GAP ${gap.reason}: ${gap.detail} (trading paused until the book resyncs)`,
        );
      }
    });
    let warnings = 0;
    engine.on('warning', (w) => {
      if (++warnings <= 20) console.error(`warning: ${safeText(w)}`);
    });
    // Information, not a problem (where the tick or lot size came from): a note, hidden by --quiet.
    engine.on('notice', (n) => {
      if (!quiet) console.error(`note: ${safeText(n)}`);
    });

    let wallTimer: NodeJS.Timeout | undefined;
    const startedAt = Date.now();
    try {
      log(
        `paper trading ${sym} on ${config.source}${sessionId !== null ? ` session ${sessionId}` : ''}, model ${modelPath}, threshold ${options.threshold}, ` +
          `executor ${options.executor}, latency ${options.latencyMs} ms${sink && store ? `, ${store.describeRun(sink.runId)}` : ''}`,
      );
      log(`execution: ${describeExecution(options)}`);
      // A live source's start resolves only once the exchange acknowledged the subscriptions and keeps retrying until
      // then: Ctrl-C and --duration must work while it is still trying (an unreachable exchange, no network).
      if (clock.kind === 'real' && durationMs < Infinity) {
        // setTimeout holds at most 2^31 − 1 ms (24.8 days) and fires at once beyond: re-arm in steps (--duration 30d).
        const arm = (left: number) => {
          wallTimer = setTimeout(
            () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : requestStop('duration reached')),
            Math.min(left, MAX_TIMER_MS),
          );
        };
        arm(durationMs);
      }
      const started = engine.start().then(
        () => {
          held?.release(); // the engine listens now: what arrived while subscribing goes to it
          return true;
        },
        (e: unknown) => {
          requestStop(`source failed: ${(e as Error).message}`);
          return false;
        },
      );
      if (await Promise.race([started, stopRequested.then(() => false)])) {
        const finished = (source as { done?: () => Promise<void> }).done?.();
        finished?.then(
          () => requestStop('end of data'),
          (e: unknown) => requestStop(`source failed: ${(e as Error).message}`),
        );
      }
      await stopRequested;
      const m = await engine.stop();
      engineStopped = true;
      if (round) {
        // Ctrl-C abandons a running round; otherwise its decision is still stored (for the next run).
        if (stopReason === 'interrupted') retrainer?.cancel();
        else console.error('waiting for the running retrain round to finish…');
        await round;
      }
      const p = engine.portfolioNow();
      // Honest final equity: what still works was cancelled at the end, an open position is valued at the last mid.
      const open =
        p.position !== 0 ? ` (open position ${qty(p.position)} marked to the last mid ${px(p.mark)})` : '';
      console.log(
        `stopped (${stopReason}): final equity ${p.equity.toFixed(4)}${open} | net P&L ${m.netPnl.toFixed(4)} after fees ${m.fees.toFixed(4)} | ` +
          `trades ${m.trades} | round trips ${m.roundTrips} | hit rate ${figureWithNote(m.hitRate, hitRateReason(m.roundTrips), (x) => `${(x * 100).toFixed(1)}%`)} | ` +
          `sharpe ${figureWithNote(m.sharpe, sharpeReason(m), (x) => x.toFixed(2))} ` +
          `(equity every ${formatDuration(m.samplingMs)}) | max drawdown ${(m.maxDrawdown * 100).toFixed(2)}%` +
          `${cancelledAtEnd ? ` | ${cancelledAtEnd} open order(s) cancelled at the end` : ''}${sink && store?.runIdsFinal ? ` | run ${sink.runId}` : ''}`,
      );
      // Where the P&L went: shortfall against the decision mids (latency drift, spread + book walk), fees.
      console.log(formatCostsLine({ ...m.costs, netPnl: m.netPnl }));
      for (const h of halts) console.log(`risk halt: ${formatHalt(h, fmtTime)}`);
      // A run that never received data traded nothing: say why instead of a quiet zero (and fail for scripts).
      const noData = engine.health().messages === 0 && config.source !== 'replay';
      if (noData)
        console.error(
          `no market data received from the ${config.source} source in ${formatDuration(Date.now() - startedAt)}: ` +
            'the exchange was not reachable (see the warnings above) or sent nothing',
        );
      return stopReason.startsWith('source failed') || (noData && stopReason === 'duration reached') ? 1 : 0;
    } finally {
      if (wallTimer) clearTimeout(wallTimer);
      if (round) {
        retrainer?.cancel();
        await round;
      }
      await retrainer?.close();
      writer?.close();
      await predictor.close();
      await closeStore({
        runId: sink?.runId,
        feedSession: writer && config.source !== 'replay' ? feedSessionId : null,
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Starts a live feed and waits for the exchange's answer to its subscription, saying its warnings and notes
 * meanwhile: accepted, or the exchange not reachable (the first reconnect: the run goes on and keeps trying, as it
 * always did) mean proceed; a refusal, the duration or Ctrl-C end the wait without a run.
 */
async function awaitFeed(
  source: BybitSource,
  durationMs: number,
  quiet: boolean,
  /** Resolves with the reason when the run is to stop (the caller's Ctrl-C handler). */
  stopped: Promise<string>,
): Promise<Exclude<Subscribing, { kind: 'subscribed' }> | { kind: 'proceed'; held: HeldSource }> {
  const held = new HeldSource(source);
  let warnings = 0;
  const onWarning = (w: string) => {
    if (++warnings <= 20) console.error(`warning: ${safeText(w)}`);
  };
  const onNotice = (n: string) => {
    if (!quiet) console.error(`note: ${safeText(n)}`);
  };
  held.on('warning', onWarning);
  held.on('notice', onNotice);
  let endWait: (reason: string) => void = () => {};
  const stop = Promise.race([stopped, new Promise<string>((r) => (endWait = r))]);
  const onHealth = (h: FeedHealth) => {
    if (h.state === 'reconnecting') endWait('reconnecting');
  };
  source.on('health', onHealth);
  try {
    const r = await awaitSubscribed([held], durationMs, stop);
    // A refusal wins over a stop that came with it.
    const refused = source.refusal();
    if (refused) return { kind: 'failed', error: refused };
    if (r.kind === 'subscribed' || (r.kind === 'stopped' && r.reason === 'reconnecting'))
      return { kind: 'proceed', held };
    return r;
  } finally {
    source.off('health', onHealth);
    held.off('warning', onWarning);
    held.off('notice', onNotice);
  }
}
