// The service behind the IPC contract: implements every command by driving the live pipeline, the collector,
// the trainer and the backtester (through the ports in ./ports.ts), and turns their output into coalesced UI
// events. Both transports (Electron IPC, WebSocket bridge) call the same handlers after schema validation.
import type { Config } from '../../src-shared/config.ts';
import {
  IPC_VERSION,
  type AppNoticeEvent,
  type BacktestArgs,
  type BacktestProgress,
  type BacktestReport,
  type BacktestRunReport,
  type CollectArgs,
  type CollectProgress,
  type Commands,
  type JobArgs,
  type ModelInfo,
  type QualityView,
  type RetrainArgs,
  type RetrainProgress,
  type RetrainResult,
  type SessionInfo,
  type Snapshot,
  type SourceSpec,
  type StatusView,
  type StoreView,
  type WalkForwardView,
  type WhatIfArgs,
  type WhatIfResult,
} from '../../src-shared/ipc.ts';
import { parseSymbolList } from '../../src-shared/inputRules.ts';
import type { EventBus } from '../bridge/eventBus.ts';
import { idleFeedHealth } from '../market/source.ts';
import type {
  Backtester,
  CollectJob,
  Collector,
  LivePipeline,
  PipelineFactory,
  PipelineSink,
  Trainer,
} from './ports.ts';
import { JobCancelled, JobQueue, queuedMessage } from './jobQueue.ts';
import { describeProgress, holdoutView, type AutoRetrainer } from './trainer.ts';
import { UiFeed } from './uiFeed.ts';
import { computeWhatIf } from './whatIf.ts';

export interface AppServiceDeps {
  config: Config;
  bus: EventBus;
  pipeline: PipelineFactory;
  collector: Collector;
  trainer: Trainer;
  backtester: Backtester;
  listSessions: () => SessionInfo[];
  /** Reads the session list again before it is needed (a ClickHouse store, which other collectors write to too). */
  refreshSessions?: () => Promise<void>;
  /** Data-quality report of a stored session (replayed in slices: never blocks the event loop for long). */
  sessionQuality: (sessionId: number) => Promise<QualityView>;
  listModels: () => ModelInfo[];
  /** Where sessions and runs are stored, as the page shows it. */
  store?: StoreView;
  /** Where retrained candidate models are written. */
  modelsDir: string;
  /** The accepted model becomes the one new pipelines and backtests load. */
  onModelAccepted?: (onnxPath: string) => void;
  /** Live retraining (config retrain.every; null when off): run on the engine's decision clock by startAutoRetrain. */
  autoRetrainer?: AutoRetrainer | null;
  now?: () => number;
}

const DEFAULT_WHATIF_WINDOW_MS = 10 * 60_000;

function describeSource(spec: SourceSpec): string {
  if (spec.kind === 'replay') return `the replay of session #${spec.sessionId}`;
  return spec.kind === 'bybit' ? 'the Bybit live feed' : 'the simulated market';
}
/** Keys of errors tied to a condition (AppErrorEvent.key): the feed being down, a collection, live retraining. */
const FEED_KEY = 'feed';
const COLLECT_KEY = 'collect';
const RETRAIN_KEY = 'retrain';

/** Retrain jobs remembered for model/accept and model/reject; older finished ones are forgotten. */
export const MAX_RETRAIN_JOBS = 20;
/** Notes kept for the snapshot of a page that connects later. */
const MAX_NOTICES = 3;

type RetrainJob = { result: RetrainResult | null };

export class AppService {
  readonly feed: UiFeed;
  private spec: SourceSpec;
  private pipeline: LivePipeline | null = null;
  private threshold: number;
  private running = false;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  private lastMsgs = 0;
  private lastMsgsAt = 0;
  private msgRate = 0;
  private collectJob: CollectJob | null = null;
  private collect: CollectProgress | null = null;
  private collectTimer: ReturnType<typeof setInterval> | null = null;
  private collectStarted = 0;
  private readonly retrains = new Map<string, RetrainJob>();
  private lastRetrain: RetrainResult | null = null;
  private jobSeq = 0;
  private autoOn = false;
  private autoRound: Promise<void> | null = null;
  private switching: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** The latest notes, for a page that connects after they were said (a feed says where its tick came from once). */
  private notices: AppNoticeEvent[] = [];
  /** The feed's connection state at the last status (to tell when it is subscribed again). */
  private feedState: string | null = null;
  /**
   * Heavy jobs (backtests, walk-forward runs, manual and live retraining) share one queue of config
   * jobs.concurrency slots: a dozen backtests requested at once must not starve the live feed of CPU and memory.
   */
  private readonly jobs: JobQueue;

