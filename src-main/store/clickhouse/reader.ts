// Replays a session stored in ClickHouse in original arrival order, in the SQLite reader's shape (the same
// StoredEvent values): book messages, trade messages and gaps merged on their shared id, fetched a page at a time
// (keyset on id, RowBinary so doubles come back bit for bit). A row inserted twice (a retried batch) is yielded once;
// of a book row stored again as retention's checkpoint (a snapshot, prune.ts), the snapshot is the one yielded.
import type { Gap, GapReason, Level, Side, Trade } from '../../../src-shared/market.ts';
import type { ReadOptions, StoredEvent } from '../sessionReader.ts';
import { getSessionRecord } from './catalogue.ts';
import {
  ClickHouseStoreError,
  describeClickHouseError,
  int,
  lit,
  queryBytes,
  type ClickHouseStore,
} from './connection.ts';
import { RowBinaryReader } from './rowBinary.ts';

interface BookRow {
  id: number;
  recvTs: number;
  ts: number;
  cts: number;
  u: number;
  seq: number;
  snapshot: boolean;
  bids: Level[];
  asks: Level[];
}

interface TradeRow {
  id: number;
  msgId: number;
  recvTs: number;
  msgTs: number;
  trade: Trade;
}

interface GapRow {
  id: number;
  reason: string;
  startTs: number;
  endTs: number | null;
  detail: string;
}

/** Rows of one table in id order, a page at a time, duplicates (same id) dropped. */
class PagedRows<R extends { id: number }> {
  private page: R[] = [];
  private i = 0;
  private after: number;
  private done = false;
  /** The following page, already asked for: the server reads it while this one is consumed. */
  private ahead: Promise<R[]> | null = null;

  constructor(
    private readonly fetch: (after: number) => Promise<R[]>,
    lo: number,
  ) {
    this.after = lo - 1;
  }

  /** The current row; undefined at the end; null when the next page must be fetched first (fill). */
  head(): R | undefined | null {
    if (this.i < this.page.length) return this.page[this.i];
    return this.done ? undefined : null;
  }

  advance(): void {
    this.i++;
  }

  async fill(): Promise<void> {
    while (this.i >= this.page.length && !this.done) {
      const rows = await (this.ahead ?? this.fetch(this.after));
      this.ahead = null;
      if (rows.length === 0) {
        this.done = true;
        return;
      }
      this.page = [];
      for (const r of rows) {
        if (r.id <= this.after) continue;
        this.page.push(r);
        this.after = r.id;
      }
      this.i = 0;
      if (this.page.length > 0) {
        const next = this.fetch(this.after);
        // A reader stopped early never awaits it: its failure must not become an unhandled rejection.
        next.catch(() => undefined);
        this.ahead = next;
      }
    }
  }
}

/**
 * A page of a table's rows: ids up to `toId` (above the page before), whose receive times lie in [fromTs, toTs].
 * The tables are sorted by (symbol, session, recv_ts, id), so the receive-time range is what lets the server read only
 * that part of the session; the id alone is not in the sorting key's prefix, and a page found by id alone made the
 * server read the session's ids up to the page again for every page (a 1M-message session read 3.5 times slower per
 * message than a 200k one).
 */
interface PageSpan {
  toId: number;
  fromTs: number;
  toTs: number;
}

/** Ids per bucket of the page plan: receive times are bounded per bucket, so a clock stepping back widens one page. */
const SPAN_BUCKET = 1024;

/**
 * The pages of `table`'s rows matching `where`, about `pageSize` rows each, from one pass over the ids and receive
 * times (exact whatever the receive times do: each page's time range is the range its ids have).
 */
async function pageSpans(
  bytes: (sql: string) => Promise<Buffer>,
  table: string,
  where: string,
  pageSize: number,
): Promise<PageSpan[]> {
  const r = new RowBinaryReader(
    await bytes(
      `SELECT intDiv(id, ${SPAN_BUCKET}) AS b, max(id) AS top, min(recv_ts) AS t0, max(recv_ts) AS t1, count() AS n
       FROM ${table} WHERE ${where} GROUP BY b ORDER BY b FORMAT RowBinary`,
    ),
  );
  const spans: PageSpan[] = [];
  let cur: PageSpan | null = null;
  let rows = 0;
  while (!r.done) {
    r.uint64();
    const top = r.uint64();
    const t0 = r.int64();
    const t1 = r.int64();
    const n = r.uint64();
    if (cur === null) cur = { toId: top, fromTs: t0, toTs: t1 };
    else cur = { toId: top, fromTs: Math.min(cur.fromTs, t0), toTs: Math.max(cur.toTs, t1) };
    rows += n;
    if (rows >= pageSize) {
      spans.push(cur);
      cur = null;
      rows = 0;
    }
  }
  if (cur) spans.push(cur);
  return spans;
}

