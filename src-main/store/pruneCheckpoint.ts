// Retention's checkpoint: a live feed sends one snapshot per subscription, so a session recorded for weeks has a
// single snapshot at its start and every later delta builds on it. Keeping "the last snapshot before the cutoff and
// what follows" would then keep the whole session, and retention would never bound a long-running collector. So
// before old rows go, the last book row before the cutoff is rewritten as a snapshot of the whole book there (the
// book folded from the previous snapshot), keeping its id, stamps and update id: a replay from it gives the very book
// a replay from the session's start gives, and the next delta follows it in sequence. The rewrite comes first, so a
// prune stopped at any point leaves a readable session. Without a known book there (a gap not yet resynced, a feed
// error), nothing is rewritten and the older rule applies.
import type { BookMessage, Level } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import type { StoredEvent } from './sessionReader.ts';

/** The book row that becomes the session's first row, and the snapshot it becomes. */
export interface CheckpointPlan {
  /** Row id of the last book row before the cutoff. */
  id: number;
  recvTs: number;
  /** The tick the book was folded on. */
  tickSize: string;
  /** That row as a snapshot of the whole book after it. */
  snapshot: BookMessage;
}

/**
 * Folds a session's events from a snapshot up to and including its last book row before the cutoff (the caller
 * reads exactly that span) and returns that row as a snapshot of the whole book, or null when the book there is
 * not known: a gap or an unapplied message on the way, or no book row at all. `events` may be read in pieces:
 * `step` takes one event and says whether folding can go on.
 */
export class CheckpointFold {
  private readonly sb: SequencedBook;
  private last: BookMessage | null = null;
  private broken = false;

  constructor(private readonly tickSize: string) {
    this.sb = new SequencedBook(new TickScale(tickSize));
  }

  /** Applies one event; false once the book is known to be unusable (the caller may stop reading). */
  step(ev: StoredEvent): boolean {
    if (this.broken) return false;
    if (ev.kind === 'gap') this.broken = true;
    else if (ev.kind === 'book') {
      const r = this.sb.apply(ev);
      // A repeated delta is ignored by design and leaves the book as it was; anything else unapplied is a doubt.
      if (r.status === 'gap' || (r.status === 'ignored' && !r.reason.startsWith('repeated')))
        this.broken = true;
      this.last = ev;
    }
    return !this.broken;
  }

  /** The snapshot that replaces the last book row folded (row `id`, received at `recvTs`), or null. */
  plan(id: number, recvTs: number): CheckpointPlan | null {
    const m = this.last;
    if (this.broken || !m || !this.sb.valid || m.recvTs !== recvTs) return null;
    const all = Number.MAX_SAFE_INTEGER;
    const copy = (ls: Level[]): Level[] => ls.map(([p, s]) => [p, s]);
    return {
      id,
      recvTs,
      tickSize: this.tickSize,
      snapshot: {
        ...m,
        type: 'snapshot',
        bids: copy(this.sb.book.levels('bid', all)),
        asks: copy(this.sb.book.levels('ask', all)),
      },
    };
  }
}
