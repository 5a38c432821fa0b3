// A small deterministic L2 + trades stream for dataset and feature tests: a tick-grid book that random-walks,
// with optional stored gaps (and the sequence break + fresh snapshot that follow them) at chosen times.
import type { BookMessage, Gap, Level, MarketMessage, TradeMessage } from '../../../src-shared/market.ts';

/** The store's StoredEvent shape: messages and gap records in arrival order. */
export type SyntheticEvent = MarketMessage | { kind: 'gap'; gap: Gap };

export interface SyntheticOptions {
  seed?: number;
  startTs?: number;
  durationMs: number;
  stepMs?: number;
  /** Times (ms from start) at which a gap is recorded, the feed breaks, and a snapshot restores it 2 s later. */
  gapsAtMs?: number[];
}

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const px = (tick: number) => Math.round(tick) / 10; // tick size 0.1

export function syntheticEvents(opts: SyntheticOptions): SyntheticEvent[] {
  const r = rng(opts.seed ?? 1);
  const start = opts.startTs ?? 1_700_000_000_000;
  const step = opts.stepMs ?? 20;
  const gaps = [...(opts.gapsAtMs ?? [])].sort((a, b) => a - b);
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let center = 650_000;
  let u = 100;
  let tradeId = 0;
  const out: SyntheticEvent[] = [];
  const size = () => Math.round((0.001 + r() * 3) * 1000) / 1000;
  const levels = (m: Map<number, number>, desc: boolean): Level[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).map(([t, s]) => [px(t), s] as const);
  /** The next book message (update id u + 1), received 3 ms after it was sent. */
  const book = (type: BookMessage['type'], ts: number, b: Level[], a: Level[]): BookMessage => ({
    kind: 'book',
    type,
    symbol: 'BTCUSDT',
    depth: 50,
    ts,
    cts: ts,
    recvTs: ts + 3,
    u: ++u,
    seq: u,
    bids: b,
    asks: a,
  });
  const snapshot = (ts: number): BookMessage => {
    bids.clear();
    asks.clear();
    for (let i = 0; i < 25; i++) {
      bids.set(center - i, size());
      asks.set(center + 1 + i, size());
    }
    return book('snapshot', ts, levels(bids, true), levels(asks, false));
  };
  out.push(snapshot(start));
  let brokenUntil = -1;
  for (let t = step; t <= opts.durationMs; t += step) {
    const ts = start + t;
    if (gaps.length && t >= gaps[0]) {
      gaps.shift();
      out.push({
        kind: 'gap',
        gap: { symbol: 'BTCUSDT', reason: 'disconnect', startTs: ts, endTs: ts + 2000, detail: 'synthetic' },
      });
      brokenUntil = t + 2000;
      u += 50; // messages lost while disconnected
      continue;
    }
    if (brokenUntil >= 0) {
      if (t < brokenUntil) continue;
      if (t === brokenUntil) {
        // a late delta from before the reconnect: its update id shows the break
        out.push(book('delta', ts, [], []));
        continue;
      }
      brokenUntil = -1;
      out.push(snapshot(ts));
      continue;
    }
    const move = r();
    if (move < 0.05) center--;
    else if (move > 0.95) center++;
    const db: Level[] = [];
    const da: Level[] = [];
    for (const tick of [...bids.keys()]) {
      if (tick <= center) continue;
      bids.delete(tick);
      db.push([px(tick), 0]);
    }
    for (const tick of [...asks.keys()]) {
      if (tick > center) continue;
      asks.delete(tick);
      da.push([px(tick), 0]);
    }
    const touch = (m: Map<number, number>, d: Level[], tick: number) => {
      const s = size();
      m.set(tick, s);
      d.push([px(tick), s]);
    };
    if (!bids.has(center) || r() < 0.3) touch(bids, db, center);
    if (!asks.has(center + 1) || r() < 0.3) touch(asks, da, center + 1);
    for (let k = 0; k < 3; k++) {
      touch(bids, db, center - 1 - Math.floor(r() * 20));
      touch(asks, da, center + 2 + Math.floor(r() * 20));
    }
    out.push(book('delta', ts, db, da));
    if (r() < 0.25) {
      const buy = r() < 0.5;
      const msg: TradeMessage = {
        kind: 'trades',
        symbol: 'BTCUSDT',
        ts: ts + 1,
        recvTs: ts + 4,
        trades: [
          {
            // filled just before the book update seen at ts: like Bybit, trade messages lag their fills
            ts: ts - 6,
            side: buy ? 'Buy' : 'Sell',
            price: px(buy ? center + 1 : center),
            size: size(),
            id: String(++tradeId),
            blockTrade: false,
            seq: u,
          },
        ],
      };
      out.push(msg);
    }
  }
  return out;
}
