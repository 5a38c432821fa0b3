// The running feature set sampled every decision interval over a stored session, event by event, under the same
// rules as the training dataset (model/dataset.ts): the Engine's decision grid on the local (receive) clock
// (engine/decisionGrid.ts), a restart and a fresh warm-up after every gap, silence or resync, and no sample while
// the book is invalid. Only the labels are left out, so an export holds every sample training would take plus
// those whose label window was cut short.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { DecisionGrid } from '../engine/decisionGrid.ts';
import { FeatureEngine } from '../features/featureEngine.ts';
import { MAX_LOOKBACK_MS, N_FEATURES } from '../features/featureSet.ts';

export type SampledEvent = MarketMessage | { kind: 'gap'; gap: Gap };

/** Receives a decision time (ms, local clock) and the feature row; the row is reused, copy it to keep it. */
export type FeatureSink = (t: number, row: Float64Array) => void;

export interface FeatureSamplerOptions {
  tickSize: string;
  /** Sampling period (ms), config `features.decision_interval`. */
  decisionIntervalMs: number;
  /** Silence longer than this between events is a gap (ms); default 30 s, as the dataset. */
  maxSilenceMs?: number;
  /** Local time of messages without a receive stamp = exchange time + this (config trading.feed_latency). */
  feedLatencyMs?: number;
}

export class FeatureSampler {
  private readonly grid: DecisionGrid;
  private readonly seq: SequencedBook;
  private readonly engine = new FeatureEngine({ warmupMs: MAX_LOOKBACK_MS });
  private readonly row = new Float64Array(N_FEATURES);
  private lastTs = -Infinity;
  private sawSnapshot = false;
  /** The features restarted since the last snapshot (a gap, a silence): the next snapshot is a resync. */
  private brokeSinceSnapshot = false;

  constructor(
    opts: FeatureSamplerOptions,
    private readonly sink: FeatureSink,
  ) {
    this.grid = new DecisionGrid(opts);
    this.seq = new SequencedBook(new TickScale(opts.tickSize));
  }

  private restart(): void {
    this.brokeSinceSnapshot = true;
    this.engine.reset();
  }

  /** Feeds the next stored event (arrival order); decision times strictly before it are sampled first. */
  push(ev: SampledEvent): void {
    if (ev.kind === 'gap') {
      if (ev.gap.endTs === null) this.seq.invalidate(); // open when stored: invalid until a fresh snapshot
      this.restart();
      return;
    }
    const local = this.grid.localTime(ev);
    for (let d = this.grid.takeDue(local); d === d; d = this.grid.takeDue(local))
      if (this.seq.valid && this.engine.compute(d, this.row)) this.sink(d, this.row);
    if (this.grid.receive(local)) this.restart(); // a silence
    let ts = ev.ts;
    if (ts < this.lastTs) ts = this.lastTs; // arrival order wins over exchange stamps
    this.lastTs = ts;
    if (ev.kind === 'book') {
      // Above depth 1 Bybit sends a snapshot only on (re)subscription: a later one is a resync, unless it follows
      // the valid book in sequence with no break since the last one (retention's checkpoint): that one continues.
      if (ev.type === 'snapshot') {
        if (ev.depth > 1 && this.sawSnapshot && (this.brokeSinceSnapshot || !this.seq.continuesWith(ev)))
          this.restart();
        this.sawSnapshot = true;
        this.brokeSinceSnapshot = false;
      }
      const r = this.seq.apply(ev);
      if (r.status === 'applied') {
        if (r.restarted && ev.depth === 1) this.restart();
        this.engine.onBook(this.seq.book, ts < local ? ts : local); // never after it was received
      } else if (r.status === 'gap') this.restart();
    } else {
      for (const t of ev.trades) this.engine.onTrade(t, t.ts < local ? t.ts : local);
    }
  }
}
