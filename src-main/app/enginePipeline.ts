// Adapter from the engine (src-main/engine/engine.ts) to the app service's LivePipeline port: builds the source for
// a SourceSpec, loads the model, runs an Engine on a wall clock and translates its events into the IPC view types.
import type { Config } from '../../src-shared/config.ts';
import type { FillEvent, MetricsView, ModelInfo, PortfolioView, SourceSpec } from '../../src-shared/ipc.ts';
import type { FeedHealth } from '../../src-shared/market.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { collectHalts } from '../backtest/backtest.ts';
import { RealClock, ReplayClock } from '../engine/clock.ts';
import { PredictorModel } from '../engine/decisionModel.ts';
import { Engine, engineOptionsFromConfig } from '../engine/engine.ts';
import type { PortfolioEvent } from '../engine/events.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import type { MarketSource } from '../market/source.ts';
import { Predictor } from '../model/predictor.ts';
import type { Metrics } from '../trading/metrics.ts';
import type { Fill } from '../trading/types.ts';
import type { FeedRecorderFactory, FeedRecording } from './feedRecorder.ts';
import { readModelInfo } from './modelsCatalog.ts';
import type { LivePipeline, PipelineFactory } from './ports.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { SubscriptionRefusedError } from '../market/bybit/subscriptionRefused.ts';

export type SourceMaker = (spec: SourceSpec) => MarketSource | Promise<MarketSource>;

export function toMetricsView(m: Metrics): MetricsView {
  return {
    totalReturn: m.totalReturn,
    sharpe: m.sharpe,
    maxDrawdown: m.maxDrawdown,
    hitRate: m.hitRate,
    grossHitRate: m.grossHitRate,
    trades: m.trades,
    turnover: m.turnover,
    avgHoldingMs: m.avgHoldingMs,
    fees: m.fees,
    costs: {
      shortfallBps: m.costs.shortfallBps,
      latencyBps: m.costs.latencyBps,
      spreadWalkBps: m.costs.spreadWalkBps,
      feesBps: m.costs.feesBps,
      grossAlpha: m.costs.grossAlpha,
      spreadWalk: m.costs.spreadWalk,
      latency: m.costs.latency,
      fees: m.costs.fees,
      netPnl: m.netPnl,
    },
    profitFactor: m.profitFactor,
    expectancy: m.expectancy,
    expectancyBps: m.expectancyBps,
    sharpeReliable: m.sharpeReliable,
    netPnlCi: m.netPnlCi,
    roundTrips: m.roundTrips,
    returns: m.returns,
    spanMs: m.spanMs,
    calmar: m.calmar,
  };
}

/** Halts the page is sent (the latest ones: a flapping feed must not grow every portfolio update). */
const MAX_HALTS_SHOWN = 20;

export function toPortfolioView(p: PortfolioEvent, m: Metrics, halts?: readonly RiskHalt[]): PortfolioView {
  return {
    ...(halts ? { halts: halts.slice(-MAX_HALTS_SHOWN) } : {}),
    t: p.ts,
    balance: p.balance,
    position: p.position,
    entryPrice: p.entryPrice,
    realizedPnl: p.realizedPnl,
    unrealizedPnl: p.unrealizedPnl,
    fees: p.fees,
    equity: p.equity,
    drawdown: p.drawdown,
    metrics: toMetricsView(m),
  };
}

export function toFillEvent(f: Fill): FillEvent {
  return {
    t: f.ts,
    side: f.side,
    price: f.price,
    size: f.qty,
    fee: f.fee,
    liquidity: f.liquidity,
    reason: f.reason,
  };
}

async function loadModel(
  path: string,
): Promise<{ predictor: Predictor | null; info: ModelInfo | null; note: string | null }> {
  try {
    const predictor = await Predictor.load(path, FEATURE_SET);
    return {
      predictor,
      info: readModelInfo(path) ?? {
        name: path,
        path,
        featureSetVersion: FEATURE_SET.version,
        trainedAt: null,
        metrics: {},
      },
      note: null,
    };
  } catch (e) {
    return { predictor: null, info: null, note: `no model: ${(e as Error).message}` };
  }
}

