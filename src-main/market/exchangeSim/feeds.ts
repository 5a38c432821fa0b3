// What the exchange-sim server plays: the simulator, or a stored session turned back into v5 frames.
import type { BookMessage, TradeMessage } from '../../../src-shared/market.ts';
import type { Db } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { getSession } from '../../store/sessions.ts';
import { TickScale } from '../../book/tickScale.ts';
import { decimalText, offGridPrices, refineTick, tickFromLevels } from '../bybit/tickInference.ts';
import { sessionInstrument } from '../orderRules.ts';
import { defaultSizeStep, SimGenerator, type SimGeneratorOptions } from '../sim/simGenerator.ts';

/** A step of market time and the raw v5 frames (orderbook.* for the market's full book, publicTrade.*). */
export interface FeedStep {
  atMs: number;
  frames: object[];
}

export interface MarketFeed {
  readonly symbol: string;
  readonly tickSize: string;
  /** The lot (quantity step) its sizes are multiples of, when known; instruments-info reports it. */
  readonly qtyStep?: string;
  /** The minimum order value instruments-info reports, when the feed knows it (a session recorded live). */
  readonly minNotional?: string;
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
    qtyStep: opts.sizeStep ?? defaultSizeStep(opts.startPrice),
    description: `simulator (random seed ${opts.seed})`,
    next: () => gen.next(),
  };
}

/** Book messages scanned after the first snapshot for prices that prove a finer tick than it showed. */
const TICK_SCAN_MESSAGES = 5000;

/**
 * The tick of a session stored without one (a symbol whose tick was unknown when it was collected): inferred
 * from its first snapshot with prices, refined by the prices of the book messages that follow it (a snapshot
 * can look coarser than the instrument).
 */
export function inferSessionTick(db: Db, sessionId: number): string {
  let scale: TickScale | null = null;
  let scanned = 0;
  for (const ev of readSession(db, sessionId)) {
    if (ev.kind !== 'book') continue;
    if (!scale) {
      const t = ev.type === 'snapshot' ? tickFromLevels(ev.bids, ev.asks) : null;
      if (t) scale = new TickScale(t);
      continue;
    }
    const off = offGridPrices(scale, ev);
    if (off.length > 0) scale = refineTick(scale, off) ?? scale;
    if (++scanned >= TICK_SCAN_MESSAGES) break;
  }
  if (!scale)
    throw new Error(
      `session ${sessionId} in ${db.name} has no tick size and no snapshot with prices to infer one from`,
    );
  return scale.tickSize;
}

/**
 * Plays a stored session; events with the same receive time form one step. Gaps in the data pass silently.
 * A session stored without a tick size ('') gets the one its snapshots show.
 */
export function sessionFeed(db: Db, sessionId: number): MarketFeed {
  const info = getSession(db, sessionId);
  if (!info)
    throw new Error(
      `no session ${sessionId} in ${db.name}: list them with \`l2desk db check --db ${db.name}\``,
    );
  const tickSize = info.tickSize || inferSessionTick(db, sessionId);
  // The lot and minimum order value the exchange answered when the session was recorded live, served again.
  const { qtyStep, minNotional } = sessionInstrument(info);
  const events = readSession(db, sessionId);
  let pending: FeedStep | null = null;
  let ended = false;
  return {
    symbol: info.symbol,
    tickSize,
    ...(qtyStep ? { qtyStep } : {}),
    ...(minNotional ? { minNotional } : {}),
    description: `session ${sessionId} (${info.symbol}, ${info.messages} messages${info.tickSize ? '' : `, tick ${tickSize} inferred`})`,
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