  constructor(private readonly d: AppServiceDeps) {
    this.now = d.now ?? Date.now;
    this.threshold = d.config.trading.threshold;
    this.jobs = new JobQueue(d.config.jobs.concurrency);
    this.spec = d.config.source === 'bybit' ? { kind: 'bybit' } : { kind: 'sim' };
    this.feed = new UiFeed(d.bus, {
      bookHz: d.config.ui.book_hz,
      symbol: d.config.symbol,
      tickSize: d.config.tick_size ?? d.config.sim.tick_size,
    });
  }

  /** The command handlers (the dispatcher validates payloads before calling them). */
  handlers(): Commands {
    return {
      'app/hello': async ({ version }) => {
        if (version !== IPC_VERSION)
          throw new Error(
            `this page speaks IPC v${version} but the engine speaks v${IPC_VERSION}: reload the page`,
          );
        return this.snapshot();
      },
      'market/setSource': async ({ source }) => this.setSource(source as SourceSpec),
      'market/start': async () => this.startLive(),
      'market/stop': async () => this.stopLive(),
      'trading/setThreshold': async ({ threshold }) => this.setThreshold(threshold),
      'trading/getThreshold': async () => ({
        threshold: this.pipeline ? this.pipeline.getThreshold() : this.threshold,
      }),
      'trading/whatIf': async (a) => this.whatIf(a),
      'collect/start': async (a) => this.startCollect(a),
      'collect/stop': async () => this.stopCollect(),
      'model/retrain': async (a) => this.retrain(a),
      'model/accept': async (a) => this.decide(a, true),
      'model/reject': async (a) => this.decide(a, false),
      'model/list': async () => this.d.listModels(),
      'model/use': async ({ name }) => this.useModel(name),
      'backtest/run': async (a) => this.backtest(a),
      'backtest/cancel': async ({ jobId }) => this.cancelJob(jobId),
      'jobs/cancel': async ({ jobId }) => this.cancelJob(jobId),
      'sessions/list': async () => this.sessionsNow(),
      'sessions/quality': async ({ sessionId }) => this.d.sessionQuality(sessionId),
    };
  }

  // ------------------------------------------------------------------------------------------ live pipeline

  private sink(owner: { p: LivePipeline | null }): PipelineSink {
    const feed = this.feed;
    return {
      book: (b, ts, recvTs, valid, tickSize) => feed.onBook(b, ts, recvTs, valid, tickSize),
      prediction: (p) => {
        feed.onPrediction(p);
        this.autoTick(p.t);
      },
      features: (t, row) => feed.onFeatures(t, row),
      trades: (trades) => feed.onTrades(trades),
      signal: (s) => feed.onSignal(s),
      fill: (f) => feed.onFill(f),
      portfolio: (p) => feed.onPortfolio(p),
      // A warning while the feed is down (unreachable, reconnecting) is tied to that: it goes when the feed is
      // subscribed again or the source changes. One while subscribed (a gap resynced, ...) is a one-off.
      error: (where, message) =>
        this.error(where, message, this.pipeline?.health().state === 'subscribed' ? undefined : FEED_KEY),
      notice: (where, message) => this.notice(where, message),
      // Only the running pipeline's end stops it (a late event of one already replaced changes nothing).
      ended: () =>
        void this.serial(async () => {
          const p = owner.p;
          if (!p || p !== this.pipeline || !this.running) return;
          this.running = false;
          await p.stop().catch((e: Error) => this.error('feed', `stopping the feed: ${e.message}`));
          this.emitStatus();
        }),
    };
  }

