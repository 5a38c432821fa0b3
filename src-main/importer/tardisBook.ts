// Turns the rows of a Tardis.dev incremental_book_L2 or book_snapshot_N CSV into the BookMessages a Bybit
// feed gives. incremental_book_L2: the consecutive rows of one update (same symbol, timestamp, local_timestamp and
// is_snapshot) form one message; a run of is_snapshot rows is one snapshot, and a run after non-snapshot rows is
// a new snapshot (the recorder reconnected): it resets the book. book_snapshot_N: each row is the top N of the
// book; the first row of a symbol is stored as its snapshot and every later row as the delta from the row before
// (changed levels with their new size, vanished levels with size 0), which rebuilds exactly the same top-N books
// and keeps a snapshot meaning what it means everywhere else: a resync (the dataset builder and the engine restart
// their warm-up there, so a snapshot per row would leave nothing to learn from or trade on).
//
// Tardis keeps no exchange update ids, so the messages get synthetic ones, consecutive per symbol: a snapshot
// is u = 1 and every later update u + 1, so a new snapshot is stored like Bybit's restart snapshot (u = 1 after
// earlier data, a 'restart' gap) and sequence gaps cannot be detected: Tardis data never shows one.
import type { BookMessage, Category, Level } from '../../src-shared/market.ts';
import {
  decimal,
  parseIncrementalRow,
  parseRowHead,
  tardisCategory,
  type IncrementalColumns,
  type RowHead,
  type SnapshotColumns,
  type TardisHeader,
} from './tardisFormat.ts';

export interface TardisBad {
  line: number;
  reason: string;
}

/** A message with the line its first row was on. */
export interface TardisMessage {
  msg: BookMessage;
  line: number;
}

interface Group {
  /** The rows' shared fields: the same object for every row of the update (parseRowHead reuses it). */
  head: RowHead;
  snapshot: boolean;
  line: number;
  bids: Level[];
  asks: Level[];
}

interface SymbolState {
  /** Synthetic update id of the last message (0 before the first snapshot). */
  u: number;
  depth: number;
  /** The last update of this symbol was (part of) a snapshot: a snapshot group now continues it. */
  inSnapshot: boolean;
  /** Updates before the first snapshot were reported (once). */
  reportedEarly: boolean;
  /** book_snapshot_N: the previous row's levels, to store the next row as the delta from it. */
  prev?: { bids: Level[]; asks: Level[] };
}

export class TardisBookReader {
  /** The file's exchange id (Tardis `exchange`), from its first good row. */
  exchange: string | undefined;
  private readonly symbols = new Map<string, SymbolState>();
  private group: Group | undefined;

  constructor(
    private readonly header: Extract<TardisHeader, { kind: 'incremental_book_L2' | 'book_snapshot' }>,
    private readonly onBad: (b: TardisBad) => void,
  ) {}

  /** The dataset, for the session's meta. */
  get format(): string {
    return this.header.kind === 'book_snapshot' ? `book_snapshot_${this.header.depth}` : this.header.kind;
  }

  /** The session category: bybit is linear, bybit-spot spot; other exchanges keep `fallback`. */
  category(fallback: Category): Category {
    return this.exchange === undefined ? fallback : tardisCategory(this.exchange, fallback);
  }

