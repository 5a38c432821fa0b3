// The conservative queue model (hftbacktest's RiskAdverseQueueModel): only trades at our price advance us. A size
// decrease is assumed to come from behind us (cancels never help), except that the queue ahead can never be larger
// than the level itself: when the level shrinks below what we had ahead, we are that much nearer the front.
// A lower bound on passive fills: a strategy that only pays off under pro rata cancels should not be trusted.
import { joinLevel, tradeAtOurPrice, type QueueModel, type QueueState } from './queueModel.ts';

export class RiskAverseQueue implements QueueModel {
  join(levelSize: number): QueueState {
    return joinLevel(levelSize);
  }

  onTrade(q: QueueState, size: number): number {
    return tradeAtOurPrice(q, size);
  }

  onLevel(q: QueueState, newSize: number): void {
    const s = Math.max(0, newSize);
    if (q.ahead > s) q.ahead = s;
    q.levelSize = s;
    q.tradedSince = 0;
  }
}