  /** Serialises source changes so a quick double click cannot run two pipelines. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.switching.then(fn, fn);
    this.switching = p.catch(() => {});
    return p;
  }

  async startLive(): Promise<StatusView> {
    return this.serial(async () => {
      if (this.running && this.pipeline) return this.status();
      // Nothing changes until the pipeline exists: a source that cannot be made fails this command only.
      let p: LivePipeline;
      try {
        p = await this.buildPipeline(this.spec);
      } catch (e) {
        throw new Error(
          `cannot start ${describeSource(this.spec)}: ${(e as Error).message}; pick another source`,
        );
      }
      return this.launch(p);
    });
  }

  private async buildPipeline(spec: SourceSpec): Promise<LivePipeline> {
    // Said in the app's words (the replay source's own message advises a CLI command).
    if (
      spec.kind === 'replay' &&
      !(this.knownSession(spec.sessionId) ?? (await this.findSession(spec.sessionId)))
    )
      throw new Error('it is not in the database (deleted meanwhile?)');
    const owner: { p: LivePipeline | null } = { p: null };
    owner.p = await this.d.pipeline(spec, this.sink(owner), this.threshold);
    return owner.p;
  }

  /** Makes `p` the running pipeline and starts it (the previous one is stopped by the caller). */
  private launch(p: LivePipeline): StatusView {
    // A new feed says again where its tick came from; the previous feed's notes would mislead a page opened now.
    this.notices = this.notices.filter((n) => n.where !== 'feed');
    // The previous feed's errors (unreachable, reconnecting) ended with it.
    this.clear(FEED_KEY);
    this.feed.start();
    this.pipeline = p;
    this.feed.reset(p.symbol, p.tickSize);
    this.running = true;
    this.startStatusTimer();
    // Not awaited: a live source resolves start() only once subscribed, which may take a while (or forever,
    // offline); the user must still be able to stop it or switch to another source meanwhile.
    p.start().then(
      () => this.emitStatus(),
      (e: Error) => {
        this.error('source', e.message, FEED_KEY);
        // A pipeline that failed to start is stopped, so that the next Start builds a fresh one.
        void this.serial(async () => {
          if (this.pipeline === p && this.running) {
            this.running = false;
            await p.stop().catch(() => {});
          }
          this.emitStatus();
        });
      },
    );
    this.emitStatus();
    return this.status();
  }

  async stopLive(): Promise<StatusView> {
    return this.serial(async () => {
      const p = this.pipeline;
      this.running = false;
      if (p) await p.stop();
      this.clear(FEED_KEY);
      this.emitStatus();
      return this.status();
    });
  }

  /**
   * Switches to another source. The new pipeline is built before the running one is stopped: a source that cannot
   * be made (a replay of a session deleted meanwhile, ...) fails this command and leaves the current source running.
   */
  async setSource(spec: SourceSpec): Promise<StatusView> {
    return this.serial(async () => {
      let next: LivePipeline;
      try {
        next = await this.buildPipeline(spec);
      } catch (e) {
        const still = `${this.running ? 'still on' : 'kept'} ${describeSource(this.spec)}`;
        throw new Error(`cannot switch to ${describeSource(spec)}: ${(e as Error).message} (${still})`);
      }
      const old = this.running ? this.pipeline : null; // a stopped one has already closed its source and model
      this.running = false;
      this.pipeline = null;
      if (old) await old.stop().catch((e: Error) => this.error('source', e.message));
      this.feedState = null;
      this.spec = spec;
      return this.launch(next);
    });
  }

  setThreshold(x: number): { threshold: number } {
    this.threshold = x;
    this.pipeline?.setThreshold(x);
    const threshold = this.pipeline ? this.pipeline.getThreshold() : x;
    this.d.bus.emit('trading/threshold', { threshold });
    return { threshold };
  }

