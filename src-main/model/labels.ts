// The label: future mid log return over horizon H, in basis points — y_T = ln(mid_{T+H} / mid_T) * 1e4,
// where mid_X is the mid after every event with timestamp <= X. The ONLY forward-looking code in L2 Desk:
// samples wait in a queue until the stream has passed T+H, and a gap discards every waiting sample.

export function labelBps(midAtT: number, midAtTPlusH: number): number {
  return Math.log(midAtTPlusH / midAtT) * 1e4;
}

export interface PendingSample {
  /** Decision time (ms). */
  t: number;
  /** Mid at t. */
  mid: number;
  /** Features at t, FEATURE_SET order. */
  row: Float32Array;
}

/** FIFO of samples whose label is not yet known (at most H / decision interval + 1 of them). */
export class LabelQueue {
  private items: PendingSample[] = [];
  private head = 0;

  constructor(readonly horizonMs: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(s: PendingSample): void {
    this.items.push(s);
  }

  /**
   * Labels every sample whose horizon ends before `nextTs`, the timestamp of the event about to be applied:
   * `midNow` is then exactly the mid as of t + H. Calls emit(sample, label) in time order.
   */
  resolve(nextTs: number, midNow: number, emit: (s: PendingSample, y: number) => void): void {
    while (this.head < this.items.length && this.items[this.head].t + this.horizonMs < nextTs) {
      const s = this.items[this.head++];
      emit(s, labelBps(s.mid, midNow));
    }
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops every waiting sample (their label window crosses a gap or the end of the data); returns how many. */
  clear(): number {
    const n = this.size;
    this.items = [];
    this.head = 0;
    return n;
  }
}
