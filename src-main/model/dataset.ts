// Builds a supervised dataset from stored sessions: features sampled every decision interval by the same
// FeatureEngine that trades live, labelled with the future mid return over horizon H (labels.ts). No sample's
// feature window (the longest look-back) or label window crosses a data gap or an invalid book.
// Clock: the trading Engine's. Rows are taken on its decision grid on the *local* (receive) clock, each seeing
// exactly the messages received by its decision time (engine/decisionGrid.ts, shared with the Engine), with the
// same feature stamps, so a row is bit-identical to the one the Engine feeds its model at that time. The label's
// future mid is on the same clock: the mid after every message received by t + H.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { FeatureEngine } from '../features/featureEngine.ts';
import { DecisionGrid } from '../engine/decisionGrid.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS, N_FEATURES } from '../features/featureSet.ts';
import type { Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession, listSessions, type SessionInfo } from '../store/sessions.ts';
import { LabelQueue, type PendingSample } from './labels.ts';

/**
 * The version of this builder's rules (clock, grid, gaps, labels). Bump it with any change that alters a row:
 * the feature cache (featureCache.ts) keys its entries on it, so older entries are rebuilt, never reused.
 */
export const DATASET_BUILDER_VERSION = 2;

/** What the store's readSession yields: messages and gaps in original arrival order. */
export type DatasetEvent = MarketMessage | { kind: 'gap'; gap: Gap };

export interface DatasetSource {
  sessionId: number;
  tickSize: string;
  events: Iterable<DatasetEvent>;
  /**
   * Take samples only once an event received at or after this local time has been seen: the events before it
   * only rebuild the book and warm the features (a window that starts mid-session needs its last snapshot).
   */
  sampleFromRecvTs?: number;
  /**
   * The largest event time (ms) of the events before these ones, when the events resume a session mid-way:
   * the replay clock starts there, exactly as if those events had been replayed (see trainPipeline's windows).
   */
  clockFloor?: number;
  /** The same for the local clock: the largest local time (decisionGrid's receiveTime) of the events before. */
  localFloor?: number;
}

export interface DatasetOptions {
  /** Sampling period (ms), config `features.decision_interval`. */
  decisionIntervalMs: number;
  /** Label horizon H (ms), config `model.horizon`. */
  horizonMs: number;
  /** Silence longer than this between events is treated as a gap (ms); default 30 s, as the Engine's. */
  maxSilenceMs?: number;
  /**
   * Local time of messages stored without a receive stamp (imports, the simulator) = exchange time + this (ms),
   * config `trading.feed_latency`, as the Engine has it; default 0.
   */
  feedLatencyMs?: number;
  /** Feature warm-up after a gap (ms); at least the longest look-back. */
  warmupMs?: number;
  /** Called every ~50k events with the number processed so far. */
  onProgress?: (events: number) => void;
}

export interface DatasetStats {
  events: number;
  bookMessages: number;
  trades: number;
  /** Stored gap records, book sequence/crossed gaps found while replaying, and silences. */
  storedGaps: number;
  detectedGaps: number;
  silences: number;
  /** Samples discarded because their label window crossed a gap or the end of a session. */
  droppedForGap: number;
  droppedAtEnd: number;
  /** Decision times skipped because features were not warm or the book was invalid. */
  notWarm: number;
}

/** Stats of a dataset that has read nothing yet. */
export function emptyDatasetStats(): DatasetStats {
  return {
    events: 0,
    bookMessages: 0,
    trades: 0,
    storedGaps: 0,
    detectedGaps: 0,
    silences: 0,
    droppedForGap: 0,
    droppedAtEnd: 0,
    notWarm: 0,
  };
}

export interface Dataset {
  /** Row-major nRows x nFeatures. */
  X: Float32Array;
  y: Float32Array;
  /** Decision time of each row (ms, local clock: the Engine's decision grid). */
  ts: Float64Array;
  /** Session id of each row. */
  session: Int32Array;
  /**
   * Receive stamp of the message that completed each row's label (the first received after t + H): a read of the
   * session cut at recv_ts ≤ T keeps exactly the rows with labelRecvTs ≤ T (the feature cache's windows).
   */
  labelRecvTs: Float64Array;
  names: readonly string[];
  featureSetVersion: string;
  nRows: number;
  nFeatures: number;
  /** The sessions the rows come from, in input order. */
  sessionIds: number[];
  horizonMs: number;
  decisionIntervalMs: number;
  stats: DatasetStats;
}

