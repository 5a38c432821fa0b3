// The `sim` market source: runs SimGenerator in real time (or `speed` times faster, or as fast as possible
// with speed 'max') and passes every frame through the same v5 parser as live data.
import type { Category, FeedHealth, Instrument } from '../../../src-shared/market.ts';
import { parseRawMessage } from '../bybit/protocol.ts';
import { SourceEmitter } from '../emitter.ts';
import { idleFeedHealth, type MarketSource, type SourceEvents } from '../source.ts';
import { SimGenerator, type SimGeneratorOptions } from './simGenerator.ts';
import { resolveSimSeed } from './simSeed.ts';

export interface SimMarketOptions extends Omit<SimGeneratorOptions, 'startMs' | 'seed'> {
  /** Random seed of the path; null or absent: a fresh one (read it back from `seed`). */
  seed?: number | null;
  /** 1 = real time, 10 = ten times faster, 'max' = as fast as the consumer keeps up. */
  speed: number | 'max';
  /** Simulated time of the first message; defaults to now() at start(). */
  startMs?: number;
  /** Stop by itself after this much simulated time. */
  durationMs?: number;
  category?: Category;
  now?: () => number;
}

/** Steps generated per event-loop turn at speed 'max' before yielding to timers and I/O. */
const MAX_SPEED_BATCH = 500;

export class SimMarket implements MarketSource {
  readonly kind = 'sim' as const;
  readonly instrument: Instrument;
  /** The path's random seed: the same seed (and parameters) repeat the same messages. */
  readonly seed: number;
  private readonly events = new SourceEmitter();
  private readonly now: () => number;
  private gen: SimGenerator | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private simStart = 0;
  private wallStart = 0;
  private pending: { atMs: number; frames: object[] } | null = null;
  private finished: { promise: Promise<void>; resolve: () => void };
  private readonly stats: FeedHealth = idleFeedHealth();

  constructor(private readonly opts: SimMarketOptions) {
    this.now = opts.now ?? Date.now;
    this.seed = resolveSimSeed(opts.seed);
    this.instrument = {
      symbol: opts.symbol ?? 'BTCUSDT',
      category: opts.category ?? 'linear',
      tickSize: opts.tickSize,
    };
    this.finished = deferred();
  }

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.on(event, fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.off(event, fn);
  }

  health(): FeedHealth {
    return { ...this.stats };
  }

  /** Simulated time of the first message (valid after start()). */
  get startMs(): number {
    return this.simStart;
  }

  /** Resolves when the source stops: durationMs reached or stop() called. */
  done(): Promise<void> {
    return this.finished.promise;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.simStart = this.opts.startMs ?? this.now();
    this.wallStart = this.now();
    this.gen = new SimGenerator({ ...this.opts, seed: this.seed, startMs: this.simStart, numeric: true });
    this.setState('subscribed');
    this.schedule();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.setState('stopped');
    this.finished.resolve();
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.opts.speed === 'max') {
      this.immediate = setImmediate(() => this.runBatch());
      return;
    }
    const next = this.peek();
    const due = this.wallStart + (next.atMs - this.simStart) / this.opts.speed;
    this.timer = setTimeout(() => this.runDue(), Math.max(0, due - this.now()));
  }

  private peek(): { atMs: number; frames: object[] } {
    if (!this.pending) this.pending = (this.gen as SimGenerator).next();
    return this.pending;
  }

  private take(): { atMs: number; frames: object[] } {
    const s = this.peek();
    this.pending = null;
    return s;
  }

  private runBatch(): void {
    this.immediate = null;
    for (let i = 0; i < MAX_SPEED_BATCH && this.running; i++) {
      if (!this.emitStep(this.take())) return;
    }
    this.schedule();
  }

  private runDue(): void {
    this.timer = null;
    const speed = this.opts.speed as number;
    const simNow = this.simStart + (this.now() - this.wallStart) * speed;
    // Catch up on every step that is due (timers are coarse), then sleep until the next one.
    while (this.running && this.peek().atMs <= simNow) {
      if (!this.emitStep(this.take())) return;
    }
    this.schedule();
  }

  /** Emits one step's frames; false when the source has stopped (duration reached or stop() from a listener). */
  private emitStep(step: { atMs: number; frames: object[] }): boolean {
    if (this.opts.durationMs !== undefined && step.atMs - this.simStart > this.opts.durationMs) {
      void this.stop();
      return false;
    }
    for (const frame of step.frames) {
      if (!this.running) return false;
      const f = parseRawMessage(frame, step.atMs);
      if (f.type === 'book' || f.type === 'trades') {
        this.stats.messages++;
        this.events.emit('message', f.msg);
      } else {
        this.stats.malformed++;
        this.events.emit(
          'warning',
          `simulator produced an unusable frame: ${f.type === 'malformed' || f.type === 'unknown' ? f.reason : f.type}`,
        );
      }
    }
    return this.running;
  }

  private setState(state: FeedHealth['state']): void {
    this.stats.state = state;
    this.events.emit('health', this.health());
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
