// The engine kernel: source → SequencedBook → FeatureEngine → model (at the decision interval) → signal → risk →
// executor → paper broker → portfolio, with typed events out and an optional run recorder. It is the only code
// that knows the order of the stages; live trading, `trade --source replay` and backtests all run through it
// and differ only in the source and the clock.
//
// Time: two clocks, as hftbacktest has them. The *local* clock is when we received a message: its receive stamp
// `recvTs` (on data with one clock, recvTs == ts such as imports and the simulator: exchange time + feedLatencyMs),
// made non-decreasing in arrival order. The *exchange* clock is the message's `ts` (made non-decreasing in arrival
// order too), where orders match. What the strategy knows is what it has received: decisions happen on the local
// grid k × decisionInterval, and the decision at D sees exactly the messages received at or before D (live: a timer
// on the injected clock fires at D; replay: the first message received after D triggers it, before it is applied:
// the same data either way), every grid time while the feed is not silent (engine/decisionGrid.ts: shared with the
// dataset builder, so the rows a model trains on are the rows it is fed). Its order leaves at D + computeMs (live:
// or later, when the decision really finished), reaches the exchange at send + the latency model's delay, and
// matches the book after every message stamped ≤ that arrival on the exchange clock (the broker holds the request
// until a message stamped later comes; clocks are assumed in sync, an arrival before the exchange's latest message
// is moved to it). What the broker does (fills, order states) is acknowledged to the strategy, risk manager and
// portfolio at max(exchange time + responseLatencyMs, local receive time of the message that revealed it). Feature
// stamps are exchange times (as the dataset builder trains on), never later than their local receive time.
//
// Determinism: messages are queued and processed strictly in arrival order; while a prediction (async,
// onnxruntime) is awaited nothing else is processed. A replay source awaits the promise the message handler
// returns (backpressure); a live source just keeps queueing (and the timer queues a tick). Either way, the
// decisions and fills depend only on the data and its stamps, so a backtest of a live run's recording matches it.
//
// Tick size: the book is built at the first snapshot, on the source's tick then (a live source may only learn
// it from that snapshot), else the configured one, else one inferred from the snapshot's prices; a later
// snapshot on another (refined) tick rebuilds it and restarts the warm-up. An off-grid price is a gap, never a crash.
// The lot size (order quantity step) is learnt at the first snapshot too: the known one for the symbol, else the
// finest decimal step of the snapshot's sizes (a later snapshot may refine it); risk and executor round to it.
import type { Gap, Instrument, MarketMessage } from '../../src-shared/market.ts';
import type { Config } from '../../src-shared/config.ts';
import { plainNumber } from '../../src-shared/plainNumber.ts';
import type { OrderBook } from '../book/orderBook.ts';
import { hasNonFinite } from '../book/plausibility.ts';
import { SequencedBook, type ApplyResult } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { FeatureEngine } from '../features/featureEngine.ts';
import { N_FEATURES } from '../features/featureSet.ts';
import { offGridPrices, refineTick, tickFromLevels } from '../market/bybit/tickInference.ts';
import type { MarketSource } from '../market/source.ts';
import { addFillCost, emptyCostTotals } from '../trading/executionCosts.ts';
import { Executor, type ExecutionMode } from '../trading/executor.ts';
import { categoryFees, NotionalFees } from '../trading/fees.ts';
import { FeedLatency } from '../trading/feedLatency.ts';
import { DecisionGrid } from './decisionGrid.ts';
import { JitterLatency } from '../trading/jitterLatency.ts';
import { ConstantLatency, type LatencyModel } from '../trading/latency.ts';
import { ConsumedLiquidity, UnlimitedLiquidity } from '../trading/liquidity.ts';
import { knownQtyStep, qtyStepFromLevels } from '../trading/lotSize.ts';
import { MetricsAccumulator, type Metrics } from '../trading/metrics.ts';
import { PaperBroker } from '../trading/paperBroker.ts';
import { PowerProbQueue } from '../trading/powerProbQueue.ts';
import { ProRataCancelQueue, type QueueModel } from '../trading/queueModel.ts';
import { RiskAverseQueue } from '../trading/riskAverseQueue.ts';
import { Portfolio, type PortfolioSnapshot } from '../trading/portfolio.ts';
import { RiskManager, type RiskDecision, type RiskOptions, type RiskReason } from '../trading/riskManager.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { SignalPolicy } from '../trading/signalPolicy.ts';
import type { BrokerEvent, Order, SignalValue } from '../trading/types.ts';
import { EwmaVolatility } from '../trading/volatility.ts';
import type { Clock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import type { EngineEvents, HealthEvent, PortfolioEvent } from './events.ts';
import type { RunSink } from './runSink.ts';
import { TypedEmitter } from './typedEmitter.ts';

export interface EngineOptions {
  /** Its tickSize may be '' (unknown): the book then takes the source's tick, or infers one, at the first snapshot. */
  instrument: Instrument;
  decisionIntervalMs: number;
  threshold: number;
  hysteresis: number;
  minHoldMs: number;
  initialBalance: number;
  takerFee: number;
  makerFee: number;
  latencyMs: number;
  /** How requests are delayed (default 'constant' `latencyMs`); 'feed' and 'jitter' build on `latencyMs`. */
  latencyModel?: 'constant' | 'feed' | 'jitter';
  /** Feed model: delay = latencyMs + factor × observed feed latency (default 2, a round trip). */
  latencyFeedFactor?: number;
  /** Jitter model: mean of the exponential extra delay (ms), and the PRNG seed. */
  latencyJitterMs?: number;
  latencySeed?: number;
  /** Queue position model of resting limit orders (default 'pro_rata'); `queuePower` is the power model's n. */
  queueModel?: 'pro_rata' | 'risk_averse' | 'power';
  queuePower?: number;
  /** Whether our taker fills use up the replayed book's levels until the feed updates them (default 'consumed'). */
  liquidity?: 'consumed' | 'unlimited';
  /** From a decision to its order leaving (ms, default 0); live, the measured time when longer (measureCompute). */
  computeMs?: number;
  /** Send at max(D + computeMs, clock.now()) (default: on a live clock only; replays have no wall time to measure). */
  measureCompute?: boolean;
  /** From the exchange's event (fill, order state) to our seeing it (ms, default 0). */
  responseLatencyMs?: number;
  /** Local receive time of a message that has none (recvTs == ts: imports, the simulator) = ts + this (default 0). */
  feedLatencyMs?: number;
  executor: ExecutionMode;
  passiveTimeoutMs: number;
  risk: RiskOptions;
  /** Equity grid for Sharpe/Sortino (ms); default 60 s. */
  samplingMs?: number;
  /** No message for this long restarts the features' warm-up (the dataset builder does the same). */
  maxSilenceMs?: number;
}

/** Engine options from the validated config (durations already in ms). */
export function engineOptionsFromConfig(
  config: Config,
  instrument: Instrument,
  samplingMs?: number,
): EngineOptions {
  const t = config.trading;
  const r = config.risk;
  const fees = categoryFees(t, instrument.category);
  return {
    instrument,
    decisionIntervalMs: config.features.decision_interval,
    threshold: t.threshold,
    hysteresis: t.hysteresis,
    minHoldMs: t.min_hold,
    initialBalance: t.initial_balance,
    takerFee: fees.taker,
    makerFee: fees.maker,
    latencyMs: t.latency,
    latencyModel: t.latency_model,
    latencyFeedFactor: t.latency_feed_factor,
    latencyJitterMs: t.latency_jitter,
    latencySeed: t.latency_seed,
    queueModel: t.queue_model,
    queuePower: t.queue_power,
    liquidity: t.liquidity,
    computeMs: t.compute,
    responseLatencyMs: t.response_latency,
    feedLatencyMs: t.feed_latency,
    executor: t.executor,
    passiveTimeoutMs: t.passive_timeout,
    risk: {
      sizing: r.sizing,
      notional: r.notional,
      equityFraction: r.equity_fraction,
      volTargetBps: r.vol_target_bps,
      maxPositionNotional: r.max_position_notional,
      minOrderNotional: r.min_order_notional,
      rebalanceBand: r.rebalance_band,
      stopLossBps: r.stop_loss_bps,
      takeProfitBps: r.take_profit_bps,
      maxDailyLoss: r.max_daily_loss,
      maxDrawdown: r.max_drawdown,
      cooldownMs: r.cooldown,
      longOnly: instrument.category === 'spot' && !r.spot_shorts,
    },
    samplingMs,
  };
}

export interface EngineDeps {
  source: MarketSource;
  clock: Clock;
  /** null: the engine runs the book and the portfolio but makes no decisions (no model loaded). */
  model: DecisionModel | null;
  sink?: RunSink;
}

/** Note prefix of the orders the engine cancels because the run ended while they were still working. */
export const END_OF_RUN = 'end of run';

/** A tick: the live decision timer fired at local time `ts` (every message queued after it was received later). */
type QueuedEvent = MarketMessage | { kind: 'gap'; gap: Gap } | { kind: 'tick'; ts: number };

/** A broker event on its way back to us: seen by the strategy at local time `at`. */
interface Ack {
  at: number;
  e: BrokerEvent;
}

export class Engine {
  readonly options: EngineOptions;
  private readonly ev = new TypedEmitter<EngineEvents>((name, e) =>
    console.error(`engine: listener for "${name}" threw:`, e),
  );
  private readonly source: MarketSource;
  private readonly clock: Clock;
  private model: DecisionModel | null;
  private readonly sink?: RunSink;
  /** Until the first snapshot: an empty placeholder (bookTick ''), never applied to. */
  private seq: SequencedBook;
  /** Tick size the book is built on; '' before the first usable snapshot. */
  private bookTick = '';
  /** The source's reported tick the book last followed ('' when it reports none). */
  private sourceTick = '';
  /** A finer tick an off-grid delta proved: the next snapshot rebuilds the book on it. */
  private provenTick = '';
  /** Lot size (base units); 0 before the first snapshot. */
  private lot = 0;
  /** The lot was inferred from sizes (not known for the symbol): a finer one in a later snapshot refines it. */
  private lotInferred = false;
  /** The exchange's minimum order value last applied (0: none known). */
  private exchangeMinNotional = 0;
  private readonly features = new FeatureEngine();
  private readonly row64 = new Float64Array(N_FEATURES);
  private readonly row32 = new Float32Array(N_FEATURES);
  private readonly policy: SignalPolicy;
  private readonly risk: RiskManager;
  private readonly vol = new EwmaVolatility();
  private readonly executor: Executor;
  private readonly broker: PaperBroker;
  /** The broker's latency model: the engine tells it the feed latency of every book message. */
  private readonly latency: LatencyModel;
  private readonly portfolio: Portfolio;
  private readonly metrics: MetricsAccumulator;
  /** Execution-cost sums over every fill (each fill carries its order's decision and arrival mids). */
  private readonly costs = emptyCostTotals();

  /** Events to process: queue[qHead..qLen). Slots are reused, never truncated (that reallocated once per message). */
  private queue: QueuedEvent[] = [];
  private qHead = 0;
  private qLen = 0;
  private draining: Promise<void> | null = null;
  private pumping = false;
  private started = false;
  private stopped = false;
  /** Exchange time of the latest message (non-decreasing). */
  private lastTs = -Infinity;
  /** The local clock and the decision grid on it (shared with the dataset builder: train/serve parity). */
  private readonly grid: DecisionGrid;
  /** Local (receive) time of the latest message (non-decreasing). */
  private get lastLocal(): number {
    return this.grid.lastLocal;
  }
  /** Broker events not yet acknowledged to us, in the order they happened (`at` non-decreasing). */
  private acks: Ack[] = [];
  private lastAckAt = -Infinity;
  private ackHead = 0;
  /** Local time at which what the broker does now becomes knowable (the message being processed). */
  private knowTs = -Infinity;
  /** True while we call the broker ourselves (submit): its events are our own knowledge, at once. */
  private sending = false;
  /** Our orders as we know them (sent, or as last acknowledged): what the executor plans against. */
  private readonly view = new Map<number, Order>();
  private cancelTimer: (() => void) | null = null;
  /** Local time of the latest timer tick processed: no later message counts as received before it. */
  private tickFloor = -Infinity;
  private timerAt = NaN;
  private sawSnapshot = false;
  /** The features restarted since the last snapshot (a gap, a silence, a new tick): the next snapshot resyncs. */
  private brokeSinceSnapshot = false;
  /** The halt for an invalid book in force (trading paused until a fresh snapshot), null while the book is valid. */
  private bookHalt: RiskHalt | null = null;
  private bookValid = false;
  private paused: string | null = 'waiting for data';
  private lastSignal: SignalValue = 0;
  private lastTarget = 0;
  private lastReason: RiskReason | null = null;
  private lastPrediction = NaN;
  private counts = { messages: 0, decisions: 0, predictions: 0, nonFiniteSkips: 0 };
  private feed: HealthEvent['feed'] = null;
  private readonly unsub: (() => void)[] = [];
  private readonly openGaps = new Set<string>();

  constructor(options: EngineOptions, deps: EngineDeps) {
    this.options = options;
    this.source = deps.source;
    this.clock = deps.clock;
    this.model = deps.model;
    this.sink = deps.sink;
    if (!(options.decisionIntervalMs > 0)) throw new RangeError('decision interval must be > 0 ms');
    this.grid = new DecisionGrid({
      decisionIntervalMs: options.decisionIntervalMs,
      feedLatencyMs: options.feedLatencyMs,
      maxSilenceMs: options.maxSilenceMs,
    });
    this.seq = new SequencedBook(placeholderScale(options.instrument.tickSize));
    this.policy = new SignalPolicy({
      threshold: options.threshold,
      hysteresis: options.hysteresis,
      minHoldMs: options.minHoldMs,
    });
    this.risk = new RiskManager(options.risk);
    this.executor = new Executor({
      mode: options.executor,
      passiveTimeoutMs: options.passiveTimeoutMs,
      minQty: 1e-9,
      minNotional: options.risk.minOrderNotional ?? 0,
    });
    this.latency = latencyModel(options);
    this.broker = new PaperBroker({
      fees: new NotionalFees(options.takerFee, options.makerFee),
      latency: this.latency,
      queue: queueModel(options),
      liquidity: options.liquidity === 'unlimited' ? new UnlimitedLiquidity() : new ConsumedLiquidity(),
    });
    this.portfolio = new Portfolio(options.initialBalance);
    this.metrics = new MetricsAccumulator(options.initialBalance, options.samplingMs);
    this.broker.onEvent((e) => {
      if (this.sending) return this.acknowledge(e);
      const evTs = e.kind === 'fill' ? e.fill.ts : orderEventTs(e.order);
      // Acknowledgements keep the exchange's order: an order update after a fill (its filled quantity) never
      // reaches us before the fill itself, which would make the executor see the order done but not the position.
      const at = Math.max(evTs + (this.options.responseLatencyMs ?? 0), this.knowTs, this.lastAckAt);
      this.lastAckAt = at;
      this.acks.push({ at, e });
    });
  }

  /** A broker event reaches us: the portfolio, the executor's view of our orders, the records and listeners. */
  private acknowledge(e: BrokerEvent): void {
    if (e.kind === 'fill') {
      this.portfolio.applyFill(e.fill);
      addFillCost(this.costs, e.fill);
      this.sink?.fill(e.fill);
      this.ev.emit('fill', e.fill);
      return;
    }
    const o = e.order;
    if (o.status === 'filled' || o.status === 'cancelled' || o.status === 'rejected') this.view.delete(o.id);
    else {
      // Requests we sent after the exchange produced this state are still on their way: we know we sent them.
      const mine = this.view.get(o.id);
      this.view.set(o.id, {
        ...o,
        cancelPending: o.cancelPending || (mine?.cancelPending ?? false),
        crossPending: o.crossPending || (mine?.crossPending ?? false),
      });
    }
    this.sink?.order(o);
    this.ev.emit('order', o);
  }

  /** Acknowledges every broker event due by local time `t`. */
  private deliverAcks(t: number): void {
    while (this.ackHead < this.acks.length && this.acks[this.ackHead].at <= t)
      this.acknowledge(this.acks[this.ackHead++].e);
    if (this.ackHead === this.acks.length) {
      if (this.ackHead !== 0) this.acks.length = 0;
      this.ackHead = 0;
    } else if (this.ackHead > 1024) {
      this.acks = this.acks.slice(this.ackHead);
      this.ackHead = 0;
    }
  }

  on<K extends keyof EngineEvents>(event: K, fn: (payload: EngineEvents[K]) => void): () => void {
    return this.ev.on(event, fn);
  }

  get threshold(): number {
    return this.policy.getThreshold();
  }

  /** Changes the threshold at runtime; the next decision uses it. */
  setThreshold(x: number): void {
    this.policy.setThreshold(x);
  }

  /** Swaps the model (e.g. an accepted retrain); the next decision uses it. */
  setModel(model: DecisionModel | null): void {
    this.model = model;
  }

  /** The current book (empty before the first snapshot; replaced when the tick size changes). */
  get book(): OrderBook {
    return this.seq.book;
  }

  /** Tick size the book is built on; '' before the first snapshot. */
  get tickSize(): string {
    return this.bookTick;
  }

  /** Lot size (order quantity step, base units); 0 before the first snapshot. */
  get qtyStep(): number {
    return this.lot;
  }

  get valid(): boolean {
    return this.bookValid;
  }

  /** Portfolio now, marked at the last mid. */
  portfolioNow(): PortfolioEvent {
    return { ...this.portfolio.snapshot(this.lastLocal), drawdown: this.metrics.drawdown() };
  }

  metricsNow(): Metrics {
    return this.metrics.result({
      roundTrips: this.portfolio.tripSummary,
      fills: this.portfolio.fills,
      turnoverNotional: this.portfolio.turnoverNotional,
      fees: this.portfolio.fees,
      costs: { totals: this.costs, position: this.portfolio.position, mark: this.portfolio.lastMark },
    });
  }

  health(): HealthEvent {
    return { feed: this.feed, bookValid: this.bookValid, ...this.counts, paused: this.paused };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('engine already started');
    this.started = true;
    const onMessage = (m: MarketMessage) => this.enqueue(m);
    const onGap = (g: Gap) => this.enqueue({ kind: 'gap', gap: g });
    const onHealth = (h: HealthEvent['feed']) => {
      this.feed = h;
      this.ev.emit('health', this.health());
    };
    const onWarning = (w: string) => this.ev.emit('warning', w);
    const onNotice = (n: string) => this.ev.emit('notice', n);
    this.source.on('message', onMessage);
    this.source.on('gap', onGap);
    this.source.on('health', onHealth as (h: NonNullable<HealthEvent['feed']>) => void);
    this.source.on('warning', onWarning);
    this.source.on('notice', onNotice);
    this.unsub.push(
      () => this.source.off('message', onMessage),
      () => this.source.off('gap', onGap),
      () => this.source.off('health', onHealth as (h: NonNullable<HealthEvent['feed']>) => void),
      () => this.source.off('warning', onWarning),
      () => this.source.off('notice', onNotice),
    );
    await this.source.start();
  }

  /** Stops the source, finishes what is queued, records the final equity and returns the run's metrics. */
  async stop(): Promise<Metrics> {
    if (this.stopped) return this.metricsNow();
    this.stopped = true;
    this.disarmTimer();
    await this.source.stop();
    await this.idle();
    this.disarmTimer();
    for (const u of this.unsub) u();
    // The run is over: whatever the exchange did is reported, whenever its acknowledgement was due.
    this.deliverAcks(Infinity);
    if (this.lastTs > -Infinity) {
      this.cancelOpenOrders(this.lastTs);
      this.sampleEquity(this.lastLocal);
    }
    const m = this.metricsNow();
    this.sink?.close(m, this.portfolio.snapshot(this.lastLocal));
    this.ev.emit('done', m);
    return m;
  }

  /** Resolves when every queued message has been processed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Queues one event and processes the queue. Returns a promise while a prediction is being awaited: a replay
   * source awaits it (backpressure); a live source ignores it and keeps pushing.
   */
  enqueue(e: QueuedEvent): Promise<void> | undefined {
    this.queue[this.qLen++] = e;
    if (this.draining) return this.draining;
    // A listener that feeds the engine while it is processing (re-entrant call): the running loop takes it.
    if (this.pumping) return undefined;
    this.pumping = true;
    try {
      return this.pump();
    } finally {
      this.pumping = false;
    }
  }

  private pump(): Promise<void> | undefined {
    while (this.qHead < this.qLen) {
      const e = this.queue[this.qHead];
      if (e.kind === 'gap') {
        this.qHead++;
        this.onGap(e.gap, 'source');
        continue;
      }
      const local = e.kind === 'tick' ? e.ts : this.localTimeOf(e);
      // The grid times this event proves passed (it was received after them) are decided first, without it.
      const p = this.decideBefore(local);
      if (p) {
        this.draining = p.then(
          () => {
            this.draining = null;
            this.pumping = true;
            try {
              return this.pump();
            } finally {
              this.pumping = false;
            }
          },
          (err: unknown) => {
            this.draining = null;
            throw err;
          },
        );
        return this.draining;
      }
      this.qHead++;
      if (e.kind === 'tick') {
        // Whatever is queued after the tick was received after it, whatever its stamp says (a one-clock live source).
        if (e.ts > this.tickFloor) this.tickFloor = e.ts;
        continue;
      }
      let t = e.ts;
      if (!(t >= this.lastTs)) t = this.lastTs; // one non-decreasing exchange clock: arrival order wins
      // A silent feed: features restart their warm-up (as the dataset builder does), no decision spans it.
      if (this.grid.receive(local)) this.restartFeatures();
      this.lastTs = t;
      this.clock.observe(local);
      this.counts.messages++;
      // The exchange side first: requests arriving before t meet the book as it stands; what the broker does while
      // this message is processed is knowable from its receive time on.
      this.knowTs = local;
      if (this.bookValid && this.broker.busy) this.broker.advanceBefore(t, this.seq.book);
      if (e.kind === 'book') {
        // Raw stamps, not the clamped t: the feed latency as it was (0 on data with one clock).
        this.latency.observeFeed(e.ts, e.recvTs);
        this.onBook(e, t, local);
      } else this.onTrades(e, t, local);
    }
    this.qLen = 0;
    this.qHead = 0;
    this.armTimer();
    return undefined;
  }

  /** Local time of a message: its receive stamp, or for data with one clock its exchange time + the feed latency. */
  private localTimeOf(m: MarketMessage): number {
    return this.grid.localTime(m, this.tickFloor);
  }

  /**
   * Decides every grid time before local time `t`, one by one, while the feed is not silent (a live timer fires at
   * each of them). Returns a promise when a prediction is awaited (the caller resumes after it).
   */
  private decideBefore(t: number): Promise<void> | undefined {
    for (let d = this.grid.takeDue(t); d === d; d = this.grid.takeDue(t)) {
      this.deliverAcks(d);
      const p = this.decide(d);
      if (p) return p;
    }
    return undefined;
  }

  /** Live: a timer at the next grid time queues a tick, so a decision never waits for the next message. */
  private armTimer(): void {
    const schedule = this.clock.schedule?.bind(this.clock);
    if (!schedule || this.stopped || !this.started) return;
    const at = this.grid.next;
    if (this.grid.silentAtNext) return this.disarmTimer();
    if (at === this.timerAt) return;
    this.disarmTimer();
    this.timerAt = at;
    this.cancelTimer = schedule(at, () => {
      this.cancelTimer = null;
      this.timerAt = NaN;
      if (!this.stopped) void this.enqueue({ kind: 'tick', ts: this.clock.now() });
    });
  }

  /** The features' windows start over (a break in the data); the next snapshot is then a resync. */
  private restartFeatures(): void {
    this.brokeSinceSnapshot = true;
    this.features.reset();
  }

  private disarmTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = NaN;
  }

  /** A book message: applied at exchange time `t` (the broker matches there), known to us from local time `local`. */
  private onBook(m: MarketMessage & { kind: 'book' }, t: number, local: number): void {
    const useFeatures = this.model?.needsFeatures !== false;
    if (m.type === 'snapshot') {
      if (!this.prepareBook(m)) return;
      this.learnLot(m);
      this.learnMinNotional(m.symbol);
      // On depth > 1 a second snapshot means the feed broke and resynced: no feature window may span it. Unless
      // it follows the valid book in sequence with no break since the last one (retention's checkpoint, stored
      // mid-session while a prune is under way): it missed nothing, and the warm-up goes on.
      const continues = !this.brokeSinceSnapshot && this.seq.continuesWith(m);
      if (m.depth > 1 && this.sawSnapshot && !continues) this.restartFeatures();
      this.sawSnapshot = true;
      this.brokeSinceSnapshot = false;
    } else if (!this.bookTick) return; // a delta before the first snapshot: nothing to apply it to
    const r = this.applyToBook(m);
    if (r.status === 'applied') {
      // A service restart (u = 1) restarts at this very snapshot: no break since it (as the dataset builder has it).
      if (r.restarted) this.features.reset();
      const book = this.seq.book;
      // Feature stamps: exchange time (as in training), never after we received the message.
      if (useFeatures) this.features.onBook(book, t < local ? t : local);
      if (!this.bookValid) this.setValid(true);
      if (this.broker.busy) this.broker.onBook(t, book);
      this.deliverAcks(local);
      const mid = book.mid();
      this.portfolio.mark(local, mid);
      if (this.portfolio.position !== 0 || this.view.size > 0) {
        const exit = this.risk.checkExit({
          ts: local,
          price: mid,
          position: this.portfolio.position,
          entryPrice: this.portfolio.entryPrice,
          equity: this.portfolio.equity(),
        });
        this.emitHalts();
        if (exit) this.execute(exit, local);
      }
      if (this.ev.has('book')) this.ev.emit('book', { ts: m.ts, recvTs: m.recvTs, book, valid: true });
    } else if (r.status === 'gap') {
      if (r.reason === 'sequence') this.learnFromOffGrid(m);
      this.restartFeatures();
      this.setValid(false, r.reason);
      this.onGap(
        { symbol: m.symbol, reason: r.reason, startTs: m.recvTs, endTs: null, detail: r.detail },
        'book',
      );
    }
  }

  /**
   * Before a snapshot: the book must be on the right tick. Picks the source's current tick (it may have refined
   * it), else the configured one, else the one the book has, else one inferred from this snapshot; a tick an
   * off-grid price proved, or this snapshot's own prices, may refine it. A different tick rebuilds the book
   * and restarts the features' warm-up, as after a gap. False: no tick yet (an empty first snapshot).
   */
  private prepareBook(m: MarketMessage & { kind: 'book' }): boolean {
    const reported = this.source.instrument.tickSize || this.options.instrument.tickSize;
    let scale: TickScale | null = null;
    if (reported && reported !== this.sourceTick) {
      this.sourceTick = reported;
      scale = tryScale(reported);
      if (!scale) this.ev.emit('warning', `ignoring the invalid tick size ${JSON.stringify(reported)}`);
    }
    if (!scale && this.provenTick) scale = new TickScale(this.provenTick);
    if (!scale && this.bookTick) scale = this.seq.book.scale;
    if (!scale) {
      const inferred = tickFromLevels(m.bids, m.asks);
      if (!inferred) {
        this.ev.emit(
          'warning',
          `snapshot u=${m.u} is empty and no tick size is known yet: waiting for one with prices`,
        );
        return false;
      }
      this.ev.emit('notice', `tick size of ${m.symbol} inferred from its first snapshot: ${inferred}`);
      scale = new TickScale(inferred);
    }
    this.provenTick = '';
    const off = offGridPrices(scale, m);
    if (off.length > 0) {
      // Leave an unexplainable price to the book (a gap); a finer decimal grid that explains it is the tick.
      const finer = refineTick(scale, off);
      if (finer) scale = finer;
    }
    if (scale.tickSize === this.bookTick) return true;
    if (this.bookTick) {
      this.ev.emit(
        'warning',
        `tick size of ${m.symbol} changed from ${this.bookTick} to ${scale.tickSize}: book rebuilt from snapshot u=${m.u}, features warm up again`,
      );
      this.restartFeatures();
    }
    this.seq = new SequencedBook(scale);
    this.bookTick = scale.tickSize;
    return true;
  }

  /**
   * The lot size at a snapshot: the known one for the symbol (once), else inferred from the sizes, and refined
   * when a later snapshot shows a finer step (a coarser guess only rounds orders coarser than needed).
   */
  private learnLot(m: MarketMessage & { kind: 'book' }): void {
    // The exchange's instrument info (when the source got it) is the authority over the table and inference.
    const exchangeLot = Number(this.source.instrument.qtyStep || this.options.instrument.qtyStep || NaN);
    if (exchangeLot > 0) {
      if (this.lot !== exchangeLot || this.lotInferred) this.setLot(exchangeLot, false);
      return;
    }
    if (this.lot > 0 && !this.lotInferred) return;
    const symbol = m.symbol || this.options.instrument.symbol;
    if (this.lot === 0) {
      const known = knownQtyStep(symbol, this.options.instrument.category);
      if (known) {
        this.setLot(known, false);
        return;
      }
    }
    const inferred = qtyStepFromLevels(m.bids, m.asks);
    if (inferred === null || (this.lot > 0 && inferred >= this.lot)) return;
    // Learning the lot is news, not a problem: a coarser guess only rounded orders coarser than needed.
    this.ev.emit(
      'notice',
      this.lot === 0
        ? `lot size of ${symbol} inferred from the sizes of its first snapshot: ${lotText(inferred)}`
        : `lot size of ${symbol} refined from ${lotText(this.lot)} to ${lotText(inferred)} (snapshot u=${m.u})`,
    );
    this.setLot(inferred, true);
  }

  /**
   * The exchange's minimum order value (instrument info: linear minNotionalValue, spot minOrderAmt), when the
   * source got it: an order below it would be refused there, so it raises risk.min_order_notional (said once).
   */
  private learnMinNotional(symbol: string): void {
    const exchangeMin = Number(
      this.source.instrument.minNotional || this.options.instrument.minNotional || NaN,
    );
    if (!(exchangeMin > 0) || exchangeMin === this.exchangeMinNotional) return;
    this.exchangeMinNotional = exchangeMin;
    const configured = this.risk.configuredMinOrderNotional;
    this.risk.setExchangeMinNotional(exchangeMin);
    this.executor.setMinNotional(this.risk.minOrderNotional);
    if (exchangeMin > configured)
      this.ev.emit(
        'notice',
        `minimum order value of ${symbol || this.options.instrument.symbol} from the exchange's instrument info: ` +
          `${plainNumber(exchangeMin)}, above risk.min_order_notional ${plainNumber(configured)}; smaller orders are not placed`,
      );
  }

  private setLot(step: number, inferred: boolean): void {
    this.lot = step;
    this.lotInferred = inferred;
    this.risk.setQtyStep(step);
  }

  /** SequencedBook turns off-grid prices into gaps; anything else it throws must not stop the engine either. */
  private applyToBook(m: MarketMessage & { kind: 'book' }): ApplyResult {
    try {
      return this.seq.apply(m);
    } catch (e) {
      this.seq.invalidate();
      return {
        status: 'gap',
        reason: 'sequence',
        detail: `book message u=${m.u} could not be applied: ${(e as Error).message}`,
      };
    }
  }

  /** A gap caused by prices off the book's grid: remember the finer tick they prove for the next snapshot. */
  private learnFromOffGrid(m: MarketMessage & { kind: 'book' }): void {
    const scale = this.seq.book.scale;
    const off = offGridPrices(scale, m);
    if (off.length === 0) return;
    const finer = refineTick(scale, off);
    if (finer) this.provenTick = finer.tickSize;
    this.ev.emit(
      'warning',
      `price ${off[0]} (u=${m.u}) is off the tick grid ${scale.tickSize}: book invalid until the next snapshot` +
        (finer ? `, which rebuilds it on tick ${finer.tickSize}` : ' (corrupt data)'),
    );
  }

  private onTrades(m: MarketMessage & { kind: 'trades' }, t: number, local: number): void {
    if (this.model?.needsFeatures !== false)
      for (const tr of m.trades) this.features.onTrade(tr, tr.ts < local ? tr.ts : local);
    if (this.broker.busy) this.broker.onTrades(m.trades, t);
    this.deliverAcks(local);
    if (this.ev.has('trade')) this.ev.emit('trade', { ts: t, trades: m.trades });
  }

  private onGap(gap: Gap, origin: 'source' | 'book'): void {
    if (origin === 'source') {
      const key = `${gap.reason}|${gap.startTs}`;
      if (gap.endTs !== null && this.openGaps.delete(key)) {
        // A live gap closing after its resync snapshot: the features already restarted when it opened.
      } else {
        // A live gap opening, or a stored gap (replayed where it opened): the features restart, and an open gap
        // invalidates the book until a fresh snapshot.
        this.restartFeatures();
        if (gap.endTs === null) {
          this.openGaps.add(key);
          this.seq.invalidate();
          this.setValid(false, gap.reason);
        }
      }
    }
    this.sink?.gap?.(gap);
    this.ev.emit('gap', { gap, origin });
  }

  private setValid(v: boolean, why?: string): void {
    this.bookValid = v;
    this.paused = v ? null : `book invalid (${why ?? 'gap'}): trading paused until a fresh snapshot`;
    // A book that cannot be trusted halts trading (a risk halt with its time and reason) until it resyncs.
    if (!v && this.sawSnapshot && !this.bookHalt) {
      this.bookHalt = {
        ts: this.lastLocal,
        rule: 'book_invalid',
        reason: `book invalid (${why ?? 'gap'})`,
        resumedTs: null,
        resumeReason: null,
      };
      this.emitHalt(this.bookHalt);
    } else if (v && this.bookHalt) {
      this.emitHalt({ ...this.bookHalt, resumedTs: this.lastLocal, resumeReason: 'a fresh snapshot' });
      this.bookHalt = null;
    }
    this.ev.emit('health', this.health());
  }

  /** The risk manager's halts and resumptions since its last call, as events and records. */
  private emitHalts(): void {
    for (const h of this.risk.takeHalts()) this.emitHalt(h);
  }

  private emitHalt(h: RiskHalt): void {
    this.sink?.halt?.(h);
    this.ev.emit('halt', h);
  }

  /** One decision at grid time d, with the state as of d. Returns a promise only when the model is async. */
  private decide(d: number): Promise<void> | undefined {
    this.counts.decisions++;
    const book = this.seq.book;
    const mid = this.bookValid ? book.mid() : NaN;
    if (mid === mid) {
      this.portfolio.mark(d, mid);
      this.vol.update(d, mid);
    }
    this.sampleEquity(d);
    if (!this.bookValid) return undefined;
    const model = this.model;
    if (!model) {
      this.paused = 'no model loaded';
      return undefined;
    }
    if (model.needsFeatures) {
      if (!this.features.compute(d, this.row64)) {
        this.paused = 'features warming up';
        return undefined;
      }
      this.row32.set(this.row64);
      // A non-finite feature (implausible data that got through, or a float32 overflow) never reaches the model.
      if (hasNonFinite(this.row32)) {
        this.counts.nonFiniteSkips++;
        this.paused = 'non-finite features: decision skipped';
        return undefined;
      }
    }
    let r: Promise<number> | number;
    try {
      r = model.predict(this.row32, d);
    } catch (e) {
      this.ev.emit('warning', `prediction failed at ${d}: ${(e as Error).message}`);
      return undefined;
    }
    // Nothing else runs while a prediction is awaited, so row32 still holds this decision's row afterwards.
    const row = model.needsFeatures ? this.row32 : undefined;
    if (typeof r === 'number') {
      this.afterPrediction(d, r, mid, row);
      return undefined;
    }
    return r.then(
      (v) => this.afterPrediction(d, v, mid, row),
      (e: unknown) => {
        this.ev.emit('warning', `prediction failed at ${d}: ${(e as Error).message ?? String(e)}`);
      },
    );
  }

  private afterPrediction(d: number, p: number, mid: number, row: Float32Array | undefined): void {
    if (!Number.isFinite(p)) return;
    this.paused = null;
    this.counts.predictions++;
    this.lastPrediction = p;
    const threshold = this.policy.getThreshold();
    this.sink?.prediction(d, p, mid, row);
    if (this.ev.has('prediction')) this.ev.emit('prediction', { ts: d, value: p, threshold, mid });
    const signal = this.policy.decide(p, d);
    const dec = this.risk.decide({
      ts: d,
      signal,
      price: mid,
      position: this.portfolio.position,
      entryPrice: this.portfolio.entryPrice,
      equity: this.portfolio.equity(),
      volBps: this.vol.dailyBps(),
    });
    this.emitHalts();
    if (signal !== this.lastSignal || dec.target !== this.lastTarget || dec.reason !== this.lastReason) {
      this.lastSignal = signal;
      this.lastTarget = dec.target;
      this.lastReason = dec.reason;
      const s = {
        ts: d,
        signal,
        prediction: p,
        threshold,
        price: mid,
        target: dec.target,
        reason: dec.reason,
      };
      this.sink?.signal(s);
      this.ev.emit('signal', s);
    }
    this.execute(dec, d);
  }

  /** Plans at local time `ts` against our view of our orders; requests leave after the compute time. */
  private execute(dec: RiskDecision, ts: number): void {
    const book = this.seq.book;
    const actions = this.executor.plan(
      dec.target,
      {
        ts,
        position: this.portfolio.position,
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
        working: [...this.view.values()],
        qtyStep: this.lot,
      },
      dec.reason,
      dec.urgent,
    );
    if (actions.length === 0) return;
    // The decision mid: the book this decision saw (a prediction is awaited with nothing else processed).
    const mid = book.mid();
    let sent = ts + (this.options.computeMs ?? 0);
    if (this.options.measureCompute ?? this.clock.kind === 'real') sent = Math.max(sent, this.clock.now());
    this.sending = true;
    try {
      for (const a of actions) {
        if (a.kind === 'place') {
          const o = this.broker.submit(a.intent, sent, mid);
          this.view.set(o.id, { ...o });
        } else {
          const mine = this.view.get(a.orderId);
          if (a.kind === 'cancel') {
            this.broker.cancel(a.orderId, sent);
            if (mine) mine.cancelPending = true;
          } else {
            this.broker.cross(a.orderId, sent, a.reason);
            if (mine) mine.crossPending = true;
          }
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * End of the run: orders still working (resting, or sent and not yet arrived) will never fill, so they are
   * recorded as cancelled with why, instead of staying pending/open forever in the run's records.
   */
  private cancelOpenOrders(ts: number): void {
    for (const o of this.broker.working()) {
      const done: Order = {
        ...o,
        status: 'cancelled',
        cancelPending: false,
        crossPending: false,
        doneTs: ts,
        note:
          o.status === 'pending'
            ? `${END_OF_RUN}: cancelled before it reached the exchange`
            : `${END_OF_RUN}: cancelled while ${o.status} (${o.filledQty} of ${o.qty} filled)`,
      };
      this.sink?.order(done);
      this.ev.emit('order', done);
    }
  }

  private sampleEquity(ts: number): void {
    const snap: PortfolioSnapshot = this.portfolio.snapshot(ts);
    this.metrics.add(ts, snap.equity, snap.position);
    this.sink?.equity(snap);
    if (this.ev.has('portfolio')) this.ev.emit('portfolio', { ...snap, drawdown: this.metrics.drawdown() });
  }

  /**
   * The feature row of the latest decision (the model's float32 input; null when the model takes none). The engine
   * reuses the buffer: in a 'prediction' listener it is that prediction's row; copy what you keep.
   */
  get featureRow(): ArrayLike<number> | null {
    return this.model?.needsFeatures ? this.row32 : null;
  }

  /** Last prediction seen (NaN before the first): for status lines. */
  get prediction(): number {
    return this.lastPrediction;
  }

  get position(): number {
    return this.portfolio.position;
  }
}

/** Exchange time of an order update: when it was done, else when it arrived, else when it was sent. */
function orderEventTs(o: Order): number {
  return o.doneTs === o.doneTs ? o.doneTs : o.arrivedTs === o.arrivedTs ? o.arrivedTs : o.sentTs;
}

/** The broker's latency model from the options (constant unless configured otherwise). */
function latencyModel(o: EngineOptions): LatencyModel {
  switch (o.latencyModel ?? 'constant') {
    case 'feed':
      return new FeedLatency(o.latencyMs, o.latencyFeedFactor ?? 2);
    case 'jitter':
      return new JitterLatency(o.latencyMs, o.latencyJitterMs ?? 0, o.latencySeed ?? 1);
    default:
      return new ConstantLatency(o.latencyMs);
  }
}

/** The broker's queue model from the options (pro rata unless configured otherwise). */
function queueModel(o: EngineOptions): QueueModel {
  switch (o.queueModel ?? 'pro_rata') {
    case 'risk_averse':
      return new RiskAverseQueue();
    case 'power':
      return new PowerProbQueue(o.queuePower ?? 2);
    default:
      return new ProRataCancelQueue();
  }
}

/** A lot size as a plain decimal ("0.000001", not "1e-6"). */
function lotText(step: number): string {
  return step.toFixed(Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** A valid TickScale or null. */
function tryScale(tick: string): TickScale | null {
  try {
    return new TickScale(tick);
  } catch {
    return null;
  }
}

/** The scale of the empty book before the first snapshot: the configured tick when valid (it is never applied to). */
function placeholderScale(tick: string): TickScale {
  return (tick && tryScale(tick)) || new TickScale('1');
}