export function enginePipelineFactory(opts: {
  config: Config;
  makeSource: SourceMaker;
  modelPath: () => string;
  /** Live retraining: stores the traded feed as a session (started with the pipeline, stopped with it). */
  recordFeed?: FeedRecorderFactory;
}): PipelineFactory {
  return async (spec, sink, threshold) => {
    const source = await opts.makeSource(spec);
    let model = await loadModel(opts.modelPath());
    // A replay's stamps are the recording's, not wall time: its clock follows the data (as `trade --source replay`
    // and backtests do). A wall clock's decision timer would stamp decisions with today's time, and live
    // retraining would then look for "the newest data" where the session has none.
    const clock = spec.kind === 'replay' || source.kind === 'replay' ? new ReplayClock() : new RealClock();
    const options = { ...engineOptionsFromConfig(opts.config, source.instrument), threshold };
    const engine = new Engine(options, {
      source,
      clock,
      model: model.predictor ? new PredictorModel(model.predictor) : null,
    });
    let last = { ts: 0, recvTs: 0 };
    let warnings = 0;
    let warnWindow = 0;
    let recording: FeedRecording | null = null;
    // The tick is read from the engine each time: for an unknown symbol it is only known from the first
    // snapshot (the source's instrument said ''), and a refined tick rebuilds the book on a finer grid.
    engine.on('book', (e) => {
      last = { ts: e.ts, recvTs: e.recvTs };
      sink.book(e.book, e.ts, e.recvTs, e.valid, engine.tickSize);
    });
    engine.on('health', (h) => {
      if (!h.bookValid) sink.book(engine.book, last.ts, last.recvTs, false, engine.tickSize);
    });
    engine.on('prediction', (e) => {
      sink.prediction({ t: e.ts, value: e.value, threshold: e.threshold });
      // Read at once: the engine's buffer holds this prediction's row only until its next decision.
      const row = engine.featureRow;
      if (row && sink.features) sink.features(e.ts, row);
    });
    engine.on('trade', (e) => sink.trades?.(e.trades));
    engine.on('signal', (e) =>
      sink.signal({ t: e.ts, signal: e.signal, prediction: e.prediction, price: e.price }),
    );
    engine.on('fill', (f) => sink.fill(toFillEvent(f)));
    // Risk halts ride on the portfolio view (sent at each decision): the Position panel and equity chart show them.
    const halts = collectHalts(engine);
    engine.on('portfolio', (p) => sink.portfolio(toPortfolioView(p, engine.metricsNow(), halts)));
    engine.on('warning', (w) => {
      // A flapping feed must not flood the UI with toasts: at most 5 warnings a minute.
      const t = Date.now();
      if (t - warnWindow > 60_000) {
        warnWindow = t;
        warnings = 0;
      }
      if (++warnings <= 5) sink.error('feed', w);
    });
    // Rare by nature (once per tick or lot learnt), so not rate-limited, and never counted among the warnings.
    engine.on('notice', (n) => sink.notice('feed', n));
    const p: LivePipeline = {
      kind: spec.kind,
      symbol: source.instrument.symbol,
      get tickSize() {
        return engine.tickSize || source.instrument.tickSize;
      },
      longOnly: options.risk.longOnly === true,
      takerFee: options.takerFee,
      start: () => {
        // Said once per feed: a trader watching spot would otherwise wonder why sell signals never go short.
        if (options.risk.longOnly)
          sink.notice(
            'trading',
            `${source.instrument.symbol} is spot: the paper account is long-only (a sell signal closes a long and stays flat; risk.spot_shorts: true allows shorts, as on margin)`,
          );
        // Before the engine starts the source, so the session holds the first snapshot.
        recording = opts.recordFeed?.(source, spec) ?? null;
        void recording?.finished.then((r) => {
          if (r.error) sink.error('store', `storing the live feed stopped: ${r.error.message}`);
        });
        return engine.start().then(
          () => {
            // Refused later (a resubscription after a reconnect, once the symbol is delisted): the source stopped for
            // good, so the feed ends; the refusal itself reaches the page as the source's warning.
            if (source instanceof BybitSource) source.onRefused((e) => sink.ended?.(e.message));
          },
          async (e: unknown) => {
            // A refused symbol: the feed never started, so its recording would be an empty session; it goes.
            if (e instanceof SubscriptionRefusedError) await recording?.discard?.();
            throw e;
          },
        );
      },
      stop: async () => {
        await engine.stop();
        // After the source stopped: the session ends with the last message the engine saw.
        await recording?.stop();
        await model.predictor?.close();
      },
      setThreshold: (x) => engine.setThreshold(x),
      getThreshold: () => engine.threshold,
      // The source's own counters are live; the engine only hears of them on state changes.
      health: (): FeedHealth => source.health(),
      bookValid: () => engine.valid,
      model: () => model.info,
      note: () => model.note ?? engine.health().paused,
      skippedDecisions: () => engine.health().nonFiniteSkips,
      useModel: async (path) => {
        const next = await loadModel(path);
        if (!next.predictor) throw new Error(next.note ?? `cannot load ${path}`);
        const old = model.predictor;
        engine.setModel(new PredictorModel(next.predictor));
        model = next;
        await old?.close();
      },
    };
    return p;
  };
}