/** Rows of a table one page at a time by its page plan: `query(after, span)` reads a span's rows above `after`. */
function spanPager<R>(
  plan: () => Promise<PageSpan[]>,
  query: (after: number, span: PageSpan) => Promise<R[]>,
): (after: number) => Promise<R[]> {
  let spans: Promise<PageSpan[]> | null = null;
  return async (after) => {
    spans ??= plan();
    const all = await spans;
    // The first span that holds ids above `after` (spans are in id order).
    let a = 0;
    let b = all.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (all[m].toId > after) b = m;
      else a = m + 1;
    }
    for (let i = a; i < all.length; i++) {
      const rows = await query(after, all[i]);
      if (rows.length > 0) return rows;
    }
    return [];
  };
}

/** Generator of a session's events in arrival order; throws if the session does not exist. */
export async function* readSession(
  store: ClickHouseStore,
  sessionId: number,
  opts: ReadOptions = {},
): AsyncGenerator<StoredEvent> {
  for await (const page of readSessionPages(store, sessionId, opts)) yield* page;
}

/**
 * The session's events in arrival order, in arrays of up to `size` (a replay handles a page without awaiting per
 * message; the merge below awaits only when one of its tables needs its next page); throws if the session does not
 * exist.
 */
export async function* readSessionPages(
  store: ClickHouseStore,
  sessionId: number,
  opts: ReadOptions = {},
  size = 4096,
): AsyncGenerator<StoredEvent[]> {
  const s = await getSessionRecord(store, sessionId).catch((e: unknown) => {
    throw describeClickHouseError(store.name, e);
  });
  if (!s) throw new ClickHouseStoreError(`no session ${sessionId} in ${store.name}`, store.name);
  const { symbol, depth } = s;
  const key = `symbol = ${lit(symbol)} AND session = ${int(sessionId)}`;
  const fromTs = opts.fromTs ?? Number.MIN_SAFE_INTEGER;
  const toTs = opts.toTs ?? Number.MAX_SAFE_INTEGER;
  const recv = `recv_ts >= ${int(fromTs)} AND recv_ts <= ${int(toTs)}`;
  const bytes = (sql: string) =>
    queryBytes(store, sql).catch((e: unknown) => {
      throw describeClickHouseError(store.name, e);
    });
  // The same id span as the SQLite reader: gaps are bounded by the first and last message in the time range.
  let lo = Math.max(1, opts.fromId ?? 1);
  // Only committed batches: a batch cut short (a writer killed between its inserts) is not part of the session.
  const committedId = new RowBinaryReader(
    await bytes(`SELECT max(last_id) FROM ${store.table('commits')} WHERE ${key} FORMAT RowBinary`),
  ).uint64();
  if (committedId === 0) return;
  let hi = committedId;
  if (opts.fromTs !== undefined) {
    const r = new RowBinaryReader(
      await bytes(
        `SELECT min(m) FROM (SELECT min(id) AS m FROM ${store.table('l2_updates')} WHERE ${key} AND recv_ts >= ${int(fromTs)}
         UNION ALL SELECT min(msg_id) AS m FROM ${store.table('trades')} WHERE ${key} AND recv_ts >= ${int(fromTs)}) WHERE m > 0 FORMAT RowBinary`,
      ),
    );
    const m = r.uint64();
    if (m === 0) return;
    lo = Math.max(lo, m);
  }
  if (opts.toTs !== undefined) {
    const r = new RowBinaryReader(
      await bytes(
        `SELECT max(m) FROM (SELECT max(id) AS m FROM ${store.table('l2_updates')} WHERE ${key} AND recv_ts <= ${int(toTs)}
         UNION ALL SELECT max(id) AS m FROM ${store.table('trades')} WHERE ${key} AND recv_ts <= ${int(toTs)}) FORMAT RowBinary`,
      ),
    );
    const m = r.uint64();
    if (m === 0) return;
    hi = Math.min(hi, m);
  }
  if (opts.toId !== undefined) hi = Math.min(hi, opts.toId);
  if (hi < lo) return;
  // Pages of about 16k rows: a query per page, against the memory one page of decoded levels takes.
  const pageSize = Math.max(1, opts.pageSize ?? 16_384);
  const span = (after: number) => `${key} AND id > ${int(after)} AND id <= ${int(hi)}`;
  /** A page's rows: its ids above `after`, in its receive-time range. */
  const within = (after: number, p: PageSpan) =>
    `${key} AND id > ${int(after)} AND id <= ${int(Math.min(p.toId, hi))} AND recv_ts >= ${int(p.fromTs)} AND recv_ts <= ${int(p.toTs)} AND ${recv}`;
  const plan = (table: string) => () => pageSpans(bytes, table, `${span(lo - 1)} AND ${recv}`, pageSize);

  const books = new PagedRows<BookRow>(
    spanPager(plan(store.table('l2_updates')), async (after, p) => {
      const r = new RowBinaryReader(
        await bytes(
          `SELECT id, recv_ts, ts, cts, u, seq, is_snapshot, bid_prices, bid_sizes, ask_prices, ask_sizes
         FROM ${store.table('l2_updates')} WHERE ${within(after, p)} ORDER BY id, is_snapshot DESC FORMAT RowBinary`,
        ),
      );
      const out: BookRow[] = [];
      while (!r.done) {
        const id = r.uint64();
        const recvTs = r.int64();
        const ts = r.int64();
        const cts = r.int64();
        const u = r.int64();
        const seq = r.int64();
        const snapshot = r.uint8() === 1;
        const bids = r.levels();
        const asks = r.levels();
        out.push({ id, recvTs, ts, cts, u, seq, snapshot, bids, asks });
      }
      return out;
    }),
    lo,
  );
  const trades = new PagedRows<TradeRow>(
    spanPager(plan(store.table('trades')), async (after, p) => {
      const r = new RowBinaryReader(
        await bytes(
          `SELECT id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq
         FROM ${store.table('trades')} WHERE ${within(after, p)} ORDER BY id FORMAT RowBinary`,
        ),
      );
      const out: TradeRow[] = [];
      while (!r.done) {
        const id = r.uint64();
        const msgId = r.uint64();
        const recvTs = r.int64();
        const msgTs = r.int64();
        const ts = r.int64();
        const side = r.string() as Side;
        const price = r.float64();
        const size = r.float64();
        const tradeId = r.string();
        const blockTrade = r.uint8() === 1;
        const seq = r.int64();
        out.push({
          id,
          msgId,
          recvTs,
          msgTs,
          trade: { ts, side, price, size, id: tradeId, blockTrade, seq },
        });
      }
      return out;
    }),
    lo,
  );
  // The newest version of each gap (a closed gap has a second row with its end time).
  const gaps = new PagedRows<GapRow>(async (after) => {
    const r = new RowBinaryReader(
      await bytes(
        `SELECT id, reason, start_ts, end_ts, detail FROM ${store.table('gaps')} WHERE ${span(after)} AND version <= ${int(committedId)}
         ORDER BY id, version DESC LIMIT 1 BY id LIMIT ${pageSize} FORMAT RowBinary`,
      ),
    );
    const out: GapRow[] = [];
    while (!r.done)
      out.push({
        id: r.uint64(),
        reason: r.string(),
        startTs: r.int64(),
        endTs: r.nullableInt64(),
        detail: r.string(),
      });
    return out;
  }, lo);

  let out: StoredEvent[] = [];
  for (;;) {
    const b = books.head();
    const t = trades.head();
    const g = gaps.head();
    if (b === null || t === null || g === null) {
      await Promise.all([b === null && books.fill(), t === null && trades.fill(), g === null && gaps.fill()]);
      continue;
    }
    const bId = b ? b.id : Infinity;
    // A trade message sits at the id of its first trade.
    const tId = t ? t.msgId : Infinity;
    const gId = g ? g.id : Infinity;
    if (bId === Infinity && tId === Infinity && gId === Infinity) break;
    if (gId < bId && gId < tId) {
      gaps.advance();
      const gr = g as GapRow;
      const gap: Gap = {
        symbol,
        reason: gr.reason as GapReason,
        startTs: gr.startTs,
        endTs: gr.endTs,
        detail: gr.detail,
      };
      out.push({ kind: 'gap', gap });
    } else if (bId < tId) {
      books.advance();
      const br = b as BookRow;
      out.push({
        kind: 'book',
        type: br.snapshot ? 'snapshot' : 'delta',
        symbol,
        depth,
        recvTs: br.recvTs,
        ts: br.ts,
        cts: br.cts,
        u: br.u,
        seq: br.seq,
        bids: br.bids,
        asks: br.asks,
      });
    } else {
      const first = t as TradeRow;
      trades.advance();
      const list: Trade[] = [first.trade];
      for (;;) {
        const r = trades.head();
        if (r === null) {
          await trades.fill();
          continue;
        }
        if (!r || r.msgId !== first.msgId) break;
        list.push(r.trade);
        trades.advance();
      }
      out.push({ kind: 'trades', symbol, ts: first.msgTs, recvTs: first.recvTs, trades: list });
    }
    if (out.length >= size) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
