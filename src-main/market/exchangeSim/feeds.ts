// What the exchange-sim server plays: the simulator, or a stored session turned back into v5 frames.
import type { BookMessage, TradeMessage } from '../../../src-shared/market.ts';
import type { Db } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { getSession } from '../../store/sessions.ts';
import { decimalText } from '../bybit/tickInference.ts';
import { SimGenerator, type SimGeneratorOptions } from '../sim/simGenerator.ts';

/** A step of market time and the raw v5 frames (orderbook.* for the market's full book, publicTrade.*). */
export interface FeedStep {
  atMs: number;
  frames: object[];
}

export interface MarketFeed {
  readonly symbol: string;
  readonly tickSize: string;
  readonly description: string;
  /** The next step, or null when the feed has ended. */
  next(): FeedStep | null;
}

export function simFeed(opts: SimGeneratorOptions): MarketFeed {
  // The server derives every depth's view from this book, so generate the deepest view the sim keeps.
  const gen = new SimGenerator({ ...opts, depth: Math.max(opts.depth ?? 0, 1000) });
  return {
    symbol: gen.symbol,
    tickSize: gen.scale.tickSize,
    description: `simulator seed ${opts.seed}`,
    next: () => gen.next(),
  };
}

/** Plays a stored session; events with the same receive time form one step. Gaps in the data pass silently. */
export function sessionFeed(db: Db, sessionId: number): MarketFeed {
  const info = getSession(db, sessionId);
  if (!info)
    throw new Error(
      `no session ${sessionId} in ${db.name}: list them with \`l2desk db check --db ${db.name}\``,
    );
  const events = readSession(db, sessionId);
  let pending: FeedStep | null = null;
  let ended = false;
  return {
    symbol: info.symbol,
    tickSize: info.tickSize,
    description: `session ${sessionId} (${info.symbol}, ${info.messages} messages)`,
    next(): FeedStep | null {
      while (!ended) {
        const r = events.next();
        if (r.done) {
          ended = true;
          break;
        }
        const ev = r.value;
        if (ev.kind === 'gap') continue;
        const frame = ev.kind === 'book' ? bookFrame(ev) : tradeFrame(ev);
        if (pending && pending.atMs === ev.recvTs) {
          pending.frames.push(frame);
          continue;
        }
        const out = pending;
        pending = { atMs: ev.recvTs, frames: [frame] };
        if (out) return out;
      }
      const out = pending;
      pending = null;
      return out;
    },
  };
}

/** Plain decimals as Bybit writes them (String(n) would give "1.2e-7" for a tiny price). */
const str = decimalText;

export function bookFrame(m: BookMessage): object {
  return {
    topic: `orderbook.${m.depth}.${m.symbol}`,
    type: m.type,
    ts: m.ts,
    data: {
      s: m.symbol,
      b: m.bids.map((l) => [str(l[0]), str(l[1])]),
      a: m.asks.map((l) => [str(l[0]), str(l[1])]),
      u: m.u,
      seq: m.seq,
    },
    cts: m.cts,
  };
}

export function tradeFrame(m: TradeMessage): object {
  return {
    topic: `publicTrade.${m.symbol}`,
    type: 'snapshot',
    ts: m.ts,
    data: m.trades.map((t) => ({
      T: t.ts,
      s: m.symbol,
      S: t.side,
      v: str(t.size),
      p: str(t.price),
      i: t.id,
      BT: t.blockTrade,
      seq: t.seq,
    })),
  };
}