class Growable {
  x: Float32Array;
  y: Float32Array;
  ts: Float64Array;
  session: Int32Array;
  labelRecvTs: Float64Array;
  n = 0;
  constructor(private readonly nf: number) {
    const cap = 1024;
    this.x = new Float32Array(cap * nf);
    this.y = new Float32Array(cap);
    this.ts = new Float64Array(cap);
    this.session = new Int32Array(cap);
    this.labelRecvTs = new Float64Array(cap);
  }
  push(row: Float32Array, y: number, ts: number, session: number, labelRecvTs: number): void {
    if (this.n === this.y.length) this.grow();
    this.x.set(row, this.n * this.nf);
    this.y[this.n] = y;
    this.ts[this.n] = ts;
    this.session[this.n] = session;
    this.labelRecvTs[this.n] = labelRecvTs;
    this.n++;
  }
  private grow(): void {
    const cap = this.y.length * 2;
    const x = new Float32Array(cap * this.nf);
    x.set(this.x);
    this.x = x;
    const y = new Float32Array(cap);
    y.set(this.y);
    this.y = y;
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    this.ts = ts;
    const s = new Int32Array(cap);
    s.set(this.session);
    this.session = s;
    const l = new Float64Array(cap);
    l.set(this.labelRecvTs);
    this.labelRecvTs = l;
  }
}

/** Where a session's events start: a DatasetSource without its events (DatasetBuilder takes them one at a time). */
export type SessionStart = Omit<DatasetSource, 'events'>;

/**
 * buildDataset fed one event at a time: begin() a session, push() its events in arrival order, end() it, then
 * finish(). A reader that awaits between pages (a ClickHouse store) builds exactly the rows a synchronous one does.
 */
export class DatasetBuilder {
  private readonly grid: DecisionGrid;
  private readonly out = new Growable(N_FEATURES);
  private readonly stats = emptyDatasetStats();
  private readonly sessionIds: number[] = [];
  private readonly feats = new Float64Array(N_FEATURES);
  private readonly engine: FeatureEngine;
  private readonly queue: LabelQueue;
  // The session being read (begin() sets them).
  private sessionId = 0;
  private seq: SequencedBook | null = null;
  private lastTs = -Infinity; // the exchange clock (feature stamps)
  private sampleFrom = -Infinity;
  private sampling = true;
  private labelRecv = NaN; // receive stamp of the message about to complete labels
  private sawSnapshot = false;
  private afterGap = false; // a gap was acted on since the last snapshot: the next snapshot is its resync
  private readonly emit = (s: PendingSample, y: number) =>
    this.out.push(s.row, y, s.t, this.sessionId, this.labelRecv);

  constructor(private readonly opts: DatasetOptions) {
    const { decisionIntervalMs: every, horizonMs } = opts;
    if (!(every > 0)) throw new RangeError(`decision interval must be > 0 ms, got ${every}`);
    if (!(horizonMs > 0)) throw new RangeError(`horizon must be > 0 ms, got ${horizonMs}`);
    this.grid = new DecisionGrid({
      decisionIntervalMs: every,
      feedLatencyMs: opts.feedLatencyMs,
      maxSilenceMs: opts.maxSilenceMs,
    });
    this.engine = new FeatureEngine({
      warmupMs: Math.max(opts.warmupMs ?? MAX_LOOKBACK_MS, MAX_LOOKBACK_MS),
    });
    this.queue = new LabelQueue(horizonMs);
  }

  begin(src: SessionStart): void {
    if (this.seq) throw new Error(`session ${this.sessionId} was not ended before session ${src.sessionId}`);
    this.sessionIds.push(src.sessionId);
    this.sessionId = src.sessionId;
    this.seq = new SequencedBook(new TickScale(src.tickSize));
    this.engine.reset();
    this.queue.clear();
    this.grid.reset(src.localFloor ?? -Infinity);
    this.lastTs = src.clockFloor ?? -Infinity;
    this.sampleFrom = src.sampleFromRecvTs ?? -Infinity;
    this.sampling = this.sampleFrom === -Infinity;
    this.labelRecv = NaN;
    this.sawSnapshot = false;
    this.afterGap = false;
  }

