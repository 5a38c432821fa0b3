// Queue position of a resting limit order (hftbacktest style, one file per model). Our paper order is not in the
// visible book, so the level size seen in the feed is everyone else's: when we join, all of it is ahead of us.
//  - a trade at our price consumes the queue ahead first; what is left of it fills us;
//  - a size decrease at our level that trades do not explain is cancels, spread pro rata over the queue: the
//    part of it ahead of us is cancelled * ahead / levelSize;
//  - the queue ahead never exceeds the level's current size.
// Other models, one file each: RiskAverseQueue (riskAverseQueue.ts: only trades advance us), PowerProbQueue
// (powerProbQueue.ts: hftbacktest's probabilistic model; with power 1 it is this pro rata model).

export interface QueueState {
  /** Size ahead of us at our price. */
  ahead: number;
  /** Level size (others' orders) at our price at the last book observation. */
  levelSize: number;
  /** Volume traded at our price since the last book observation. */
  tradedSince: number;
}

export interface QueueModel {
  /** State for an order joining a level that shows `levelSize`. */
  join(levelSize: number): QueueState;
  /** A trade of `size` at our price against our side; returns the quantity that reaches us (0 while queued). */
  onTrade(q: QueueState, size: number): number;
  /** The level at our price now shows `newSize`. */
  onLevel(q: QueueState, newSize: number): void;
}

export class ProRataCancelQueue implements QueueModel {
  join(levelSize: number): QueueState {
    return joinLevel(levelSize);
  }

  onTrade(q: QueueState, size: number): number {
    return tradeAtOurPrice(q, size);
  }

  onLevel(q: QueueState, newSize: number): void {
    const s = Math.max(0, newSize);
    // The feed may lag the trade stream: trades already took their share of the decrease.
    const cancelled = q.levelSize - s - q.tradedSince;
    if (cancelled > 0 && q.levelSize > 0 && q.ahead > 0) {
      const byTrades = Math.max(0, q.tradedSince);
      const before = Math.max(q.levelSize - byTrades, 0);
      if (before > 0) q.ahead -= (cancelled * q.ahead) / before;
    }
    if (q.ahead > s) q.ahead = s;
    if (q.ahead < 1e-12) q.ahead = 0;
    q.levelSize = s;
    q.tradedSince = 0;
  }
}

/** A new order's state: everything the level shows is ahead of us. */
export function joinLevel(levelSize: number): QueueState {
  const s = Math.max(0, levelSize);
  return { ahead: s, levelSize: s, tradedSince: 0 };
}

/** Every model: a trade at our price consumes the queue ahead first; returns what is left of it for us. */
export function tradeAtOurPrice(q: QueueState, size: number): number {
  q.tradedSince += size;
  if (size <= q.ahead) {
    q.ahead -= size;
    return 0;
  }
  const through = size - q.ahead;
  q.ahead = 0;
  return through;
}
