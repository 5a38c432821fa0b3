// hftbacktest's probabilistic queue model (ProbQueueModel with PowerProbQueueFunc): a size decrease at our level
// that trades do not explain is cancels, and the share of it that was ahead of us is f(ahead) / (f(ahead) +
// f(behind)) with f(x) = x^n. With n > 1 a cancel is more likely to come from the longer side of the queue, so an
// order near the front (little ahead) advances little and one near the back advances a lot; n = 1 is the pro rata
// model. What the queue behind us cannot hold of its share came from ahead too.
// One deliberate difference from hftbacktest: the queue behind us is level − traded − ahead (the trades since the
// last book observation already left the level, from the front); hftbacktest takes level − ahead, which counts the
// volume just traded as behind us.
import { joinLevel, tradeAtOurPrice, type QueueModel, type QueueState } from './queueModel.ts';

export class PowerProbQueue implements QueueModel {
  constructor(readonly n = 2) {
    if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`queue power must be > 0, got ${n}`);
  }

  join(levelSize: number): QueueState {
    return joinLevel(levelSize);
  }

  onTrade(q: QueueState, size: number): number {
    return tradeAtOurPrice(q, size);
  }

  /** The share of a cancel that was ahead of us: f(ahead) / (f(ahead) + f(behind)), for ahead > 0. */
  shareAhead(ahead: number, behind: number): number {
    // As 1 / (1 + (behind/ahead)^n): no 0/0 when both powers underflow; an overflow gives 0, as it should.
    return 1 / (1 + (behind / ahead) ** this.n);
  }

  onLevel(q: QueueState, newSize: number): void {
    const s = Math.max(0, newSize);
    const cancelled = q.levelSize - s - q.tradedSince;
    if (cancelled > 0 && q.ahead > 0) {
      const ahead = q.ahead;
      const behind = Math.max(0, q.levelSize - q.tradedSince - ahead);
      const share = this.shareAhead(ahead, behind);
      q.ahead = ahead - share * cancelled + Math.min(0, behind - (1 - share) * cancelled);
    }
    if (q.ahead > s) q.ahead = s;
    if (q.ahead < 1e-12) q.ahead = 0;
    q.levelSize = s;
    q.tradedSince = 0;
  }
}