  // Gaps are acted on where they sit in the stream (the store yields a gap where it opened). Every sample still
  // waiting for its label has its label window cross the gap; samples already labelled ended before it. The
  // features restart, so no later sample's feature window reaches back across the gap.
  private gapAt(): void {
    this.afterGap = true;
    this.stats.droppedForGap += this.queue.clear();
    this.engine.reset();
  }

  push(ev: DatasetEvent): void {
    const seq = this.seq;
    if (!seq) throw new Error('an event was pushed outside a session: call begin() first');
    const { stats, engine, queue, grid } = this;
    stats.events++;
    if (this.opts.onProgress && stats.events % 50_000 === 0) this.opts.onProgress(stats.events);
    if (ev.kind === 'gap') {
      stats.storedGaps++;
      // As the Engine: a gap still open when stored invalidates the book until a fresh snapshot; sequence or
      // crossed faults are found again by SequencedBook while replaying.
      if (ev.gap.endTs === null) seq.invalidate();
      this.gapAt();
      return;
    }
    const local = grid.localTime(ev);
    if (!this.sampling && local >= this.sampleFrom) this.sampling = true;
    // The grid times this message proves passed (it was received after them) are sampled first, without it.
    const mid = engine.mid(); // the mid for every local time in [lastLocal, local)
    for (let d = grid.takeDue(local); d === d; d = grid.takeDue(local)) {
      if (!this.sampling) {
        // before the window: the book and the features warm up, no sample is taken
      } else if (seq.valid && engine.compute(d, this.feats))
        queue.push({ t: d, mid, row: Float32Array.from(this.feats) });
      else stats.notWarm++;
    }
    if (grid.receive(local)) {
      stats.silences++;
      this.gapAt();
    }
    let ts = ev.ts;
    if (ts < this.lastTs) ts = this.lastTs; // one non-decreasing exchange clock: arrival order wins over exchange stamps
    this.lastTs = ts;
    if (ev.kind === 'book') {
      stats.bookMessages++;
      // On depths above 1 Bybit sends a snapshot only on (re)subscription: a later one means the feed
      // broke and resynced, whether or not a gap was recorded, so the windows must not span it.
      // After a recorded gap this is its resync: restarting the warm-up here, not at the gap record, also
      // keeps whatever arrived in between out of every feature window. A snapshot that follows the valid book
      // in sequence, with no break since the last one, missed nothing (retention's checkpoint): it continues.
      if (ev.type === 'snapshot') {
        if (ev.depth > 1 && this.sawSnapshot && (this.afterGap || !seq.continuesWith(ev))) {
          if (!this.afterGap) stats.detectedGaps++;
          this.gapAt();
        }
        this.sawSnapshot = true;
        this.afterGap = false;
      }
      const r = seq.apply(ev);
      if (r.status === 'applied') {
        if (r.restarted && ev.depth === 1) {
          stats.detectedGaps++;
          this.gapAt();
        }
        // Feature stamps as the Engine's: exchange time, never after the message was received.
        engine.onBook(seq.book, ts < local ? ts : local);
      } else if (r.status === 'gap') {
        stats.detectedGaps++;
        this.gapAt();
      }
    } else {
      for (const t of ev.trades) {
        stats.trades++;
        engine.onTrade(t, t.ts < local ? t.ts : local); // its fill time, never after it was received
      }
    }
    // Labels whose horizon ends in [lastLocal, local) take the mid of that interval — but only now that this
    // event applied cleanly: had it revealed a break (sequence, resync), the interval was not trustworthy
    // and gapAt() above already dropped those samples.
    if (queue.size > 0 && mid === mid) {
      this.labelRecv = ev.recvTs;
      queue.resolve(local, mid, this.emit);
    }
  }

  /** Ends the session: the samples still waiting for their label have none. */
  end(): void {
    this.stats.droppedAtEnd += this.queue.clear();
    this.seq = null;
  }

  finish(): Dataset {
    if (this.seq) this.end();
    return this.rowsSoFar();
  }

