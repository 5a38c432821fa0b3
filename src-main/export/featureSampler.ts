// The running feature set sampled every decision interval over a stored session, event by event, under the same
// rules as the training dataset (model/dataset.ts): one non-decreasing exchange clock, a restart and a fresh
// warm-up after every gap, silence or resync, and no sample while the book is invalid. Only the labels are left
// out, so an export holds every sample training would take plus those whose label window was cut short.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { FeatureEngine } from '../features/featureEngine.ts';
import { MAX_LOOKBACK_MS, N_FEATURES } from '../features/featureSet.ts';

export type SampledEvent = MarketMessage | { kind: 'gap'; gap: Gap };

/** Receives a decision time (ms, exchange clock) and the feature row; the row is reused, copy it to keep it. */
export type FeatureSink = (t: number, row: Float64Array) => void;

export interface FeatureSamplerOptions {
  tickSize: string;
  /** Sampling period (ms), config `features.decision_interval`. */
  decisionIntervalMs: number;
  /** Silence longer than this between events is a gap (ms); default 30 s, as the dataset. */
  maxSilenceMs?: number;
}

export class FeatureSampler {
  private readonly every: number;
  private readonly maxSilence: number;
  private readonly seq: SequencedBook;
  private readonly engine = new FeatureEngine({ warmupMs: MAX_LOOKBACK_MS });
  private readonly row = new Float64Array(N_FEATURES);
  private lastTs = -Infinity;
  private nextT = NaN;
  private sawSnapshot = false;

  constructor(
    opts: FeatureSamplerOptions,
    private readonly sink: FeatureSink,
  ) {
    if (!(opts.decisionIntervalMs > 0))
      throw new RangeError(`decision interval must be > 0 ms, got ${opts.decisionIntervalMs}`);
    this.every = opts.decisionIntervalMs;
    this.maxSilence = opts.maxSilenceMs ?? 30_000;
    this.seq = new SequencedBook(new TickScale(opts.tickSize));
  }

  private restart(): void {
    this.engine.reset();
    this.nextT = NaN;
  }

  /** Feeds the next stored event (arrival order); decision times strictly before it are sampled first. */
  push(ev: SampledEvent): void {
    if (ev.kind === 'gap') {
      this.restart();
      return;
    }
    let ts = ev.ts;
    if (ts < this.lastTs) ts = this.lastTs; // arrival order wins over exchange stamps
    if (ts - this.lastTs > this.maxSilence && this.lastTs > -Infinity) this.restart();
    if (this.nextT !== this.nextT) this.nextT = Math.floor(ts / this.every) * this.every + this.every;
    while (this.nextT < ts) {
      if (this.seq.valid && this.engine.compute(this.nextT, this.row)) this.sink(this.nextT, this.row);
      this.nextT += this.every;
    }
    this.lastTs = ts;
    if (ev.kind === 'book') {
      // Above depth 1 Bybit sends a snapshot only on (re)subscription: a later one is a resync.
      if (ev.type === 'snapshot') {
        if (ev.depth > 1 && this.sawSnapshot) this.restart();
        this.sawSnapshot = true;
      }
      const r = this.seq.apply(ev);
      if (r.status === 'applied') {
        if (r.restarted && ev.depth === 1) this.restart();
        this.engine.onBook(this.seq.book, ts);
      } else if (r.status === 'gap') this.restart();
    } else {
      for (const t of ev.trades) this.engine.onTrade(t);
    }
  }
}