  whatIf(a: WhatIfArgs): WhatIfResult {
    const windowMs = a.windowMs ?? DEFAULT_WHATIF_WINDOW_MS;
    const preds = this.feed.predictions.items;
    const end = preds.length ? preds[preds.length - 1].t : this.now();
    const from = end - windowMs;
    const c = this.d.config;
    const r = computeWhatIf({
      predictions: preds.filter((p) => p.t >= from),
      mids: this.feed.mids.items,
      threshold: a.threshold,
      horizonMs: c.model.horizon,
      notional: c.risk.notional,
      feeRate: this.pipeline?.takerFee ?? c.trading.taker_fee,
      hysteresis: c.trading.hysteresis,
      minHoldMs: c.trading.min_hold,
      longOnly: this.pipeline?.longOnly === true,
    });
    return {
      threshold: a.threshold,
      windowMs,
      samples: r.samples,
      signals: r.signals,
      trades: r.trades,
      hitRate: r.hitRate,
      netPnl: r.netPnl,
      fees: r.fees,
    };
  }

  status(): StatusView {
    const p = this.pipeline;
    const h = p ? p.health() : idleFeedHealth();
    return {
      source: this.spec.kind,
      sessionId: this.spec.kind === 'replay' ? this.spec.sessionId : null,
      symbol: p?.symbol ?? this.d.config.symbol,
      running: this.running,
      connection: this.running ? h.state : 'stopped',
      latencyMs: h.latencyMs,
      messagesPerSec: this.msgRate,
      messages: h.messages,
      gaps: h.gaps,
      bookValid: p ? p.bookValid() : false,
      threshold: p ? p.getThreshold() : this.threshold,
      model: p?.model() ?? null,
      note: p ? p.note() : 'feed stopped',
      skippedDecisions: p?.skippedDecisions?.() ?? 0,
    };
  }

  private startStatusTimer(): void {
    if (this.statusTimer) return;
    this.lastMsgsAt = this.now();
    this.statusTimer = setInterval(() => this.emitStatus(), 1000);
    this.statusTimer.unref?.();
  }

  private emitStatus(): void {
    const h = this.pipeline?.health();
    const t = this.now();
    if (h) {
      const dt = (t - this.lastMsgsAt) / 1000;
      if (dt > 0.2) {
        this.msgRate = h.messages >= this.lastMsgs ? (h.messages - this.lastMsgs) / dt : 0;
        this.lastMsgs = h.messages;
        this.lastMsgsAt = t;
      }
    }
    const st = this.status();
    // Subscribed again (after connecting or reconnecting): the feed's troubles are over.
    if (st.connection === 'subscribed' && this.feedState !== 'subscribed') this.clear(FEED_KEY);
    this.feedState = st.connection;
    this.d.bus.emit('app/status', st);
  }

  /** `key`: the condition the error is tied to; `clear(key)` removes it from pages when that condition ends. */
  private error(where: string, message: string, key?: string): void {
    this.d.bus.emit('app/error', { where, message, t: this.now(), ...(key ? { key } : {}) });
  }

  private clear(key: string): void {
    this.d.bus.emit('app/cleared', { key });
  }

  private notice(where: string, message: string): void {
    const n: AppNoticeEvent = { where, message, t: this.now() };
    this.notices = [...this.notices.slice(-(MAX_NOTICES - 1)), n];
    this.d.bus.emit('app/notice', n);
  }

  snapshot(): Snapshot {
    const f = this.feed;
    return {
      version: IPC_VERSION,
      status: this.status(),
      book: f.bookView(),
      prices: f.mids.items.slice(),
      predictions: f.predictions.items.slice(),
      signals: f.signals.items.slice(-200),
      fills: f.fills.items.slice(-200),
      portfolio: f.latestPortfolio(),
      equity: f.equity.items.slice(),
      collect: this.collect,
      retrain: this.lastRetrain,
      models: this.safe(() => this.d.listModels(), []),
      sessions: this.safe(() => this.d.listSessions(), []),
      notices: this.notices.slice(),
      features: f.featuresView(),
      trades: f.tradeBars.items.slice(),
      ...(this.d.store ? { store: this.d.store } : {}),
    };
  }

