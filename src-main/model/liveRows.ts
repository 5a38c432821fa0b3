// The dataset rows of a feed being recorded for live retraining, built as its messages are stored, so that a
// retraining round learns from rows already built instead of replaying the whole recorded session from its start
// (the feature cache keeps closed sessions only: an open one grows). They are the rows a build from the stored
// session gives (featureCache.sessionRows), bit for bit, because they are built from the same messages in the same
// order by the same DatasetBuilder (a trade message without trades, which the store keeps nothing of, is skipped here
// too). One exception: a gap. The stored gap record gets its end only once the book has
// resynced, and the builder treats an open gap (the live event) and an ended one (the stored record) differently, so
// after a gap, or a message the store could not take, the rows are given up and rounds read the stored session again.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { DatasetBuilder, type DatasetOptions } from './dataset.ts';
import { featureKey, rowsOf } from './featureCache.ts';
import type { StoreFeatures } from './trainPipeline.ts';

export class LiveSessionRows {
  private readonly builder: DatasetBuilder;
  private broken: string | null = null;

  constructor(
    readonly sessionId: number,
    /** The session's tick size and book depth as stored with it: a replay of the session reads the book with them. */
    readonly tickSize: string,
    private readonly depth: number,
    private readonly opts: DatasetOptions,
  ) {
    this.builder = new DatasetBuilder(opts);
    this.builder.begin({ sessionId, tickSize });
  }

  /** A message as it is handed to the session's writer (same object, same order). */
  message(m: MarketMessage): void {
    if (this.broken !== null) return;
    if (m.kind === 'trades' && m.trades.length === 0) return;
    // The store keeps the session's depth, not each message's: a message of another depth reads back otherwise.
    if (m.kind === 'book' && m.depth !== this.depth) {
      this.giveUp(`a book message of depth ${m.depth} in a session of depth ${this.depth}`);
      return;
    }
    this.builder.push(m);
  }

  /** A gap as the source reports it: the rows are given up (see the header). */
  gap(g: Gap): void {
    this.giveUp(`a ${g.reason} gap at ${new Date(g.startTs).toISOString()}`);
  }

  /** The stored session no longer matches what was pushed here (a write failed, data was deleted). */
  giveUp(why: string): void {
    this.broken ??= why;
  }

  /** Why the rows were given up, or null while they hold. */
  get givenUp(): string | null {
    return this.broken;
  }

  /** The rows so far, for a round (trainPipeline's storeFeatures); null once given up. */
  rows(): StoreFeatures | null {
    if (this.broken !== null) return null;
    return {
      featureKey: featureKey(this.opts),
      rows: [rowsOf(this.builder.rowsSoFar(), this.sessionId)],
      identities: [],
    };
  }
}
