// Builds a supervised dataset from stored sessions: features sampled every decision interval by the same
// FeatureEngine that trades live, labelled with the future mid return over horizon H (labels.ts). No sample's
// feature window (the longest look-back) or label window crosses a data gap or an invalid book.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { FeatureEngine } from '../features/featureEngine.ts';
import { FEATURE_SET, MAX_LOOKBACK_MS, N_FEATURES } from '../features/featureSet.ts';
import type { Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession, listSessions, type SessionInfo } from '../store/sessions.ts';
import { LabelQueue, type PendingSample } from './labels.ts';

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
}

export interface DatasetOptions {
  /** Sampling period (ms), config `features.decision_interval`. */
  decisionIntervalMs: number;
  /** Label horizon H (ms), config `model.horizon`. */
  horizonMs: number;
  /** Silence longer than this between events is treated as a gap (ms); default 30 s. */
  maxSilenceMs?: number;
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

export interface Dataset {
  /** Row-major nRows x nFeatures. */
  X: Float32Array;
  y: Float32Array;
  /** Decision time of each row (ms, exchange clock). */
  ts: Float64Array;
  /** Session id of each row. */
  session: Int32Array;
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
  n = 0;
  constructor(private readonly nf: number) {
    const cap = 1024;
    this.x = new Float32Array(cap * nf);
    this.y = new Float32Array(cap);
    this.ts = new Float64Array(cap);
    this.session = new Int32Array(cap);
  }
  push(row: Float32Array, y: number, ts: number, session: number): void {
    if (this.n === this.y.length) this.grow();
    this.x.set(row, this.n * this.nf);
    this.y[this.n] = y;
    this.ts[this.n] = ts;
    this.session[this.n] = session;
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
  }
}

export function buildDataset(sources: Iterable<DatasetSource>, opts: DatasetOptions): Dataset {
  const { decisionIntervalMs: every, horizonMs } = opts;
  if (!(every > 0)) throw new RangeError(`decision interval must be > 0 ms, got ${every}`);
  if (!(horizonMs > 0)) throw new RangeError(`horizon must be > 0 ms, got ${horizonMs}`);
  const maxSilence = opts.maxSilenceMs ?? 30_000;
  const lookback = Math.max(opts.warmupMs ?? MAX_LOOKBACK_MS, MAX_LOOKBACK_MS);
  const nf = N_FEATURES;
  const out = new Growable(nf);
  const stats: DatasetStats = {
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
  const sessionIds: number[] = [];
  const feats = new Float64Array(nf);
  const engine = new FeatureEngine({ warmupMs: lookback });
  const queue = new LabelQueue(horizonMs);

  for (const src of sources) {
    sessionIds.push(src.sessionId);
    const seq = new SequencedBook(new TickScale(src.tickSize));
    engine.reset();
    queue.clear();
    let lastTs = src.clockFloor ?? -Infinity;
    let nextT = NaN; // next decision time
    const sampleFrom = src.sampleFromRecvTs ?? -Infinity;
    let sampling = sampleFrom === -Infinity;
    const emit = (s: PendingSample, y: number) => out.push(s.row, y, s.t, src.sessionId);
    // Gaps are acted on where they sit in the stream (the store yields a gap where it opened). Every sample
    // still waiting for its label has its label window cross the gap; samples already labelled ended before
    // it. The engine restarts, so no later sample's feature window reaches back across the gap.
    let sawSnapshot = false;
    let afterGap = false; // a gap was acted on since the last snapshot: the next snapshot is its resync
    const gapAt = () => {
      afterGap = true;
      stats.droppedForGap += queue.clear();
      engine.reset();
      nextT = NaN;
    };

    for (const ev of src.events) {
      stats.events++;
      if (opts.onProgress && stats.events % 50_000 === 0) opts.onProgress(stats.events);
      if (ev.kind === 'gap') {
        stats.storedGaps++;
        // The book itself needs no invalidation: a disconnect is followed by a snapshot, and sequence or
        // crossed faults are found again by SequencedBook while replaying.
        gapAt();
        continue;
      }
      if (!sampling && ev.recvTs >= sampleFrom) sampling = true;
      let ts = ev.ts;
      if (ts < lastTs) ts = lastTs; // one non-decreasing clock: arrival order wins over exchange stamps
      if (ts - lastTs > maxSilence && lastTs > -Infinity) {
        stats.silences++;
        gapAt();
      }
      // Decision times strictly before this event see exactly the events with timestamps <= them.
      if (nextT !== nextT) nextT = Math.floor(ts / every) * every + every;
      const mid = engine.mid(); // the mid for every time in [lastTs, ts)
      while (nextT < ts) {
        if (!sampling) {
          // before the window: the book and the features warm up, no sample is taken
        } else if (seq.valid && engine.compute(nextT, feats))
          queue.push({ t: nextT, mid, row: Float32Array.from(feats) });
        else stats.notWarm++;
        nextT += every;
      }
      lastTs = ts;
      if (ev.kind === 'book') {
        stats.bookMessages++;
        // On depths above 1 Bybit sends a snapshot only on (re)subscription: a later one means the feed
        // broke and resynced, whether or not a gap was recorded, so the windows must not span it.
        // After a recorded gap this is its resync: restarting the warm-up here, not at the gap record, also
        // keeps whatever arrived in between out of every feature window.
        if (ev.type === 'snapshot') {
          if (ev.depth > 1 && sawSnapshot) {
            if (!afterGap) stats.detectedGaps++;
            gapAt();
          }
          sawSnapshot = true;
          afterGap = false;
        }
        const r = seq.apply(ev);
        if (r.status === 'applied') {
          if (r.restarted && ev.depth === 1) {
            stats.detectedGaps++;
            gapAt();
          }
          engine.onBook(seq.book, ts);
        } else if (r.status === 'gap') {
          stats.detectedGaps++;
          gapAt();
        }
      } else {
        for (const t of ev.trades) {
          stats.trades++;
          engine.onTrade(t); // stamped with its fill time, exactly as the trading Engine does (no train/serve skew)
        }
      }
      // Labels whose horizon ends in [lastTs, ts) take the mid of that interval — but only now that this
      // event applied cleanly: had it revealed a break (sequence, resync), the interval was not trustworthy
      // and gapAt() above already dropped those samples.
      if (queue.size > 0 && mid === mid) queue.resolve(ts, mid, emit);
    }
    stats.droppedAtEnd += queue.clear();
  }

  const n = out.n;
  return {
    X: out.x.slice(0, n * nf),
    y: out.y.slice(0, n),
    ts: out.ts.slice(0, n),
    session: out.session.slice(0, n),
    names: FEATURE_SET.names,
    featureSetVersion: FEATURE_SET.version,
    nRows: n,
    nFeatures: nf,
    sessionIds,
    horizonMs,
    decisionIntervalMs: every,
    stats,
  };
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
        events: { [Symbol.iterator]: () => readSession(db, s.id, { toTs: window.toTs }) },
      };
    }
    const anchor = lastSnapshot.get(s.id, from) as number | null;
    return {
      sessionId: s.id,
      tickSize: s.tickSize,
      sampleFromRecvTs: from,
      events: {
        [Symbol.iterator]: () => readSession(db, s.id, { fromTs: anchor ?? from, toTs: window.toTs }),
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