  /** The stored sessions, read again first when the store asks for it; the last list when that fails (said once). */
  private async sessionsNow(): Promise<SessionInfo[]> {
    try {
      await this.d.refreshSessions?.();
    } catch (e) {
      this.error('store', `reading the session list: ${(e as Error).message}`);
    }
    return this.safe(() => this.d.listSessions(), []);
  }

  /** A session of the last list read (no wait: a job is queued in the order its command came). */
  private knownSession(id: number): SessionInfo | undefined {
    return this.safe(() => this.d.listSessions(), []).find((x) => x.id === id);
  }

  /** A session, reading the list again first when it is not in the last one (another collector stored it). */
  private async findSession(id: number): Promise<SessionInfo | undefined> {
    return (
      this.knownSession(id) ??
      (this.d.refreshSessions ? (await this.sessionsNow()).find((x) => x.id === id) : undefined)
    );
  }

  private safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      this.error('store', (e as Error).message);
      return fallback;
    }
  }

  // ------------------------------------------------------------------------------------------ collect

  async startCollect(a: CollectArgs): Promise<CollectProgress> {
    if (this.collectJob) throw new Error('a collection is already running; stop it first');
    const source = this.spec.kind === 'bybit' ? 'bybit' : 'sim';
    const job = await this.d.collector({
      // The page checked the list already; a client that did not gets the same words.
      symbols: parseSymbolList(a.symbol, 'symbol'),
      depth: a.depth,
      source,
      onError: (m) => this.error('collect', m, COLLECT_KEY),
      onNotice: (m) => this.notice('collect', m),
    });
    this.collectJob = job;
    this.collectStarted = this.now();
    // The previous collection's warnings (a locked database, ...) ended with it.
    this.clear(COLLECT_KEY);
    this.collect = {
      running: true,
      sessionId: job.sessions[0].sessionId,
      ...(job.sessions.length > 1 ? { sessionIds: job.sessions.map((x) => x.sessionId) } : {}),
      symbol: a.symbol,
      elapsedMs: 0,
      durationMs: a.durationMs,
      messages: 0,
      messagesPerSec: 0,
      gaps: 0,
      done: false,
      error: null,
    };
    this.collectTimer = setInterval(() => {
      const c = this.collect;
      if (!c || !this.collectJob) return;
      const elapsed = this.now() - this.collectStarted;
      this.collect = {
        ...c,
        elapsedMs: Math.min(elapsed, c.durationMs),
        messages: job.messages(),
        gaps: job.gaps(),
        messagesPerSec: elapsed > 0 ? job.messages() / (elapsed / 1000) : 0,
      };
      this.d.bus.emit('collect/progress', this.collect);
      if (elapsed >= c.durationMs) void this.stopCollect();
    }, 500);
    this.collectTimer.unref?.();
    // A recording that ends by itself (the source could not start, the database refused a write) ends the job: the
    // panel shows why at once, and Collect can be pressed again, instead of "collecting" on until the duration.
    void job.ended.then(() => {
      if (this.collectJob === job) void this.stopCollect();
    });
    this.d.bus.emit('collect/progress', this.collect);
    return this.collect;
  }

  async stopCollect(): Promise<CollectProgress> {
    const job = this.collectJob;
    if (!job || !this.collect)
      return (
        this.collect ?? {
          running: false,
          sessionId: null,
          symbol: '',
          elapsedMs: 0,
          durationMs: 0,
          messages: 0,
          messagesPerSec: 0,
          gaps: 0,
          done: false,
          error: null,
        }
      );
    this.collectJob = null;
    if (this.collectTimer) clearInterval(this.collectTimer);
    this.collectTimer = null;
    let error: string | null = null;
    try {
      await job.stop();
    } catch (e) {
      error = (e as Error).message;
    }
    // The collection's warnings end with it: the Collect panel says how it ended, once.
    this.clear(COLLECT_KEY);
    const elapsed = Math.min(this.now() - this.collectStarted, this.collect.durationMs);
    this.collect = {
      ...this.collect,
      running: false,
      done: true,
      error,
      elapsedMs: elapsed,
      messages: job.messages(),
      gaps: job.gaps(),
      messagesPerSec: elapsed > 0 ? job.messages() / (elapsed / 1000) : 0,
    };
    this.d.bus.emit('collect/progress', this.collect);
    this.d.bus.emit('sessions/changed', await this.sessionsNow());
    // The collected data's quality follows once replayed (a later collection may have started meanwhile): each
    // symbol's session in turn, the first as `quality`.
    const done = this.collect;
    const still = () => this.collect?.sessionId === done.sessionId;
    if (job.sessions.length > 1)
      this.collect = { ...this.collect, qualities: job.sessions.map((x) => ({ ...x, quality: null })) };
    void (async () => {
      for (const [i, x] of job.sessions.entries()) {
        let quality: QualityView;
        try {
          quality = await this.d.sessionQuality(x.sessionId);
        } catch (e) {
          this.error('collect', `data quality of session #${x.sessionId}: ${(e as Error).message}`);
          continue;
        }
        if (!still() || !this.collect) return;
        const qualities = this.collect.qualities?.map((q, k) => (k === i ? { ...q, quality } : q));
        this.collect = {
          ...this.collect,
          ...(i === 0 ? { quality } : {}),
          ...(qualities ? { qualities } : {}),
        };
        this.d.bus.emit('collect/progress', this.collect);
      }
    })();
    return this.collect;
  }

  // ------------------------------------------------------------------------------------------ retrain

  retrain(a: RetrainArgs): { jobId: string } {
    for (const j of this.retrains.values())
      if (j.result === null) throw new Error('a retrain is already running');
    const jobId = `rt${++this.jobSeq}-${this.now().toString(36)}`;
    const job: RetrainJob = { result: null };
    this.retrains.set(jobId, job);
    // An app open for weeks retrains many times: only the newest jobs can still be accepted or rejected.
    for (const id of this.retrains.keys()) {
      if (this.retrains.size <= MAX_RETRAIN_JOBS) break;
      this.retrains.delete(id);
    }
    const current = this.pipeline?.model() ?? null;
    this.clear(RETRAIN_KEY);
    const progress = (p: Parameters<Parameters<Trainer>[0]['onProgress']>[0]) =>
      this.d.bus.emit('retrain/progress', { jobId, ...p });
    void this.jobs
      .submit({
        id: jobId,
        kind: 'retrain',
        onQueued: (ahead) =>
          progress({ phase: 'queued', fraction: 0, message: queuedMessage(ahead), metrics: {}, ahead }),
        run: (signal) => {
          progress({
            phase: 'dataset',
            fraction: 0,
            message: 'building the dataset from stored sessions',
            metrics: {},
          });
          return this.d.trainer({
            jobId,
            sessionIds: a.sessionIds,
            currentModel: current?.path ?? null,
            outDir: this.d.modelsDir,
            onProgress: progress,
            signal,
          });
        },
      })
      .then(({ candidate, holdout }) => {
        // Both models on the same unseen rows (the candidate's validation fold): the comparison to decide on.
        // Without it (no running model, or it cannot be scored) nothing is claimed beyond "there is nothing to beat".
        job.result = {
          jobId,
          ok: true,
          error: null,
          candidate: holdout ? { ...candidate, metrics: holdout.candidate } : candidate,
          current: holdout && current ? { ...current, metrics: holdout.current } : current,
          beatsCurrent: holdout ? holdout.candidate.mse < holdout.current.mse : current === null,
          status: 'pending',
        };
        progress({
          phase: 'done',
          fraction: 1,
          message: `trained ${candidate.name}`,
          metrics: candidate.metrics,
        });
      })
      .catch((e: Error) => {
        // A cancel is the user's choice, said as such ("retrain <id> cancelled"), not as a training failure.
        job.result = {
          jobId,
          ok: false,
          error: e.message,
          candidate: null,
          current,
          beatsCurrent: false,
          status: 'rejected',
        };
        progress({ phase: 'failed', fraction: 1, message: e.message, metrics: {} });
      })
      .finally(() => {
        this.lastRetrain = job.result;
        if (job.result) this.d.bus.emit('retrain/result', job.result);
        this.d.bus.emit(
          'models/changed',
          this.safe(() => this.d.listModels(), []),
        );
      });
    return { jobId };
  }

  async decide(a: JobArgs, accept: boolean): Promise<RetrainResult> {
    const job = this.retrains.get(a.jobId);
    if (!job) throw new Error(`no retrain job ${a.jobId}`);
    if (!job.result) throw new Error(`retrain ${a.jobId} has not finished yet`);
    const r = job.result;
    if (r.status !== 'pending') return r;
    if (accept) {
      if (!r.candidate) throw new Error('the retrain failed: there is no model to accept');
      if (this.pipeline) await this.pipeline.useModel(r.candidate.path);
      this.d.onModelAccepted?.(r.candidate.path);
      this.d.autoRetrainer?.useChampion(r.candidate.path);
    }
    job.result = { ...r, status: accept ? 'accepted' : 'rejected' };
    this.lastRetrain = job.result;
    this.d.bus.emit('retrain/result', job.result);
    this.emitStatus();
    return job.result;
  }

  async useModel(name: string): Promise<StatusView> {
    const m = this.d.listModels().find((x) => x.name === name);
    if (!m) throw new Error(`no model named "${name}"; see the model list`);
    if (this.pipeline) await this.pipeline.useModel(m.path);
    this.d.onModelAccepted?.(m.path);
    this.d.autoRetrainer?.useChampion(m.path);
    this.emitStatus();
    return this.status();
  }

  // ------------------------------------------------------------------------------------------ backtest

  async backtest(a: BacktestArgs): Promise<BacktestReport> {
    // Known sessions without an await: the job enters the queue before any command that came after it.
    const session = this.knownSession(a.sessionId) ?? (await this.findSession(a.sessionId));
    if (!session) throw new Error(`no stored session #${a.sessionId}; collect one first`);
    const thresholds = a.sweep ?? [a.threshold ?? this.threshold];
    const jobId = `bt${++this.jobSeq}`;
    const emit = (p: Omit<BacktestProgress, 'jobId'>) =>
      this.d.bus.emit('backtest/progress', { jobId, ...p });
    let t0 = this.now();
    // The backtester replays in a worker, once the job queue gives it a slot; jobs/cancel and close() drop it
    // while queued or abort it while running.
    let runs: BacktestRunReport[];
    let walkForward: WalkForwardView | null;
    try {
      ({ runs, walkForward } = await this.jobs.submit({
        id: jobId,
        kind: 'backtest',
        onQueued: (ahead) => emit({ fraction: 0, message: queuedMessage(ahead), ahead }),
        run: (signal) => {
          t0 = this.now();
          return this.d.backtester({
            sessionId: a.sessionId,
            thresholds,
            walkForward: a.walkForward,
            signal,
            onProgress: (fraction, message, detail) => emit({ fraction, message, ...detail }),
          });
        },
      }));
    } catch (e) {
      // Whatever the backtester threw once aborted (worker or in-process), the job ends as cancelled.
      if (e instanceof JobCancelled) throw new Error(`backtest ${jobId} cancelled`);
      throw e;
    }
    let best = 0;
    runs.forEach((r, i) => {
      if (r.finalEquity > runs[best].finalEquity) best = i;
    });
    const report: BacktestReport = {
      jobId,
      sessionId: a.sessionId,
      symbol: session.symbol,
      startedAt: session.startedAt,
      endedAt: session.endedAt ?? session.startedAt,
      messages: session.messages,
      runs,
      best,
      elapsedMs: this.now() - t0,
      ...(walkForward ? { walkForward } : {}),
    };
    this.d.bus.emit('backtest/result', report);
    return report;
  }

  /**
   * Cancels a heavy job: a queued one is dropped (it never starts), a running one aborted; its command then fails
   * as "<kind> <jobId> cancelled" (a retrain ends as a failed result saying so). False: no such job (it ended).
   */
  cancelJob(jobId: string): { jobId: string; cancelled: boolean } {
    return { jobId, cancelled: this.jobs.cancel(jobId) !== null };
  }

  /** The job queue's occupancy now (running ≤ config jobs.concurrency). */
  jobStats(): { running: number; queued: number; concurrency: number } {
    return this.jobs.stats();
  }

  /**
   * Auto mode (config retrain.every): on the engine's decision clock, the shared Retrainer trains a challenger on the
   * newest stored data and promotes it only if it beats the running model on the newest rows it never saw. The
   * decision arrives as retrain/progress (phase done: the full decision line) and retrain/result (status accepted or
   * rejected, both models' holdout metrics); a promoted model is loaded first, then swapped in by the pipeline.
   */
  startAutoRetrain(): void {
    if (this.d.autoRetrainer) this.autoOn = true;
  }

  private autoTick(now: number): void {
    const auto = this.d.autoRetrainer;
    const p = this.pipeline;
    if (!this.autoOn || !auto || this.autoRound || !p || !this.running) return;
    const model = p.model();
    if (!model) return; // nothing to defend: a model is loaded first (manual retrain or model/use)
    for (const j of this.retrains.values()) if (j.result === null) return; // a manual retrain is running
    if (!auto.due(now)) return;
    if (auto.currentModel !== model.path) auto.useChampion(model.path);
    const jobId = `auto${++this.jobSeq}-${now.toString(36)}`;
    const progress = (x: Omit<RetrainProgress, 'jobId'>) =>
      this.d.bus.emit('retrain/progress', { jobId, ...x });
    progress({ phase: 'dataset', fraction: 0, message: 'live retraining: newest stored data', metrics: {} });
    // Through the job queue like every heavy job: a round due while backtests run waits for its slot.
    this.autoRound = this.jobs
      .submit({
        id: jobId,
        kind: 'live retraining',
        onQueued: (ahead) =>
          progress({ phase: 'queued', fraction: 0, message: queuedMessage(ahead), metrics: {}, ahead }),
        run: (signal) => {
          signal.addEventListener('abort', () => auto.cancel(), { once: true });
          return auto.run(now, (x) => progress(describeProgress(x)));
        },
      })
      .then(async (d) => {
        const { describeDecision } = await import('../model/retrainer.ts');
        const models = this.safe(() => this.d.listModels(), []);
        const info = (file: string): ModelInfo =>
          models.find((m) => m.path === file) ?? {
            name: file.replace(/^.*[\\/]/, '').replace(/\.onnx$/, ''),
            path: file,
            featureSetVersion: model.featureSetVersion,
            trainedAt: null,
            metrics: {},
          };
        if (d.promoted && this.pipeline === p && this.running) {
          await p.useModel(d.modelPath); // loads the challenger, then swaps; the old one closes after its last run
          this.d.onModelAccepted?.(d.modelPath);
        }
        const result: RetrainResult = {
          jobId,
          ok: true,
          error: null,
          candidate: { ...info(d.challenger.path), metrics: holdoutView(d.challenger.metrics, d.nEval) },
          current: { ...info(d.champion.path), metrics: holdoutView(d.champion.metrics, d.nEval) },
          beatsCurrent: d.promoted,
          status: d.promoted ? 'accepted' : 'rejected',
        };
        progress({
          phase: 'done',
          fraction: 1,
          message: describeDecision(d),
          metrics: result.candidate?.metrics ?? {},
        });
        this.lastRetrain = result;
        this.d.bus.emit('retrain/result', result);
        this.d.bus.emit(
          'models/changed',
          this.safe(() => this.d.listModels(), []),
        );
        this.emitStatus();
      })
      .catch((e: Error) => {
        progress({ phase: 'failed', fraction: 1, message: `live retraining: ${e.message}`, metrics: {} });
        if (!(e instanceof JobCancelled)) this.error('retrain', e.message, RETRAIN_KEY);
      })
      .finally(() => {
        this.autoRound = null;
      });
  }

  async close(): Promise<void> {
    this.autoOn = false;
    // Queued jobs never start; running ones (a live retraining round among them) are aborted.
    this.jobs.cancelAll();
    if (this.autoRound) await this.autoRound;
    await this.d.autoRetrainer?.close?.();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    if (this.collectJob) await this.stopCollect().catch(() => {});
    await this.stopLive().catch(() => {});
    this.feed.stop();
  }
}