  /**
   * The rows built so far, as a build of the events pushed so far would end (the samples still waiting for their
   * label are counted as dropped at the end), without ending the session: more events may follow.
   */
  rowsSoFar(): Dataset {
    const { out, opts } = this;
    const n = out.n;
    const nf = N_FEATURES;
    return {
      X: out.x.slice(0, n * nf),
      y: out.y.slice(0, n),
      ts: out.ts.slice(0, n),
      session: out.session.slice(0, n),
      labelRecvTs: out.labelRecvTs.slice(0, n),
      names: FEATURE_SET.names,
      featureSetVersion: FEATURE_SET.version,
      nRows: n,
      nFeatures: nf,
      sessionIds: [...this.sessionIds],
      horizonMs: opts.horizonMs,
      decisionIntervalMs: opts.decisionIntervalMs,
      stats: { ...this.stats, droppedAtEnd: this.stats.droppedAtEnd + this.queue.size },
    };
  }
}

export function buildDataset(sources: Iterable<DatasetSource>, opts: DatasetOptions): Dataset {
  const b = new DatasetBuilder(opts);
  for (const src of sources) {
    b.begin(src);
    for (const ev of src.events) b.push(ev);
    b.end();
  }
  return b.finish();
}

/** A time window of stored data, in local receive time (ms) like readSession's options. */
export interface SessionWindow {
  fromTs?: number;
  toTs?: number;
}

/**
 * The sessions to learn from, read lazily from the store (one page at a time) in the given order.
 * No ids: every session of the newest session's symbol. Mixing symbols is refused: one model, one market.
 * With a window (retraining on the newest data): the reading starts at the last snapshot at or before
 * `fromTs`, since deltas alone cannot rebuild a book, and samples start at `fromTs`; nothing after `toTs` is read.
 */
export function sessionSources(
  db: Db,
  sessionIds: readonly number[] = [],
  window: SessionWindow = {},
): { sources: DatasetSource[]; sessions: SessionInfo[] } {
  let sessions: SessionInfo[];
  if (sessionIds.length > 0) {
    sessions = sessionIds.map((id) => {
      const s = getSession(db, id);
      if (!s)
        throw new Error(
          `session ${id} is not in ${db.name}; list sessions with \`l2desk db check --db ${db.name}\``,
        );
      return s;
    });
  } else {
    const all = listSessions(db);
    if (all.length === 0)
      throw new Error(
        `${db.name} holds no sessions; record one with \`l2desk collect\` or \`l2desk import\``,
      );
    const newest = all.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
    sessions = all.filter((s) => s.symbol === newest.symbol).sort((a, b) => a.startedAt - b.startedAt);
  }
  const symbols = [...new Set(sessions.map((s) => s.symbol))];
  if (symbols.length > 1)
    throw new Error(
      `sessions mix symbols (${symbols.join(', ')}); pick sessions of one symbol with --session`,
    );
  const lastSnapshot = db
    .prepare('SELECT max(recv_ts) FROM l2_updates WHERE session_id = ? AND is_snapshot = 1 AND recv_ts <= ?')
    .pluck();
  const sources = sessions.map((s): DatasetSource => {
    const from = window.fromTs;
    if (from === undefined) {
      return {
        sessionId: s.id,
        tickSize: s.tickSize,
        // reuseLevels: buildDataset copies a message's levels into its book before it takes the next.
        events: { [Symbol.iterator]: () => readSession(db, s.id, { toTs: window.toTs, reuseLevels: true }) },
      };
    }
    const anchor = lastSnapshot.get(s.id, from) as number | null;
    return {
      sessionId: s.id,
      tickSize: s.tickSize,
      sampleFromRecvTs: from,
      events: {
        [Symbol.iterator]: () =>
          readSession(db, s.id, { fromTs: anchor ?? from, toTs: window.toTs, reuseLevels: true }),
      },
    };
  });
  return { sources, sessions };
}

/** buildDataset over stored sessions (see sessionSources for the default selection). */
export function buildDatasetFromDb(
  db: Db,
  sessionIds: readonly number[],
  opts: DatasetOptions,
  window: SessionWindow = {},
): Dataset {
  return buildDataset(sessionSources(db, sessionIds, window).sources, opts);
}
