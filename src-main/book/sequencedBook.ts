// Guards an OrderBook with Bybit's sequencing rules: a snapshot resets it, deltas must carry consecutive
// update ids, and a gap or a crossed book marks it invalid until the next snapshot.
import type { BookMessage, GapReason, Level } from '../../src-shared/market.ts';
import { OrderBook } from './orderBook.ts';
import { OffTickError, type TickScale } from './tickScale.ts';

export type ApplyResult =
  /** restarted: a snapshot with u = 1 after earlier data (Bybit service restart); the book was reset. */
  | { status: 'applied'; restarted?: boolean }
  | { status: 'ignored'; reason: string }
  | { status: 'gap'; reason: GapReason; detail: string };

const APPLIED: ApplyResult = { status: 'applied' };
const APPLIED_RESTART: ApplyResult = { status: 'applied', restarted: true };

function sameLevels(a: readonly Level[], b: readonly Level[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  return true;
}

/**
 * True when `msg` is a delta repeating `prev` exactly (same u, same levels): sizes are absolute, so applying
 * it again changes nothing. Recordings and dumps can hold such duplicated lines; they are not gaps.
 */
export function isRepeatedDelta(prev: BookMessage | undefined, msg: BookMessage): boolean {
  return (
    prev !== undefined &&
    msg.type === 'delta' &&
    prev.u === msg.u &&
    sameLevels(prev.bids, msg.bids) &&
    sameLevels(prev.asks, msg.asks)
  );
}

export class SequencedBook {
  readonly book: OrderBook;
  private isValid = false;
  private hasSnapshot = false;
  private u = 0;
  private last: BookMessage | undefined;

  constructor(scale: TickScale) {
    this.book = new OrderBook(scale);
  }

  /** True when the book reflects the exchange: a snapshot arrived and every delta since was in sequence. */
  get valid(): boolean {
    return this.isValid;
  }

  /** Update id of the last applied message (0 before the first snapshot). */
  get lastU(): number {
    return this.u;
  }

  /**
   * True when `msg` is a snapshot that follows the valid book in sequence (its u is the next one): it holds every
   * change since and nothing was missed, so it continues the stream rather than resyncing it. Retention's checkpoint
   * (a delta rewritten as the whole book after it, keeping its u) reads this way, also while older rows are still
   * stored before it (a prune in progress, or stopped part way).
   */
  continuesWith(msg: BookMessage): boolean {
    return msg.type === 'snapshot' && this.isValid && msg.u === this.u + 1;
  }

  apply(msg: BookMessage): ApplyResult {
    if (msg.type === 'snapshot') {
      // Depth-1 re-pushes the same snapshot (same u) when nothing changed: applying it again is harmless.
      const restarted = this.hasSnapshot && msg.u === 1 && this.u !== 1;
      try {
        this.book.applySnapshot(msg.bids, msg.asks);
      } catch (err) {
        return this.broken(err, msg.u);
      }
      this.hasSnapshot = true;
      this.u = msg.u;
      this.last = msg;
      this.isValid = true;
      if (this.book.isCrossed()) return this.crossed(msg.u);
      return restarted ? APPLIED_RESTART : APPLIED;
    }
    if (!this.hasSnapshot) return { status: 'ignored', reason: `delta u=${msg.u} before the first snapshot` };
    if (!this.isValid)
      return { status: 'ignored', reason: `delta u=${msg.u} while the book awaits a snapshot` };
    if (isRepeatedDelta(this.last, msg)) return { status: 'ignored', reason: `repeated delta u=${msg.u}` };
    if (msg.u !== this.u + 1) {
      this.isValid = false;
      return { status: 'gap', reason: 'sequence', detail: `expected u=${this.u + 1}, got u=${msg.u}` };
    }
    try {
      this.book.applyDelta(msg.bids, msg.asks);
    } catch (err) {
      return this.broken(err, msg.u);
    }
    this.u = msg.u;
    this.last = msg;
    if (this.book.isCrossed()) return this.crossed(msg.u);
    return APPLIED;
  }

  /** Marks the book untrustworthy (disconnect, stale feed) until the next snapshot. */
  invalidate(): void {
    this.isValid = false;
  }

  private crossed(u: number): ApplyResult {
    this.isValid = false;
    const detail = `crossed book after u=${u}: best bid ${this.book.bestBid()} >= best ask ${this.book.bestAsk()}`;
    return { status: 'gap', reason: 'crossed', detail };
  }

  /** An off-grid price (wrong tick size or corrupt data) leaves a partial book: invalid until a snapshot. */
  private broken(err: unknown, u: number): ApplyResult {
    if (!(err instanceof OffTickError)) throw err;
    this.isValid = false;
    return { status: 'gap', reason: 'sequence', detail: `message u=${u} not applied: ${err.message}` };
  }
}