  /** Reads one data line; returns the message it completed, if any (bad rows are reported and skipped). */
  row(text: string, lineNo: number): TardisMessage | undefined {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim() === '') return undefined;
    const f = line.split(',');
    return this.header.kind === 'book_snapshot'
      ? this.snapshotRow(f, this.header.cols, this.header.depth, lineNo)
      : this.incrementalRow(f, this.header.cols, lineNo);
  }

  /**
   * The last update, held until a row showed it complete. `complete` false (the input broke off): it may be cut
   * short, so it is dropped and its line returned as `dropped`.
   */
  end(complete: boolean): { last?: TardisMessage; dropped?: number } {
    const g = this.group;
    this.group = undefined;
    if (!g) return {};
    if (!complete) return { dropped: g.line };
    return { last: this.finish(g) };
  }

  private sameExchange(exchange: string, lineNo: number): boolean {
    if (this.exchange === undefined) this.exchange = exchange;
    if (exchange === this.exchange) return true;
    this.onBad({
      line: lineNo,
      reason: `exchange "${exchange}" after "${this.exchange}": one exchange per file, row skipped`,
    });
    return false;
  }

  private state(symbol: string): SymbolState {
    let st = this.symbols.get(symbol);
    if (!st) {
      st = { u: 0, depth: 0, inSnapshot: false, reportedEarly: false };
      this.symbols.set(symbol, st);
    }
    return st;
  }

  private incrementalRow(f: string[], cols: IncrementalColumns, lineNo: number): TardisMessage | undefined {
    const g = this.group;
    const r = parseIncrementalRow(f, cols, g?.head);
    if (typeof r === 'string') {
      this.onBad({ line: lineNo, reason: r });
      return undefined;
    }
    const level: Level = [r.price, r.amount];
    if (g && g.head === r.head && g.snapshot === r.snapshot) {
      (r.bid ? g.bids : g.asks).push(level);
      return undefined;
    }
    if (!this.sameExchange(r.head.exchange, lineNo)) return undefined;
    const done = g ? this.finish(g) : undefined;
    this.group = {
      head: r.head,
      snapshot: r.snapshot,
      line: lineNo,
      bids: r.bid ? [level] : [],
      asks: r.bid ? [] : [level],
    };
    return done;
  }

  /** One complete update group as a message (undefined: a delta before the symbol's first snapshot). */
  private finish(g: Group): TardisMessage | undefined {
    const { symbol, ts, recvTs } = g.head;
    const st = this.state(symbol);
    let type: 'snapshot' | 'delta' = 'delta';
    if (g.snapshot) {
      // A snapshot lists only levels that exist: a size 0 there deletes nothing.
      g.bids = g.bids.filter((l) => l[1] > 0);
      g.asks = g.asks.filter((l) => l[1] > 0);
      if (st.inSnapshot) {
        // More rows of the same snapshot run (under later timestamps): adding them as a delta builds the same book.
        st.u++;
      } else {
        type = 'snapshot';
        st.u = 1;
        st.inSnapshot = true;
        // The depth of an incremental feed is what its first snapshot holds. Never 1: on depth 1 every message is
        // a snapshot, while here a later snapshot is a resync that the dataset builder and engine must see.
        if (st.depth === 0) st.depth = Math.max(2, g.bids.length, g.asks.length);
      }
    } else {
      if (st.u === 0) {
        if (!st.reportedEarly)
          this.onBad({
            line: g.line,
            reason: `updates of ${symbol} before its first snapshot skipped (a book starts from a snapshot)`,
          });
        st.reportedEarly = true;
        return undefined;
      }
      st.inSnapshot = false;
      st.u++;
    }
    return { msg: this.message(symbol, type, st, ts, recvTs, g.bids, g.asks), line: g.line };
  }

  private snapshotRow(
    f: string[],
    cols: SnapshotColumns,
    depth: number,
    lineNo: number,
  ): TardisMessage | undefined {
    const head = parseRowHead(f, cols);
    if (typeof head === 'string') {
      this.onBad({ line: lineNo, reason: head });
      return undefined;
    }
    if (!this.sameExchange(head.exchange, lineNo)) return undefined;
    const sides: Level[][] = [[], []];
    for (const [k, side] of [cols.bids, cols.asks].entries())
      for (let i = 0; i < side.length; i++) {
        const [pi, ai] = side[i];
        // Fewer levels than N on the book: the rest are empty.
        if (f[pi] === '' && f[ai] === '') continue;
        const price = decimal(f[pi], true);
        const amount = decimal(f[ai], false);
        if (price === undefined || amount === undefined) {
          const name = k === 0 ? 'bids' : 'asks';
          this.onBad({
            line: lineNo,
            reason: `bad ${name}[${i}] level "${f[pi].slice(0, 40)}","${f[ai].slice(0, 40)}"`,
          });
          return undefined;
        }
        if (amount > 0) sides[k].push([price, amount]);
      }
    const st = this.state(head.symbol);
    st.depth = depth;
    st.u++;
    const [bids, asks] = sides;
    const prev = st.prev;
    st.prev = { bids, asks };
    const msg = prev
      ? this.message(
          head.symbol,
          'delta',
          st,
          head.ts,
          head.recvTs,
          levelDiff(prev.bids, bids),
          levelDiff(prev.asks, asks),
        )
      : this.message(head.symbol, 'snapshot', st, head.ts, head.recvTs, bids, asks);
    return { msg, line: lineNo };
  }

  private message(
    symbol: string,
    type: 'snapshot' | 'delta',
    st: SymbolState,
    ts: number,
    recvTs: number,
    bids: Level[],
    asks: Level[],
  ): BookMessage {
    return { kind: 'book', type, symbol, depth: st.depth, ts, cts: 0, recvTs, u: st.u, seq: 0, bids, asks };
  }
}

/** The delta that turns one side's levels `from` into `to`: new or resized levels, and size 0 for vanished ones. */
export function levelDiff(from: readonly Level[], to: readonly Level[]): Level[] {
  const before = new Map<number, number>();
  for (const [p, q] of from) before.set(p, q);
  const out: Level[] = [];
  for (const [p, q] of to) {
    if (before.get(p) !== q) out.push([p, q]);
    before.delete(p);
  }
  for (const p of before.keys()) out.push([p, 0]);
  return out;
}
